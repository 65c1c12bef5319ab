// Contract suite, part 2: write semantics (dedupe, conversation lifecycle, sequences,
// deletion, crypto-shredding), ordering and paging, batches and concurrency.
#include <atomic>
#include <thread>

#include "store/contract/store_contract_test.h"

namespace parley::store::contract {

TEST_P(StoreContractTest, RecordInboundOnceReturnsTheFirstMessageIdOnARepeat) {
  TenantId t = TenantId::New(T(0));
  ConnectionId cn = ConnectionId::New(T(0));
  ConnectionId other_cn = ConnectionId::New(T(0));
  MessageId first = MessageId::New(T(1));
  MessageId second = MessageId::New(T(2));
  std::optional<MessageId> r1, r2, r3;
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_ASSIGN_OR_RETURN(r1, w.RecordInboundOnce(t, cn, "wamid.1", first, T(1)));
                return OkStatus();
              }).ok());
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_ASSIGN_OR_RETURN(r2, w.RecordInboundOnce(t, cn, "wamid.1", second, T(2)));
                PARLEY_ASSIGN_OR_RETURN(r3,
                                        w.RecordInboundOnce(t, other_cn, "wamid.1", second, T(2)));
                return OkStatus();
              }).ok());
  EXPECT_FALSE(r1.has_value());
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(*r2, first);
  EXPECT_FALSE(r3.has_value()) << "dedupe keys are scoped by connection";

  std::optional<MessageId> found, other, missing;
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_ASSIGN_OR_RETURN(found, w.FindInboundKey(t, cn, "wamid.1"));
                PARLEY_ASSIGN_OR_RETURN(other,
                                        w.FindInboundKey(TenantId::New(T(0)), cn, "wamid.1"));
                PARLEY_ASSIGN_OR_RETURN(missing, w.FindInboundKey(t, cn, "wamid.2"));
                return OkStatus();
              }).ok());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, first);
  EXPECT_FALSE(other.has_value()) << "and by tenant";
  EXPECT_FALSE(missing.has_value());
}

TEST_P(StoreContractTest, PendingStatusesAreTakenOnceOldestFirstBoundedAndSwept) {
  TenantId t = TenantId::New(T(0));
  TenantId other_t = TenantId::New(T(0));
  ConnectionId cn = ConnectionId::New(T(0));
  auto pending = [&](const TenantId& tenant, std::string key, std::string sealed, int at) {
    return PendingStatusRecord{tenant, cn, std::move(key), std::move(sealed), T(at)};
  };
  std::vector<bool> kept;
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                for (int i = 0; i < 4; ++i) {
                  PARLEY_ASSIGN_OR_RETURN(
                      bool k,
                      w.InsertPendingStatus(pending(t, "p1", "s" + std::to_string(i), i), 3));
                  kept.push_back(k);
                }
                PARLEY_RETURN_IF_ERROR(w.InsertPendingStatus(pending(t, "p2", "x", 5), 3).status());
                return w.InsertPendingStatus(pending(other_t, "p1", "y", 1), 3).status();
              }).ok());
  EXPECT_EQ(kept, (std::vector<bool>{true, true, true, false})) << "at most 3 per key";

  std::vector<PendingStatusRecord> taken, again, other;
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_ASSIGN_OR_RETURN(taken, w.TakePendingStatuses(t, cn, "p1"));
                PARLEY_ASSIGN_OR_RETURN(again, w.TakePendingStatuses(t, cn, "p1"));
                PARLEY_ASSIGN_OR_RETURN(other,
                                        w.TakePendingStatuses(t, ConnectionId::New(T(0)), "p2"));
                return OkStatus();
              }).ok());
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_EQ(taken[0].status_sealed, "s0");
  EXPECT_EQ(taken[2].status_sealed, "s2");
  EXPECT_EQ(taken[1].created_at, T(1));
  EXPECT_EQ(taken[0].tenant, t);
  EXPECT_EQ(taken[0].key_index, "p1");
  EXPECT_TRUE(again.empty()) << "taken once";
  EXPECT_TRUE(other.empty()) << "scoped by connection";

  // The sweep drops the old ones (the other tenant's "p1" at T(1)), oldest first.
  int swept = 0;
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_ASSIGN_OR_RETURN(swept, w.SweepPendingStatuses(T(3), 100));
                return OkStatus();
              }).ok());
  EXPECT_EQ(swept, 1);
  std::vector<PendingStatusRecord> left, gone;
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_ASSIGN_OR_RETURN(left, w.TakePendingStatuses(t, cn, "p2"));
                PARLEY_ASSIGN_OR_RETURN(gone, w.TakePendingStatuses(other_t, cn, "p1"));
                return OkStatus();
              }).ok());
  EXPECT_EQ(left.size(), 1u);
  EXPECT_TRUE(gone.empty());
}

