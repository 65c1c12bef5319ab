// src/store/async.h
//
// Coroutine bridges to the Store: the calling coroutine suspends while the store's threads
// work and resumes on its own executor — I/O threads never block on SQLite.
//
// g++ 12 destroys temporaries of a co_await full-expression twice (a lambda converted to
// std::function is one): bind callables to a named variable, then co_await with std::move.
//
//   store::Store::WriteFn insert = [rec](store::Writer& w) { return w.InsertTenant(rec); };
//   Status s = co_await store::Write(store, std::move(insert));
//   std::function<Result<TenantRecord>(store::Reader&)> get = [id](store::Reader& r) {
//     return r.GetTenant(id);
//   };
//   Result<TenantRecord> t = co_await store::Read<TenantRecord>(store, std::move(get));
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "store/callback_scope.h"
#include "store/store.h"

namespace parley::store {

namespace internal {

// Posts `fn` to `ex`. Inside a CallbackScope (a store thread running a batch of callbacks) the
// posts to one executor are gathered and go out when the scope closes, up to
// kMaxGatheredPosts functions per post: one wake-up of the executor's thread per batch, not
// one per callback. Order is kept per executor; functions for different executors (a strand
// and its loop's plain executor compare unequal) may run in another order than they were
// posted in.
inline constexpr size_t kMaxGatheredPosts = 32;

inline void PostGathered(const boost::asio::any_io_executor& ex, std::function<void()> fn) {
  using Groups =
      std::vector<std::pair<boost::asio::any_io_executor, std::vector<std::function<void()>>>>;
  // The groups of the scope open on this thread; reset by that scope's flush, before the
  // scope is gone (a later scope may have the same address).
  thread_local std::shared_ptr<Groups> open;
  thread_local CallbackScope* open_scope = nullptr;
  CallbackScope* scope = CallbackScope::Current();
  if (scope == nullptr) {
    boost::asio::post(ex, std::move(fn));
    return;
  }
  if (open_scope != scope || !open) {
    auto groups = std::make_shared<Groups>();
    scope->AtClose([groups] {
      if (open == groups) {
        open.reset();
        open_scope = nullptr;
      }
      // Each group is posted even if posting another one throws.
      std::vector<std::function<void()>> posts;
      for (auto& [executor, fns] : *groups) {
        posts.push_back([&executor = executor, &fns = fns] {
          boost::asio::post(executor, [fns = std::move(fns)]() mutable { RunEach(fns); });
        });
      }
      RunEach(posts);
    });
    open = std::move(groups);  // only once the scope will flush it
    open_scope = scope;
  }
  for (auto it = open->rbegin(); it != open->rend(); ++it) {
    if (it->first == ex) {
      if (it->second.size() >= kMaxGatheredPosts) break;  // full: a new group, posted after
      it->second.push_back(std::move(fn));
      return;
    }
  }
  open->emplace_back(ex, std::vector<std::function<void()>>{});
  open->back().second.push_back(std::move(fn));
}

template <typename Handler>
auto ShareHandler(Handler&& handler) {
  return std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
}

struct InitiateWrite {
  template <typename Handler>
  void operator()(Handler&& handler, Store* store, Store::WriteFn fn, bool rerunnable) const {
    auto shared = ShareHandler(std::forward<Handler>(handler));
    Store::Done done = [shared](Status status) {
      auto ex = boost::asio::get_associated_executor(*shared);
      PostGathered(
          ex, [shared, status = std::move(status)]() mutable { (*shared)(std::move(status)); });
    };
    if (rerunnable) {
      store->SubmitRerunnableWrite(std::move(fn), std::move(done));
    } else {
      store->SubmitWrite(std::move(fn), std::move(done));
    }
  }
};

struct InitiateRead {
  template <typename Handler>
  void operator()(Handler&& handler, Store* store, Store::ReadFn fn) const {
    auto shared = ShareHandler(std::forward<Handler>(handler));
    store->SubmitRead([shared, fn = std::move(fn)](Reader& reader) {
      fn(reader);
      auto ex = boost::asio::get_associated_executor(*shared);
      PostGathered(ex, [shared]() mutable { (*shared)(); });
    });
  }
};

}  // namespace internal

// Runs `fn` on the writer (group-committed); resumes after the commit with its Status.
inline boost::asio::awaitable<Status> Write(Store& store, Store::WriteFn fn) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(Status)>(
      internal::InitiateWrite{}, boost::asio::use_awaitable, &store, std::move(fn), false);
}

// Write for a function that may run more than once (Store::SubmitRerunnableWrite).
inline boost::asio::awaitable<Status> WriteRerunnable(Store& store, Store::WriteFn fn) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(Status)>(
      internal::InitiateWrite{}, boost::asio::use_awaitable, &store, std::move(fn), true);
}

// Runs `fn` on a reader connection and resumes with its result.
template <typename T>
boost::asio::awaitable<Result<T>> Read(Store& store, std::function<Result<T>(Reader&)> fn) {
  auto out = std::make_shared<std::optional<Result<T>>>();
  // Named, not a temporary: g++ 12 destroys temporaries of a co_await expression twice.
  Store::ReadFn read = [out, fn = std::move(fn)](Reader& r) { out->emplace(fn(r)); };
  co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void()>(
      internal::InitiateRead{}, boost::asio::use_awaitable, &store, std::move(read));
  co_return std::move(**out);
}

}  // namespace parley::store
