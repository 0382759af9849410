// POSIX mutexes, condition variables, rwlocks, barriers and spinlocks on Skiff's wait queues
// (skiff/sched.h); semaphores are in semaphore.cc. Each object holds its own waiters (sys/_skiff_waitq.h), so an
// object of all zero bytes is a valid one. Locks are handed to the first waiter when they are
// released, so a waiter that was woken holds what it waited for, and one that timed out was
// taken off the queue and holds nothing. See docs/concurrency.md.
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "runtime/libc/clock.h"
#include "runtime/libc/waitq.h"
#include "skiff/sched.h"

namespace skiff::posix {
namespace {

[[noreturn]] void Misuse(const char* what) {
  char message[160];
  snprintf(message, sizeof(message), "task '%s' %s", TaskName(CurrentTask()), what);
  sched::Fatal(message);
}

// Waits on |q| until woken or |deadline| (kNever: no deadline). Returns true if woken.
bool WaitOn(__skiff_waitq* q, uint64_t deadline) { return Waiters(q).WaitUntil(deadline); }

// Takes |m| for the current task: at once if it is free, else after the holder hands it
// over, or ETIMEDOUT at |deadline|. The caller has dealt with relocking.
int Acquire(pthread_mutex_t* m, uint64_t deadline) {
  if (m->__owner == nullptr) {
    m->__owner = CurrentTask();
    m->__count = 1;
    return 0;
  }
  return WaitOn(&m->__waiters, deadline) ? 0 : ETIMEDOUT;   // Release() set the owner
}

// Hands |m| to its first waiter, or leaves it free.
void Release(pthread_mutex_t* m) {
  sched::Waiter* next = Waiters(&m->__waiters).PopFront();
  m->__owner = next != nullptr ? next->task : nullptr;
  m->__count = next != nullptr ? 1 : 0;
  if (next != nullptr) sched::Wake(next);
}

// A lock of |m|, which waits at most until the deadline of |abstime| if given.
int Lock(pthread_mutex_t* m, const struct timespec* abstime) {
  if (m->__owner == CurrentTask()) {
    switch (m->__type) {
      case PTHREAD_MUTEX_RECURSIVE:
        if (m->__count == UINT_MAX) return EAGAIN;
        m->__count++;
        return 0;
      case PTHREAD_MUTEX_ERRORCHECK:
        return EDEADLK;
      case PTHREAD_MUTEX_NORMAL:
        break;   // waits for ever (or until |abstime|), as POSIX says
      default:
        Misuse("locks a pthread mutex it already holds");
    }
  }
  uint64_t deadline = kNever;
  if (abstime != nullptr && m->__owner != nullptr &&
      !TimeoutDeadline(abstime, CLOCK_REALTIME, &deadline)) {
    return EINVAL;
  }
  return Acquire(m, deadline);
}

// True if the current task may unlock |m| (or wait with it); EPERM for error-checking and
// recursive mutexes; for the others, misuse ends the guest.
int CheckHeld(const pthread_mutex_t* m, const char* what) {
  if (m->__owner == CurrentTask()) return 0;
  if (m->__type == PTHREAD_MUTEX_ERRORCHECK || m->__type == PTHREAD_MUTEX_RECURSIVE) {
    return EPERM;
  }
  Misuse(what);
}

// A wait on |c|, which releases |m| (however many times it is held) while it waits and holds
// it again, as many times, before it returns.
int CondWait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* abstime) {
  if (int error = CheckHeld(m, "waits on a condition variable without holding its mutex")) {
    return error;
  }
  uint64_t deadline = kNever;
  if (abstime != nullptr) {
    clockid_t clock = c->__clock != 0 ? c->__clock : CLOCK_REALTIME;
    if (!TimeoutDeadline(abstime, clock, &deadline)) return EINVAL;
  }
  unsigned count = m->__count;
  Release(m);   // readies a waiter for |m|; nothing runs before this task parks below
  bool woken = WaitOn(&c->__waiters, deadline);
  Acquire(m, kNever);
  m->__count = count;
  return woken ? 0 : ETIMEDOUT;
}

bool IsClock(clockid_t clock) { return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC; }

bool IsShared(int pshared) {
  return pshared == PTHREAD_PROCESS_PRIVATE || pshared == PTHREAD_PROCESS_SHARED;
}

// rwlocks prefer readers, as glibc's do by default: a reader gets in whenever no writer holds
// the lock, so a thread that already reads may read again. A writer that releases it lets
// every waiting reader in, else the first waiting writer; the last reader out lets the first
// waiting writer in.
void GrantWriter(pthread_rwlock_t* l) {
  sched::Waiter* next = Waiters(&l->__waiting_writers).PopFront();
  if (next == nullptr) return;
  l->__writer = next->task;
  sched::Wake(next);
}

void GrantAfterWriter(pthread_rwlock_t* l) {
  WaitQueue& readers = Waiters(&l->__waiting_readers);
  if (readers.empty()) return GrantWriter(l);
  while (sched::Waiter* next = readers.PopFront()) {
    l->__readers++;
    sched::Wake(next);
  }
}

int ReadLock(pthread_rwlock_t* l, const struct timespec* abstime) {
  if (l->__writer == nullptr) {
    if (l->__readers == UINT_MAX) return EAGAIN;
    l->__readers++;
    return 0;
  }
  if (l->__writer == CurrentTask()) return EDEADLK;
  uint64_t deadline = kNever;
  if (abstime != nullptr && !TimeoutDeadline(abstime, CLOCK_REALTIME, &deadline)) return EINVAL;
  return WaitOn(&l->__waiting_readers, deadline) ? 0 : ETIMEDOUT;   // counted by the granter
}

int WriteLock(pthread_rwlock_t* l, const struct timespec* abstime) {
  if (l->__writer == nullptr && l->__readers == 0) {
    l->__writer = CurrentTask();
    return 0;
  }
  if (l->__writer == CurrentTask()) return EDEADLK;
  uint64_t deadline = kNever;
  if (abstime != nullptr && !TimeoutDeadline(abstime, CLOCK_REALTIME, &deadline)) return EINVAL;
  return WaitOn(&l->__waiting_writers, deadline) ? 0 : ETIMEDOUT;   // made writer by the granter
}

}  // namespace
}  // namespace skiff::posix

