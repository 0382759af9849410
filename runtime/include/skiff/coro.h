// C++20 coroutines on the event loop.
//
//   skiff::Co<int> Answer() { co_await skiff::Sleep(1'000'000); co_return 42; }
//   skiff::Co<> Main(skiff::Event& e) { int a = co_await Answer(); co_await e; ... }
//   skiff::Start(Main(e));              // runs it on the event loop, frees it when done
//   int a = skiff::BlockOn(Answer());   // from a task: runs it and waits for its result
//
// A Co starts when awaited or started, runs in the event loop, and must not call blocking
// functions (Sleep*, Wait, Join): it awaits instead.
#ifndef SKIFF_CORO_H_
#define SKIFF_CORO_H_

#if !defined(__cplusplus) || __cplusplus < 202002L
// C and C++17 apps use the C library (skiff_c_args, skiff_cpp_args) without this header.
#error "skiff/coro.h needs C++20 (coroutines): build the app with cpp_std=gnu++20"
#endif

#include <coroutine>
#include <optional>
#include <type_traits>
#include <utility>

#include "skiff/sched.h"

namespace skiff {

namespace sched {

struct PromiseBase {
  std::coroutine_handle<> continuation;
  bool detached = false;

  std::suspend_always initial_suspend() noexcept { return {}; }
  void unhandled_exception() { Fatal("an exception escaped a coroutine"); }

  struct Final {
    bool await_ready() noexcept { return false; }
    template <typename P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> handle) noexcept {
      PromiseBase& promise = handle.promise();
      if (promise.continuation) return promise.continuation;
      if (promise.detached) handle.destroy();
      return std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  Final final_suspend() noexcept { return {}; }
};

template <typename T>
struct Promise : PromiseBase {
  std::optional<T> value;
  void return_value(T v) { value.emplace(std::move(v)); }
  T take() { return std::move(*value); }
};

template <>
struct Promise<void> : PromiseBase {
  void return_void() {}
  void take() {}
};

// Queues |handle| to be resumed by the event loop.
void Post(std::coroutine_handle<> handle);

}  // namespace sched

template <typename T = void>
class [[nodiscard]] Co {
 public:
  struct promise_type : sched::Promise<T> {
    Co get_return_object() { return Co(std::coroutine_handle<promise_type>::from_promise(*this)); }
  };

  Co(Co&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Co& operator=(Co&&) = delete;
  ~Co() {
    if (handle_) handle_.destroy();
  }

  // `co_await co` runs |co| to its end and gives its result.
  bool await_ready() { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) {
    handle_.promise().continuation = awaiting;
    return handle_;
  }
  T await_resume() { return handle_.promise().take(); }

  // Gives up ownership: the coroutine frees itself when it ends.
  std::coroutine_handle<promise_type> Release() {
    handle_.promise().detached = true;
    return std::exchange(handle_, {});
  }

 private:
  explicit Co(std::coroutine_handle<promise_type> handle) : handle_(handle) {}
  std::coroutine_handle<promise_type> handle_;
};

// Runs |co| on the event loop from its next turn; it frees itself when it ends.
inline void Start(Co<> co) { sched::Post(co.Release()); }

// `co_await Sleep(ns)`, or `co_await SleepAwaiter(deadline)`, in a coroutine.
class SleepAwaiter {
 public:
  explicit SleepAwaiter(uint64_t deadline)
      : deadline_(deadline),
        timer_([](void* self) { sched::Post(static_cast<SleepAwaiter*>(self)->handle_); }, this) {}
  bool await_ready() { return Now() >= deadline_; }
  void await_suspend(std::coroutine_handle<> handle) {
    handle_ = handle;
    timer_.ArmAt(deadline_);
  }
  void await_resume() {}

 private:
  uint64_t deadline_;
  std::coroutine_handle<> handle_;
  Timer timer_;
};

inline SleepAwaiter Sleep(uint64_t ns) {
  uint64_t now = Now();
  return SleepAwaiter(ns >= kNever - now ? kNever : now + ns);
}

// `co_await WaitAwaiter(queue, deadline)` in a coroutine: waits on |queue| until woken (true)
// or until |deadline| passed (false): WaitQueue::WaitUntil for coroutines.
class WaitAwaiter {
 public:
  WaitAwaiter(WaitQueue& queue, uint64_t deadline)
      : queue_(queue), deadline_(deadline), timer_(&TimedOut, this) {}
  bool await_ready() { return false; }
  void await_suspend(std::coroutine_handle<> handle) {
    waiter_.coroutine = handle;
    queue_.Link(&waiter_);
    if (deadline_ != kNever) timer_.ArmAt(deadline_);
  }
  bool await_resume() {
    timer_.Cancel();
    return waiter_.woken;
  }

 private:
  static void TimedOut(void* self) {
    auto* awaiter = static_cast<WaitAwaiter*>(self);
    if (!awaiter->waiter_.link.linked()) return;   // woken already
    sched::List::Remove(&awaiter->waiter_.link);
    sched::Post(awaiter->waiter_.coroutine);
  }

  WaitQueue& queue_;
  uint64_t deadline_;
  sched::Waiter waiter_;
  Timer timer_;
};

// From a task: runs |co| on the event loop and parks the task until it ends.
template <typename T>
T BlockOn(Co<T> co) {
  Event done;
  if constexpr (std::is_void_v<T>) {
    Start([](Co<T> c, Event& d) -> Co<> {
      co_await c;
      d.Signal();
    }(std::move(co), done));
    done.Wait();
  } else {
    std::optional<T> result;
    Start([](Co<T> c, Event& d, std::optional<T>& r) -> Co<> {
      r.emplace(co_await c);
      d.Signal();
    }(std::move(co), done, result));
    done.Wait();
    return std::move(*result);
  }
}

}  // namespace skiff

#endif  // SKIFF_CORO_H_
