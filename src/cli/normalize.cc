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
  json::array media;  // what the server would fetch into attachment storage, per message
  for (const auto& in : batch->messages) {
    Message m =
        channels::ToCommonFormat(in, {MessageId::New(now), tenant, ConversationId::New(now),
                                      ChannelRef{channel, connection}, CustomerId::New(now), now});
    for (const auto& ref : in.media) {
      media.push_back(json::object{{"message", m.id.str()},
                                   {"ref", ref.ref},
                                   {"mime_type", ref.mime_type},
                                   {"filename", ref.filename},
                                   {"sha256", ref.sha256}});
    }
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
    if (st.watermark) s["watermark"] = FormatRfc3339(*st.watermark);
    if (!st.contact_id.empty()) s["contact_id"] = st.contact_id;
    if (!st.client_identity.empty()) s["client_identity"] = st.client_identity;
    statuses.push_back(std::move(s));
  }
  json::array signals;
  for (const auto& sig : batch->signals) {
    signals.push_back(json::object{
        {"kind", sig.kind == channels::InboundSignal::Kind::kTypingOn ? "typing_on" : "typing_off"},
        {"contact_id", sig.contact_id},
        {"client_identity", sig.client_identity}});
  }
  // The business identity each message was addressed to (phone number id, page id, number).
  json::array identities;
  for (const auto& in : batch->messages) identities.push_back(json::string(in.client_identity));
  std::cout << json::serialize(json::object{{"messages", std::move(messages)},
                                            {"client_identities", std::move(identities)},
                                            {"media", std::move(media)},
                                            {"statuses", std::move(statuses)},
                                            {"signals", std::move(signals)},
                                            {"ignored", batch->ignored}})
            << "\n";
  return 0;
}

}  // namespace parley::cli
