#include "blob/scan_hook.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "core/test_temp_dir.h"

namespace parley::blob {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

constexpr std::string_view kMarker = "PARLEY-TEST-VIRUS";
constexpr size_t kMiB = 1024 * 1024;

// `size` bytes of text lines; with `infected`, the marker straddles offset 100000 (a Feed
// boundary below, so a scanner must join pieces to see it).
std::string Payload(size_t size, bool infected) {
  std::string data;
  data.reserve(size);
  for (int i = 0; data.size() < size; ++i) data += "line " + std::to_string(i) + " of the file\n";
  data.resize(size);
  if (infected) data.replace(100000 - 8, kMarker.size(), kMarker);
  return data;
}

// Feeds in uneven 100000-byte pieces; stops at the first error.
Status FeedAll(ScanSession& session, std::string_view data) {
  while (!data.empty()) {
    std::string_view piece = data.substr(0, 100000);
    data.remove_prefix(piece.size());
    PARLEY_RETURN_IF_ERROR(session.Feed(piece));
  }
  return OkStatus();
}

// Feeds, then finishes; the first error wins.
Result<ScanVerdict> Scan(const ScanHookOptions& options, std::string_view data) {
  PARLEY_ASSIGN_OR_RETURN(std::unique_ptr<ScanSession> session, StartScan(options));
  PARLEY_RETURN_IF_ERROR(FeedAll(*session, data));
  return session->Finish();
}

int CountOpenFds() {
  int n = 0;
  for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// True once `pid` is neither running nor a zombie (a killed grandchild is reaped by init).
bool ProcessGone(pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    if (line.substr(line.rfind(')') + 2, 1) == "Z") return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

class ScanHookTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(tmp_.ok()); }

  std::string Script(const std::string& name, const std::string& body) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    chmod(path.c_str(), 0700);
    return path;
  }
  ScanHookOptions Command(const std::string& body, std::chrono::milliseconds timeout = 5s) {
    ScanHookOptions options;
    options.command = Script("scanner.sh", body);
    options.timeout = timeout;
    return options;
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  // Waits until the script wrote its pid to `name` (it does so first).
  pid_t ReadPid(const std::string& name) {
    for (int i = 0; i < 500; ++i) {
      std::ifstream in(dir_ / name);
      pid_t pid = 0;
      if (in >> pid && pid > 0) return pid;
      std::this_thread::sleep_for(5ms);
    }
    return -1;
  }
  // Our child was reaped by the session: no zombie left behind.
  static bool Reaped(pid_t pid) { return waitpid(pid, nullptr, WNOHANG) == -1 && errno == ECHILD; }

  TestTempDir tmp_{"parley-scan"};
  const std::filesystem::path dir_{tmp_.path()};
};

constexpr const char* kInfectedScript =
    "if grep -q PARLEY-TEST-VIRUS; then echo 'Parley-Test-Signature FOUND'; exit 1; fi; exit 0";

TEST(ScanHookOptionsTest, ValidatesTheChoiceOfScanner) {
  ScanHookOptions options;
  EXPECT_TRUE(options.Validate().ok());
  EXPECT_FALSE(options.Enabled());
  options.command = "/bin/true";
  options.clamd_socket = "/run/clamd.sock";
  EXPECT_EQ(options.Validate().code(), StatusCode::kInvalidArgument);
  options.clamd_socket.clear();
  EXPECT_TRUE(options.Validate().ok());
  options.command = "   ";
  EXPECT_EQ(options.Validate().code(), StatusCode::kInvalidArgument);
  options.command.clear();
  options.clamd_socket = "/" + std::string(200, 's');
  EXPECT_EQ(options.Validate().code(), StatusCode::kInvalidArgument);
  options.clamd_socket = "/run/clamd.sock";
  options.timeout = 0ms;
  EXPECT_EQ(options.Validate().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(StartScan(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(ScanHookOptionsTest, NoScannerReportsClean) {
  Result<ScanVerdict> v = Scan(ScanHookOptions{}, "anything PARLEY-TEST-VIRUS");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->clean);
}

TEST_F(ScanHookTest, CleanCommandReportsClean) {
  Result<ScanVerdict> v = Scan(Command("cat >/dev/null; exit 0"), Payload(3 * kMiB, false));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->clean);
  EXPECT_EQ(v->reason, "");
}

TEST_F(ScanHookTest, InfectedCommandReportsItsFirstLine) {
  ScanHookOptions options = Command(kInfectedScript);
  Result<ScanVerdict> v = Scan(options, Payload(3 * kMiB, true));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE(v->clean);
  EXPECT_EQ(v->reason, "Parley-Test-Signature FOUND");
  v = Scan(options, Payload(3 * kMiB, false));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->clean);
}

TEST_F(ScanHookTest, ReasonIsSanitizedAndBounded) {
  Result<ScanVerdict> v = Scan(Command("cat >/dev/null; printf 'Bad\\001\\033[31m '; "
                                       "head -c 300 /dev/zero | tr '\\000' x; echo; echo 2nd;"
                                       "exit 1"),
                               "data");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE(v->clean);
  EXPECT_EQ(v->reason.size(), kMaxScanReasonBytes);
  EXPECT_THAT(v->reason, StartsWith("Bad??[31m xxx"));
}

TEST_F(ScanHookTest, InfectedWithoutOutputStillHasAReason) {
  Result<ScanVerdict> v = Scan(Command("cat >/dev/null; exit 1"), "data");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE(v->clean);
  EXPECT_EQ(v->reason, "unspecified");
}

TEST_F(ScanHookTest, PassesArgumentsButNotTheEnvironment) {
  ASSERT_EQ(setenv("PARLEY_TEST_SECRET", "hunter2", 1), 0);
  ScanHookOptions options = Command(
      "cat >/dev/null; echo \"$1+$2 ${PARLEY_TEST_SECRET:-none}\"; "
      "exit 1");
  options.command += "  one two";
  Result<ScanVerdict> v = Scan(options, "data");
  unsetenv("PARLEY_TEST_SECRET");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->reason, "one+two none");
}

// A command may decide before reading everything; its exit code is the verdict, and the
// write to its closed stdin must neither hang nor kill us with SIGPIPE.
TEST_F(ScanHookTest, CommandThatStopsReadingEarlyIsJudgedByItsExitCode) {
  Result<ScanVerdict> v = Scan(Command("exit 0"), Payload(4 * kMiB, false));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->clean);

