#include "channels/channel_adapter.h"

#include <boost/url/parse.hpp>
#include <charconv>

namespace parley::channels {

Message ToCommonFormat(const InboundMessage& in, const InboundPlacement& where) {
  Message m;
  m.id = where.id;
  m.tenant = where.tenant;
  m.conversation = where.conversation;
  m.channel = where.channel;
  m.direction = Direction::kInbound;
  m.author.role = AuthorRole::kCustomer;
  m.author.customer = where.customer;
  m.author.name = in.contact_name;
  m.provider_message_id = in.provider_message_id;
  m.reply_to_provider_id = in.reply_to_provider_id;
  m.sent_at = in.sent_at;
  m.received_at = where.received_at;
  m.content = in.content;
  return m;
}

SendOutcome SentAs(std::string provider_message_id) {
  SendOutcome o;
  o.kind = SendOutcome::Kind::kSent;
  o.provider_message_id = std::move(provider_message_id);
  return o;
}

SendOutcome RetryLater(std::string code, std::string message, Millis retry_after) {
  SendOutcome o;
  o.kind = SendOutcome::Kind::kRetry;
  o.error = {std::move(code), std::move(message)};
  o.retry_after = retry_after;
  return o;
}

SendOutcome FailedPermanently(std::string code, std::string message) {
  SendOutcome o;
  o.kind = SendOutcome::Kind::kPermanentFailure;
  o.error = {std::move(code), std::move(message)};
  return o;
}

Status CheckApiBaseUrl(boost::json::object& settings, std::string_view default_url) {
  auto base = settings.find("api_base_url");
  if (base == settings.end()) {
    settings["api_base_url"] = default_url;
    return OkStatus();
  }
  std::string_view url =
      base->value().is_string() ? std::string_view(base->value().get_string()) : std::string_view();
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (url.empty() || url.size() > kMaxUrlBytes || !parsed ||
      (parsed->scheme() != "http" && parsed->scheme() != "https") || parsed->host().empty() ||
      parsed->has_query() || parsed->has_fragment() || url.back() == '/') {
    return InvalidArgument(
        "settings.api_base_url: must be an http(s) URL without query or trailing '/'");
  }
  return OkStatus();
}

Millis RetryAfterHeader(std::optional<std::string_view> value) {
  if (!value) return Millis{0};
  std::string_view v = *value;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec != std::errc() || end != v.data() + v.size() || seconds < 0) return Millis{0};
  return Millis{std::min<int64_t>(seconds, 3600) * 1000};
}

http::Response ChannelAdapter::AnswerHandshake(const http::Request&,
                                               const ConnectionContext&) const {
  http::Response refused =
      http::ErrorResponse(405, "method_not_allowed", "this channel has no subscription handshake");
  refused.headers.emplace_back("Allow", "POST");
  return refused;
}

std::string ChannelAdapter::ClientIdentity(const ConnectionContext&) const { return ""; }

boost::asio::awaitable<Result<FetchedMedia>> ChannelAdapter::FetchMedia(MediaRef, ConnectionContext,
                                                                        uint64_t) {
  co_return FailedPrecondition("this channel has no media to fetch");
}

boost::asio::awaitable<Status> ChannelAdapter::SendSignal(SignalRequest, ConnectionContext) {
  co_return OkStatus();
}

}  // namespace parley::channels
