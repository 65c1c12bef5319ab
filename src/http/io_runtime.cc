// src/http/io_runtime.cc
#include "http/io_runtime.h"

#include <boost/asio/co_spawn.hpp>
#include <exception>
#include <string>

#include "core/log.h"
#include "core/status.h"
#include "core/thread_name.h"

namespace parley::http {

IoRuntime::IoRuntime() = default;

IoRuntime::~IoRuntime() { Stop(); }

void IoRuntime::Start(int threads) {
  PARLEY_CHECK(threads >= 1);
  std::lock_guard lock(mu_);
  PARLEY_CHECK(!started_);
  started_ = true;
  // Without the guard a thread that starts before any work is queued returns at once and
  // its sockets would hang (ENGINEERING-NOTES trap 1).
  guard_.emplace(context_.get_executor());
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      core::NameThisThread("io");
      context_.run();
    });
  }
}

void IoRuntime::Stop() {
  std::lock_guard lock(mu_);
  guard_.reset();
  context_.stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
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