TEST_P(StoreContractTest, InboundRetriesAreListedWhenDueAndRescheduledOrDeleted) {
  TenantId t = TenantId::New(T(0));
  ConnectionId cn = ConnectionId::New(T(0));
  auto retry = [&](std::string sealed, int due) {
    return InboundRetryRecord{0, t, cn, std::move(sealed), 0, T(0), T(due)};
  };
  int64_t later = 0, sooner = 0;
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_ASSIGN_OR_RETURN(later, w.InsertInboundRetry(retry("later", 5)));
                PARLEY_ASSIGN_OR_RETURN(sooner, w.InsertInboundRetry(retry("sooner", 2)));
                return OkStatus();
              }).ok());
  EXPECT_NE(later, sooner);
  auto due = Read<std::vector<InboundRetryRecord>>(
      [&](Reader& r) { return r.ListDueInboundRetries(T(3), 10); });
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].seq, sooner);
  EXPECT_EQ((*due)[0].request_sealed, "sooner");
  EXPECT_EQ((*due)[0].tenant, t);
  EXPECT_EQ((*due)[0].connection, cn);
  EXPECT_EQ((*due)[0].next_attempt_at, T(2));

  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_RETURN_IF_ERROR(w.RescheduleInboundRetry(sooner, 1, T(9)));
                return w.DeleteInboundRetry(later);
              }).ok());
  due = Read<std::vector<InboundRetryRecord>>(
      [&](Reader& r) { return r.ListDueInboundRetries(T(10), 10); });
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].attempts, 1);
  EXPECT_EQ((*due)[0].next_attempt_at, T(9));
  Status gone = Write([&](Writer& w) { return w.RescheduleInboundRetry(later, 1, T(9)); });
  EXPECT_EQ(gone.code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, EndingAConversationTwiceFailsAndEndingDropsItsContext) {
  Seeded s = SeedTenant(1);
  const TenantId& t = s.tenant.id;
  ASSERT_TRUE(Write([&](Writer& w) {
                return w.EndConversation(t, s.conversation.id, T(60), "agent");
              }).ok());
  EXPECT_EQ(Write([&](Writer& w) {
              return w.EndConversation(t, s.conversation.id, T(61), "timeout");
            }).code(),
            StatusCode::kFailedPrecondition);
  auto cv =
      Read<ConversationRecord>([&](Reader& r) { return r.GetConversation(t, s.conversation.id); });
  ASSERT_TRUE(cv.ok());
  EXPECT_EQ(cv->state, ConversationState::kEnded);
  ASSERT_TRUE(cv->ended_at.has_value());
  EXPECT_EQ(*cv->ended_at, T(60));
  EXPECT_EQ(cv->end_reason, "agent");
  EXPECT_TRUE(cv->context_sealed.empty()) << "DESIGN §6: context ends with the conversation";
  EXPECT_TRUE(cv->cookies_sealed.empty()) << "so does cookie data";
  EXPECT_TRUE(cv->private_sealed.empty()) << "and private data";
  EXPECT_EQ(Write([&](Writer& w) {
              return w.SetConversationEphemeral(t, s.conversation.id,
                                                {.private_sealed = std::string("late")});
            }).code(),
            StatusCode::kFailedPrecondition)
      << "nothing is written back to an ended conversation";
}

