// Wait queues and what is built on them: mutex, condition variable, semaphore, event.
#include <stdio.h>

#include "runtime/sched/scheduler.h"

namespace skiff {
namespace {

// Parks the current task on |queue| (after unlocking |unlock|, if any) until a wake or
// |deadline|. Returns true if woken.
bool Park(WaitQueue& queue, uint64_t deadline, Mutex* unlock = nullptr) {
  sched::Scheduler* s = sched::Current();
  sched::Waiter waiter;
  waiter.task = s->current();
  queue.Link(&waiter);
  if (unlock != nullptr) unlock->Unlock();
  if (deadline == kNever) {
    s->Block();
    return true;
  }
  Timer timeout(
      [](void* w) {
        auto* waiter = static_cast<sched::Waiter*>(w);
        if (waiter->link.linked()) sched::List::Remove(&waiter->link);
        sched::Current()->MakeReady(waiter->task);
      },
      &waiter);
  timeout.ArmAt(deadline);
  s->Block();
  timeout.Cancel();
  return waiter.woken;
}

[[noreturn]] void MutexMisuse(const char* what) {
  char message[120];
  snprintf(message, sizeof(message), "task '%s' %s", TaskName(CurrentTask()), what);
  sched::Fatal(message);
}

}  // namespace

void WaitQueue::Wait() { Park(*this, kNever); }
bool WaitQueue::WaitUntil(uint64_t deadline) { return Park(*this, deadline); }

sched::Waiter* WaitQueue::PopFront() {
  if (waiters_.empty()) return nullptr;
  return reinterpret_cast<sched::Waiter*>(waiters_.PopFront());
}

bool WaitQueue::WakeOne() {
  sched::Waiter* waiter = PopFront();
  if (waiter == nullptr) return false;
  sched::Wake(waiter);
  return true;
}

void WaitQueue::WakeAll() {
  while (WakeOne()) {
  }
}

void Mutex::Lock() {
  Task* self = CurrentTask();
  if (owner_ == nullptr) {
    owner_ = self;
    return;
  }
  if (owner_ == self) MutexMisuse("locks a mutex it already holds");
  waiters_.Wait();   // Unlock() hands the mutex over
}

bool Mutex::TryLock() {
  if (owner_ != nullptr) return false;
  owner_ = CurrentTask();
  return true;
}

void Mutex::Unlock() {
  if (owner_ != CurrentTask()) MutexMisuse("unlocks a mutex it does not hold");
  sched::Waiter* next = waiters_.PopFront();
  owner_ = next != nullptr ? next->task : nullptr;
  if (next != nullptr) sched::Wake(next);
}

void CondVar::Wait(Mutex& mutex) {
  Park(waiters_, kNever, &mutex);
  mutex.Lock();
}

bool CondVar::WaitUntil(Mutex& mutex, uint64_t deadline) {
  bool woken = Park(waiters_, deadline, &mutex);
  mutex.Lock();
  return woken;
}

void Semaphore::Acquire() {
  if (!TryAcquire()) waiters_.Wait();   // Release() hands a unit over
}

bool Semaphore::TryAcquire() {
  if (count_ == 0) return false;
  count_--;
  return true;
}

bool Semaphore::AcquireUntil(uint64_t deadline) {
  return TryAcquire() || waiters_.WaitUntil(deadline);
}

void Semaphore::Release(uint64_t n) {
  while (n > 0 && waiters_.WakeOne()) n--;
  count_ += n;
}

void Event::Signal() {
  if (!waiters_.WakeOne()) signalled_ = true;
}

bool Event::TryWait() {
  if (!signalled_) return false;
  signalled_ = false;
  return true;
}

void Event::Wait() {
  if (!TryWait()) waiters_.Wait();
}

bool Event::WaitUntil(uint64_t deadline) { return TryWait() || waiters_.WaitUntil(deadline); }

}  // namespace skiff