using skiff::posix::Waiters;

extern "C" {

int pthread_mutexattr_init(pthread_mutexattr_t* attr) {
  *attr = {};
  return 0;
}

int pthread_mutexattr_destroy(pthread_mutexattr_t*) { return 0; }

int pthread_mutexattr_settype(pthread_mutexattr_t* attr, int type) {
  if (type < PTHREAD_MUTEX_DEFAULT || type > PTHREAD_MUTEX_NORMAL) return EINVAL;
  attr->__type = type;
  return 0;
}

int pthread_mutexattr_gettype(const pthread_mutexattr_t* attr, int* type) {
  *type = attr->__type;
  return 0;
}

// One address space: a shared object is a private one.
int pthread_mutexattr_setpshared(pthread_mutexattr_t* attr, int pshared) {
  if (!skiff::posix::IsShared(pshared)) return EINVAL;
  attr->__pshared = pshared;
  return 0;
}

int pthread_mutexattr_getpshared(const pthread_mutexattr_t* attr, int* pshared) {
  *pshared = attr->__pshared;
  return 0;
}

int pthread_mutex_init(pthread_mutex_t* m, const pthread_mutexattr_t* attr) {
  *m = {};
  if (attr != nullptr) m->__type = attr->__type;
  return 0;
}

int pthread_mutex_destroy(pthread_mutex_t* m) {
  if (m->__owner != nullptr || !Waiters(&m->__waiters).empty()) return EBUSY;
  *m = {};
  return 0;
}

int pthread_mutex_lock(pthread_mutex_t* m) { return skiff::posix::Lock(m, nullptr); }

int pthread_mutex_timedlock(pthread_mutex_t* m, const struct timespec* abstime) {
  return skiff::posix::Lock(m, abstime);
}

int pthread_mutex_trylock(pthread_mutex_t* m) {
  if (m->__owner == nullptr) return skiff::posix::Acquire(m, skiff::kNever);
  if (m->__owner == skiff::CurrentTask() && m->__type == PTHREAD_MUTEX_RECURSIVE) {
    return skiff::posix::Lock(m, nullptr);
  }
  return EBUSY;
}

int pthread_mutex_unlock(pthread_mutex_t* m) {
  if (int error = skiff::posix::CheckHeld(m, "unlocks a pthread mutex it does not hold")) {
    return error;
  }
  if (--m->__count == 0) skiff::posix::Release(m);
  return 0;
}

int pthread_condattr_init(pthread_condattr_t* attr) {
  *attr = {};
  attr->__clock = CLOCK_REALTIME;
  return 0;
}

int pthread_condattr_destroy(pthread_condattr_t*) { return 0; }

int pthread_condattr_setclock(pthread_condattr_t* attr, clockid_t clock) {
  if (!skiff::posix::IsClock(clock)) return EINVAL;
  attr->__clock = static_cast<int>(clock);
  return 0;
}

int pthread_condattr_getclock(const pthread_condattr_t* attr, clockid_t* clock) {
  *clock = attr->__clock != 0 ? static_cast<clockid_t>(attr->__clock) : CLOCK_REALTIME;
  return 0;
}

int pthread_condattr_setpshared(pthread_condattr_t* attr, int pshared) {
  if (!skiff::posix::IsShared(pshared)) return EINVAL;
  attr->__pshared = pshared;
  return 0;
}

int pthread_condattr_getpshared(const pthread_condattr_t* attr, int* pshared) {
  *pshared = attr->__pshared;
  return 0;
}

int pthread_cond_init(pthread_cond_t* c, const pthread_condattr_t* attr) {
  *c = {};
  if (attr != nullptr) c->__clock = attr->__clock;
  return 0;
}

int pthread_cond_destroy(pthread_cond_t* c) {
  if (!Waiters(&c->__waiters).empty()) return EBUSY;
  *c = {};
  return 0;
}

int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  return skiff::posix::CondWait(c, m, nullptr);
}

