// src/http/io_runtime.h
//
// IoRuntime runs N event loops, one io_context per thread, each kept alive by a work guard.
// context() is the first loop: timers, the dispatcher and other background coroutines run
// there. NextContext() hands out the loops in turn, so a server can give each accepted
// connection a loop of its own (Server's IoRuntime constructor). One loop per thread means
// no two threads share an epoll set or a scheduler queue: two threads running one
// io_context cost a third more CPU per HTTP request (futex wake-ups, a contended epoll
// mutex) than one.
// Spawn() starts a coroutine whose escaped exceptions are logged, never lost.
//
//   IoRuntime runtime;
//   runtime.Start(2);
//   Spawn(runtime.context().get_executor(), RunSweeper(deps), "sweeper");
//   …
//   runtime.Stop();
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace parley::http {

namespace internal {
// An io_context whose services can be shut down before it is destroyed. The loops hold each
// other's objects (an accept on the first loop owns a socket of another), so all of them
// must be shut down, which destroys their pending handlers, before any is destroyed.
class Loop : public boost::asio::io_context {
 public:
  Loop() : boost::asio::io_context(1) {}  // concurrency hint: one thread runs it
  void Shutdown() { shutdown(); }
};
}  // namespace internal

// Thread safety: Start/Stop may be called from any thread except an I/O thread of this
// runtime (Stop joins them). context() and NextContext() are safe to use concurrently.
class IoRuntime {
 public:
  static constexpr int kMaxThreads = 64;

  IoRuntime();
  // Stop(), then every loop is shut down (suspended coroutines are destroyed: hold resources
  // in RAII objects), then the loops are destroyed.
  ~IoRuntime();
  IoRuntime(const IoRuntime&) = delete;
  IoRuntime& operator=(const IoRuntime&) = delete;

  // Starts `threads` (1..kMaxThreads) loops, each on its own thread. Calling Start twice is
  // a programming error (PARLEY_CHECK).
  void Start(int threads);

  // Stops the loops and joins the threads. Idempotent.
  void Stop();

  // The first loop (exists before Start).
  boost::asio::io_context& context() { return *loops_[0]; }

  // The loops in turn, round robin; context() until Start.
  boost::asio::io_context& NextContext();

 private:
  // Created in the constructor (the first) and in Start (the others); never moved, so
  // NextContext reads them without a lock once `started_loops_` says they exist.
  std::vector<std::unique_ptr<internal::Loop>> loops_;
  std::atomic<size_t> started_loops_{0};
  std::atomic<size_t> next_{0};
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  bool started_ = false;
};

// co_spawns `task` on `executor`; an exception escaping it is logged with `what`
// (the task's name, e.g. "http session"). Thread safety: may be called from any thread.
void Spawn(boost::asio::any_io_executor executor, boost::asio::awaitable<void> task,
           std::string_view what);

}  // namespace parley::http
