// src/store/callback_scope.h
//
// A store thread runs a batch of `done` callbacks inside a CallbackScope. A callback that hands
// work to another thread (async.h posts each completion to its coroutine's event loop) may give
// the scope a flush instead: the flushes run once, in order, when the outermost scope on the
// thread closes. So N completions for one event loop cost one post, and one wake-up of that
// loop's thread, not N. Without a scope a callback does its hand-off at once.
//
//   {
//     store::CallbackScope scope;
//     for (PendingWrite& w : batch) w.done(std::move(results[i]));
//   }  // the gathered posts go out here
#pragma once

#include <functional>
#include <vector>

namespace parley::store {

// Runs every function in order. One that throws does not stop the others; the first
// exception is rethrown after the last function.
void RunEach(std::vector<std::function<void()>>& fns);

// Thread safety: a scope belongs to the thread that opened it; open and close it there, in
// nested (stack) order.
class CallbackScope {
 public:
  CallbackScope();
  // The outermost scope runs every flush given to it, in order. A flush that throws does not
  // stop the others; the first exception is rethrown after the last flush.
  ~CallbackScope() noexcept(false);
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

  // The outermost scope open on this thread, or nullptr.
  static CallbackScope* Current();

  // Runs `flush` when the scope closes.
  void AtClose(std::function<void()> flush);

 private:
  CallbackScope* outer_;
  std::vector<std::function<void()>> flushes_;
};

}  // namespace parley::store
