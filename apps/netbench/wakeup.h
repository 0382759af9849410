// Wakeup: one coroutine waits until another tells it something changed, or until a deadline
// (skiff::Event has no deadline for a coroutine). A Notify with nobody waiting is kept for the
// next wait, as an Event keeps a Signal; the waiter looks again at what it waits for.
#ifndef APPS_NETBENCH_WAKEUP_H_
#define APPS_NETBENCH_WAKEUP_H_

#include <stdint.h>

#include <coroutine>
#include <utility>

#include "skiff/coro.h"
#include "skiff/sched.h"

namespace netbench {

class Wakeup {
 public:
  class Awaiter {
   public:
    Awaiter(Wakeup& wakeup, uint64_t deadline)
        : wakeup_(wakeup), deadline_(deadline), timer_(&TimedOut, this) {}
    bool await_ready() {
      if (wakeup_.pending_) {
        wakeup_.pending_ = false;
        notified_ = true;
        return true;
      }
      return skiff::Now() >= deadline_;
    }
    void await_suspend(std::coroutine_handle<> handle) {
      handle_ = handle;
      wakeup_.waiter_ = this;
      if (deadline_ != skiff::kNever) timer_.ArmAt(deadline_);
    }
    bool await_resume() {
      timer_.Cancel();
      return notified_;
    }

   private:
    friend class Wakeup;
    static void TimedOut(void* self) {
      auto* awaiter = static_cast<Awaiter*>(self);
      if (awaiter->wakeup_.waiter_ != awaiter) return;   // notified already
      awaiter->wakeup_.waiter_ = nullptr;
      skiff::sched::Post(awaiter->handle_);
    }

    Wakeup& wakeup_;
    uint64_t deadline_;
    skiff::Timer timer_;
    std::coroutine_handle<> handle_;
    bool notified_ = false;
  };

  Wakeup() = default;
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  // `co_await wakeup.Until(deadline)`: true when notified, false once |deadline| passed.
  // One coroutine waits at a time.
  Awaiter Until(uint64_t deadline) { return Awaiter(*this, deadline); }

  void Notify() {
    if (waiter_ == nullptr) {
      pending_ = true;
      return;
    }
    Awaiter* awaiter = std::exchange(waiter_, nullptr);
    awaiter->notified_ = true;
    awaiter->timer_.Cancel();
    skiff::sched::Post(awaiter->handle_);
  }

 private:
  Awaiter* waiter_ = nullptr;
  bool pending_ = false;
};

}  // namespace netbench

#endif  // APPS_NETBENCH_WAKEUP_H_