TEST_P(StoreContractTest, EphemeralRecordsAreSetOneByOneOnAnOpenConversation) {
  Seeded s = SeedTenant(3);
  Seeded other = SeedTenant(4);
  const TenantId& t = s.tenant.id;
  auto get = [&] {
    return Read<ConversationRecord>(
        [&](Reader& r) { return r.GetConversation(t, s.conversation.id); });
  };
  const std::string context = s.conversation.context_sealed;
  ASSERT_TRUE(Write([&](Writer& w) {
                return w.SetConversationEphemeral(
                    t, s.conversation.id,
                    {.cookies_sealed = std::string("c\0ok", 4), .private_sealed = std::string()});
              }).ok());
  auto cv = get();
  ASSERT_TRUE(cv.ok());
  EXPECT_EQ(cv->context_sealed, context) << "not given: kept";
  EXPECT_EQ(cv->cookies_sealed, std::string("c\0ok", 4));
  EXPECT_TRUE(cv->private_sealed.empty()) << "given empty: cleared";
  EXPECT_EQ(Write([&](Writer& w) {
              return w.SetConversationEphemeral(other.tenant.id, s.conversation.id,
                                                {.context_sealed = std::string("x")});
            }).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(get()->context_sealed, context);
}

TEST_P(StoreContractTest, FindOpenConversationIgnoresEndedConversations) {
  Seeded s = SeedTenant(2);
  const TenantId& t = s.tenant.id;
  auto find = [&] {
    return Read<ConversationRecord>(
        [&](Reader& r) { return r.FindOpenConversation(t, s.connection.id, s.customer.id); });
  };
  auto open = find();
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->id, s.conversation.id);
  ASSERT_TRUE(Write([&](Writer& w) {
                return w.EndConversation(t, s.conversation.id, T(70), "customer");
              }).ok());
  EXPECT_EQ(find().status().code(), StatusCode::kNotFound);
  ConversationRecord next = MakeConversation(t, s.connection.id, s.customer.id, 71);
  ASSERT_TRUE(Write([&](Writer& w) { return w.InsertConversation(next); }).ok());
  auto reopened = find();
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->id, next.id);
  // Another customer on the same connection has no open conversation.
  auto other = Read<ConversationRecord>(
      [&](Reader& r) { return r.FindOpenConversation(t, s.connection.id, CustomerId::New(T(0))); });
  EXPECT_EQ(other.status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, ListConversationsIsNewestFirstWithCursorAndStateFilter) {
  TenantId t = TenantId::New(T(0));
  ConnectionId cn = ConnectionId::New(T(0));
  std::vector<ConversationRecord> cvs;
  for (int i = 0; i < 5; ++i) cvs.push_back(MakeConversation(t, cn, CustomerId::New(T(i)), i));
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                for (auto& c : cvs) PARLEY_RETURN_IF_ERROR(w.InsertConversation(c));
                PARLEY_RETURN_IF_ERROR(w.EndConversation(t, cvs[1].id, T(9), "agent"));
                return w.EndConversation(t, cvs[3].id, T(9), "agent");
              }).ok());
  auto ids = [](const std::vector<ConversationRecord>& v) {
    std::vector<ConversationId> out;
    for (const auto& c : v) out.push_back(c.id);
    return out;
  };
  auto page1 = Read<std::vector<ConversationRecord>>([&](Reader& r) {
    return r.ListConversations(t, std::nullopt, {"", 2});
  });
  ASSERT_TRUE(page1.ok());
  EXPECT_EQ(ids(*page1), (std::vector<ConversationId>{cvs[4].id, cvs[3].id}));
  auto page2 = Read<std::vector<ConversationRecord>>([&](Reader& r) {
    return r.ListConversations(t, std::nullopt, {page1->back().id.str(), 2});
  });
  ASSERT_TRUE(page2.ok());
  EXPECT_EQ(ids(*page2), (std::vector<ConversationId>{cvs[2].id, cvs[1].id}));
  auto page3 = Read<std::vector<ConversationRecord>>([&](Reader& r) {
    return r.ListConversations(t, std::nullopt, {page2->back().id.str(), 2});
  });
  ASSERT_TRUE(page3.ok());
  EXPECT_EQ(ids(*page3), (std::vector<ConversationId>{cvs[0].id}));
  auto open = Read<std::vector<ConversationRecord>>([&](Reader& r) {
    return r.ListConversations(t, ConversationState::kOpen, {"", 10});
  });
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(ids(*open), (std::vector<ConversationId>{cvs[4].id, cvs[2].id, cvs[0].id}));
  auto ended = Read<std::vector<ConversationRecord>>([&](Reader& r) {
    return r.ListConversations(t, ConversationState::kEnded, {cvs[3].id.str(), 10});
  });
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ids(*ended), (std::vector<ConversationId>{cvs[1].id}));
}