  v = Scan(Command("head -c 1000 >/dev/null; echo 'Early FOUND'; exit 1"),
           Payload(4 * kMiB, false));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE(v->clean);
  EXPECT_EQ(v->reason, "Early FOUND");

  // The process's SIGPIPE handling is untouched: default action, not blocked.
  struct sigaction action {};
  sigaction(SIGPIPE, nullptr, &action);
  EXPECT_EQ(action.sa_handler, SIG_DFL);
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  EXPECT_EQ(sigismember(&mask, SIGPIPE), 0);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
}

TEST_F(ScanHookTest, ChattyCommandDoesNotDeadlock) {
  // 4 MB of output before it reads stdin, while we push 3 MiB into it.
  Result<ScanVerdict> v = Scan(Command("yes Parley-line | head -c 4000000; cat >/dev/null; exit 0"),
                               Payload(3 * kMiB, false));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->clean);
}

TEST_F(ScanHookTest, TimeoutKillsTheCommandAndEverythingItStarted) {
  ScanHookOptions options = Command(
      "echo $$ > " + Path("pid") + "; sleep 30 & echo $! > " + Path("sleeper") + "; wait; exit 0",
      300ms);
  auto start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<ScanSession>> session = StartScan(options);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  pid_t pid = ReadPid("pid");
  pid_t sleeper = ReadPid("sleeper");
  ASSERT_GT(pid, 0);
  ASSERT_GT(sleeper, 0);
  EXPECT_TRUE((*session)->Feed("a little").ok());
  Result<ScanVerdict> v = (*session)->Finish();
  EXPECT_EQ(v.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(v.status().message(), "scan hook failed: timed out after 300 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(Reaped(pid));
  EXPECT_TRUE(ProcessGone(sleeper));
}

TEST_F(ScanHookTest, TimeoutWhileFeedingACommandThatDoesNotRead) {
  ScanHookOptions options = Command("echo $$ > " + Path("pid") + "; sleep 30", 200ms);
  Result<std::unique_ptr<ScanSession>> session = StartScan(options);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  pid_t pid = ReadPid("pid");
  ASSERT_GT(pid, 0);
  Status fed = FeedAll(**session, Payload(4 * kMiB, false));
  EXPECT_EQ(fed.code(), StatusCode::kUnavailable);
  EXPECT_THAT(fed.message(), HasSubstr("timed out"));
  EXPECT_EQ((*session)->Finish().status(), fed);  // sticky
  EXPECT_TRUE(Reaped(pid));
}

TEST_F(ScanHookTest, CrashingCommandIsAnError) {
  Result<ScanVerdict> v = Scan(Command("cat >/dev/null; exit 2"), "data");
  EXPECT_EQ(v.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(v.status().message(), "scan hook failed: exited with code 2");
  v = Scan(Command("kill -KILL $$"), "data");
  EXPECT_EQ(v.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(v.status().message(), "scan hook failed: killed by signal 9");
}

// Breaking the documented precondition must not turn into a clean verdict.
TEST_F(ScanHookTest, LostExitStatusFailsClosed) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old {};
  ASSERT_EQ(sigaction(SIGCHLD, &ignore, &old), 0);  // children are reaped by the kernel
  Result<ScanVerdict> v = Scan(Command("cat >/dev/null; exit 0"), "data");
  sigaction(SIGCHLD, &old, nullptr);
  EXPECT_EQ(v.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(v.status().message(), "scan hook failed: the command's exit status was lost");
}

TEST_F(ScanHookTest, MissingProgramIsAnError) {
  ScanHookOptions options;
  options.command = (dir_ / "no-such-scanner").string() + " --flag";
  Result<std::unique_ptr<ScanSession>> session = StartScan(options);
  EXPECT_EQ(session.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(session.status().message(), StartsWith("scan hook failed: cannot start "));
  EXPECT_THAT(session.status().message(), HasSubstr("No such file or directory"));
}

TEST_F(ScanHookTest, DestroyingAnUnfinishedSessionKillsAndReaps) {
  int fds_before = CountOpenFds();
  Result<std::unique_ptr<ScanSession>> session =
      StartScan(Command("echo $$ > " + Path("pid") + "; cat >/dev/null; exit 0"));
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  ASSERT_TRUE((*session)->Feed(Payload(kMiB, false)).ok());
  pid_t pid = ReadPid("pid");
  ASSERT_GT(pid, 0);
  session->reset();
  EXPECT_TRUE(Reaped(pid));
  EXPECT_EQ(CountOpenFds(), fds_before);
}

TEST_F(ScanHookTest, SessionsLeakNoDescriptors) {
  ScanHookOptions options = Command(kInfectedScript);
  int fds_before = CountOpenFds();
  for (int i = 0; i < 10; ++i) {
    Result<ScanVerdict> v = Scan(options, i % 2 == 0 ? "clean" : "PARLEY-TEST-VIRUS");
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->clean, i % 2 == 0);
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
}

// ---------------------------------------------------------------------------------------
// clamd mode, against a fake clamd that implements INSTREAM on a unix socket.

class FakeClamd {
 public:
  enum class Mode { kNormal, kSizeLimit, kSilent, kGarbage };

  FakeClamd(std::string path, Mode mode) : path_(std::move(path)), mode_(mode) {
    listener_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(listener_, 4), 0);
    EXPECT_EQ(pipe(stop_), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeClamd() {
    EXPECT_EQ(write(stop_[1], "x", 1), 1);
    thread_.join();
    close(listener_);
    close(stop_[0]);
    close(stop_[1]);
  }

  size_t chunks() const { return chunks_; }
  size_t max_chunk() const { return max_chunk_; }
  size_t bytes() const { return bytes_; }

 private:
  void Serve() {
    for (;;) {
      pollfd fds[2] = {{listener_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (poll(fds, 2, -1) < 0 || fds[1].revents != 0) return;
      int conn = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) return;
      timeval tv{.tv_sec = 5, .tv_usec = 0};
      setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      Handle(conn);
      close(conn);
    }
  }

  static bool ReadExactly(int fd, char* buf, size_t n) {
    while (n > 0) {
      ssize_t r = read(fd, buf, n);
      if (r <= 0) return false;
      buf += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }
  static void Reply(int fd, std::string_view text) {
    std::string msg(text);
    msg.push_back('\0');
    EXPECT_EQ(send(fd, msg.data(), msg.size(), MSG_NOSIGNAL), static_cast<ssize_t>(msg.size()));
  }

  void Handle(int fd) {
    char command[10];
    if (!ReadExactly(fd, command, sizeof command) ||
        std::string_view(command, sizeof command) != std::string_view("zINSTREAM\0", 10)) {
      Reply(fd, "UNKNOWN COMMAND");
      return;
    }
    std::string window;  // the last bytes seen, to find a marker split across chunks
    bool found = false;
    for (;;) {
      uint32_t length = 0;
      if (!ReadExactly(fd, reinterpret_cast<char*>(&length), 4)) return;
      length = ntohl(length);
      if (length == 0) break;
      std::string chunk(length, '\0');
      if (!ReadExactly(fd, chunk.data(), length)) return;
      ++chunks_;
      max_chunk_ = std::max<size_t>(max_chunk_, length);
      bytes_ += length;
      window += chunk;
      found = found || window.find(kMarker) != std::string::npos;
      window.erase(0, window.size() - std::min(window.size(), kMarker.size() - 1));
      if (mode_ == Mode::kSizeLimit && bytes_ > kMiB) {
        Reply(fd, "INSTREAM size limit exceeded. ERROR");
        return;
      }
    }
    if (mode_ == Mode::kSilent) {
      char c;
      [[maybe_unused]] ssize_t r = read(fd, &c, 1);  // until the client gives up
      return;
    }
    if (mode_ == Mode::kGarbage) return Reply(fd, "UNKNOWN COMMAND");
    Reply(fd, found ? "stream: Parley-Test-Signature FOUND" : "stream: OK");
  }

  std::string path_;
  Mode mode_;
  int listener_ = -1;
  int stop_[2] = {-1, -1};
  std::atomic<size_t> chunks_{0};
  std::atomic<size_t> max_chunk_{0};
  std::atomic<size_t> bytes_{0};
  std::thread thread_;
};

class ClamdTest : public ScanHookTest {
 protected:
  ScanHookOptions Clamd(std::chrono::milliseconds timeout = 5s) {
    ScanHookOptions options;
    options.clamd_socket = (dir_ / "clamd.sock").string();
    options.timeout = timeout;
    return options;
  }
};

TEST_F(ClamdTest, CleanStreamInChunks) {
  FakeClamd clamd(Clamd().clamd_socket, FakeClamd::Mode::kNormal);
  Result<ScanVerdict> v = Scan(Clamd(), Payload(3 * kMiB, false));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->clean);
  EXPECT_EQ(clamd.bytes(), 3 * kMiB);
  EXPECT_GE(clamd.chunks(), 48u);
  EXPECT_LE(clamd.max_chunk(), 64u * 1024);
}

TEST_F(ClamdTest, InfectedStreamReportsTheSignature) {
  FakeClamd clamd(Clamd().clamd_socket, FakeClamd::Mode::kNormal);
  Result<ScanVerdict> v = Scan(Clamd(), Payload(3 * kMiB, true));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE(v->clean);
  EXPECT_EQ(v->reason, "Parley-Test-Signature");
}

TEST_F(ClamdTest, RefusedStreamIsAnError) {
  FakeClamd clamd(Clamd().clamd_socket, FakeClamd::Mode::kSizeLimit);
  Result<ScanVerdict> v = Scan(Clamd(), Payload(3 * kMiB, false));
  EXPECT_EQ(v.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(v.status().message(),
            "scan hook failed: clamd replied: INSTREAM size limit exceeded. ERROR");
}

TEST_F(ClamdTest, UnexpectedReplyIsAnError) {
  FakeClamd clamd(Clamd().clamd_socket, FakeClamd::Mode::kGarbage);
  Result<ScanVerdict> v = Scan(Clamd(), "data");
  EXPECT_EQ(v.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(v.status().message(), "scan hook failed: clamd replied: UNKNOWN COMMAND");
}

TEST_F(ClamdTest, SilentClamdTimesOut) {
  FakeClamd clamd(Clamd().clamd_socket, FakeClamd::Mode::kSilent);
  auto start = std::chrono::steady_clock::now();
  Result<ScanVerdict> v = Scan(Clamd(300ms), "data");
  EXPECT_EQ(v.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(v.status().message(), "scan hook failed: clamd timed out after 300 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(ClamdTest, MissingSocketIsAnError) {
  Result<std::unique_ptr<ScanSession>> session = StartScan(Clamd());
  EXPECT_EQ(session.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(session.status().message(), StartsWith("scan hook failed: cannot connect to clamd"));
}

TEST_F(ClamdTest, SessionsLeakNoDescriptors) {
  int fds_before = CountOpenFds();
  {
    FakeClamd clamd(Clamd().clamd_socket, FakeClamd::Mode::kNormal);
    for (int i = 0; i < 10; ++i) {
      Result<std::unique_ptr<ScanSession>> session = StartScan(Clamd());
      ASSERT_TRUE(session.ok()) << session.status().ToString();
      ASSERT_TRUE((*session)->Feed("some bytes").ok());
      if (i % 2 == 0) {
        EXPECT_TRUE((*session)->Finish().ok());  // odd ones are abandoned
      }
    }
  }  // the fake's own descriptors are closed here
  EXPECT_EQ(CountOpenFds(), fds_before);
}

}  // namespace
}  // namespace parley::blob
