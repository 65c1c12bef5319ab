// Attachment rows and customer erasure for SqliteAccess.
#include <string>
#include <vector>

#include "store/sqlite/sqlite_access.h"
#include "store/store_util.h"

namespace parley::store::sqlite {

namespace {

#define ATTACHMENT_COLS                                                                          \
  "id, tenant_id, customer_id, conversation_id, blob_name, mime_type, size_bytes, meta_sealed, " \
  "created_at, expires_at"

Result<AttachmentRecord> ReadAttachment(Query& q) {
  AttachmentRecord r;
  r.id = AttachmentId::FromTrusted(q.ColText());
  r.tenant = TenantId::FromTrusted(q.ColText());
  if (auto customer = q.ColOptText()) r.customer = CustomerId::FromTrusted(*customer);
  if (auto conversation = q.ColOptText()) {
    r.conversation = ConversationId::FromTrusted(*conversation);
  }
  r.blob_name = q.ColText();
  r.mime_type = q.ColText();
  r.size_bytes = q.ColInt();
  r.meta_sealed = q.ColBlob();
  r.created_at = q.ColTime();
  r.expires_at = q.ColTime();
  return r;
}

}  // namespace

Result<AttachmentRecord> SqliteAccess::GetAttachment(const TenantId& tenant,
                                                     const AttachmentId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT " ATTACHMENT_COLS
                                               " FROM attachments WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  return One(q, ReadAttachment, "attachment");
}

Result<AttachmentRecord> SqliteAccess::GetAttachmentById(const AttachmentId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " ATTACHMENT_COLS " FROM attachments WHERE id = ?"));
  q.Text(id.str());
  return One(q, ReadAttachment, "attachment");
}

Result<std::vector<AttachmentRecord>> SqliteAccess::ListExpiredAttachments(TimePoint now,
                                                                           int limit) {
  PARLEY_RETURN_IF_ERROR(ValidateLimit(limit));
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " ATTACHMENT_COLS " FROM attachments WHERE expires_at < ?"
                           " ORDER BY expires_at LIMIT ?"));
  q.Time(now).Int(limit);
  return All(q, ReadAttachment);
}

Result<std::vector<AttachmentRecord>> SqliteAccess::ListCustomerAttachments(
    const TenantId& tenant, const CustomerId& customer, int limit) {
  PARLEY_RETURN_IF_ERROR(ValidateLimit(limit));
  // Attachments stored with the customer, and those of the customer's conversations.
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " ATTACHMENT_COLS " FROM attachments"
                           " WHERE tenant_id = ?1 AND (customer_id = ?2 OR conversation_id IN"
                           " (SELECT id FROM conversations WHERE tenant_id = ?1"
                           " AND customer_id = ?2)) ORDER BY id LIMIT ?3"));
  q.Text(tenant.str()).Text(customer.str()).Int(limit);
  return All(q, ReadAttachment);
}

Status SqliteAccess::InsertAttachment(const AttachmentRecord& r) {
  PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare("INSERT INTO attachments (" ATTACHMENT_COLS
                                               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  const std::string customer = r.customer ? r.customer->str() : std::string();
  const std::string conversation = r.conversation ? r.conversation->str() : std::string();
  q.Text(r.id.str())
      .Text(r.tenant.str())
      .OptText(r.customer ? &customer : nullptr)
      .OptText(r.conversation ? &conversation : nullptr)
      .Text(r.blob_name)
      .Text(r.mime_type)
      .Int(r.size_bytes)
      .Blob(r.meta_sealed)
      .Time(r.created_at)
      .Time(r.expires_at);
  return q.Run();
}

Status SqliteAccess::AssignAttachment(const TenantId& tenant, const AttachmentId& id,
                                      const ConversationId& conversation,
                                      const CustomerId& customer) {
  PARLEY_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE attachments SET conversation_id = ?1, customer_id = ?2 "
                           "WHERE id = ?3 AND tenant_id = ?4 "
                           "AND (conversation_id IS NULL OR conversation_id = ?1)"));
  q.Text(conversation.str()).Text(customer.str()).Text(id.str()).Text(tenant.str());
  PARLEY_RETURN_IF_ERROR(q.Run());
  if (q.Changes() > 0) return OkStatus();
  PARLEY_RETURN_IF_ERROR(GetAttachment(tenant, id).status());
  return FailedPrecondition("attachment belongs to another conversation");
}

Status SqliteAccess::DeleteAttachment(const TenantId& tenant, const AttachmentId& id) {
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("DELETE FROM attachments WHERE id = ? AND tenant_id = ?"));
  q.Text(id.str()).Text(tenant.str());
  return RunExpectingRow(q, "attachment");
}

Result<ErasureCounts> SqliteAccess::EraseCustomer(const TenantId& tenant,
                                                  const CustomerId& customer) {
  {
    PARLEY_ASSIGN_OR_RETURN(Query q,
                            db_.Prepare("SELECT 1 FROM customers WHERE id = ? AND tenant_id = ?"));
    q.Text(customer.str()).Text(tenant.str());
    PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("customer not found");
  }
  // Per conversation, children first; ?1 = tenant, ?2 = conversation.
  struct Delete {
    const char* sql;
    int ErasureCounts::*count;  // nullptr: not reported
  };
  static constexpr Delete kPerConversation[] = {
      {"DELETE FROM outbox WHERE tenant_id = ?1 AND conversation_id = ?2", nullptr},
      {"DELETE FROM dead_letters WHERE tenant_id = ?1 AND conversation_id = ?2", nullptr},
      {"DELETE FROM inbound_dedupe WHERE tenant_id = ?1 AND message_id IN"
       " (SELECT id FROM messages WHERE tenant_id = ?1 AND conversation_id = ?2)",
       nullptr},
      {"DELETE FROM events WHERE tenant_id = ?1 AND conversation_id = ?2", &ErasureCounts::events},
      {"DELETE FROM messages WHERE tenant_id = ?1 AND conversation_id = ?2",
       &ErasureCounts::messages},
      {"DELETE FROM attachments WHERE tenant_id = ?1 AND conversation_id = ?2",
       &ErasureCounts::attachments},
      {"DELETE FROM conversations WHERE tenant_id = ?1 AND id = ?2", &ErasureCounts::conversations},
  };
  ErasureCounts counts;
  std::vector<std::string> conversations;
  {
    PARLEY_ASSIGN_OR_RETURN(
        Query q,
        db_.Prepare("SELECT id FROM conversations WHERE tenant_id = ? AND customer_id = ?"));
    q.Text(tenant.str()).Text(customer.str());
    while (true) {
      PARLEY_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      conversations.push_back(q.ColText());
    }
  }
  for (const std::string& conversation : conversations) {
    for (const Delete& d : kPerConversation) {
      PARLEY_ASSIGN_OR_RETURN(Query q, db_.Prepare(d.sql));
      q.Text(tenant.str()).Text(conversation);
      PARLEY_RETURN_IF_ERROR(q.Run());
      if (d.count) counts.*(d.count) += static_cast<int>(q.Changes());
    }
  }
  {
    PARLEY_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("DELETE FROM attachments WHERE tenant_id = ? AND customer_id = ?"));
    q.Text(tenant.str()).Text(customer.str());
    PARLEY_RETURN_IF_ERROR(q.Run());
    counts.attachments += static_cast<int>(q.Changes());
  }
  PARLEY_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("DELETE FROM customers WHERE id = ? AND tenant_id = ?"));
  q.Text(customer.str()).Text(tenant.str());
  PARLEY_RETURN_IF_ERROR(q.Run());
  return counts;
}

}  // namespace parley::store::sqlite