TEST_P(StoreContractTest, ListMessagesIsOldestFirstWithPagingPerConversation) {
  TenantId t = TenantId::New(T(0));
  ConnectionId cn = ConnectionId::New(T(0));
  ConversationId cv = ConversationId::New(T(0));
  ConversationId other_cv = ConversationId::New(T(0));
  std::vector<MessageRecord> msgs;
  for (int i = 0; i < 5; ++i) msgs.push_back(MakeMessage(t, cv, cn, i));
  MessageRecord elsewhere = MakeMessage(t, other_cv, cn, 2);
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                // Inserted out of order: listing follows ids, not insertion.
                for (int i : {3, 0, 4, 1, 2}) PARLEY_RETURN_IF_ERROR(w.InsertMessage(msgs[i]));
                return w.InsertMessage(elsewhere);
              }).ok());
  std::vector<MessageId> seen;
  std::string cursor;
  for (int round = 0; round < 4; ++round) {
    auto page = Read<std::vector<MessageRecord>>([&](Reader& r) {
      return r.ListMessages(t, cv, {cursor, 2});
    });
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (const auto& m : *page) seen.push_back(m.id);
    cursor = page->back().id.str();
  }
  std::vector<MessageId> want;
  for (const auto& m : msgs) want.push_back(m.id);
  EXPECT_EQ(seen, want);
  ASSERT_TRUE(Write([&](Writer& w) { return w.DeleteMessage(t, msgs[0].id); }).ok());
  auto after_delete =
      Read<std::vector<MessageRecord>>([&](Reader& r) { return r.ListMessages(t, cv, {}); });
  ASSERT_TRUE(after_delete.ok());
  ASSERT_EQ(after_delete->size(), 4u);
  EXPECT_EQ(after_delete->front().id, msgs[1].id);
}

TEST_P(StoreContractTest, EventSeqsIncreaseInCommitOrderAndListEventsAfterResumes) {
  TenantId t = TenantId::New(T(0));
  TenantId other = TenantId::New(T(0));
  ConversationId cv = ConversationId::New(T(0));
  // Ids created in one order, committed in the reverse: seq follows the commit.
  std::vector<EventRecord> evs;
  for (int i = 0; i < 4; ++i) evs.push_back(MakeEvent(t, cv, i));
  std::vector<int64_t> seqs;
  for (int i = 3; i >= 0; --i) {
    ASSERT_TRUE(Write([&](Writer& w) -> Status {
                  PARLEY_ASSIGN_OR_RETURN(int64_t seq, w.InsertEvent(evs[i]));
                  seqs.push_back(seq);
                  PARLEY_ASSIGN_OR_RETURN(int64_t other_seq,
                                          w.InsertEvent(MakeEvent(other, cv, i)));
                  EXPECT_GT(other_seq, seq);
                  return OkStatus();
                }).ok());
  }
  for (size_t i = 1; i < seqs.size(); ++i) EXPECT_GT(seqs[i], seqs[i - 1]);
  auto all = Read<std::vector<EventRecord>>([&](Reader& r) { return r.ListEventsAfter(t, 0, 10); });
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].id, evs[3].id);
  EXPECT_EQ((*all)[0].seq, seqs[0]);
  auto rest = Read<std::vector<EventRecord>>(
      [&](Reader& r) { return r.ListEventsAfter(t, (*all)[1].seq, 1); });
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].id, evs[1].id);
  // Deleting the newest row never lets its seq be reused.
  auto outbox = MakeOutbox(t, OutboxKind::kWebhook, 1);
  int64_t first_seq = 0;
  int64_t max_seq = 0;
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_ASSIGN_OR_RETURN(first_seq, w.InsertOutbox(outbox));
                return w.DeleteOutbox({first_seq});
              }).ok());
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_ASSIGN_OR_RETURN(max_seq, w.InsertOutbox(outbox));
                return OkStatus();
              }).ok());
  EXPECT_GT(max_seq, first_seq);
}

