#include "runtime/sched/scheduler.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <new>

#include "skiff/coro.h"

#ifdef __NEWLIB__
#include <reent.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define SKIFF_ASAN 1
#endif

extern "C" void skiff_context_switch(void** save_sp, void* load_sp);
extern "C" void skiff_task_start();

namespace skiff::sched {
namespace {

constexpr size_t kPageSize = 4096;
// The event loop runs event handlers, timers and coroutines, and with them the network
// stack's whole receive path (netfront, lwIP's input, the sockets' callbacks): 64 KiB was
// not enough for that under ASan, whose frames are several times larger.
constexpr size_t kLoopStackSize = 256 * 1024;
constexpr uint64_t kDefaultMxcsr = 0x1f80;   // all exceptions masked, round to nearest
constexpr uint64_t kDefaultFpuControl = 0x37f;

Scheduler* current_scheduler;

// Lays out |task|'s new stack so that switching to it calls entry(task) (switch.S).
void PrepareStack(Task* task, void (*entry)(Task*)) {
  auto top = reinterpret_cast<uintptr_t>(task->stack.base + task->stack.size) & ~uintptr_t{15};
  auto* sp = reinterpret_cast<uint64_t*>(top) - 10;
  memset(sp, 0, 10 * sizeof(uint64_t));
  sp[0] = kDefaultMxcsr | (kDefaultFpuControl << 32);
  sp[3] = reinterpret_cast<uint64_t>(entry);   // r13
  sp[4] = reinterpret_cast<uint64_t>(task);    // r12
  sp[7] = reinterpret_cast<uint64_t>(&skiff_task_start);
  task->sp = sp;
}

void CopyName(Task* task, const char* name) {
  snprintf(task->name, sizeof(task->name), "%s", name != nullptr ? name : "task");
}

#ifdef SKIFF_ASAN
// The stack being left, for AddressSanitizer's fiber annotations.
Task* asan_from;
#endif

}  // namespace

void (*free_pthread_record)(Task* task);

Scheduler* Current() { return current_scheduler; }
void SetCurrent(Scheduler* scheduler) { current_scheduler = scheduler; }

Scheduler::Scheduler(Platform* platform, Stack main_stack)
    : platform_(platform), current_(&main_task_) {
  CopyName(&main_task_, "main");
  main_task_.stack = main_stack;
  all_.PushBack(&main_task_.all.node);
  CopyName(&loop_task_, "event-loop");
  Result<Stack> stack = platform->AllocateStack(kLoopStackSize, loop_task_.name, false);
  if (!stack) platform->Fatal("no memory for the event loop's stack");
  loop_task_.stack = *stack;
  all_.PushBack(&loop_task_.all.node);
#ifdef __NEWLIB__
  main_task_.reent = loop_task_.reent = _impure_ptr;
#endif
  PrepareStack(&loop_task_, LoopMain);
  PushReady(&loop_task_);
}

Scheduler::~Scheduler() {
  if (current_ != &main_task_) Fatal("the scheduler was ended outside the main task");
  FreeFinished();
  platform_->FreeStack(loop_task_.stack);
}

void Scheduler::Fatal(const char* format, ...) {
  char message[200];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof(message), format, args);
  va_end(args);
  platform_->Fatal(message);
  __builtin_unreachable();   // Platform::Fatal is [[noreturn]], but through a virtual call
}

