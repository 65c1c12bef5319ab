// src/http/io_runtime.cc
#include "http/io_runtime.h"

#include <boost/asio/co_spawn.hpp>
#include <exception>
#include <string>

#include "core/log.h"
#include "core/status.h"
#include "core/thread_name.h"

namespace parley::http {

IoRuntime::IoRuntime() {
  loops_.reserve(kMaxThreads);
  loops_.push_back(std::make_unique<internal::Loop>());
}

IoRuntime::~IoRuntime() {
  Stop();
  for (auto& loop : loops_) loop->Shutdown();
  loops_.clear();
}

void IoRuntime::Start(int threads) {
  PARLEY_CHECK(threads >= 1 && threads <= kMaxThreads);
  std::lock_guard lock(mu_);
  PARLEY_CHECK(!started_);
  started_ = true;
  for (int i = 1; i < threads; ++i) loops_.push_back(std::make_unique<internal::Loop>());
  started_loops_.store(loops_.size(), std::memory_order_release);
  for (auto& loop : loops_) {
    // Without the guard a thread that starts before any work is queued returns at once and
    // its sockets would hang (ENGINEERING-NOTES trap 1).
    guards_.push_back(boost::asio::make_work_guard(*loop));
    threads_.emplace_back([loop = loop.get()] {
      core::NameThisThread("io");
      loop->run();
    });
  }
}

void IoRuntime::Stop() {
  std::lock_guard lock(mu_);
  guards_.clear();
  for (auto& loop : loops_) loop->stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

boost::asio::io_context& IoRuntime::NextContext() {
  size_t n = started_loops_.load(std::memory_order_acquire);
  if (n <= 1) return *loops_[0];
  return *loops_[next_.fetch_add(1, std::memory_order_relaxed) % n];
}

void Spawn(boost::asio::any_io_executor executor, boost::asio::awaitable<void> task,
           std::string_view what) {
  boost::asio::co_spawn(
      std::move(executor), std::move(task), [what = std::string(what)](std::exception_ptr error) {
        if (!error) return;
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          log::Error("coroutine.threw", {{"coroutine", what}, {"error", e.what()}});
        } catch (...) {
          log::Error("coroutine.threw", {{"coroutine", what}, {"error", "non-standard exception"}});
        }
      });
}

}  // namespace parley::http
