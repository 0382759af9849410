// Tasks, time and waiting. See docs/concurrency.md.
//
// One event loop runs on the vCPU. Tasks are stackful and cooperative: a task runs until it
// blocks (sleeps, waits on a queue, joins) or yields. Event handlers, timer callbacks and
// coroutines (skiff/coro.h) run in the event loop itself and must not block.
#ifndef SKIFF_SCHED_H_
#define SKIFF_SCHED_H_

#if !defined(__cplusplus) || __cplusplus < 202002L
// C and C++17 apps use the C library (skiff_c_args, skiff_cpp_args) without this header.
#error "skiff/sched.h needs C++20 (coroutines): build the app with cpp_std=gnu++20"
#endif

#include <stddef.h>
#include <stdint.h>

#include <coroutine>
#include <functional>

#include "skiff/result.h"

namespace skiff {

class Task;

inline constexpr uint64_t kNever = UINT64_MAX;
inline constexpr size_t kDefaultStackSize = 64 * 1024;
inline constexpr size_t kMinStackSize = 8 * 1024;

// Monotonic nanoseconds: Xen's pvclock, which counts from when Xen itself booted.
uint64_t Now();

struct TaskOptions {
  const char* name = "task";           // shown in crash reports; copied
  size_t stack_size = kDefaultStackSize;   // rounded up to whole pages; a guard lies below
  // Maps the stack's pages on their first touch rather than all at once: memory is used only
  // as deep as the task goes (POSIX threads' stacks are so, as main's is).
  bool stack_on_demand = false;
};

// Starts |body| in a new task; it first runs when the current task blocks or yields.
// Fails with EINVAL for a stack below kMinStackSize, ENOMEM when memory runs out.
Result<Task*> Spawn(std::function<void()> body, const TaskOptions& options = {});

// Waits until |task| has finished, then frees it. Each task is joined or detached once.
void Join(Task* task);

// Lets |task| free itself when it finishes.
void Detach(Task* task);

// Lets every other ready task, and the event loop, run once.
void Yield();

void SleepUntil(uint64_t deadline_ns);
void SleepFor(uint64_t ns);

Task* CurrentTask();
const char* TaskName(const Task* task);

namespace sched {

// An intrusive doubly linked list node.
struct ListNode {
  ListNode* prev = nullptr;
  ListNode* next = nullptr;
  bool linked() const { return next != nullptr; }
};

// A FIFO of ListNodes, with a sentinel.
class List {
 public:
  List() { head_.prev = head_.next = &head_; }
  List(const List&) = delete;
  List& operator=(const List&) = delete;

  bool empty() const { return head_.next == &head_; }
  ListNode* first() const { return head_.next; }
  const ListNode* end() const { return &head_; }
  void PushBack(ListNode* node) {
    node->prev = head_.prev;
    node->next = &head_;
    head_.prev->next = node;
    head_.prev = node;
  }
  ListNode* PopFront() {
    ListNode* node = head_.next;
    Remove(node);
    return node;
  }
  static void Remove(ListNode* node) {
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = nullptr;
  }

 private:
  ListNode head_;
};

// One waiter on a wait queue: a parked task or a suspended coroutine.
struct Waiter {
  ListNode link;   // first: a ListNode* is a Waiter*
  Task* task = nullptr;
  std::coroutine_handle<> coroutine;
  bool woken = false;   // by a wake, not by a timeout
};

// Ends the guest with a crash report headed by |message|: for misuse that cannot go on,
// such as blocking in the event loop or joining a task twice.
[[noreturn]] void Fatal(const char* message);

// Makes |waiter| run again: readies its task, or queues its coroutine on the event loop.
void Wake(Waiter* waiter);

class TimerHeap;

}  // namespace sched

// A one-shot callback in the event loop at a deadline; cancellable. Must stay put while armed.
class Timer {
 public:
  Timer(void (*callback)(void*), void* arg) : callback_(callback), arg_(arg) {}
  explicit Timer(std::function<void()> callback)
      : callback_([](void* self) { static_cast<Timer*>(self)->function_(); }), arg_(this),
        function_(std::move(callback)) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { Cancel(); }

  void ArmAt(uint64_t deadline);   // re-arms if armed
  void ArmAfter(uint64_t ns);
  bool Cancel();                   // true if it was armed
  bool armed() const { return index_ != kUnarmed; }
  uint64_t deadline() const { return deadline_; }

 private:
  friend class sched::TimerHeap;
  static constexpr size_t kUnarmed = SIZE_MAX;

  void (*callback_)(void*);
  void* arg_;
  std::function<void()> function_;
  uint64_t deadline_ = 0;
  uint64_t sequence_ = 0;   // arming order, to fire equal deadlines first-armed first
  size_t index_ = kUnarmed;
};

// Tasks (and coroutines) waiting for something; woken first come, first served.
class WaitQueue {
 public:
  WaitQueue() = default;
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;

  void Wait();                        // parks the current task until woken
  bool WaitUntil(uint64_t deadline);  // false if the deadline passed first
  bool WakeOne();                     // false if nobody was waiting
  void WakeAll();
  bool empty() const { return waiters_.empty(); }

  // For awaiters and the primitives below: links |waiter| / takes the first one.
  void Link(sched::Waiter* waiter) { waiters_.PushBack(&waiter->link); }
  sched::Waiter* PopFront();

 private:
  sched::List waiters_;
};

// A task mutex: handed to waiters in arrival order.
class Mutex {
 public:
  void Lock();
  bool TryLock();
  void Unlock();
  Task* owner() const { return owner_; }

 private:
  Task* owner_ = nullptr;
  WaitQueue waiters_;
};

class CondVar {
 public:
  void Wait(Mutex& mutex);
  bool WaitUntil(Mutex& mutex, uint64_t deadline);   // false on timeout; relocks either way
  void NotifyOne() { waiters_.WakeOne(); }
  void NotifyAll() { waiters_.WakeAll(); }

 private:
  WaitQueue waiters_;
};

class Semaphore {
 public:
  explicit Semaphore(uint64_t count = 0) : count_(count) {}
  void Acquire();
  bool TryAcquire();
  bool AcquireUntil(uint64_t deadline);
  void Release(uint64_t n = 1);
  uint64_t count() const { return count_; }

 private:
  uint64_t count_;
  WaitQueue waiters_;
};

// An auto-reset event: Signal() wakes one waiter, or is kept until the next wait.
// Event channel ports signal one (skiff/evtchn.h). `co_await event` in a coroutine.
class Event {
 public:
  void Signal();
  void Wait();
  bool WaitUntil(uint64_t deadline);
  bool TryWait();
  bool signalled() const { return signalled_; }

  struct Awaiter {
    Event& event;
    sched::Waiter waiter;
    bool await_ready() { return event.TryWait(); }
    void await_suspend(std::coroutine_handle<> handle) {
      waiter.coroutine = handle;
      event.waiters_.Link(&waiter);
    }
    void await_resume() {}
  };
  Awaiter operator co_await() { return Awaiter{*this, {}}; }

 private:
  bool signalled_ = false;
  WaitQueue waiters_;
};

}  // namespace skiff

#endif  // SKIFF_SCHED_H_