Result<Task*> Scheduler::Spawn(std::function<void()> body, const TaskOptions& options) {
  const char* name = options.name != nullptr ? options.name : "task";
  if (options.stack_size < kMinStackSize) {
    return MakeError(EINVAL, "spawn '%s': a stack of %zu bytes is too small; the least is %zu",
                     name, options.stack_size, kMinStackSize);
  }
  if (options.stack_size > (size_t{1} << 40)) {
    return MakeError(EINVAL, "spawn '%s': a stack of %zu bytes is too large", name,
                     options.stack_size);
  }
  auto* task = new (std::nothrow) Task;
  if (task == nullptr) return MakeError(ENOMEM, "spawn '%s': out of memory for the task", name);
  CopyName(task, name);
  size_t size = (options.stack_size + kPageSize - 1) & ~(kPageSize - 1);
  Result<Stack> stack = platform_->AllocateStack(size, task->name, options.stack_on_demand);
  if (!stack) {
    delete task;
    return stack.error();
  }
  task->stack = *stack;
#ifdef __NEWLIB__
  task->reent = static_cast<struct _reent*>(malloc(sizeof(struct _reent)));
  if (task->reent == nullptr) {
    platform_->FreeStack(task->stack);
    delete task;
    return MakeError(ENOMEM, "spawn '%s': out of memory for the task", name);
  }
  _REENT_INIT_PTR(task->reent);
#endif
  task->body = std::move(body);
  PrepareStack(task, TaskMain);
  all_.PushBack(&task->all.node);
  PushReady(task);
  return task;
}

void Scheduler::Free(Task* task) {
  List::Remove(&task->all.node);
  if (task->pthread != nullptr) free_pthread_record(task);
  platform_->FreeStack(task->stack);
#ifdef __NEWLIB__
  _reclaim_reent(task->reent);
  free(task->reent);
#endif
  delete task;
}

void Scheduler::Join(Task* task) {
  if (task == current_) Fatal("task '%s' joins itself", task->name);
  if (task->joined || task->detached) {
    Fatal("task '%s' is joined after it was already joined or detached", task->name);
  }
  task->joined = true;
  while (task->state != TaskState::kFinished) task->joiners.Wait();
  Free(task);
}

void Scheduler::Detach(Task* task) {
  if (task->joined || task->detached) {
    Fatal("task '%s' is detached after it was already joined or detached", task->name);
  }
  task->detached = true;
  if (task->state == TaskState::kFinished) Free(task);
}

void Scheduler::Yield() {
  if (InLoop()) Fatal("Yield() in the event loop (a handler, timer callback or coroutine)");
  PushReady(current_);   // a running task's state is already kReady
  SwitchTo(PopReady());
}

void Scheduler::Block() {
  if (InLoop()) {
    Fatal("a blocking call in the event loop: handlers, timer callbacks and coroutines "
          "must not block");
  }
  current_->state = TaskState::kBlocked;
  SwitchTo(PopReady());
}

void Scheduler::MakeReady(Task* task) {
  if (task->state != TaskState::kBlocked) return;
  task->state = TaskState::kReady;
  PushReady(task);
}

void Scheduler::SleepUntil(uint64_t deadline) {
  Waiter waiter;
  waiter.task = current_;
  Timer timer([](void* w) { Wake(static_cast<Waiter*>(w)); }, &waiter);
  timer.ArmAt(deadline);
  Block();
}

void Scheduler::SwitchTo(Task* next) {
  Task* prev = current_;
  current_ = next;   // its state stays kReady: MakeReady() leaves it alone
#ifdef __NEWLIB__
  _impure_ptr = next->reent;
#endif
  // AddressSanitizer's fake stack of |prev|, kept in |prev|'s own frame until it runs again.
  void* fake_stack = nullptr;
#ifdef SKIFF_ASAN
  asan_from = prev;
  __sanitizer_start_switch_fiber(prev->state == TaskState::kFinished ? nullptr : &fake_stack,
                                 next->stack.base, next->stack.size);
#endif
  skiff_context_switch(&prev->sp, next->sp);
  AfterSwitch(fake_stack);
}

void Scheduler::AfterSwitch([[maybe_unused]] void* fake_stack) {
#ifdef SKIFF_ASAN
  const void* bottom;
  size_t size;
  __sanitizer_finish_switch_fiber(fake_stack, &bottom, &size);
  if (asan_from->stack.base == nullptr) {   // main's stack: learnt on its first switch
    asan_from->stack.base = static_cast<char*>(const_cast<void*>(bottom));
    asan_from->stack.size = size;
  }
#endif
}

void Scheduler::FreeFinished() {
  while (reap_ != nullptr) {
    Task* task = reap_;
    reap_ = task->next_ready;
    Free(task);
  }
}

