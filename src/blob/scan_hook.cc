#include "blob/scan_hook.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

namespace parley::blob {
namespace {

using SteadyClock = std::chrono::steady_clock;

// clamd rejects INSTREAM chunks above its StreamMaxLength, and a chunk is buffered whole by
// clamd; 64 KiB is what clamdscan itself sends.
constexpr size_t kClamdChunkBytes = 64 * 1024;
constexpr size_t kMaxReplyBytes = 4096;   // a clamd reply or a command's first line
constexpr size_t kMaxReadsPerDrain = 16;  // keeps a chatty command from starving the deadline
constexpr std::string_view kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { Reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string ErrnoText(int e) { return std::error_code(e, std::generic_category()).message(); }

Status HookFailed(std::string what) { return Unavailable("scan hook failed: " + what); }

// Printable ASCII only (anything else becomes '?'), trimmed, at most kMaxScanReasonBytes.
std::string Sanitize(std::string_view raw) {
  std::string out;
  for (char c : raw.substr(0, kMaxReplyBytes)) {
    out.push_back(c >= 0x20 && c <= 0x7e ? c : '?');
  }
  size_t begin = out.find_first_not_of(' ');
  if (begin == std::string::npos) return "";
  out = out.substr(begin, out.find_last_not_of(' ') - begin + 1);
  if (out.size() > kMaxScanReasonBytes) out.resize(kMaxScanReasonBytes);
  return out;
}

std::vector<std::string> SplitCommand(std::string_view command) {
  std::vector<std::string> args;
  size_t pos = 0;
  while (pos < command.size()) {
    size_t begin = command.find_first_not_of(" \t", pos);
    if (begin == std::string_view::npos) break;
    size_t end = std::min(command.find_first_of(" \t", begin), command.size());
    args.emplace_back(command.substr(begin, end - begin));
    pos = end;
  }
  return args;
}

// Milliseconds left until `deadline`, rounded up, for poll(); 0 once it has passed.
int RemainingMs(SteadyClock::time_point deadline) {
  auto left = deadline - SteadyClock::now();
  if (left <= SteadyClock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

Status SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return HookFailed("fcntl: " + ErrnoText(errno));
  }
  return OkStatus();
}

// Blocks SIGPIPE for the calling thread while in scope, so a write to a command that closed
// its stdin fails with EPIPE instead of killing the process. The SIGPIPE such a write raises
// stays pending on the thread; it is consumed before the old mask comes back. This leaves the
// process's disposition alone (tests and embedders need not ignore SIGPIPE).
class SigpipeBlocker {
 public:
  SigpipeBlocker() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeBlocker() {
    if (raised_ && !was_pending_) {
      timespec zero{};
      while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlocker(const SigpipeBlocker&) = delete;
  SigpipeBlocker& operator=(const SigpipeBlocker&) = delete;
  void Raised() { raised_ = true; }

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
  bool raised_ = false;
};

class NoScanSession final : public ScanSession {
 public:
  Status Feed(std::string_view) override { return OkStatus(); }
  Result<ScanVerdict> Finish() override { return ScanVerdict{}; }
};

// ---------------------------------------------------------------------------------------
// Command mode.

class CommandSession final : public ScanSession {
 public:
  CommandSession(pid_t pid, UniqueFd stdin_fd, UniqueFd stdout_fd, UniqueFd pidfd,
                 SteadyClock::time_point deadline, std::chrono::milliseconds timeout)
      : pid_(pid),
        stdin_(std::move(stdin_fd)),
        stdout_(std::move(stdout_fd)),
        pidfd_(std::move(pidfd)),
        deadline_(deadline),
        timeout_(timeout) {}
  ~CommandSession() override { KillAndReap(); }

  Status Feed(std::string_view bytes) override {
    if (!failed_.ok()) return failed_;
    if (finished_) return FailedPrecondition("scan session already finished");
    SigpipeBlocker blocker;
    while (!bytes.empty() && stdin_.valid()) {
      pollfd fds[2] = {{stdin_.get(), POLLOUT, 0}, {stdout_.get(), POLLIN, 0}};
      int timeout = RemainingMs(deadline_);
      if (timeout == 0) return Fail(TimedOut());
      int n = poll(fds, 2, timeout);
      if (n < 0 && errno != EINTR) return Fail(HookFailed("poll: " + ErrnoText(errno)));
      if (n <= 0) continue;  // EINTR, or timeout (caught at the top)
      if (fds[1].revents != 0) DrainStdout();
      if ((fds[0].revents & POLLERR) != 0) {
        stdin_.Reset();  // the command closed its stdin: the rest is dropped
        break;
      }
      if ((fds[0].revents & POLLOUT) == 0) continue;
      ssize_t w = write(stdin_.get(), bytes.data(), std::min(bytes.size(), kClamdChunkBytes));
      if (w > 0) {
        bytes.remove_prefix(static_cast<size_t>(w));
      } else if (errno == EPIPE) {
        blocker.Raised();
        stdin_.Reset();
      } else if (errno != EAGAIN && errno != EINTR) {
        return Fail(HookFailed("write to the command: " + ErrnoText(errno)));
      }
    }
    return OkStatus();
  }

  Result<ScanVerdict> Finish() override {
    if (!failed_.ok()) return failed_;
    if (finished_) return FailedPrecondition("scan session already finished");
    finished_ = true;
    stdin_.Reset();  // end of file for the command
    while (!Exited()) {
      int timeout = RemainingMs(deadline_);
      if (timeout == 0) return Fail(TimedOut());
      // Without a pidfd (kernels before 5.3) exit is noticed by polling every 10 ms.
      pollfd fds[2] = {{stdout_.get(), POLLIN, 0}, {pidfd_.get(), POLLIN, 0}};
      if (!pidfd_.valid()) timeout = std::min(timeout, 10);
      int n = poll(fds, 2, timeout);
      if (n < 0 && errno != EINTR) return Fail(HookFailed("poll: " + ErrnoText(errno)));
      if (n > 0 && fds[0].revents != 0) DrainStdout();
    }
    DrainStdout();  // what it wrote just before exiting
    int status = 0;
    if (!KillAndReap(&status)) {
      // Reaped by someone else (SIGCHLD ignored, a waitpid(-1)): no verdict, fail closed.
      failed_ = HookFailed("the command's exit status was lost");
      return failed_;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ScanVerdict{};
    if (WIFEXITED(status) && WEXITSTATUS(status) == 1) {
      std::string reason = Sanitize(first_line_);
      return ScanVerdict{.clean = false, .reason = reason.empty() ? "unspecified" : reason};
    }
    failed_ = WIFEXITED(status)
                  ? HookFailed("exited with code " + std::to_string(WEXITSTATUS(status)))
                  : HookFailed("killed by signal " + std::to_string(WTERMSIG(status)));
    return failed_;
  }

 private:
  Status TimedOut() const {
    return HookFailed("timed out after " + std::to_string(timeout_.count()) + " ms");
  }

  Status Fail(Status status) {
    failed_ = std::move(status);
    KillAndReap();
    stdin_.Reset();
    stdout_.Reset();
    return failed_;
  }

  // True once the command has exited; it stays a zombie (WNOWAIT) until KillAndReap. Also
  // true when it is no longer our child to wait for (ECHILD), which Finish reports.
  bool Exited() const {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      return errno == ECHILD;
    }
    return info.si_pid != 0;
  }

  // Reads what the command printed: keeps the first line for the verdict's reason, drops the
  // rest (reading it all keeps a chatty command from blocking on a full pipe).
  void DrainStdout() {
    char buf[16 * 1024];
    for (size_t i = 0; i < kMaxReadsPerDrain && stdout_.valid(); ++i) {
      ssize_t r = read(stdout_.get(), buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && errno == EAGAIN) return;
      if (r <= 0) {
        stdout_.Reset();  // EOF or error: nothing more to learn
        return;
      }
      std::string_view data(buf, static_cast<size_t>(r));
      if (!first_line_done_) {
        size_t nl = data.find('\n');
        first_line_.append(data.substr(0, std::min(nl, kMaxReplyBytes - first_line_.size())));
        first_line_done_ = nl != std::string_view::npos || first_line_.size() >= kMaxReplyBytes;
      }
    }
  }

  // Kills the command's process group (the command and whatever it started: a shell
  // script's children would otherwise outlive it and hold the pipes) while the command is
  // still unreaped — so the group id cannot have been reused — then reaps it.
  // Returns false when there was nothing to reap (already done, or reaped elsewhere).
  bool KillAndReap(int* status = nullptr) {
    if (pid_ <= 0) return false;
    kill(-pid_, SIGKILL);
    int st = 0;
    pid_t reaped;
    while ((reaped = waitpid(pid_, &st, 0)) < 0 && errno == EINTR) {
    }
    bool ok = reaped == pid_;
    pid_ = -1;
    if (ok && status != nullptr) *status = st;
    return ok;
  }

  pid_t pid_;
  UniqueFd stdin_;
  UniqueFd stdout_;
  UniqueFd pidfd_;
  const SteadyClock::time_point deadline_;
  const std::chrono::milliseconds timeout_;
  std::string first_line_;
  bool first_line_done_ = false;
  bool finished_ = false;
  Status failed_;
};

struct SpawnAttributes {
  SpawnAttributes() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnAttributes() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
};

Result<std::unique_ptr<ScanSession>> StartCommand(const ScanHookOptions& options,
                                                  SteadyClock::time_point deadline) {
  std::vector<std::string> args = SplitCommand(options.command);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Parley's secrets live in environment variables: the scanner gets PATH only.
  const char* path = std::getenv("PATH");
  std::string path_var = "PATH=" + std::string(path != nullptr ? path : kDefaultPath);
  char* envp[] = {path_var.data(), nullptr};

  int in[2];
  int out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return HookFailed("pipe: " + ErrnoText(errno));
  UniqueFd in_read(in[0]);
  UniqueFd in_write(in[1]);
  if (pipe2(out, O_CLOEXEC) != 0) return HookFailed("pipe: " + ErrnoText(errno));
  UniqueFd out_read(out[0]);
  UniqueFd out_write(out[1]);
  // Only our ends: the command gets ordinary blocking pipes.
  PARLEY_RETURN_IF_ERROR(SetNonBlocking(in_write.get()));
  PARLEY_RETURN_IF_ERROR(SetNonBlocking(out_read.get()));

  SpawnAttributes spawn;
  posix_spawn_file_actions_adddup2(&spawn.actions, in_read.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&spawn.actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&spawn.actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Descriptors other code opened without O_CLOEXEC must not leak into the scanner.
  posix_spawn_file_actions_addclosefrom_np(&spawn.actions, STDERR_FILENO + 1);
#endif
  // Its own process group (killed as a whole), an empty signal mask and the default SIGPIPE
  // action even if this process ignores SIGPIPE (an ignored disposition survives exec).
  sigset_t empty;
  sigset_t pipe;
  sigemptyset(&empty);
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  posix_spawnattr_setflags(&spawn.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&spawn.attr, 0);
  posix_spawnattr_setsigmask(&spawn.attr, &empty);
  posix_spawnattr_setsigdefault(&spawn.attr, &pipe);

  pid_t pid = -1;
  int e = posix_spawnp(&pid, argv[0], &spawn.actions, &spawn.attr, argv.data(), envp);
  if (e != 0) return HookFailed("cannot start " + args[0] + ": " + ErrnoText(e));
  in_read.Reset();
  out_write.Reset();
  // A pidfd lets Finish wait for the exit in poll(); from Linux 5.3.
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  return std::unique_ptr<ScanSession>(std::make_unique<CommandSession>(
      pid, std::move(in_write), std::move(out_read), std::move(pidfd), deadline, options.timeout));
}

// ---------------------------------------------------------------------------------------
// clamd mode: INSTREAM over a unix socket (clamd(8)). With the "z" prefix every command and
// reply ends with '\0'.

class ClamdSession final : public ScanSession {
 public:
  ClamdSession(UniqueFd fd, SteadyClock::time_point deadline, std::chrono::milliseconds timeout)
      : fd_(std::move(fd)), deadline_(deadline), timeout_(timeout) {}

  Status Begin() {
    constexpr std::string_view kInstream("zINSTREAM\0", 10);
    return Send(kInstream);
  }

  Status Feed(std::string_view bytes) override {
    if (!failed_.ok()) return failed_;
    if (finished_) return FailedPrecondition("scan session already finished");
    while (!bytes.empty() && !verdict_) {
      std::string_view chunk = bytes.substr(0, kClamdChunkBytes);
      bytes.remove_prefix(chunk.size());
      uint32_t length = htonl(static_cast<uint32_t>(chunk.size()));
      PARLEY_RETURN_IF_ERROR(Send(std::string_view(reinterpret_cast<char*>(&length), 4)));
      PARLEY_RETURN_IF_ERROR(Send(chunk));
    }
    return OkStatus();
  }

  Result<ScanVerdict> Finish() override {
    if (!failed_.ok()) return failed_;
    if (finished_) return FailedPrecondition("scan session already finished");
    finished_ = true;
    if (!verdict_) {
      PARLEY_RETURN_IF_ERROR(Send(std::string_view("\0\0\0\0", 4)));
      if (!verdict_) PARLEY_RETURN_IF_ERROR(ReadReply());
    }
    return *verdict_;
  }

 private:
  Status Fail(Status status) {
    failed_ = std::move(status);
    fd_.Reset();
    return failed_;
  }

  Status TimedOut() {
    return Fail(HookFailed("clamd timed out after " + std::to_string(timeout_.count()) + " ms"));
  }

  // Writes all of `data` unless clamd answers first (it does so only to refuse the stream,
  // e.g. "INSTREAM size limit exceeded"), in which case the reply decides.
  Status Send(std::string_view data) {
    while (!data.empty() && !verdict_) {
      pollfd pfd{fd_.get(), POLLOUT | POLLIN, 0};
      int timeout = RemainingMs(deadline_);
      if (timeout == 0) return TimedOut();
      int n = poll(&pfd, 1, timeout);
      if (n < 0 && errno != EINTR) return Fail(HookFailed("poll: " + ErrnoText(errno)));
      if (n <= 0) continue;
      if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0) return ReadReply();
      ssize_t w = send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (w > 0) {
        data.remove_prefix(static_cast<size_t>(w));
      } else if (errno == EPIPE || errno == ECONNRESET) {
        return ReadReply();  // it may have said why before closing
      } else if (errno != EAGAIN && errno != EINTR) {
        return Fail(HookFailed("send to clamd: " + ErrnoText(errno)));
      }
    }
    return OkStatus();
  }

  // Reads one '\0'-terminated reply (or up to EOF) and sets verdict_ or fails.
  Status ReadReply() {
    std::string reply;
    for (;;) {
      pollfd pfd{fd_.get(), POLLIN, 0};
      int timeout = RemainingMs(deadline_);
      if (timeout == 0) return TimedOut();
      int n = poll(&pfd, 1, timeout);
      if (n < 0 && errno != EINTR) return Fail(HookFailed("poll: " + ErrnoText(errno)));
      if (n <= 0) continue;
      char buf[512];
      ssize_t r = recv(fd_.get(), buf, sizeof buf, 0);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) break;  // EOF or reset: judge what arrived
      reply.append(buf, static_cast<size_t>(r));
      if (reply.find('\0') != std::string::npos || reply.size() >= kMaxReplyBytes) break;
    }
    fd_.Reset();
    std::string_view text(reply);
    text = text.substr(0, text.find('\0'));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    constexpr std::string_view kPrefix = "stream: ";
    constexpr std::string_view kFound = " FOUND";
    if (text == "stream: OK" && finished_) {
      verdict_ = ScanVerdict{};
      return OkStatus();
    }
    if (text.starts_with(kPrefix) && text.ends_with(kFound) &&
        text.size() > kPrefix.size() + kFound.size()) {
      std::string name =
          Sanitize(text.substr(kPrefix.size(), text.size() - kPrefix.size() - kFound.size()));
      verdict_ = ScanVerdict{.clean = false, .reason = name.empty() ? "unspecified" : name};
      return OkStatus();
    }
    if (text.empty()) return Fail(HookFailed("clamd closed the connection without a verdict"));
    return Fail(HookFailed("clamd replied: " + Sanitize(text)));
  }

  UniqueFd fd_;
  const SteadyClock::time_point deadline_;
  const std::chrono::milliseconds timeout_;
  std::optional<ScanVerdict> verdict_;
  bool finished_ = false;
  Status failed_;
};

Result<std::unique_ptr<ScanSession>> StartClamd(const ScanHookOptions& options,
                                                SteadyClock::time_point deadline) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return HookFailed("socket: " + ErrnoText(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, options.clamd_socket.data(), options.clamd_socket.size());
  // A blocking connect waits for room in clamd's backlog for at most SO_SNDTIMEO.
  // (A zero timeval would mean no timeout at all.)
  auto left = std::chrono::microseconds(int64_t{std::max(RemainingMs(deadline), 1)} * 1000);
  timeval tv{.tv_sec = static_cast<time_t>(left.count() / 1000000),
             .tv_usec = static_cast<suseconds_t>(left.count() % 1000000)};
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return HookFailed("cannot connect to clamd at " + options.clamd_socket + ": " +
                      ErrnoText(errno));
  }
  PARLEY_RETURN_IF_ERROR(SetNonBlocking(fd.get()));
  auto session = std::make_unique<ClamdSession>(std::move(fd), deadline, options.timeout);
  PARLEY_RETURN_IF_ERROR(session->Begin());
  return std::unique_ptr<ScanSession>(std::move(session));
}

}  // namespace

Status ScanHookOptions::Validate() const {
  if (!command.empty() && !clamd_socket.empty()) {
    return InvalidArgument("scan hook: set command or clamd_socket, not both");
  }
  if (!command.empty() && SplitCommand(command).empty()) {
    return InvalidArgument("scan hook: command is blank");
  }
  if (clamd_socket.size() >= sizeof(sockaddr_un::sun_path) ||
      clamd_socket.find('\0') != std::string::npos) {
    return InvalidArgument("scan hook: clamd_socket must be a path shorter than " +
                           std::to_string(sizeof(sockaddr_un::sun_path)) + " bytes");
  }
  if (timeout <= std::chrono::milliseconds::zero()) {
    return InvalidArgument("scan hook: timeout must be positive");
  }
  return OkStatus();
}

Result<std::unique_ptr<ScanSession>> StartScan(const ScanHookOptions& options) {
  PARLEY_RETURN_IF_ERROR(options.Validate());
  auto deadline = SteadyClock::now() + options.timeout;
  if (!options.command.empty()) return StartCommand(options, deadline);
  if (!options.clamd_socket.empty()) return StartClamd(options, deadline);
  return std::unique_ptr<ScanSession>(std::make_unique<NoScanSession>());
}

}  // namespace parley::blob
