// src/blob/scan_hook.h
//
// An optional virus scan of an uploaded file before anyone receives it: either a command fed
// the file on its stdin, or clamd's INSTREAM protocol over a unix socket. The file is
// streamed to the scanner as it arrives — never written to disk, never held whole in memory.
//
//   PARLEY_ASSIGN_OR_RETURN(auto scan, StartScan(options));   // on a worker thread
//   for (each chunk) PARLEY_RETURN_IF_ERROR(scan->Feed(chunk));
//   PARLEY_ASSIGN_OR_RETURN(ScanVerdict verdict, scan->Finish());
//   if (!verdict.clean) return InvalidArgument("file rejected: " + verdict.reason);
//
// Blocking API: run it on a worker thread, never on an I/O thread. Any failure of the scanner
// is an error (kUnavailable): the caller rejects the upload (fail closed).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/status.h"

namespace parley::blob {

struct ScanHookOptions {
  // A program and its arguments, split on spaces (no shell, no quoting), e.g.
  // "/usr/bin/clamdscan --no-summary -". A name without '/' is looked up in PATH. It gets the
  // file on stdin and must exit 0 (clean) or 1 (infected; the first line of its stdout is
  // the reason). Its stderr goes to /dev/null (it could echo content into our logs), its
  // environment holds PATH only (Parley's secrets live in environment variables), and it
  // runs in its own process group, which is killed when the session ends.
  std::string command;
  // Path of clamd's unix socket, e.g. "/run/clamav/clamd.ctl".
  std::string clamd_socket;
  // Bounds the whole session, from StartScan to the end of Finish, including the time the
  // caller spends between Feed calls.
  std::chrono::milliseconds timeout{30000};

  // At most one of command and clamd_socket; command not blank when set; socket path short
  // enough for sockaddr_un; timeout > 0. Errors: kInvalidArgument.
  Status Validate() const;
  // True when a scanner is configured.
  bool Enabled() const { return !command.empty() || !clamd_socket.empty(); }
};

struct ScanVerdict {
  bool clean = true;
  // When infected: what the scanner reported (e.g. "Eicar-Signature"), printable ASCII
  // only, at most kMaxScanReasonBytes; never empty. Empty when clean.
  std::string reason;
};

inline constexpr size_t kMaxScanReasonBytes = 200;

// One file being scanned. Not thread-safe: one thread at a time (it may move between worker
// threads). Destroying a session that was not finished ends the scan: the command and
// everything in its process group are killed and reaped, the connection to clamd closed.
class ScanSession {
 public:
  virtual ~ScanSession() = default;

  // Sends the next bytes of the file. Blocks until the scanner took them or the session
  // times out. A command that exits or stops reading before the end of the file is not an
  // error here: the rest is dropped and its exit code decides (a scanner may stop at the
  // first signature it finds).
  // Errors: kUnavailable "scan hook failed: …" (timeout, connection lost, clamd refused the
  // stream). After an error every later call returns the same error.
  virtual Status Feed(std::string_view bytes) = 0;

  // Ends the file and waits for the verdict. Call once, after the last Feed.
  // Errors: kUnavailable "scan hook failed: …" — command exit code other than 0 or 1, killed
  // by a signal, timeout (the command is killed); clamd reply other than OK or FOUND.
  virtual Result<ScanVerdict> Finish() = 0;
};

// Starts scanning one file with the scanner `options` names (a command is spawned, clamd is
// connected to). With no scanner configured, returns a session that reports every file clean.
//
// Preconditions: the process does not set SIGCHLD to SIG_IGN and does not reap children it
// did not start (waitpid(-1)); the session reaps its own child. SIGPIPE needs no setup: a
// write to a command that has gone is caught without changing the process's disposition.
// Errors: kInvalidArgument (options fail Validate), kUnavailable "scan hook failed: cannot
// start …" (the program cannot be run, clamd cannot be reached).
Result<std::unique_ptr<ScanSession>> StartScan(const ScanHookOptions& options);

}  // namespace parley::blob