int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m,
                           const struct timespec* abstime) {
  if (abstime == nullptr) return EINVAL;
  return skiff::posix::CondWait(c, m, abstime);
}

int pthread_cond_signal(pthread_cond_t* c) {
  Waiters(&c->__waiters).WakeOne();
  return 0;
}

int pthread_cond_broadcast(pthread_cond_t* c) {
  Waiters(&c->__waiters).WakeAll();
  return 0;
}

int pthread_rwlockattr_init(pthread_rwlockattr_t* attr) {
  *attr = {};
  return 0;
}

int pthread_rwlockattr_destroy(pthread_rwlockattr_t*) { return 0; }

int pthread_rwlockattr_setpshared(pthread_rwlockattr_t* attr, int pshared) {
  if (!skiff::posix::IsShared(pshared)) return EINVAL;
  attr->__pshared = pshared;
  return 0;
}

int pthread_rwlockattr_getpshared(const pthread_rwlockattr_t* attr, int* pshared) {
  *pshared = attr->__pshared;
  return 0;
}

int pthread_rwlock_init(pthread_rwlock_t* l, const pthread_rwlockattr_t*) {
  *l = {};
  return 0;
}

int pthread_rwlock_destroy(pthread_rwlock_t* l) {
  if (l->__writer != nullptr || l->__readers != 0 || !Waiters(&l->__waiting_readers).empty() ||
      !Waiters(&l->__waiting_writers).empty()) {
    return EBUSY;
  }
  *l = {};
  return 0;
}

int pthread_rwlock_rdlock(pthread_rwlock_t* l) { return skiff::posix::ReadLock(l, nullptr); }

