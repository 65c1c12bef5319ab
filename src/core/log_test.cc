#include "core/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"

namespace parley::log {
namespace {

// Captures every line written through the log API.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { Capture(Level::kTrace); }
  void TearDown() override { Init({}); }

  void Capture(Level level) {
    out_.str("");
    InitWithSink(level, std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
  }

  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  // Parses one line as a JSON object; fails the test when it is not valid JSON.
  static boost::json::object ParseObject(const std::string& line) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(line, ec);
    EXPECT_FALSE(ec) << "not JSON: " << line;
    if (ec || !v.is_object()) return {};
    return v.as_object();
  }

  std::ostringstream out_;
};

TEST_F(LogTest, WritesOneJsonObjectPerLineWithTypedFields) {
  Info("message.ingested", {{"tenant", "tn_1"}, {"bytes", 42}, {"ratio", 0.5}, {"dup", false}});
  Warn("delivery.retry", {{"attempt", 3u}});

  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  boost::json::object first = ParseObject(lines[0]);
  EXPECT_EQ(first.at("level").as_string(), "info");
  EXPECT_EQ(first.at("event").as_string(), "message.ingested");
  EXPECT_EQ(first.at("tenant").as_string(), "tn_1");
  EXPECT_EQ(first.at("bytes").as_int64(), 42);
  EXPECT_DOUBLE_EQ(first.at("ratio").as_double(), 0.5);
  EXPECT_EQ(first.at("dup").as_bool(), false);
  EXPECT_TRUE(ParseRfc3339(std::string(first.at("ts").as_string())).ok());

  boost::json::object second = ParseObject(lines[1]);
  EXPECT_EQ(second.at("level").as_string(), "warn");
  EXPECT_EQ(second.at("attempt").as_int64(), 3);
}

TEST_F(LogTest, FieldOrderIsTsLevelEventThenFields) {
  std::string line = internal::FormatLine("2026-11-21T06:53:00.123Z", Level::kInfo, "http.request",
                                          {{"status", 200}});
  EXPECT_EQ(line, R"({"ts":"2026-11-21T06:53:00.123Z","level":"info","event":"http.request",)"
                  R"("status":200})");
}

TEST_F(LogTest, EscapesQuotesBackslashesNewlinesAndControlCharacters) {
  std::string nasty = "a\"b\\c\nd\re\tf";
  nasty += '\0';
  nasty +=
      "\x01\x1f\x7f"
      "g";
  Error("test.escape", {{"value", nasty}, {"key\"with\nquote", 1}});

  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u) << "a raw newline split the line";
  boost::json::object obj = ParseObject(lines[0]);
  EXPECT_EQ(obj.at("value").as_string(), nasty);
  EXPECT_EQ(obj.at("key\"with\nquote").as_int64(), 1);
  EXPECT_NE(lines[0].find(R"(\u0000\u0001\u001f\u007f)"), std::string::npos);
}

TEST_F(LogTest, ReplacesInvalidUtf8AndKeepsValidUtf8) {
  Info("test.utf8", {{"bad", "x\xff\xc0\x80y"},
                     {"surrogate", "\xed\xa0\x80"},
                     {"good", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"}});

  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  boost::json::object obj = ParseObject(lines[0]);
  EXPECT_EQ(obj.at("bad").as_string(), "x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdy");
  EXPECT_EQ(obj.at("surrogate").as_string(), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(obj.at("good").as_string(), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST_F(LogTest, TruncatesLongValues) {
  std::string huge(kMaxValueBytes * 4, 'x');
  Info("test.long", {{"value", huge}});

  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  boost::json::object obj = ParseObject(lines[0]);
  std::string value(obj.at("value").as_string());
  EXPECT_LT(value.size(), kMaxValueBytes + 32);
  EXPECT_NE(value.find("[truncated]"), std::string::npos);
}

TEST_F(LogTest, NonFiniteDoublesBecomeNull) {
  Info("test.nan", {{"nan", std::numeric_limits<double>::quiet_NaN()},
                    {"inf", std::numeric_limits<double>::infinity()}});
  boost::json::object obj = ParseObject(Lines().at(0));
  EXPECT_TRUE(obj.at("nan").is_null());
  EXPECT_TRUE(obj.at("inf").is_null());
}

TEST_F(LogTest, DropsLinesBelowTheConfiguredLevel) {
  Capture(Level::kWarn);
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kWarn));

  Trace("t");
  Debug("d");
  Info("i");
  Warn("w");
  Error("e");

  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(ParseObject(lines[0]).at("event").as_string(), "w");
  EXPECT_EQ(ParseObject(lines[1]).at("event").as_string(), "e");
}

TEST_F(LogTest, LevelOffDropsEverything) {
  Capture(Level::kOff);
  Error("e");
  EXPECT_TRUE(Lines().empty());
}

TEST(LogLevelTest, ParsesNamesAndRejectsOthers) {
  ASSERT_TRUE(ParseLevel("debug").ok());
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("error"), Level::kError);
  EXPECT_EQ(ParseLevel("INFO").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseLevel("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LevelName(Level::kWarn), "warn");
}

// Logs to <tmp>/parley_log_<pid>/parley.log for one test; back to stderr afterwards.
class LogFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_);
    Init({.level = Level::kInfo, .file = path_});
  }
  void TearDown() override {
    Init({});
    std::filesystem::remove_all(dir_);
  }
  std::string ReadAll() const {
    std::ifstream in(path_);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  const std::filesystem::path dir_ =
      std::filesystem::temp_directory_path() / ("parley_log_" + std::to_string(::getpid()));
  const std::string path_ = (dir_ / "parley.log").string();
};

TEST_F(LogFileTest, AppendsJsonLinesToTheConfiguredFile) {
  Info("test.file", {{"n", 1}});
  Debug("test.hidden");
  Flush();

  std::ifstream in(path_);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(line, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(v.at("event").as_string(), "test.file");
  EXPECT_FALSE(std::getline(in, line)) << "debug line written at info level";
}

TEST_F(LogFileTest, AWarningIsWrittenAtOnceWithTheLinesBeforeIt) {
  Info("test.before");
  Warn("test.warning");
  // No Flush: both lines are in the file as soon as Warn returns.
  std::string text = ReadAll();
  EXPECT_NE(text.find("test.before"), std::string::npos);
  EXPECT_NE(text.find("test.warning"), std::string::npos);
}

TEST_F(LogFileTest, InfoLinesReachTheFileWithoutAFlushWhenIdle) {
  Info("test.idle");
  // The sink's flusher writes pending lines out within 200 ms; allow a slow machine 10 s.
  bool seen = false;
  for (int i = 0; i < 1000 && !seen; ++i) {
    seen = ReadAll().find("test.idle") != std::string::npos;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(seen);
}

TEST(LogInitTest, TryInitReportsAnUnopenableFile) {
  // A regular file as the "directory": no process, root or not, can create a file below it.
  auto blocker =
      std::filesystem::temp_directory_path() / ("parley_log_blocker_" + std::to_string(::getpid()));
  std::ofstream(blocker) << "x";
  Status s = TryInit({.level = Level::kInfo, .file = (blocker / "parley.log").string()});
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  std::filesystem::remove(blocker);
}

}  // namespace
}  // namespace parley::log
