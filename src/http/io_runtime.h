// src/http/io_runtime.h
//
// IoRuntime owns one io_context, keeps it alive with a work guard and runs it on N threads.
// Spawn() starts a coroutine whose escaped exceptions are logged, never lost.
//
//   IoRuntime runtime;
//   runtime.Start(2);
//   Spawn(runtime.context().get_executor(), RunSweeper(deps), "sweeper");
//   …
//   runtime.Stop();
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

namespace parley::http {

// Thread safety: Start/Stop may be called from any thread except an I/O thread of this
// runtime (Stop joins them). context() is safe to use concurrently.
class IoRuntime {
 public:
  IoRuntime();
  ~IoRuntime();  // Stop()
  IoRuntime(const IoRuntime&) = delete;
  IoRuntime& operator=(const IoRuntime&) = delete;

  // Starts `threads` (>= 1) threads running the context. Calling Start twice is a
  // programming error (PARLEY_CHECK).
  void Start(int threads);

  // Stops the context and joins the threads. Idempotent. Suspended coroutines are
  // destroyed when the context is destroyed (hold resources in RAII objects).
  void Stop();

  boost::asio::io_context& context() { return context_; }

 private:
  boost::asio::io_context context_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  bool started_ = false;
};

// co_spawns `task` on `executor`; an exception escaping it is logged with `what`
// (the task's name, e.g. "http session"). Thread safety: may be called from any thread.
void Spawn(boost::asio::any_io_executor executor, boost::asio::awaitable<void> task,
           std::string_view what);

}  // namespace parley::http