TEST_P(StoreContractTest, OutboxListsByKindInSeqOrderAndCanBeRescheduledAndDeleted) {
  TenantId t = TenantId::New(T(0));
  std::vector<OutboxRecord> rows = {
      MakeOutbox(t, OutboxKind::kWebhook, 0), MakeOutbox(t, OutboxKind::kChannelSend, 1),
      MakeOutbox(t, OutboxKind::kWebhook, 2), MakeOutbox(t, OutboxKind::kWebhook, 3)};
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                for (auto& r : rows) {
                  PARLEY_ASSIGN_OR_RETURN(r.seq, w.InsertOutbox(r));
                }
                return OkStatus();
              }).ok());
  auto webhooks = Read<std::vector<OutboxRecord>>(
      [&](Reader& r) { return r.ListOutbox(OutboxKind::kWebhook, 2); });
  ASSERT_TRUE(webhooks.ok());
  ASSERT_EQ(webhooks->size(), 2u);
  EXPECT_EQ(Fields((*webhooks)[0]), Fields(rows[0]));
  EXPECT_EQ(Fields((*webhooks)[1]), Fields(rows[2]));
  auto sends = Read<std::vector<OutboxRecord>>(
      [&](Reader& r) { return r.ListOutbox(OutboxKind::kChannelSend, 10); });
  ASSERT_TRUE(sends.ok());
  ASSERT_EQ(sends->size(), 1u);
  EXPECT_EQ(Fields((*sends)[0]), Fields(rows[1]));
  EXPECT_EQ(*Read<int64_t>([](Reader& r) { return r.CountOutbox(); }), 4);

  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_RETURN_IF_ERROR(w.RescheduleOutbox(rows[2].seq, 5, T(77), "timeout"));
                return w.DeleteOutbox({rows[0].seq, rows[1].seq});
              }).ok());
  auto left = Read<std::vector<OutboxRecord>>(
      [&](Reader& r) { return r.ListOutbox(OutboxKind::kWebhook, 10); });
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ((*left)[0].seq, rows[2].seq);
  EXPECT_EQ((*left)[0].attempts, 5);
  EXPECT_EQ((*left)[0].next_attempt_at, T(77));
  EXPECT_EQ((*left)[0].last_error, "timeout");
  EXPECT_EQ((*left)[0].created_at, rows[2].created_at);
  EXPECT_EQ(*Read<int64_t>([](Reader& r) { return r.CountOutbox(); }), 2);
}

