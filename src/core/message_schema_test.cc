// src/core/message_schema_test.cc — drift check of the codec in message_json.h against the
// published JSON Schemas in docs/schema/.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>

#include "core/message_json.h"
#include "core/message_json_test_samples.h"

namespace parley {
namespace {

namespace json = boost::json;

using message_json_testing::SampleEvents;
using message_json_testing::SampleMessages;

// ---- Drift check against the published JSON Schemas ------------------------------------

json::value LoadSchema(const char* name) {
  std::filesystem::path path =
      std::filesystem::path(__FILE__).parent_path() / "../../docs/schema" / name;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  json::error_code ec;
  json::value v = json::parse(ss.str(), ec);
  EXPECT_FALSE(ec) << path << ": " << ec.message();
  return v;
}

// Every value of `"type": {"const": …}` under any "properties", and every string anywhere.
void Collect(const json::value& v, std::set<std::string>& type_consts,
             std::set<std::string>& strings) {
  if (v.is_string()) strings.emplace(v.get_string());
  if (v.is_array()) {
    for (const auto& x : v.get_array()) Collect(x, type_consts, strings);
  }
  if (!v.is_object()) return;
  const json::object& o = v.get_object();
  if (const auto* props = o.if_contains("properties"); props && props->is_object()) {
    if (const auto* type = props->get_object().if_contains("type");
        type && type->is_object() && type->get_object().contains("const")) {
      type_consts.emplace(type->get_object().at("const").as_string());
    }
  }
  for (const auto& kv : o) {
    strings.emplace(kv.key());
    Collect(kv.value(), type_consts, strings);
  }
}

template <typename E>
std::set<std::string> Names() {
  return {EnumNames<E>::kNames.begin(), EnumNames<E>::kNames.end()};
}

TEST(MessageSchemaTest, MessageSchemaListsExactlyTheCodecsContentTypes) {
  std::set<std::string> type_consts, strings;
  Collect(LoadSchema("message-v1.schema.json"), type_consts, strings);
  EXPECT_EQ(type_consts, Names<ContentType>());
  for (const auto& names : {Names<Direction>(), Names<AuthorRole>(), Names<MediaKind>(),
                            Names<ReplySource>(), Names<InteractiveKind>()}) {
    for (const std::string& n : names) EXPECT_TRUE(strings.count(n)) << n;
  }
}

TEST(MessageSchemaTest, EventSchemaListsExactlyTheCodecsEventTypes) {
  std::set<std::string> type_consts, strings;
  Collect(LoadSchema("event-v1.schema.json"), type_consts, strings);
  EXPECT_EQ(type_consts, Names<EventType>());
  for (const auto& names : {Names<DeliveryStatus>(), Names<EndReason>(), Names<AuthorRole>()}) {
    for (const std::string& n : names) EXPECT_TRUE(strings.count(n)) << n;
  }
}

TEST(MessageSchemaTest, SchemasNameEveryFieldTheCodecWrites) {
  std::set<std::string> type_consts, message_strings, event_strings;
  Collect(LoadSchema("message-v1.schema.json"), type_consts, message_strings);
  Collect(LoadSchema("event-v1.schema.json"), type_consts, event_strings);
  std::function<void(const json::value&, std::set<std::string>&)> keys =
      [&](const json::value& v, std::set<std::string>& out) {
        if (v.is_array())
          for (const auto& x : v.get_array()) keys(x, out);
        if (v.is_object()) {
          for (const auto& kv : v.get_object()) {
            out.emplace(kv.key());
            keys(kv.value(), out);
          }
        }
      };
  std::set<std::string> written;
  for (const Message& m : SampleMessages()) keys(ToJson(m), written);
  written.erase("crm_ticket");  // metadata keys are the client's
  written.erase("desk.queue");
  for (const std::string& k : written) EXPECT_TRUE(message_strings.count(k)) << k;
  std::set<std::string> event_written;
  for (const Event& e : SampleEvents()) {
    json::object o = ToJson(e).as_object();
    if (TypeOf(e) == EventType::kMessageCreated) o.erase("data");
    keys(o, event_written);
  }
  for (const std::string& k : event_written) EXPECT_TRUE(event_strings.count(k)) << k;
}

}  // namespace
}  // namespace parley