int pthread_rwlock_timedrdlock(pthread_rwlock_t* l, const struct timespec* abstime) {
  if (abstime == nullptr) return EINVAL;
  return skiff::posix::ReadLock(l, abstime);
}

int pthread_rwlock_tryrdlock(pthread_rwlock_t* l) {
  return l->__writer == nullptr ? skiff::posix::ReadLock(l, nullptr) : EBUSY;
}

int pthread_rwlock_wrlock(pthread_rwlock_t* l) { return skiff::posix::WriteLock(l, nullptr); }

int pthread_rwlock_timedwrlock(pthread_rwlock_t* l, const struct timespec* abstime) {
  if (abstime == nullptr) return EINVAL;
  return skiff::posix::WriteLock(l, abstime);
}

int pthread_rwlock_trywrlock(pthread_rwlock_t* l) {
  if (l->__writer != nullptr || l->__readers != 0) return EBUSY;
  return skiff::posix::WriteLock(l, nullptr);
}

// Unlocks the write lock if the current task holds it, else one read lock.
int pthread_rwlock_unlock(pthread_rwlock_t* l) {
  if (l->__writer == skiff::CurrentTask()) {
    l->__writer = nullptr;
    skiff::posix::GrantAfterWriter(l);
    return 0;
  }
  if (l->__readers == 0) return EPERM;
  if (--l->__readers == 0) skiff::posix::GrantWriter(l);
  return 0;
}

int pthread_barrierattr_init(pthread_barrierattr_t* attr) {
  *attr = {};
  return 0;
}

int pthread_barrierattr_destroy(pthread_barrierattr_t*) { return 0; }

int pthread_barrierattr_setpshared(pthread_barrierattr_t* attr, int pshared) {
  if (!skiff::posix::IsShared(pshared)) return EINVAL;
  attr->__pshared = pshared;
  return 0;
}

int pthread_barrierattr_getpshared(const pthread_barrierattr_t* attr, int* pshared) {
  *pshared = attr->__pshared;
  return 0;
}

int pthread_barrier_init(pthread_barrier_t* b, const pthread_barrierattr_t*, unsigned count) {
  if (count == 0) return EINVAL;
  *b = {};
  b->__count = count;
  return 0;
}

int pthread_barrier_destroy(pthread_barrier_t* b) {
  if (b->__arrived != 0) return EBUSY;
  *b = {};
  return 0;
}

// The last thread of a round to arrive wakes the others and gets PTHREAD_BARRIER_SERIAL_THREAD.
int pthread_barrier_wait(pthread_barrier_t* b) {
  if (b->__count == 0) return EINVAL;
  if (++b->__arrived == b->__count) {
    b->__arrived = 0;
    b->__round++;
    Waiters(&b->__waiters).WakeAll();
    return PTHREAD_BARRIER_SERIAL_THREAD;
  }
  unsigned round = b->__round;
  while (b->__round == round) Waiters(&b->__waiters).Wait();
  return 0;
}

// A spinlock on one vCPU of cooperative tasks: the holder can only release it while the
// spinner gives up the vCPU, so spinning yields.
int pthread_spin_init(pthread_spinlock_t* lock, int pshared) {
  if (!skiff::posix::IsShared(pshared)) return EINVAL;
  *lock = 0;
  return 0;
}

int pthread_spin_destroy(pthread_spinlock_t* lock) { return *lock != 0 ? EBUSY : 0; }

int pthread_spin_lock(pthread_spinlock_t* lock) {
  while (*lock != 0) skiff::Yield();
  *lock = 1;
  return 0;
}

int pthread_spin_trylock(pthread_spinlock_t* lock) {
  if (*lock != 0) return EBUSY;
  *lock = 1;
  return 0;
}

int pthread_spin_unlock(pthread_spinlock_t* lock) {
  if (*lock == 0) return EPERM;
  *lock = 0;
  return 0;
}

}  // extern "C"