void Scheduler::TaskMain(Task* task) {
  Scheduler* s = current_scheduler;
  s->AfterSwitch(nullptr);
  task->body();
  task->body = nullptr;   // what the body captured goes while the task can still run
  task->state = TaskState::kFinished;
  task->joiners.WakeAll();
  if (task->detached) {   // freed by the loop, off this stack
    task->next_ready = s->reap_;
    s->reap_ = task;
  }
  s->SwitchTo(s->PopReady());
  s->Fatal("finished task '%s' was resumed", task->name);
}

void Scheduler::RunCoroutines() {
  resuming_.swap(coroutines_);
  for (std::coroutine_handle<> coroutine : resuming_) coroutine.resume();
  resuming_.clear();
}

// The event loop: events, then timers, then coroutines, then one turn of the ready tasks;
// with nothing to do, Idle() halts until an event or the next deadline.
void Scheduler::LoopMain(Task* self) {
  Scheduler* s = current_scheduler;
  s->AfterSwitch(nullptr);
  for (;;) {
    s->platform_->PollEvents();
    if (s->timers_.size() != 0) s->timers_.FireExpired(s->platform_->Now());
    if (!s->coroutines_.empty()) s->RunCoroutines();
    if (s->reap_ != nullptr) s->FreeFinished();
    if (s->ready_head_ != nullptr) {   // the loop's state is always kReady
      s->loop_turns_++;
      s->PushReady(self);
      s->SwitchTo(s->PopReady());
    } else if (s->coroutines_.empty()) {
      s->platform_->Idle(s->timers_.NextDeadline());
    }
  }
}

const Task* Scheduler::TaskAt(uintptr_t address, bool* in_guard) const {
  for (ListNode* n = all_.first(); n != all_.end(); n = n->next) {
    const Task* task = reinterpret_cast<const Task::AllNode*>(n)->task;
    auto in = [address](const char* start, size_t size) {
      return start != nullptr && address >= reinterpret_cast<uintptr_t>(start) &&
             address < reinterpret_cast<uintptr_t>(start) + size;
    };
    if (in(task->stack.guard, task->stack.guard_size)) {
      *in_guard = true;
      return task;
    }
    if (in(task->stack.base, task->stack.size)) {
      *in_guard = false;
      return task;
    }
  }
  return nullptr;
}

void Wake(Waiter* waiter) {
  waiter->woken = true;
  if (waiter->task != nullptr) {
    current_scheduler->MakeReady(waiter->task);
  } else {
    current_scheduler->Post(waiter->coroutine);
  }
}

void Post(std::coroutine_handle<> coroutine) { current_scheduler->Post(coroutine); }

void Fatal(const char* message) {
  if (current_scheduler == nullptr) {   // before the event loop: no platform to report it
    fprintf(stderr, "fatal: %s\n", message);
    abort();
  }
  current_scheduler->platform().Fatal(message);
  __builtin_unreachable();
}

}  // namespace skiff::sched

namespace skiff {

void DieOnError(const Error& error) {
  char message[300];
  snprintf(message, sizeof(message), "value() of a failed Result: %s", error.message.c_str());
  sched::Fatal(message);
}

uint64_t Now() { return sched::current_scheduler->platform().Now(); }

Result<Task*> Spawn(std::function<void()> body, const TaskOptions& options) {
  return sched::current_scheduler->Spawn(std::move(body), options);
}

void Join(Task* task) { sched::current_scheduler->Join(task); }
void Detach(Task* task) { sched::current_scheduler->Detach(task); }
void Yield() { sched::current_scheduler->Yield(); }
void SleepUntil(uint64_t deadline_ns) { sched::current_scheduler->SleepUntil(deadline_ns); }
void SleepFor(uint64_t ns) {
  uint64_t now = Now();
  SleepUntil(ns >= kNever - now ? kNever : now + ns);
}
Task* CurrentTask() { return sched::current_scheduler->current(); }
const char* TaskName(const Task* task) { return task->name; }

}  // namespace skiff
