// The client API: what the client application uses to read conversations, answer
// customers, end conversations, look up customers, manage dead letters and follow the live
// stream. Every route is scoped to the API key's tenant: other tenants' ids answer 404.
#include <fmt/format.h>

#include <boost/asio/awaitable.hpp>

#include "api/client_send.h"
#include "api/handlers.h"
#include "api/json_util.h"
#include "api/sealed_message.h"
#include "core/log.h"
#include "core/message_json.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "delivery/event_recorder.h"
#include "store/async.h"
#include "store/store_util.h"

namespace parley::api {

namespace json = boost::json;
using boost::asio::awaitable;
using http::Request;
using http::Response;

namespace {

constexpr size_t kMaxIdempotencyKeyBytes = 255;

std::string_view StateName(store::ConversationState s) {
  return s == store::ConversationState::kOpen ? "open" : "ended";
}

// A conversation with its channel kind (which lives on its connection).
struct ConversationView {
  store::ConversationRecord record;
  std::string channel;
};

ConversationView View(store::Reader& r, const TenantId& tenant, store::ConversationRecord c) {
  auto connection = r.GetConnection(tenant, c.connection);
  std::string kind = connection.ok() ? connection->kind : std::string();
  return ConversationView{std::move(c), std::move(kind)};
}

json::object ConversationJson(const ConversationView& v) {
  const store::ConversationRecord& c = v.record;
  return {{"id", c.id.str()},
          {"state", StateName(c.state)},
          {"channel", v.channel},
          {"connection", c.connection.str()},
          {"customer", c.customer.str()},
          {"started_at", FormatRfc3339(c.started_at)},
          {"last_activity_at", FormatRfc3339(c.last_activity_at)},
          {"ended_at", OptionalTimeJson(c.ended_at)},
          {"end_reason", c.end_reason.empty() ? json::value(nullptr) : json::value(c.end_reason)}};
}

json::object DeadLetterJson(const store::DeadLetterRecord& d) {
  return {{"id", d.id.str()},
          {"kind", store::OutboxKindName(d.kind)},
          {"target", d.target_id},
          {"ref", d.ref_id},
          {"conversation",
           d.conversation_id.empty() ? json::value(nullptr) : json::value(d.conversation_id)},
          {"attempts", d.attempts},
          {"last_error", d.last_error},
          {"created_at", FormatRfc3339(d.created_at)},
          {"failed_at", FormatRfc3339(d.failed_at)}};
}

bool PrintableKey(std::string_view key) {
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// Results of the send write, filled on the writer thread.
struct SendResult {
  std::shared_ptr<const SealedMessage> sent;  // what was stored
};

class ClientApi {
 public:
  ClientApi(App& app, Auth& auth) : app_(app), auth_(auth) {}

  void Register(http::Router& r) {
    r.Add("GET", "/v1/conversations",
          [this](Request q) { return ListConversations(std::move(q)); });
    r.Add("GET", "/v1/conversations/{conversation}",
          [this](Request q) { return GetConversation(std::move(q)); });
    r.Add("GET", "/v1/conversations/{conversation}/messages",
          [this](Request q) { return ListMessages(std::move(q)); });
    r.Add("POST", "/v1/conversations/{conversation}/messages",
          [this](Request q) { return SendMessage(std::move(q)); });
    r.Add("POST", "/v1/conversations/{conversation}/end",
          [this](Request q) { return EndConversation(std::move(q)); });
    r.Add("GET", "/v1/customers", [this](Request q) { return FindCustomer(std::move(q)); });
    r.Add("GET", "/v1/customers/{customer}",
          [this](Request q) { return GetCustomer(std::move(q)); });
    r.Add("GET", "/v1/dead-letters", [this](Request q) { return ListDeadLetters(std::move(q)); });
    r.Add("POST", "/v1/dead-letters/{dead_letter}/replay",
          [this](Request q) { return ReplayDeadLetter(std::move(q)); });
    r.AddWebSocket("/v1/stream", [this](Request q, std::unique_ptr<http::WebSocketUpgrade> u) {
      return Stream(std::move(q), std::move(u));
    });
  }

 private:
  awaitable<Response> ListConversations(Request q) {
    auto who = co_await auth_.Client(q, "conversations:read");
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto page = PageFromQuery(q);
    if (!page.ok()) co_return http::ErrorResponse(page.status());
    std::optional<store::ConversationState> state;
    if (auto it = q.query.find("state"); it != q.query.end()) {
      if (it->second == "open")
        state = store::ConversationState::kOpen;
      else if (it->second == "ended")
        state = store::ConversationState::kEnded;
      else
        co_return http::ErrorResponse(InvalidArgument("state: must be open or ended"));
    }
    std::function<Result<std::vector<ConversationView>>(store::Reader&)> list_fn =
        [tenant = who->tenant, state,
         p = *page](store::Reader& r) -> Result<std::vector<ConversationView>> {
      PARLEY_ASSIGN_OR_RETURN(auto records, r.ListConversations(tenant, state, p));
      std::vector<ConversationView> views;
      for (auto& c : records) views.push_back(View(r, tenant, std::move(c)));
      return views;
    };
    auto list =
        co_await store::Read<std::vector<ConversationView>>(*app_.store, std::move(list_fn));
    if (!list.ok()) co_return http::ErrorResponse(list.status());
    json::array items;
    for (const auto& c : *list) items.push_back(ConversationJson(c));
    co_return ListResponse(std::move(items), *page,
                           list->empty() ? "" : list->back().record.id.str());
  }

  awaitable<Result<ConversationView>> LoadConversation(const Request& q, TenantId tenant) {
    auto id = ConversationId::Parse(q.path_params.at("conversation"));
    if (!id.ok()) co_return NotFound("conversation not found");
    std::function<Result<ConversationView>(store::Reader&)> get_fn =
        [tenant, id = *id](store::Reader& r) -> Result<ConversationView> {
      PARLEY_ASSIGN_OR_RETURN(auto c, r.GetConversation(tenant, id));
      return View(r, tenant, std::move(c));
    };
    co_return co_await store::Read<ConversationView>(*app_.store, std::move(get_fn));
  }

  awaitable<Response> GetConversation(Request q) {
    auto who = co_await auth_.Client(q, "conversations:read");
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto c = co_await LoadConversation(q, who->tenant);
    if (!c.ok()) co_return http::ErrorResponse(c.status());
    json::object body = ConversationJson(*c);
    // The ephemeral records (web chat): opened for the client application only here.
    const store::ConversationRecord& r = c->record;
    if (!r.context_sealed.empty() || !r.cookies_sealed.empty() || !r.private_sealed.empty()) {
      auto key = co_await app_.keys->Get(who->tenant);
      if (!key.ok()) co_return http::ErrorResponse(key.status());
      std::string row = r.id.str();
      body["context"] =
          OpenJson(**key, r.context_sealed, delivery::place::ConversationContext(who->tenant, row));
      body["cookies"] =
          OpenJson(**key, r.cookies_sealed, delivery::place::ConversationCookies(who->tenant, row));
      body["private_data"] = OpenJson(**key, r.private_sealed,
                                      delivery::place::ConversationPrivateData(who->tenant, row));
    } else {
      body["context"] = body["cookies"] = body["private_data"] = nullptr;
    }
    co_return Json(200, body);
  }

  static json::value OpenJson(const crypto::DataKey& key, const std::string& sealed,
                              const crypto::SealPlace& place) {
    if (sealed.empty()) return nullptr;
    auto plain = key.Open(sealed, place);
    if (!plain.ok()) return nullptr;
    auto parsed = ParseBoundedJson(*plain);
    return parsed.ok() ? std::move(*parsed) : json::value(nullptr);
  }

  awaitable<Response> ListMessages(Request q) {
    auto who = co_await auth_.Client(q, "conversations:read");
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto page = PageFromQuery(q);
    if (!page.ok()) co_return http::ErrorResponse(page.status());
    auto c = co_await LoadConversation(q, who->tenant);
    if (!c.ok()) co_return http::ErrorResponse(c.status());
    auto key = co_await app_.keys->Get(who->tenant);
    if (!key.ok()) co_return http::ErrorResponse(key.status());
    std::function<Result<std::vector<store::MessageRecord>>(store::Reader&)> list_messages =
        [tenant = who->tenant, id = c->record.id, p = *page](store::Reader& r) {
          return r.ListMessages(tenant, id, p);
        };
    auto list = co_await store::Read<std::vector<store::MessageRecord>>(*app_.store,
                                                                        std::move(list_messages));
    if (!list.ok()) co_return http::ErrorResponse(list.status());
    json::array items;
    const TimePoint now = app_.clock->Now();
    for (const auto& m : *list) {
      auto body =
          (*key)->Open(m.body_sealed, delivery::place::MessageBody(who->tenant, m.id.str()));
      if (!body.ok()) continue;
      auto parsed = ParseBoundedJson(app_.attachments->AddLinks(**key, std::move(*body), now));
      if (parsed.ok()) items.push_back(std::move(*parsed));
    }
    co_return ListResponse(std::move(items), *page, list->empty() ? "" : list->back().id.str());
  }

  awaitable<Response> SendMessage(Request q) {
    auto who = co_await auth_.Client(q, "messages:write");
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    TenantId tenant = who->tenant;
    auto conversation_id = ConversationId::Parse(q.path_params.at("conversation"));
    if (!conversation_id.ok()) co_return http::ErrorResponse(NotFound("conversation not found"));
    auto body = BodyObject(q);
    if (!body.ok()) co_return http::ErrorResponse(body.status());
    auto content_it = body->find("content");
    if (content_it == body->end())
      co_return http::ErrorResponse(InvalidArgument("content: required"));
    auto content = OutboundContentFromJson(content_it->value(), "content");
    if (!content.ok()) co_return http::ErrorResponse(content.status());
    auto author_obj = ObjectField(*body, "author");
    if (!author_obj.ok()) co_return http::ErrorResponse(author_obj.status());
    Author author;
    author.role = AuthorRole::kAgent;
    auto role = StringField(*author_obj, "role", 16, false);
    if (!role.ok()) co_return http::ErrorResponse(role.status());
    if (*role == "bot")
      author.role = AuthorRole::kBot;
    else if (!role->empty() && *role != "agent")
      co_return http::ErrorResponse(InvalidArgument("author.role: must be agent or bot"));
    auto name = StringField(*author_obj, "name", kMaxStringBytes, false);
    auto agent_id = StringField(*author_obj, "agent_id", kMaxStringBytes, false);
    if (!name.ok()) co_return http::ErrorResponse(name.status());
    if (!agent_id.ok()) co_return http::ErrorResponse(agent_id.status());
    author.name = *name;
    author.agent_id = *agent_id;
    std::optional<MessageId> reply_to;
    auto reply_to_text = StringField(*body, "reply_to", 64, false);
    if (!reply_to_text.ok()) co_return http::ErrorResponse(reply_to_text.status());
    if (!reply_to_text->empty()) {
      auto parsed = MessageId::Parse(*reply_to_text);
      if (!parsed.ok())
        co_return http::ErrorResponse(InvalidArgument("reply_to: must be a msg_ id"));
      reply_to = *parsed;
    }

    auto key = co_await app_.keys->Get(tenant);
    if (!key.ok()) co_return http::ErrorResponse(key.status());

    // Idempotency: the same key never sends twice; the same key with another request is an error.
    std::string key_hash, request_hash;
    if (auto header = q.Header("idempotency-key")) {
      if (header->empty() || header->size() > kMaxIdempotencyKeyBytes || !PrintableKey(*header)) {
        co_return http::ErrorResponse(
            InvalidArgument("Idempotency-Key: must be 1 to 255 printable ASCII characters"));
      }
      key_hash = crypto::HexEncode(crypto::Sha256(*header));
      // Keyed: an unkeyed hash of the body would let anyone holding the database confirm a
      // guessed reply text.
      request_hash =
          (*key)->BlindIndex("idempotency.request", q.method + " " + q.path + "\n" + q.body);
      auto replay = co_await Replay(tenant, key_hash, request_hash);
      if (replay) co_return std::move(*replay);
    }

    auto recorder = std::make_shared<delivery::EventRecorder>(*key, *app_.clock);
    auto result = std::make_shared<SendResult>();
    const Clock* clock = app_.clock;
    std::shared_ptr<const crypto::DataKey> data_key = *key;
    ConversationId cv = *conversation_id;
    Content c = std::move(*content);
    auto outgoing = [=](TimePoint now, ChannelRef channel) {
      Message m;
      m.id = MessageId::New(now);
      m.tenant = tenant;
      m.conversation = cv;
      m.channel = std::move(channel);
      m.direction = Direction::kOutbound;
      m.author = author;
      m.received_at = now;
      m.content = c;
      return m;
    };
    // Sealed here, off the store writer, when the conversation's channel is known
    // (client_send.h); the write checks it.
    std::shared_ptr<const SealedMessage> prepared;
    if (!reply_to && !std::holds_alternative<MediaContent>(c)) {
      if (std::optional<ChannelRef> channel = channels_.Find(tenant, cv)) {
        prepared = std::make_shared<const SealedMessage>(
            SealMessage(**key, *clock, outgoing(clock->Now(), std::move(*channel)), key_hash));
      }
    }
    store::Store::WriteFn send_message = [=](store::Writer& w) -> Status {
      recorder->Clear();
      PARLEY_ASSIGN_OR_RETURN(store::ConversationRecord conv, w.GetConversation(tenant, cv));
      if (conv.state != store::ConversationState::kOpen) {
        return FailedPrecondition("conversation has ended");
      }
      PARLEY_ASSIGN_OR_RETURN(store::ConnectionRecord connection,
                              w.GetConnection(tenant, conv.connection));
      std::shared_ptr<const SealedMessage> sealed = prepared;
      if (!sealed || sealed->message->channel != ChannelRef{connection.kind, connection.id}) {
        TimePoint now = clock->Now();
        Message m = outgoing(now, ChannelRef{connection.kind, connection.id});
        PARLEY_RETURN_IF_ERROR(delivery::ResolveAttachments(w, *data_key, conv, m.content, now));
        if (reply_to) {
          auto answered = w.GetMessage(tenant, *reply_to);
          if (!answered.ok() || answered->conversation != cv) {
            return InvalidArgument("reply_to: no such message in this conversation");
          }
          m.reply_to = reply_to;
          auto answered_body = data_key->Open(
              answered->body_sealed, delivery::place::MessageBody(tenant, reply_to->str()));
          if (answered_body.ok()) {
            auto parsed = ParseMessage(*answered_body);
            if (parsed.ok()) m.reply_to_provider_id = parsed->provider_message_id;
          }
        }
        sealed = std::make_shared<const SealedMessage>(
            SealMessage(*data_key, *clock, std::move(m), key_hash));
      }
      const Message& m = *sealed->message;
      const TimePoint now = m.received_at;
      store::MessageRecord record;
      record.id = m.id;
      record.tenant = tenant;
      record.conversation = cv;
      record.connection = connection.id;
      record.direction = store::Direction::kOutbound;
      record.body_sealed = sealed->body_sealed;
      // Web chat has no provider to send to: the widget reads the stored message, live from
      // the bus or when it reconnects, so storing it is sending it.
      bool web = connection.kind == "web";
      record.status = web ? "sent" : "queued";
      record.created_at = record.updated_at = now;
      PARLEY_RETURN_IF_ERROR(w.InsertMessage(record));
      if (!web) {
        store::OutboxRecord out;
        out.kind = store::OutboxKind::kChannelSend;
        out.tenant = tenant;
        out.target_id = connection.id.str();
        out.ref_id = m.id.str();
        out.conversation_id = cv.str();
        out.created_at = out.next_attempt_at = now;
        PARLEY_RETURN_IF_ERROR(w.InsertOutbox(out).status());
      }
      PARLEY_RETURN_IF_ERROR(store::TouchConversationIfDue(w, conv, now));
      PARLEY_RETURN_IF_ERROR(recorder->RecordPrepared(w, sealed->event, cv).status());
      if (!key_hash.empty()) {
        store::IdempotencyRecord idem;
        idem.tenant = tenant;
        idem.key_hash = key_hash;
        idem.request_hash = request_hash;
        idem.response_status = 202;
        idem.response_sealed = sealed->idempotency_sealed;
        idem.created_at = now;
        PARLEY_RETURN_IF_ERROR(w.InsertIdempotency(idem));
      }
      result->sent = std::move(sealed);
      return OkStatus();
    };
    Status s = co_await store::WriteRerunnable(*app_.store, std::move(send_message));
    if (s.code() == StatusCode::kAlreadyExists && !key_hash.empty()) {
      // A concurrent request with the same key won the race: answer what it answered.
      auto replay = co_await Replay(tenant, key_hash, request_hash);
      if (replay) co_return std::move(*replay);
    }
    if (!s.ok()) co_return http::ErrorResponse(s);
    channels_.Remember(tenant, cv, result->sent->message->channel);
    recorder->Publish(*app_.bus);
    co_return http::JsonResponse(
        202, app_.attachments->AddLinks(**key, result->sent->json, clock->Now()));
  }

  // The stored answer for an Idempotency-Key, if the key was used before.
  awaitable<std::optional<Response>> Replay(TenantId tenant, std::string key_hash,
                                            std::string request_hash) {
    std::function<Result<store::IdempotencyRecord>(store::Reader&)> get_idempotency =
        [tenant, key_hash](store::Reader& r) { return r.GetIdempotency(tenant, key_hash); };
    auto stored =
        co_await store::Read<store::IdempotencyRecord>(*app_.store, std::move(get_idempotency));
    if (!stored.ok()) co_return std::nullopt;
    if (stored->request_hash != request_hash) {
      co_return http::ErrorResponse(422, "idempotency_key_reused",
                                    "this Idempotency-Key was used for a different request");
    }
    auto key = co_await app_.keys->Get(tenant);
    if (!key.ok()) co_return http::ErrorResponse(key.status());
    auto body = (*key)->Open(stored->response_sealed,
                             delivery::place::IdempotencyResponse(tenant, key_hash));
    if (!body.ok()) co_return http::ErrorResponse(Internal("stored response does not open"));
    Response r =
        http::JsonResponse(stored->response_status,
                           app_.attachments->AddLinks(**key, std::move(*body), app_.clock->Now()));
    r.headers.emplace_back("Idempotent-Replayed", "true");
    co_return r;
  }

  awaitable<Response> EndConversation(Request q) {
    auto who = co_await auth_.Client(q, "conversations:write");
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    TenantId tenant = who->tenant;
    auto id = ConversationId::Parse(q.path_params.at("conversation"));
    if (!id.ok()) co_return http::ErrorResponse(NotFound("conversation not found"));
    auto key = co_await app_.keys->Get(tenant);
    if (!key.ok()) co_return http::ErrorResponse(key.status());
    auto recorder = std::make_shared<delivery::EventRecorder>(*key, *app_.clock);
    auto ended = std::make_shared<ConversationView>();
    const Clock* clock = app_.clock;
    store::Store::WriteFn end_conversation = [=, cv = *id](store::Writer& w) -> Status {
      recorder->Clear();
      TimePoint now = clock->Now();
      PARLEY_RETURN_IF_ERROR(w.EndConversation(tenant, cv, now, "client"));
      PARLEY_ASSIGN_OR_RETURN(auto record, w.GetConversation(tenant, cv));
      *ended = View(w, tenant, std::move(record));
      ConversationEndedData data{cv, ended->record.connection, ended->record.customer,
                                 EndReason::kClient};
      return recorder->Record(w, tenant, data, cv).status();
    };
    Status s = co_await store::WriteRerunnable(*app_.store, std::move(end_conversation));
    if (!s.ok()) co_return http::ErrorResponse(s);
    recorder->Publish(*app_.bus);
    co_return Json(200, ConversationJson(*ended));
  }

  awaitable<Response> CustomerResponse(TenantId tenant, Result<store::CustomerRecord> c) {
    if (!c.ok()) co_return http::ErrorResponse(c.status());
    auto key = co_await app_.keys->Get(tenant);
    if (!key.ok()) co_return http::ErrorResponse(key.status());
    auto contact =
        (*key)->Open(c->contact_sealed, delivery::place::CustomerContact(tenant, c->id.str()));
    if (!contact.ok()) co_return http::ErrorResponse(Internal("customer contact does not open"));
    json::value name = nullptr;
    if (!c->profile_sealed.empty()) {
      auto profile =
          (*key)->Open(c->profile_sealed, delivery::place::CustomerProfile(tenant, c->id.str()));
      if (profile.ok()) {
        auto parsed = ParseBoundedJson(*profile);
        if (parsed.ok() && parsed->is_object()) {
          if (auto* n = parsed->get_object().if_contains("name")) name = *n;
        }
      }
    }
    co_return Json(200, json::object{{"id", c->id.str()},
                                     {"channel", c->channel_kind},
                                     {"contact", *contact},
                                     {"name", name},
                                     {"first_seen", FormatRfc3339(c->first_seen)},
                                     {"last_seen", FormatRfc3339(c->last_seen)}});
  }

  awaitable<Response> GetCustomer(Request q) {
    auto who = co_await auth_.Client(q, "customers:read");
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto id = CustomerId::Parse(q.path_params.at("customer"));
    if (!id.ok()) co_return http::ErrorResponse(NotFound("customer not found"));
    std::function<Result<store::CustomerRecord>(store::Reader&)> get_customer =
        [tenant = who->tenant, id = *id](store::Reader& r) { return r.GetCustomer(tenant, id); };
    auto c = co_await store::Read<store::CustomerRecord>(*app_.store, std::move(get_customer));
    co_return co_await CustomerResponse(who->tenant, std::move(c));
  }

  awaitable<Response> FindCustomer(Request q) {
    auto who = co_await auth_.Client(q, "customers:read");
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto channel = q.query.find("channel");
    auto contact = q.query.find("contact");
    if (channel == q.query.end() || contact == q.query.end() || channel->second.size() > 32 ||
        contact->second.empty() || contact->second.size() > 256) {
      co_return http::ErrorResponse(
          InvalidArgument("channel and contact query parameters are required"));
    }
    auto key = co_await app_.keys->Get(who->tenant);
    if (!key.ok()) co_return http::ErrorResponse(key.status());
    std::string index =
        (*key)->BlindIndex(delivery::ContactIndexDomain(channel->second), contact->second);
    std::function<Result<store::CustomerRecord>(store::Reader&)> find_customer_by_contact =
        [tenant = who->tenant, kind = channel->second, index](store::Reader& r) {
          return r.FindCustomerByContact(tenant, kind, index);
        };
    auto c = co_await store::Read<store::CustomerRecord>(*app_.store,
                                                         std::move(find_customer_by_contact));
    co_return co_await CustomerResponse(who->tenant, std::move(c));
  }

  awaitable<Response> ListDeadLetters(Request q) {
    auto who = co_await auth_.Client(q, "dead_letters:manage");
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto page = PageFromQuery(q);
    if (!page.ok()) co_return http::ErrorResponse(page.status());
    std::function<Result<std::vector<store::DeadLetterRecord>>(store::Reader&)> list_dead_letters =
        [tenant = who->tenant, p = *page](store::Reader& r) {
          return r.ListDeadLetters(tenant, p);
        };
    auto list = co_await store::Read<std::vector<store::DeadLetterRecord>>(
        *app_.store, std::move(list_dead_letters));
    if (!list.ok()) co_return http::ErrorResponse(list.status());
    json::array items;
    for (const auto& d : *list) items.push_back(DeadLetterJson(d));
    co_return ListResponse(std::move(items), *page, list->empty() ? "" : list->back().id.str());
  }

  awaitable<Response> ReplayDeadLetter(Request q) {
    auto who = co_await auth_.Client(q, "dead_letters:manage");
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto id = DeadLetterId::Parse(q.path_params.at("dead_letter"));
    if (!id.ok()) co_return http::ErrorResponse(NotFound("dead letter not found"));
    const Clock* clock = app_.clock;
    store::Store::WriteFn requeue = [tenant = who->tenant, id = *id,
                                     clock](store::Writer& w) -> Status {
      PARLEY_ASSIGN_OR_RETURN(store::DeadLetterRecord d, w.GetDeadLetter(tenant, id));
      Status held = d.kind == store::OutboxKind::kWebhook
                        ? w.GetEvent(tenant, EventId::FromTrusted(d.ref_id)).status()
                        : w.GetMessage(tenant, MessageId::FromTrusted(d.ref_id)).status();
      if (!held.ok()) return FailedPrecondition("the dead letter's content is no longer held");
      store::OutboxRecord out;
      out.kind = d.kind;
      out.tenant = tenant;
      out.target_id = d.target_id;
      out.ref_id = d.ref_id;
      out.conversation_id = d.conversation_id;
      out.created_at = out.next_attempt_at = clock->Now();
      PARLEY_RETURN_IF_ERROR(w.InsertOutbox(out).status());
      if (d.kind == store::OutboxKind::kChannelSend) {
        PARLEY_RETURN_IF_ERROR(w.UpdateMessageStatus(tenant, MessageId::FromTrusted(d.ref_id),
                                                     "queued", clock->Now()));
      }
      return w.DeleteDeadLetter(tenant, id);
    };
    Status s = co_await store::Write(*app_.store, std::move(requeue));
    if (!s.ok()) co_return http::ErrorResponse(s);
    co_return Json(202, json::object{{"id", id->str()}, {"status", "queued"}});
  }

  awaitable<void> Stream(Request q, std::unique_ptr<http::WebSocketUpgrade> upgrade) {
    auto who = co_await auth_.Client(q, "conversations:read", /*allow_query=*/true);
    if (!who.ok()) {
      co_await upgrade->Reject(http::ErrorResponse(who.status()));
      co_return;
    }
    std::optional<EventId> resume;
    std::optional<std::string_view> from = q.Header("last-event-id");
    if (auto it = q.query.find("last_event_id"); it != q.query.end()) from = it->second;
    if (from) {
      auto parsed = EventId::Parse(*from);
      if (!parsed.ok()) {
        co_await upgrade->Reject(http::ErrorResponse(InvalidArgument("last_event_id: malformed")));
        co_return;
      }
      resume = *parsed;
    }
    auto socket = co_await upgrade->Accept();
    if (!socket.ok()) co_return;
    log::Info("stream.opened", {{"tenant", who->tenant.str()}, {"key", who->key.str()}});
    co_await app_.stream->Serve(*socket, who->tenant, resume);
    log::Info("stream.closed", {{"tenant", who->tenant.str()}, {"key", who->key.str()}});
  }

  App& app_;
  Auth& auth_;
  ConversationChannels channels_;  // for SendMessage: see client_send.h
};

}  // namespace

void RegisterClientApi(http::Router& router, App& app, Auth& auth) {
  static ClientApi* api = nullptr;  // lives as long as the process, like the route table
  api = new ClientApi(app, auth);
  api->Register(router);
}

}  // namespace parley::api
