// src/blob/blocking.h — for src/blob and the attachment service above it (delivery/).
//
// Runs blocking work (file I/O, sealing, scanning) on a worker pool and resumes the calling
// coroutine on its own executor, so I/O threads never block on disk.
//
//   std::function<Status()> write = [&] { return WriteAll(fd, bytes); };
//   Status s = co_await RunBlocking(pool, std::move(write));
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>

namespace parley::blob::internal {

struct InitiateOnPool {
  template <typename Handler>
  void operator()(Handler&& handler, boost::asio::thread_pool* pool,
                  std::function<void()> work) const {
    auto shared = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
    boost::asio::post(*pool, [shared, work = std::move(work)] {
      work();
      auto ex = boost::asio::get_associated_executor(*shared);
      boost::asio::post(ex, [shared]() mutable { (*shared)(); });
    });
  }
};

// `fn` runs on a pool thread; its result is returned on the caller's executor. The caller
// must keep everything `fn` refers to alive until the co_await completes.
template <typename T>
boost::asio::awaitable<T> RunBlocking(boost::asio::thread_pool& pool, std::function<T()> fn) {
  auto out = std::make_shared<std::optional<T>>();
  // Named, not a temporary: g++ 12 destroys temporaries of a co_await expression twice.
  std::function<void()> work = [out, fn = std::move(fn)] { out->emplace(fn()); };
  co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void()>(
      InitiateOnPool{}, boost::asio::use_awaitable, &pool, std::move(work));
  co_return std::move(**out);
}

}  // namespace parley::blob::internal
