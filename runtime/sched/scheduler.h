// The scheduler's insides: tasks, the ready queue, the timer heap and the event loop.
// Portable: the guest runs it on Xen (runtime/xen/loop.cc), the unit tests on a fake Platform.
#ifndef SKIFF_RUNTIME_SCHED_SCHEDULER_H_
#define SKIFF_RUNTIME_SCHED_SCHEDULER_H_

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "skiff/sched.h"

struct _reent;

namespace skiff::sched {

struct Stack {
  char* base = nullptr;   // lowest usable byte
  size_t size = 0;
  char* guard = nullptr;  // the unmapped gap below |base| (none on the host)
  size_t guard_size = 0;
};

// What the scheduler needs from the machine.
class Platform {
 public:
  // Monotonic nanoseconds.
  virtual uint64_t Now() = 0;
  // Runs the handlers of pending events (in the event loop).
  virtual void PollEvents() = 0;
  // Nothing is ready: waits until an event may be pending or |deadline| passes (kNever:
  // no deadline). Returns at once if an event is already pending.
  virtual void Idle(uint64_t deadline) = 0;
  virtual Result<Stack> AllocateStack(size_t size, const char* name) = 0;
  virtual void FreeStack(const Stack& stack) = 0;
  [[noreturn]] virtual void Fatal(const char* message) = 0;

 protected:
  ~Platform() = default;
};

// Binary min-heap of armed timers by (deadline, arming order).
class TimerHeap {
 public:
  void Arm(Timer* timer, uint64_t deadline);
  bool Cancel(Timer* timer);
  // Fires every timer whose deadline is at or before |now|; returns how many fired.
  int FireExpired(uint64_t now);
  uint64_t NextDeadline() const { return heap_.empty() ? kNever : heap_[0]->deadline_; }
  size_t size() const { return heap_.size(); }

 private:
  static bool Before(const Timer* a, const Timer* b) {
    return a->deadline_ < b->deadline_ ||
           (a->deadline_ == b->deadline_ && a->sequence_ < b->sequence_);
  }
  void Place(size_t i, Timer* timer) {
    heap_[i] = timer;
    timer->index_ = i;
  }
  void SiftUp(size_t i);
  void SiftDown(size_t i);
  void RemoveAt(size_t i);

  std::vector<Timer*> heap_;
  uint64_t sequence_ = 0;
};

// kReady covers running: only a blocked task can be made ready.
enum class TaskState : uint8_t { kReady, kBlocked, kFinished };

}  // namespace skiff::sched

namespace skiff {

class Task {
 public:
  void* sp = nullptr;         // saved stack pointer while switched out
  Task* next_ready = nullptr; // in the ready queue
  sched::TaskState state = sched::TaskState::kReady;
  bool detached = false;
  bool joined = false;
  sched::Stack stack;
  std::function<void()> body;
  WaitQueue joiners;
  struct AllNode {
    sched::ListNode node;     // first: a ListNode* of the list is an AllNode*
    Task* task;
  } all{{}, this};            // every task, for crash reports
  struct _reent* reent = nullptr;   // newlib's per-task state (guest only)
  void* pthread = nullptr;          // its pthread record (runtime/libc/pthread.cc), if any
  char name[32] = {};
};

}  // namespace skiff

namespace skiff::sched {

class Scheduler {
 public:
  // Adopts the calling context as the task "main" (on |main_stack|) and makes the loop.
  Scheduler(Platform* platform, Stack main_stack);
  // Every task but main must have finished and been joined or detached.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  Result<Task*> Spawn(std::function<void()> body, const TaskOptions& options);
  void Join(Task* task);
  void Detach(Task* task);
  void Yield();
  void SleepUntil(uint64_t deadline);

  // Parks the current task (state kBlocked) until MakeReady; the caller linked it somewhere.
  void Block();
  // Readies a blocked task; does nothing to one that is ready or running.
  void MakeReady(Task* task);
  void Post(std::coroutine_handle<> coroutine) { coroutines_.push_back(coroutine); }

  Task* current() const { return current_; }
  bool InLoop() const { return current_ == &loop_task_; }
  bool IsMain(const Task* task) const { return task == &main_task_; }
  TimerHeap& timers() { return timers_; }
  Platform& platform() { return *platform_; }
  // Turns of the event loop that handed over to a ready task (counted there, not on every
  // switch, which it would cost an instruction).
  uint64_t loop_turns() const { return loop_turns_; }
  // The task whose stack or guard holds |address|, or null.
  const Task* TaskAt(uintptr_t address, bool* in_guard) const;

 private:
  static void TaskMain(Task* task);
  static void LoopMain(Task* task);
  [[noreturn]] void Fatal(const char* format, ...) __attribute__((format(printf, 2, 3)));
  void RunCoroutines();
  void SwitchTo(Task* next);
  // On the task switched to: |fake_stack| is what AddressSanitizer saved when it switched out
  // (null for a new task).
  void AfterSwitch(void* fake_stack);
  void Free(Task* task);
  void FreeFinished();
  // The ready queue: a FIFO singly linked through Task::next_ready. When a task runs, the
  // loop is in it, so it is never empty then.
  void PushReady(Task* task) {
    task->next_ready = nullptr;
    *(ready_head_ != nullptr ? &ready_tail_->next_ready : &ready_head_) = task;
    ready_tail_ = task;
  }
  Task* PopReady() {
    Task* task = ready_head_;
    ready_head_ = task->next_ready;
    return task;
  }

  Platform* platform_;
  Task* current_;
  Task main_task_;
  Task loop_task_;
  Task* ready_head_ = nullptr;
  Task* ready_tail_ = nullptr;
  std::vector<std::coroutine_handle<>> coroutines_;   // for the loop to resume next
  std::vector<std::coroutine_handle<>> resuming_;
  List all_;
  TimerHeap timers_;
  Task* reap_ = nullptr;   // finished, detached tasks for the loop to free, via next_ready
  uint64_t loop_turns_ = 0;
};

// Frees a task's pthread record when the task is freed (set by runtime/libc/pthread.cc once it
// gives a task one; null until then).
extern void (*free_pthread_record)(Task* task);

// The running scheduler (one per vCPU; there is one vCPU).
Scheduler* Current();
void SetCurrent(Scheduler* scheduler);

}  // namespace skiff::sched

#endif  // SKIFF_RUNTIME_SCHED_SCHEDULER_H_