TEST_P(StoreContractTest, WebhookCursorStartsAtTheLastEventAndMovesOnlyFromWhereItIs) {
  TenantId t = TenantId::New(T(0));
  TenantId other = TenantId::New(T(0));
  ConversationId cv = ConversationId::New(T(0));
  std::vector<int64_t> seqs;
  auto add_events = [&](const TenantId& tenant, int from, int n) {
    ASSERT_TRUE(Write([&](Writer& w) -> Status {
                  for (int i = from; i < from + n; ++i) {
                    PARLEY_ASSIGN_OR_RETURN(int64_t seq, w.InsertEvent(MakeEvent(tenant, cv, i)));
                    if (tenant == t) seqs.push_back(seq);
                  }
                  return OkStatus();
                }).ok());
  };
  add_events(t, 0, 2);
  EndpointRecord endpoint = MakeEndpoint(t, 1);
  ASSERT_TRUE(Write([&](Writer& w) { return w.InsertEndpoint(endpoint); }).ok());
  add_events(other, 10, 1);  // another tenant's events are not this endpoint's

  auto cursor =
      Read<WebhookCursorRecord>([&](Reader& r) { return r.GetWebhookCursor(t, endpoint.id); });
  ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
  EXPECT_EQ(cursor->endpoint, endpoint.id);
  EXPECT_EQ(cursor->tenant, t);
  EXPECT_EQ(cursor->after_seq, seqs[1]);  // events before the endpoint are not sent to it
  EXPECT_EQ(cursor->attempts, 0);
  auto behind = [&] {
    return *Read<std::vector<WebhookCursorRecord>>(
        [](Reader& r) { return r.ListWebhookCursorsBehind(10); });
  };
  EXPECT_TRUE(behind().empty());
  EXPECT_EQ(*Read<int64_t>([](Reader& r) { return r.CountOutbox(); }), 0);

  add_events(t, 2, 2);
  ASSERT_EQ(behind().size(), 1u);
  EXPECT_EQ(behind()[0].endpoint, endpoint.id);
  EXPECT_EQ(*Read<int64_t>([](Reader& r) { return r.CountOutbox(); }), 2);

  // A failed attempt is recorded where the cursor is, and only there.
  ASSERT_TRUE(Write([&](Writer& w) {
                return w.DelayWebhookCursor(t, endpoint.id, seqs[1], 1, T(50), "http_500");
              }).ok());
  EXPECT_EQ(Write([&](Writer& w) {
              return w.DelayWebhookCursor(t, endpoint.id, seqs[0], 2, T(60), "http_500");
            }).code(),
            StatusCode::kNotFound);
  cursor = Read<WebhookCursorRecord>([&](Reader& r) { return r.GetWebhookCursor(t, endpoint.id); });
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(cursor->attempts, 1);
  EXPECT_EQ(cursor->next_attempt_at, T(50));
  EXPECT_EQ(cursor->last_error, "http_500");

  // Moving on clears the retry state; a second move from the old place fails, as does a move
  // backwards or one by another tenant.
  EXPECT_EQ(Write([&](Writer& w) {
              return w.AdvanceWebhookCursor(other, endpoint.id, seqs[1], seqs[3]);
            }).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Write([&](Writer& w) {
              return w.AdvanceWebhookCursor(t, endpoint.id, seqs[1], seqs[0]);
            }).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(Write([&](Writer& w) {
                return w.AdvanceWebhookCursor(t, endpoint.id, seqs[1], seqs[3]);
              }).ok());
  EXPECT_EQ(Write([&](Writer& w) {
              return w.AdvanceWebhookCursor(t, endpoint.id, seqs[1], seqs[3]);
            }).code(),
            StatusCode::kNotFound);
  cursor = Read<WebhookCursorRecord>([&](Reader& r) { return r.GetWebhookCursor(t, endpoint.id); });
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(cursor->after_seq, seqs[3]);
  EXPECT_EQ(cursor->attempts, 0);
  EXPECT_EQ(cursor->next_attempt_at, FromUnixMillis(0));
  EXPECT_EQ(cursor->last_error, "");
  EXPECT_TRUE(behind().empty());
  EXPECT_EQ(
      Read<WebhookCursorRecord>([&](Reader& r) { return r.GetWebhookCursor(other, endpoint.id); })
          .status()
          .code(),
      StatusCode::kNotFound);

  // The cursor goes with its endpoint.
  ASSERT_TRUE(Write([&](Writer& w) { return w.DeleteEndpoint(t, endpoint.id); }).ok());
  EXPECT_EQ(Read<WebhookCursorRecord>([&](Reader& r) { return r.GetWebhookCursor(t, endpoint.id); })
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_P(StoreContractTest, DeadLettersPageByIdAndDelete) {
  TenantId t = TenantId::New(T(0));
  std::vector<DeadLetterRecord> dls;
  for (int i = 0; i < 3; ++i) dls.push_back(MakeDeadLetter(t, i));
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                for (auto& d : dls) PARLEY_RETURN_IF_ERROR(w.InsertDeadLetter(d));
                return OkStatus();
              }).ok());
  auto page1 = Read<std::vector<DeadLetterRecord>>([&](Reader& r) {
    return r.ListDeadLetters(t, {"", 2});
  });
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->size(), 2u);
  EXPECT_EQ(Fields((*page1)[0]), Fields(dls[0]));
  auto page2 = Read<std::vector<DeadLetterRecord>>([&](Reader& r) {
    return r.ListDeadLetters(t, {(*page1)[1].id.str(), 2});
  });
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->size(), 1u);
  EXPECT_EQ((*page2)[0].id, dls[2].id);
  ASSERT_TRUE(Write([&](Writer& w) { return w.DeleteDeadLetter(t, dls[1].id); }).ok());
  EXPECT_EQ(Read<DeadLetterRecord>([&](Reader& r) { return r.GetDeadLetter(t, dls[1].id); })
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_P(StoreContractTest, AuditListsByTenantOrForEveryone) {
  TenantId a = TenantId::New(T(0));
  TenantId b = TenantId::New(T(0));
  std::vector<AuditRecord> rows = {MakeAudit(a, 0), MakeAudit(std::nullopt, 1), MakeAudit(b, 2),
                                   MakeAudit(a, 3)};
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                for (auto& r : rows) PARLEY_RETURN_IF_ERROR(w.InsertAudit(r));
                return OkStatus();
              }).ok());
  auto of_a = Read<std::vector<AuditRecord>>([&](Reader& r) { return r.ListAudit(a, {}); });
  ASSERT_TRUE(of_a.ok());
  ASSERT_EQ(of_a->size(), 2u);
  EXPECT_EQ((*of_a)[0].id, rows[0].id);
  EXPECT_EQ((*of_a)[1].id, rows[3].id);
  auto everyone = Read<std::vector<AuditRecord>>([&](Reader& r) {
    return r.ListAudit(std::nullopt, {rows[0].id.str(), 2});
  });
  ASSERT_TRUE(everyone.ok());
  ASSERT_EQ(everyone->size(), 2u);
  EXPECT_EQ((*everyone)[0].id, rows[1].id);
  EXPECT_EQ((*everyone)[1].id, rows[2].id);
}

