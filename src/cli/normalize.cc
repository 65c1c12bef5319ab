// `parley normalize --channel <kind>`: one channel payload on stdin, the normalized messages
// and statuses on stdout in the common format. No server, keys or database: ids that only
// storage would assign (tenant, conversation, customer, connection) are placeholders.
#include <boost/json.hpp>
#include <iostream>
#include <iterator>

#include "channels/registry.h"
#include "cli/cli.h"
#include "core/message_json.h"

namespace parley::cli {

namespace json = boost::json;

namespace {
constexpr size_t kMaxInputBytes = 16 * 1024 * 1024;
}

int Normalize(const std::string& channel) {
  const Clock& clock = SystemClock::Instance();
  channels::AdapterDeps deps;
  deps.clock = &clock;
  channels::Registry registry(deps);
  channels::ChannelAdapter* adapter = registry.Find(channel);
  if (!adapter) {
    std::cerr << "parley: unknown channel kind \"" << channel << "\" (known:";
    for (const auto& k : registry.Kinds()) std::cerr << " " << k;
    std::cerr << ")\n";
    return 2;
  }
  std::string input;
  char buf[65536];
  while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
    input.append(buf, static_cast<size_t>(std::cin.gcount()));
    if (input.size() > kMaxInputBytes) {
      std::cerr << "parley: input larger than 16 MiB\n";
      return 2;
    }
  }
  http::Request request;
  request.method = "POST";
  request.path = "/v1/webhooks/normalize";
  request.body = std::move(input);
  bool form = !request.body.empty() && request.body.front() != '{' && request.body.front() != '[';
  request.headers.emplace_back("content-type",
                               form ? "application/x-www-form-urlencoded" : "application/json");
  auto batch = adapter->ParseWebhook(request);
  if (!batch.ok()) {
    std::cerr << "parley: " << batch.status().ToString() << "\n";
    return 1;
  }
  TimePoint now = clock.Now();
  TenantId tenant = TenantId::New(now);
  ConnectionId connection = ConnectionId::New(now);
  json::array messages;
  for (const auto& in : batch->messages) {
    Message m =
        channels::ToCommonFormat(in, {MessageId::New(now), tenant, ConversationId::New(now),
                                      ChannelRef{channel, connection}, CustomerId::New(now), now});
    messages.push_back(ToJson(m));
  }
  json::array statuses;
  for (const auto& st : batch->statuses) {
    json::object s;
    s["message"] = st.message ? json::value(st.message->str()) : json::value(nullptr);
    s["provider_message_id"] = st.provider_message_id;
    s["status"] = WireName(st.status);
    s["at"] = st.at ? json::value(FormatRfc3339(*st.at)) : json::value(nullptr);
    if (st.error)
      s["error"] = json::object{{"code", st.error->code}, {"message", st.error->message}};
    statuses.push_back(std::move(s));
  }
  std::cout << json::serialize(json::object{{"messages", std::move(messages)},
                                            {"statuses", std::move(statuses)}})
            << "\n";
  return 0;
}

}  // namespace parley::cli
