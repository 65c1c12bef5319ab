#include "api/inbound.h"

#include <boost/json.hpp>

#include "core/message_json.h"
#include "delivery/attachments.h"
#include "delivery/message_status.h"
#include "delivery/tenant_keys.h"
#include "store/store_util.h"

namespace parley::api {

namespace json = boost::json;

store::ConversationEphemeral SealEphemeral(const crypto::DataKey& key, const TenantId& tenant,
                                           const ConversationId& id, const InboundEphemeral& e) {
  store::ConversationEphemeral sealed;
  std::string row = id.str();
  if (e.context_json) {
    sealed.context_sealed =
        key.Seal(*e.context_json, delivery::place::ConversationContext(tenant, row));
  }
  if (e.cookies_json) {
    sealed.cookies_sealed =
        key.Seal(*e.cookies_json, delivery::place::ConversationCookies(tenant, row));
  }
  if (e.private_json) {
    sealed.private_sealed =
        key.Seal(*e.private_json, delivery::place::ConversationPrivateData(tenant, row));
  }
  return sealed;
}

namespace {

std::string DedupeIndex(const OpenConnection& c, const channels::InboundMessage& in) {
  return c.key->BlindIndex(delivery::InboundProviderIdDomain(c.context.id), in.provider_message_id);
}

std::string ContactIndex(const OpenConnection& c, const channels::InboundMessage& in) {
  return c.key->BlindIndex(delivery::ContactIndexDomain(c.context.kind), in.contact_id);
}

}  // namespace

PreparedInbound PrepareInbound(const OpenConnection& c, const channels::InboundMessage& in,
                               const Clock& clock) {
  PreparedInbound p;
  p.now = clock.Now();
  p.message = MessageId::New(p.now);
  p.dedupe_index = DedupeIndex(c, in);
  p.contact_index = ContactIndex(c, in);
  auto guess = c.guesses->Find(p.contact_index);
  // Media messages are left to the write: their attachments are checked and described there.
  if (!guess || std::holds_alternative<MediaContent>(in.content)) return p;
  const TenantId& tenant = c.context.tenant;
  p.sealed = SealMessage(*c.key, clock,
                         channels::ToCommonFormat(in, {p.message, tenant, guess->conversation,
                                                       ChannelRef{c.context.kind, c.context.id},
                                                       guess->customer, p.now}));
  p.guess = std::move(guess);
  return p;
}

void RememberConversation(const OpenConnection& c, const PreparedInbound& prepared,
                          const InboundOutcome& outcome) {
  if (outcome.duplicate) return;
  c.guesses->Remember(prepared.contact_index, {outcome.customer, outcome.conversation});
}

Result<InboundOutcome> StoreInbound(store::Writer& w, const OpenConnection& c,
                                    delivery::EventRecorder& recorder,
                                    const channels::InboundMessage& in, const Clock& clock,
                                    const InboundEphemeral* ephemeral,
                                    const PreparedInbound* prepared) {
  const TenantId& tenant = c.context.tenant;
  const crypto::DataKey& key = *c.key;
  TimePoint now = prepared ? prepared->now : clock.Now();
  InboundOutcome out;
  out.message = prepared ? prepared->message : MessageId::New(now);
  std::string dedupe_index = prepared ? prepared->dedupe_index : DedupeIndex(c, in);
  PARLEY_ASSIGN_OR_RETURN(
      auto existing, w.RecordInboundOnce(tenant, c.context.id, dedupe_index, out.message, now));
  if (existing) {
    out.duplicate = true;
    out.message = *existing;
    auto prior = w.GetMessage(tenant, *existing);
    if (prior.ok()) out.conversation = prior->conversation;
    return out;
  }

  std::string contact_index = prepared ? prepared->contact_index : ContactIndex(c, in);
  store::CustomerRecord customer;
  bool known_customer = false;
  auto found = w.FindCustomerByContact(tenant, c.context.kind, contact_index);
  if (found.ok()) {
    customer = std::move(*found);
    known_customer = true;
    if (now - customer.last_seen >= store::kActivityResolution) {
      PARLEY_RETURN_IF_ERROR(w.TouchCustomer(tenant, customer.id, now));
    }
  } else if (found.status().code() == StatusCode::kNotFound) {
    customer.id = CustomerId::New(now);
    customer.tenant = tenant;
    customer.channel_kind = c.context.kind;
    customer.contact_index = contact_index;
    customer.contact_sealed =
        key.Seal(in.contact_id, delivery::place::CustomerContact(tenant, customer.id.str()));
    if (!in.contact_name.empty()) {
      customer.profile_sealed =
          key.Seal(json::serialize(json::object{{"name", in.contact_name}}),
                   delivery::place::CustomerProfile(tenant, customer.id.str()));
    }
    customer.first_seen = customer.last_seen = now;
    PARLEY_RETURN_IF_ERROR(w.InsertCustomer(customer));
  } else {
    return found.status();
  }

  store::ConversationRecord conversation;
  auto open = w.FindOpenConversation(tenant, c.context.id, customer.id);
  if (open.ok()) {
    conversation = std::move(*open);
    PARLEY_RETURN_IF_ERROR(store::TouchConversationIfDue(w, conversation, now));
  } else if (open.status().code() == StatusCode::kNotFound) {
    conversation.id = ConversationId::New(now);
    conversation.tenant = tenant;
    conversation.connection = c.context.id;
    conversation.customer = customer.id;
    conversation.started_at = conversation.last_activity_at = now;
    PARLEY_RETURN_IF_ERROR(w.InsertConversation(conversation));
    out.conversation_started = true;
    ConversationStartedData started{conversation.id, c.context.id, customer.id};
    if (known_customer) {
      started.returning = true;
      started.customer_first_seen = customer.first_seen;
    }
    PARLEY_RETURN_IF_ERROR(recorder.Record(w, tenant, started, conversation.id).status());
  } else {
    return open.status();
  }
  out.conversation = conversation.id;
  out.customer = customer.id;
  if (out.conversation_started && ephemeral && !ephemeral->empty()) {
    PARLEY_RETURN_IF_ERROR(w.SetConversationEphemeral(
        tenant, conversation.id, SealEphemeral(key, tenant, conversation.id, *ephemeral)));
  }

  store::MessageRecord record;
  record.id = out.message;
  record.tenant = tenant;
  record.conversation = conversation.id;
  record.connection = c.context.id;
  record.direction = store::Direction::kInbound;
  record.status = "received";
  record.created_at = record.updated_at = now;
  if (prepared && prepared->guess && !out.conversation_started &&
      prepared->guess->customer == customer.id &&
      prepared->guess->conversation == conversation.id) {
    // Built before the write for this very conversation (PrepareInbound).
    record.body_sealed = prepared->sealed.body_sealed;
    PARLEY_RETURN_IF_ERROR(w.InsertMessage(record));
    PARLEY_RETURN_IF_ERROR(
        recorder.RecordPrepared(w, prepared->sealed.event, conversation.id).status());
    out.stored = prepared->sealed.message;
    return out;
  }

  Message m =
      channels::ToCommonFormat(in, {out.message, tenant, conversation.id,
                                    ChannelRef{c.context.kind, c.context.id}, customer.id, now});
  PARLEY_RETURN_IF_ERROR(delivery::ResolveAttachments(w, key, conversation, m.content, now));

  SealedMessage sealed = SealMessage(key, clock, std::move(m));
  record.body_sealed = sealed.body_sealed;
  PARLEY_RETURN_IF_ERROR(w.InsertMessage(record));
  PARLEY_RETURN_IF_ERROR(recorder.RecordPrepared(w, sealed.event, conversation.id).status());
  out.stored = sealed.message;
  return out;
}

namespace {

// Moves one message to `st.status` if that is progress; records message.status.
Result<bool> ApplyStatusTo(store::Writer& w, const OpenConnection& c,
                           delivery::EventRecorder& recorder, const channels::InboundStatus& st,
                           const store::MessageRecord& message, const Clock& clock,
                           store::Direction direction) {
  const TenantId& tenant = c.context.tenant;
  if (message.connection != c.context.id || message.direction != direction) {
    return false;  // not a message this connection carried
  }
  MessageStatusData data;
  data.message = message.id;
  data.conversation = message.conversation;
  data.status = st.status;
  data.error = st.error;
  data.provider_message_id = st.provider_message_id;
  TimePoint now = clock.Now();
  data.at = st.at.value_or(now);
  return delivery::AdvanceMessageStatus(w, recorder, tenant, data, message.status, now);
}

// A watermark status: every message sent to the contact's open conversation up to the
// watermark. Bounded: the oldest kMaxWatermarkPages pages of the conversation are looked at
// (a longer conversation's later messages keep their state; see docs/architecture.md).
constexpr int kMaxWatermarkPages = 4;

Result<bool> ApplyWatermark(store::Writer& w, const OpenConnection& c,
                            delivery::EventRecorder& recorder, const channels::InboundStatus& st,
                            const Clock& clock, store::Direction direction) {
  const TenantId& tenant = c.context.tenant;
  if (st.contact_id.empty()) return false;
  std::string contact_index =
      c.key->BlindIndex(delivery::ContactIndexDomain(c.context.kind), st.contact_id);
  auto customer = w.FindCustomerByContact(tenant, c.context.kind, contact_index);
  if (!customer.ok()) {
    if (customer.status().code() == StatusCode::kNotFound) return false;
    return customer.status();
  }
  auto conversation = w.FindOpenConversation(tenant, c.context.id, customer->id);
  if (!conversation.ok()) {
    if (conversation.status().code() == StatusCode::kNotFound) return false;
    return conversation.status();
  }
  bool any = false;
  store::Page page;
  page.limit = 500;
  for (int i = 0; i < kMaxWatermarkPages; ++i) {
    PARLEY_ASSIGN_OR_RETURN(std::vector<store::MessageRecord> messages,
                            w.ListMessages(tenant, conversation->id, page));
    for (const store::MessageRecord& m : messages) {
      if (m.created_at > *st.watermark) return any;  // oldest first: the rest are later
      // Only messages the provider accepted: a queued or failed one was never delivered.
      if (delivery::StatusRank(m.status) < 1) continue;
      PARLEY_ASSIGN_OR_RETURN(bool applied, ApplyStatusTo(w, c, recorder, st, m, clock, direction));
      any = any || applied;
    }
    if (static_cast<int>(messages.size()) < page.limit) break;
    page.after = messages.back().id.str();
  }
  return any;
}

}  // namespace

Result<bool> ApplyStatus(store::Writer& w, const OpenConnection& c,
                         delivery::EventRecorder& recorder, const channels::InboundStatus& st,
                         const Clock& clock, store::Direction direction) {
  const TenantId& tenant = c.context.tenant;
  if (st.watermark) return ApplyWatermark(w, c, recorder, st, clock, direction);
  std::optional<MessageId> id = st.message;
  if (!id && !st.provider_message_id.empty()) {
    // A provider id: Parley recorded it when the provider accepted the message.
    std::string index =
        c.key->BlindIndex(delivery::SentProviderIdDomain(c.context.id), st.provider_message_id);
    PARLEY_ASSIGN_OR_RETURN(id, w.FindInboundKey(tenant, c.context.id, index));
    if (!id) {
      // Not recorded yet: the send's own write may still be on its way (the provider can
      // answer the send and post the status before Parley commits the outcome). That write
      // applies it; the sweeper drops it if no send ever claims it.
      MessageStatusData data;
      data.status = st.status;
      data.error = st.error;
      data.provider_message_id = st.provider_message_id;
      data.at = st.at.value_or(clock.Now());
      store::PendingStatusRecord pending{tenant, c.context.id, index,
                                         delivery::SealPendingStatus(*c.key, tenant, index, data),
                                         clock.Now()};
      PARLEY_RETURN_IF_ERROR(
          w.InsertPendingStatus(pending, delivery::kMaxPendingStatusesPerId).status());
      return false;
    }
  }
  if (!id) return false;
  auto message = w.GetMessage(tenant, *id);
  if (!message.ok()) {
    if (message.status().code() == StatusCode::kNotFound) return false;
    return message.status();
  }
  return ApplyStatusTo(w, c, recorder, st, *message, clock, direction);
}

}  // namespace parley::api