TEST_P(StoreContractTest, DeleteTenantDataRemovesEverythingOfThatTenantAndNothingElse) {
  Seeded a = SeedTenant(20);
  Seeded b = SeedTenant(21);
  const TenantId& ta = a.tenant.id;
  ASSERT_TRUE(Write([&](Writer& w) { return w.DeleteTenantData(ta); }).ok());
  auto gone = Read<bool>([&](Reader& r) -> Result<bool> {
    auto nf = [](const Status& s) { return s.code() == StatusCode::kNotFound; };
    EXPECT_TRUE(nf(r.GetTenant(ta).status()));
    EXPECT_TRUE(nf(r.GetApiKey(a.api_key.id).status()));
    EXPECT_TRUE(nf(r.GetEndpoint(ta, a.endpoint.id).status()));
    EXPECT_TRUE(nf(r.GetConnectionById(a.connection.id).status()));
    EXPECT_TRUE(nf(r.FindConnectionByIdentity("whatsapp", a.connection.identity_index).status()));
    EXPECT_TRUE(nf(r.GetCustomer(ta, a.customer.id).status()));
    EXPECT_TRUE(nf(r.GetConversation(ta, a.conversation.id).status()));
    EXPECT_TRUE(nf(r.GetMessage(ta, a.message.id).status()));
    EXPECT_TRUE(nf(r.GetEvent(ta, a.event.id).status()));
    EXPECT_TRUE(nf(r.GetDeadLetter(ta, a.dead_letter.id).status()));
    EXPECT_TRUE(nf(r.GetWebhookCursor(ta, a.endpoint.id).status()));
    PARLEY_RETURN_IF_ERROR(r.GetWebhookCursor(b.tenant.id, b.endpoint.id).status());
    EXPECT_TRUE(nf(r.GetIdempotency(ta, a.idempotency.key_hash).status()));
    PARLEY_ASSIGN_OR_RETURN(auto audit, r.ListAudit(ta, {}));
    EXPECT_TRUE(audit.empty());
    PARLEY_ASSIGN_OR_RETURN(auto outbox, r.ListOutbox(OutboxKind::kWebhook, 10));
    EXPECT_EQ(outbox.size(), 1u);
    for (const auto& o : outbox) EXPECT_EQ(o.tenant, b.tenant.id);
    // B is whole.
    PARLEY_ASSIGN_OR_RETURN(auto tb, r.GetTenant(b.tenant.id));
    EXPECT_EQ(Fields(tb), Fields(b.tenant));
    PARLEY_ASSIGN_OR_RETURN(auto msg, r.GetMessage(b.tenant.id, b.message.id));
    EXPECT_EQ(Fields(msg), Fields(b.message));
    PARLEY_ASSIGN_OR_RETURN(auto evs, r.ListEventsAfter(b.tenant.id, 0, 10));
    EXPECT_EQ(evs.size(), 1u);
    PARLEY_RETURN_IF_ERROR(r.GetIdempotency(b.tenant.id, b.idempotency.key_hash).status());
    PARLEY_RETURN_IF_ERROR(r.GetConnectionById(b.connection.id).status());
    return true;
  });
  EXPECT_TRUE(gone.ok()) << gone.status().ToString();
  // The dedupe entry of A went too: the same provider id is new again.
  std::optional<MessageId> prior;
  ASSERT_TRUE(Write([&](Writer& w) -> Status {
                PARLEY_ASSIGN_OR_RETURN(
                    prior, w.RecordInboundOnce(ta, a.connection.id, "wamid-" + ta.str(),
                                               MessageId::New(T(1)), T(1)));
                return OkStatus();
              }).ok());
  EXPECT_FALSE(prior.has_value());
}

TEST_P(StoreContractTest, ClearTenantKeyEmptiesOnlyTheWrappedKey) {
  Seeded s = SeedTenant(22);
  ASSERT_TRUE(Write([&](Writer& w) { return w.ClearTenantKey(s.tenant.id); }).ok());
  auto t = Read<TenantRecord>([&](Reader& r) { return r.GetTenant(s.tenant.id); });
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->wrapped_key.empty());
  EXPECT_EQ(t->name, s.tenant.name);
  EXPECT_EQ(t->settings_json, s.tenant.settings_json);
}

