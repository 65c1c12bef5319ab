// src/api/attachments_api.cc
//
// Attachments and the customer's rights over their data:
//   POST   /v1/attachments                      upload (streamed; messages:write)
//   GET    /v1/attachments/{attachment}         a signed link -> 302 to a storage URL
//   GET    /v1/attachments/{attachment}/content a signed storage URL (local storage)
//   GET    /v1/customers/{customer}/export      everything held about one customer
//   DELETE /v1/customers/{customer}             erasure (customers:erase)
#include <boost/json.hpp>

#include "api/handlers.h"
#include "api/json_util.h"
#include "core/log.h"
#include "core/message_json.h"
#include "delivery/attachments.h"
#include "store/async.h"

namespace parley::api {
namespace {

namespace json = boost::json;
using boost::asio::awaitable;
using http::Request;
using http::Response;

std::string QueryValue(const Request& q, const std::string& name) {
  auto it = q.query.find(name);
  return it == q.query.end() ? std::string() : it->second;
}

class AttachmentsApi {
 public:
  AttachmentsApi(App& app, Auth& auth) : app_(app), auth_(auth) {}

  void Register(http::Router& r) {
    r.AddStreaming(
        "POST", "/v1/attachments",
        [this](Request q, http::BodyReader& body) { return Upload(std::move(q), body); },
        delivery::kMaxAttachmentBytes);
    r.Add("GET", "/v1/attachments/{attachment}",
          [this](Request q) { return Follow(std::move(q)); });
    r.Add("GET", "/v1/attachments/{attachment}/content",
          [this](Request q) { return Content(std::move(q)); });
    r.Add("GET", "/v1/customers/{customer}/export",
          [this](Request q) { return Export(std::move(q)); });
    r.Add("DELETE", "/v1/customers/{customer}", [this](Request q) { return Erase(std::move(q)); });
  }

 private:
  awaitable<Response> Upload(Request q, http::BodyReader& body) {
    auto who = co_await auth_.Client(q, "messages:write");
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    delivery::UploadRequest up;
    up.tenant = who->tenant;
    up.declared_type = std::string(q.Header("content-type").value_or(""));
    up.filename = QueryValue(q, "filename");
    up.declared_length = body.content_length();
    if (auto cv = QueryValue(q, "conversation_id"); !cv.empty()) {
      auto parsed = ConversationId::Parse(cv);
      if (!parsed.ok()) co_return http::ErrorResponse(NotFound("conversation not found"));
      up.conversation = *parsed;
    }
    UploadOutcome outcome = co_await StreamUpload(*app_.attachments, std::move(up), body);
    if (!outcome.status.ok()) {
      log::Info("attachment.upload_refused",
                {{"tenant", who->tenant.str()}, {"code", StatusCodeName(outcome.status.code())}});
    }
    co_return std::move(outcome.response);
  }

  awaitable<Response> Follow(Request q) {
    auto target = co_await app_.attachments->Follow(
        q.path_params.at("attachment"), QueryValue(q, "expires"), QueryValue(q, "signature"));
    if (!target.ok()) co_return http::ErrorResponse(target.status());
    Response r;
    r.status = 302;
    r.content_type = "text/plain";
    r.headers.emplace_back("Location", *target);
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    co_return r;
  }

  awaitable<Response> Content(Request q) {
    auto content = co_await app_.attachments->OpenContent(
        q.path_params.at("attachment"), QueryValue(q, "expires"), QueryValue(q, "signature"));
    if (!content.ok()) co_return http::ErrorResponse(content.status());
    Response r;
    const std::string& type = content->record.mime_type;
    r.content_type = type;
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Content-Security-Policy", "default-src 'none'; sandbox");
    r.headers.emplace_back("Cache-Control", "private, no-store");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("Content-Disposition",
                           type.starts_with("image/") ? "inline" : "attachment");
    r.stream_length = content->reader->size();
    std::shared_ptr<blob::BlobReader> reader = std::move(content->reader);
    r.stream = [reader]() { return reader->Next(); };
    co_return r;
  }

