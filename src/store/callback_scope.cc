#include "store/callback_scope.h"

#include <exception>
#include <utility>

namespace parley::store {

namespace {
thread_local CallbackScope* g_outermost = nullptr;
}  // namespace

void RunEach(std::vector<std::function<void()>>& fns) {
  std::exception_ptr first;
  for (auto& fn : fns) {
    try {
      fn();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

CallbackScope::CallbackScope() : outer_(g_outermost) {
  if (outer_ == nullptr) g_outermost = this;
}

CallbackScope::~CallbackScope() noexcept(false) {
  if (outer_ != nullptr) return;  // an inner scope: the outermost one flushes
  g_outermost = nullptr;
  // A flush may open a scope and add to it; that one flushes itself.
  std::vector<std::function<void()>> flushes = std::move(flushes_);
  RunEach(flushes);
}

CallbackScope* CallbackScope::Current() { return g_outermost; }

void CallbackScope::AtClose(std::function<void()> flush) { flushes_.push_back(std::move(flush)); }

}  // namespace parley::store