TEST_P(StoreContractTest, AFailingWriteInABatchDoesNotAffectTheOthers) {
  std::vector<TenantRecord> tenants;
  for (int i = 0; i < 5; ++i) tenants.push_back(MakeTenant(i));
  std::vector<std::future<Status>> results;
  for (int i = 0; i < 5; ++i) {
    results.push_back(SubmitAsync([&, i](Writer& w) -> Status {
      PARLEY_RETURN_IF_ERROR(w.InsertTenant(tenants[i]));
      if (i == 2) {
        PARLEY_RETURN_IF_ERROR(w.InsertApiKey(MakeApiKey(tenants[i].id)));
        return InvalidArgument("rejected by the caller");
      }
      return OkStatus();
    }));
  }
  for (int i = 0; i < 5; ++i) {
    Status s = results[i].get();
    if (i == 2) {
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(s.message(), "rejected by the caller");
    } else {
      EXPECT_TRUE(s.ok()) << i << ": " << s.ToString();
    }
  }
  auto listed = Read<std::vector<TenantRecord>>([](Reader& r) { return r.ListTenants({}); });
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 4u);
  for (const auto& t : *listed) EXPECT_NE(t.id, tenants[2].id);
  auto keys =
      Read<std::vector<ApiKeyRecord>>([&](Reader& r) { return r.ListApiKeys(tenants[2].id); });
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
}

TEST_P(StoreContractTest, WritesSeeTheirOwnBatchBeforeCommit) {
  TenantRecord t = MakeTenant(30);
  Status s = Write([&](Writer& w) -> Status {
    PARLEY_RETURN_IF_ERROR(w.InsertTenant(t));
    PARLEY_ASSIGN_OR_RETURN(auto got, w.GetTenant(t.id));
    EXPECT_EQ(Fields(got), Fields(t));
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_P(StoreContractTest, DoneIsCalledAfterTheDataIsVisibleToReaders) {
  TenantRecord t = MakeTenant(31);
  std::promise<Status> seen;
  store().SubmitWrite(
      [&](Writer& w) { return w.InsertTenant(t); },
      [&](Status s) {
        if (!s.ok()) {
          seen.set_value(s);
          return;
        }
        // ReadSync from `done` is allowed: readers are other threads.
        seen.set_value(
            store().ReadSync<TenantRecord>([&](Reader& r) { return r.GetTenant(t.id); }).status());
      });
  Status s = seen.get_future().get();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_P(StoreContractTest, CommitListenerRunsAfterCommittedWrites) {
  // The listener runs after `done`, so wait for it rather than for the write.
  std::promise<void> called;
  std::atomic<bool> once{false};
  store().SetCommitListener([&] {
    if (!once.exchange(true)) called.set_value();
  });
  ASSERT_TRUE(Write([&](Writer& w) { return w.InsertTenant(MakeTenant(32)); }).ok());
  called.get_future().wait();
  EXPECT_TRUE(once.load());
  store().SetCommitListener(nullptr);
  // With the listener removed, commits go on without it.
  EXPECT_TRUE(Write([&](Writer& w) { return w.InsertTenant(MakeTenant(33)); }).ok());
}

TEST_P(StoreContractTest, ManyConcurrentWritesFromSeveralThreadsAllComplete) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 150;
  std::atomic<int> ok{0};
  std::atomic<int> finished{0};
  std::promise<void> all_done;
  TenantId t = TenantId::New(T(0));
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kPerThread; ++i) {
        EventRecord ev = MakeEvent(t, ConversationId::New(T(i)), th * kPerThread + i);
        store().SubmitWrite([ev](Writer& w) { return w.InsertEvent(ev).status(); },
                            [&](Status s) {
                              if (s.ok()) ok.fetch_add(1);
                              if (finished.fetch_add(1) + 1 == kThreads * kPerThread) {
                                all_done.set_value();
                              }
                            });
      }
    });
  }
  for (auto& th : threads) th.join();
  all_done.get_future().wait();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  int64_t after = 0;
  int total = 0;
  while (true) {
    auto page =
        Read<std::vector<EventRecord>>([&](Reader& r) { return r.ListEventsAfter(t, after, 500); });
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (const auto& e : *page) EXPECT_GT(e.seq, after);
    total += static_cast<int>(page->size());
    after = page->back().seq;
  }
  EXPECT_EQ(total, kThreads * kPerThread);
}

}  // namespace parley::store::contract
