// src/core/message.h
//
// The common message format (DESIGN.md §3): one normalized Message for every channel, and the
// Events the client application receives (DESIGN.md §2). Plain value types with strong ids;
// the JSON codec lives in message_json.h and the format for client developers in
// docs/message-format.md (keep the three in step).
//
//   Message m;
//   m.id = MessageId::New(clock);  /* tenant, conversation, channel, author, received_at … */
//   m.content = TextContent{.text = "Hello"};
//   PARLEY_RETURN_IF_ERROR(ValidateMessage(m));
//
// Conventions: an optional string is a std::string where empty means absent (it is `null` in
// JSON); timestamps carry millisecond precision on the wire.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/status.h"

namespace parley {

inline constexpr int kMessageFormatVersion = 1;

// Limits of the format, in bytes of UTF-8 or in items. ValidateMessage/ValidateEvent enforce
// them; docs/message-format.md lists them for client developers.
inline constexpr size_t kMaxTextBytes = 32 * 1024;  // text, caption, interactive body, system text
inline constexpr size_t kMaxStringBytes = 1024;     // every other free-text string
inline constexpr size_t kMaxUrlBytes = 2048;        // attachment url, card image_url
inline constexpr size_t kMaxTokenBytes = 64;        // kinds, codes, types, metadata keys
inline constexpr size_t kMaxMimeTypeBytes = 255;
// Attachments, buttons, quick replies, sections, rows, cards, contacts, phones, emails, components.
inline constexpr size_t kMaxListItems = 10;
inline constexpr size_t kMaxTemplateParameters = 20;  // per template component
inline constexpr size_t kMaxMetadataEntries = 16;
inline constexpr int64_t kMaxJsonSafeInteger = (int64_t{1} << 53) - 1;

enum class Direction { kInbound, kOutbound };
enum class AuthorRole { kCustomer, kAgent, kBot, kSystem };
enum class MediaKind { kImage, kAudio, kVideo, kFile, kSticker };
enum class ReplySource { kQuickReply, kButton, kList, kPostback };
enum class InteractiveKind { kButtons, kQuickReplies, kList, kCarousel };
enum class DeliveryStatus { kSent, kDelivered, kRead, kFailed };
enum class EndReason { kClient, kCustomer, kInactivity, kSystem };
// In the order of the Content variant's alternatives.
enum class ContentType {
  kText,
  kMedia,
  kLocation,
  kContact,
  kReply,
  kReaction,
  kInteractive,
  kTemplate,
  kSystem,
  kUnsupported,
};
// In the order of the EventData variant's alternatives.
enum class EventType {
  kMessageCreated,
  kMessageStatus,
  kTyping,
  kConversationStarted,
  kConversationEnded,
  kCustomerUpdated,
};

// Wire names of each enum, in enum order: WireName(Direction::kInbound) == "inbound".
template <typename E>
struct EnumNames;
template <>
struct EnumNames<Direction> {
  static constexpr std::array<std::string_view, 2> kNames{"inbound", "outbound"};
};
template <>
struct EnumNames<AuthorRole> {
  static constexpr std::array<std::string_view, 4> kNames{"customer", "agent", "bot", "system"};
};
template <>
struct EnumNames<MediaKind> {
  static constexpr std::array<std::string_view, 5> kNames{"image", "audio", "video", "file",
                                                          "sticker"};
};
template <>
struct EnumNames<ReplySource> {
  static constexpr std::array<std::string_view, 4> kNames{"quick_reply", "button", "list",
                                                          "postback"};
};
template <>
struct EnumNames<InteractiveKind> {
  static constexpr std::array<std::string_view, 4> kNames{"buttons", "quick_replies", "list",
                                                          "carousel"};
};
template <>
struct EnumNames<DeliveryStatus> {
  static constexpr std::array<std::string_view, 4> kNames{"sent", "delivered", "read", "failed"};
};
template <>
struct EnumNames<EndReason> {
  static constexpr std::array<std::string_view, 4> kNames{"client", "customer", "inactivity",
                                                          "system"};
};
template <>
struct EnumNames<ContentType> {
  static constexpr std::array<std::string_view, 10> kNames{
      "text",     "media",       "location", "contact", "reply",
      "reaction", "interactive", "template", "system",  "unsupported"};
};
template <>
struct EnumNames<EventType> {
  static constexpr std::array<std::string_view, 6> kNames{
      "message.created",      "message.status",     "typing",
      "conversation.started", "conversation.ended", "customer.updated"};
};

template <typename E>
std::string_view WireName(E e) {
  return EnumNames<E>::kNames[static_cast<size_t>(e)];
}
// nullopt when `name` is not one of the wire names.
template <typename E>
std::optional<E> FromWireName(std::string_view name) {
  const auto& names = EnumNames<E>::kNames;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

// ---- The message -------------------------------------------------------------------------

struct ChannelRef {
  std::string kind;  // registry kind: "whatsapp", "webchat", … (a token)
  ConnectionId connection;
  bool operator==(const ChannelRef&) const = default;
};

struct Author {
  AuthorRole role = AuthorRole::kCustomer;
  std::optional<CustomerId> customer;  // required for kCustomer, absent otherwise
  std::string name;                    // display name, optional
  std::string agent_id;                // the client application's agent/bot id; kAgent/kBot only
  bool operator==(const Author&) const = default;
};

struct TextContent {
  std::string text;
  bool operator==(const TextContent&) const = default;
};

struct Attachment {
  std::optional<AttachmentId> id;  // absent until stored by Parley
  std::string url;                 // signed link (or, from a client, a URL to fetch); optional
  std::string mime_type;
  std::optional<int64_t> size_bytes;  // unknown until downloaded
  std::string filename;               // optional
  std::string sha256;                 // optional, 64 lower-case hex characters
  bool operator==(const Attachment&) const = default;
};

struct MediaContent {
  MediaKind kind = MediaKind::kImage;
  std::vector<Attachment> attachments;  // 1..kMaxListItems, each with an id or a url
  std::string caption;                  // optional
  bool operator==(const MediaContent&) const = default;
};

struct LocationContent {
  double latitude = 0;   // [-90, 90]
  double longitude = 0;  // [-180, 180]
  std::string name;      // optional
  std::string address;   // optional
  bool operator==(const LocationContent&) const = default;
};

struct ContactName {
  std::string formatted;  // required
  std::string first, last;
  bool operator==(const ContactName&) const = default;
};
struct ContactPhone {
  std::string number;  // required
  std::string type;    // optional: "mobile", "work", … (a token)
  bool operator==(const ContactPhone&) const = default;
};
struct ContactEmail {
  std::string address;  // required
  std::string type;     // optional token
  bool operator==(const ContactEmail&) const = default;
};
struct ContactCard {
  ContactName name;
  std::vector<ContactPhone> phones;  // 0..kMaxListItems
  std::vector<ContactEmail> emails;  // 0..kMaxListItems
  bool operator==(const ContactCard&) const = default;
};
struct ContactContent {
  std::vector<ContactCard> contacts;  // 1..kMaxListItems
  bool operator==(const ContactContent&) const = default;
};

// The customer picked a quick reply, button, list row or postback.
struct ReplyContent {
  ReplySource source = ReplySource::kButton;
  std::string title;    // what the customer saw
  std::string payload;  // the Choice/ListRow id it came from; optional (SMS has none)
  bool operator==(const ReplyContent&) const = default;
};

struct ReactionContent {
  std::string emoji;  // empty = the reaction was removed
  // The reacted-to message: at least one of the two.
  std::optional<MessageId> target_message;
  std::string target_provider_message_id;
  bool operator==(const ReactionContent&) const = default;
};

// A button or quick reply. `id` comes back as ReplyContent::payload when picked.
struct Choice {
  std::string id;
  std::string title;
  bool operator==(const Choice&) const = default;
};
struct ListRow {
  std::string id, title;
  std::string description;  // optional
  bool operator==(const ListRow&) const = default;
};
struct ListSection {
  std::string title;          // optional
  std::vector<ListRow> rows;  // 1..kMaxListItems
  bool operator==(const ListSection&) const = default;
};
struct InteractiveList {
  std::string button;                 // the label that opens the list
  std::vector<ListSection> sections;  // 1..kMaxListItems
  bool operator==(const InteractiveList&) const = default;
};
struct Card {
  std::string title;
  std::string subtitle, image_url;  // optional
  std::vector<Choice> buttons;      // 0..kMaxListItems
  bool operator==(const Card&) const = default;
};

// Outbound only. Exactly the part that matches `kind` is set: `choices` for kButtons and
// kQuickReplies (JSON "buttons" / "quick_replies"), `list` for kList, `cards` for kCarousel.
struct InteractiveContent {
  InteractiveKind kind = InteractiveKind::kButtons;
  std::string header, footer;  // optional
  std::string body;            // required except for kCarousel
  std::vector<Choice> choices;
  InteractiveList list;
  std::vector<Card> cards;
  bool operator==(const InteractiveContent&) const = default;
};

struct TemplateParameter {
  std::string type;  // token: "text", "currency", "date_time", "image", … (media: text = URL)
  std::string text;  // optional
  bool operator==(const TemplateParameter&) const = default;
};
struct TemplateComponent {
  std::string type;                           // token: "header", "body", "button", …
  std::vector<TemplateParameter> parameters;  // 0..kMaxTemplateParameters
  bool operator==(const TemplateComponent&) const = default;
};
// Outbound only: a template pre-approved by the provider.
struct TemplateContent {
  std::string name;                           // as registered with the provider
  std::string language;                       // "en_US" (letters, digits, '_', '-')
  std::vector<TemplateComponent> components;  // 0..kMaxListItems
  bool operator==(const TemplateContent&) const = default;
};

struct SystemContent {
  std::string code;  // token: "conversation.ended", …
  std::string text;  // optional
  bool operator==(const SystemContent&) const = default;
};

// Inbound only: a provider message type with no mapping. The raw payload is never kept.
struct UnsupportedContent {
  std::string provider_type;  // the provider's own type name
  std::string description;    // optional, short
  bool operator==(const UnsupportedContent&) const = default;
};

using Content = std::variant<TextContent, MediaContent, LocationContent, ContactContent,
                             ReplyContent, ReactionContent, InteractiveContent, TemplateContent,
                             SystemContent, UnsupportedContent>;

inline ContentType TypeOf(const Content& c) { return static_cast<ContentType>(c.index()); }

struct Message {
  int v = kMessageFormatVersion;
  MessageId id;
  TenantId tenant;
  ConversationId conversation;
  ChannelRef channel;
  Direction direction = Direction::kInbound;
  Author author;
  std::string provider_message_id;    // optional
  std::optional<MessageId> reply_to;  // the Parley message this answers, if known
  std::string reply_to_provider_id;   // or the provider's id of it; optional
  std::optional<TimePoint> sent_at;   // when the author sent it, if the provider says
  TimePoint received_at;              // when Parley accepted it
  Content content;
  std::map<std::string, std::string> metadata;  // client-defined; keys are tokens
  bool operator==(const Message&) const = default;
};

// Whether a content type may appear in a message of `direction`: interactive and template are
// outbound only; reply and unsupported inbound only; the rest both.
bool ContentAllowedIn(ContentType type, Direction direction);

// ---- Events ------------------------------------------------------------------------------

struct ProviderError {
  std::string code;     // the provider's code, as text
  std::string message;  // the provider's text; may name the recipient: do not log it
  bool operator==(const ProviderError&) const = default;
};

struct MessageStatusData {
  MessageId message;
  ConversationId conversation;
  DeliveryStatus status = DeliveryStatus::kSent;
  std::optional<ProviderError> error;  // only with kFailed
  std::string provider_message_id;     // optional
  TimePoint at;
  bool operator==(const MessageStatusData&) const = default;
};

struct TypingData {
  ConversationId conversation;
  AuthorRole role = AuthorRole::kCustomer;
  bool on = true;
  bool operator==(const TypingData&) const = default;
};

struct ConversationStartedData {
  ConversationId conversation;
  ConnectionId connection;
  CustomerId customer;
  // True when Parley knew the customer before this conversation (same contact on the same
  // channel kind of the tenant); `customer_first_seen` is when it first saw them.
  bool returning = false;
  std::optional<TimePoint> customer_first_seen{};
  bool operator==(const ConversationStartedData&) const = default;
};

struct ConversationEndedData {
  ConversationId conversation;
  ConnectionId connection;
  CustomerId customer;
  EndReason reason = EndReason::kClient;
  bool operator==(const ConversationEndedData&) const = default;
};

struct CustomerUpdatedData {
  CustomerId customer;
  ConnectionId connection;
  std::string name;  // the display name now known; optional
  bool operator==(const CustomerUpdatedData&) const = default;
};

// Alternatives in EventType order; the event's `type` is derived from the alternative held.
using EventData = std::variant<Message, MessageStatusData, TypingData, ConversationStartedData,
                               ConversationEndedData, CustomerUpdatedData>;

struct Event {
  int v = kMessageFormatVersion;
  EventId id;
  TenantId tenant;
  TimePoint created_at;
  EventData data;
  bool operator==(const Event&) const = default;
};

inline EventType TypeOf(const Event& e) { return static_cast<EventType>(e.data.index()); }

// ---- Validation --------------------------------------------------------------------------
//
// Checks what the type system cannot: required fields set, ids present, limits, ranges and
// cross-field rules. Errors: kInvalidArgument with a path-style message naming the field
// ("content.buttons[2].title: required"); never the field's value.

// `path` prefixes every error ("content" gives "content.text: required").
Status ValidateContent(const Content& content, std::string_view path = "content");
Status ValidateMessage(const Message& message);
Status ValidateEvent(const Event& event);

}  // namespace parley