  awaitable<Response> Export(Request q) {
    auto who = co_await auth_.Client(q, "customers:read");
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto id = CustomerId::Parse(q.path_params.at("customer"));
    if (!id.ok()) co_return http::ErrorResponse(NotFound("customer not found"));
    const TenantId tenant = who->tenant;
    auto key = co_await app_.keys->Get(tenant);
    if (!key.ok()) co_return http::ErrorResponse(key.status());
    const crypto::DataKey& k = **key;

    struct Held {
      store::CustomerRecord customer;
      std::vector<store::ConversationRecord> conversations;
      std::vector<store::MessageRecord> messages;
      std::vector<store::AttachmentRecord> attachments;
    };
    std::function<Result<Held>(store::Reader&)> gather =
        [tenant, id = *id](store::Reader& r) -> Result<Held> {
      Held held;
      PARLEY_ASSIGN_OR_RETURN(held.customer, r.GetCustomer(tenant, id));
      PARLEY_ASSIGN_OR_RETURN(held.conversations, r.ListCustomerConversations(tenant, id, 500));
      for (const auto& cv : held.conversations) {
        store::Page page;
        page.limit = 500;
        while (true) {
          PARLEY_ASSIGN_OR_RETURN(auto messages, r.ListMessages(tenant, cv.id, page));
          for (auto& m : messages) held.messages.push_back(std::move(m));
          if (static_cast<int>(messages.size()) < page.limit) break;
          page.after = held.messages.back().id.str();
        }
      }
      PARLEY_ASSIGN_OR_RETURN(held.attachments, r.ListCustomerAttachments(tenant, id, 500));
      return held;
    };
    auto held = co_await store::Read<Held>(*app_.store, std::move(gather));
    if (!held.ok()) co_return http::ErrorResponse(held.status());

    const store::CustomerRecord& c = held->customer;
    json::object customer{{"id", c.id.str()},
                          {"channel", c.channel_kind},
                          {"first_seen", FormatRfc3339(c.first_seen)},
                          {"last_seen", FormatRfc3339(c.last_seen)}};
    if (auto contact =
            k.Open(c.contact_sealed, delivery::place::CustomerContact(tenant, c.id.str()));
        contact.ok()) {
      customer["contact"] = *contact;
    }
    if (!c.profile_sealed.empty()) {
      auto profile = k.Open(c.profile_sealed, delivery::place::CustomerProfile(tenant, c.id.str()));
      if (profile.ok()) customer["profile"] = ParseOrString(*profile);
    }
    json::array conversations;
    for (const auto& cv : held->conversations) {
      json::object o{{"id", cv.id.str()},
                     {"connection", cv.connection.str()},
                     {"state", cv.state == store::ConversationState::kOpen ? "open" : "ended"},
                     {"started_at", FormatRfc3339(cv.started_at)},
                     {"ended_at", OptionalTimeJson(cv.ended_at)},
                     {"end_reason", cv.end_reason}};
      // The conversation's ephemeral records, while it is open.
      const std::pair<const std::string*, crypto::SealPlace> ephemeral[] = {
          {&cv.context_sealed, delivery::place::ConversationContext(tenant, cv.id.str())},
          {&cv.cookies_sealed, delivery::place::ConversationCookies(tenant, cv.id.str())},
          {&cv.private_sealed, delivery::place::ConversationPrivateData(tenant, cv.id.str())},
      };
      for (const auto& [sealed, where] : ephemeral) {
        if (sealed->empty()) continue;
        auto opened = k.Open(*sealed, where);
        if (opened.ok()) o[where.column] = ParseOrString(*opened);
      }
      conversations.push_back(std::move(o));
    }
    json::array messages;
    for (const auto& m : held->messages) {
      auto body = k.Open(m.body_sealed, delivery::place::MessageBody(tenant, m.id.str()));
      if (body.ok()) messages.push_back(ParseOrString(*body));
    }
    json::array attachments;
    for (const auto& a : held->attachments) {
      auto described = co_await app_.attachments->Describe(tenant, a.id);
      if (described.ok()) attachments.push_back(AttachmentJson(*described));
    }
    log::Info("customer.exported", {{"tenant", tenant.str()}, {"customer", c.id.str()}});
    co_return Json(200, json::object{{"customer", std::move(customer)},
                                     {"conversations", std::move(conversations)},
                                     {"messages", std::move(messages)},
                                     {"attachments", std::move(attachments)},
                                     {"exported_at", FormatRfc3339(app_.clock->Now())}});
  }

  awaitable<Response> Erase(Request q) {
    auto who = co_await auth_.Client(q, "customers:erase");
    if (!who.ok()) co_return http::ErrorResponse(who.status());
    auto id = CustomerId::Parse(q.path_params.at("customer"));
    if (!id.ok()) co_return http::ErrorResponse(NotFound("customer not found"));
    const TenantId tenant = who->tenant;
    const CustomerId customer = *id;
    // Blobs first (a blob without its row could never be found again), then every row.
    std::function<Result<std::vector<store::AttachmentRecord>>(store::Reader&)> list =
        [tenant, customer](store::Reader& r) -> Result<std::vector<store::AttachmentRecord>> {
      PARLEY_RETURN_IF_ERROR(r.GetCustomer(tenant, customer).status());
      return r.ListCustomerAttachments(tenant, customer, 500);
    };
    auto attachments =
        co_await store::Read<std::vector<store::AttachmentRecord>>(*app_.store, std::move(list));
    if (!attachments.ok()) co_return http::ErrorResponse(attachments.status());
    for (const auto& a : *attachments) {
      if (Status s = co_await app_.attachments->Delete(a); !s.ok()) {
        co_return http::ErrorResponse(s);
      }
    }
    auto counts = std::make_shared<store::ErasureCounts>();
    const std::string actor = who->Actor();
    const TimePoint now = app_.clock->Now();
    store::Store::WriteFn erase = [tenant, customer, counts, actor,
                                   now](store::Writer& w) -> Status {
      PARLEY_ASSIGN_OR_RETURN(*counts, w.EraseCustomer(tenant, customer));
      store::AuditRecord audit;
      audit.id = AuditId::New(now);
      audit.at = now;
      audit.actor = actor;
      audit.action = "customer.erase";
      audit.tenant = tenant;
      audit.target = customer.str();
      audit.detail_json = "{}";
      return w.InsertAudit(audit);
    };
    if (Status s = co_await store::Write(*app_.store, std::move(erase)); !s.ok()) {
      co_return http::ErrorResponse(s);
    }
    log::Info("customer.erased", {{"tenant", tenant.str()}, {"customer", customer.str()}});
    co_return Json(200, json::object{{"id", customer.str()},
                                     {"erased", true},
                                     {"conversations", counts->conversations},
                                     {"messages", counts->messages},
                                     {"events", counts->events},
                                     {"attachments", counts->attachments +
                                                         static_cast<int>(attachments->size())}});
  }

  // Sealed JSON values opened for the export; text that is not JSON is exported as is.
  static json::value ParseOrString(const std::string& text) {
    auto parsed = ParseBoundedJson(text);
    return parsed.ok() ? std::move(*parsed) : json::value(text);
  }

  App& app_;
  Auth& auth_;
};

}  // namespace

void RegisterAttachmentApi(http::Router& router, App& app, Auth& auth) {
  static AttachmentsApi* api = nullptr;  // lives as long as the process, like the route table
  api = new AttachmentsApi(app, auth);
  api->Register(router);
}

}  // namespace parley::api
