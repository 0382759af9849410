// The wait queue stored in a pthread object or a semaphore (sys/_skiff_waitq.h).
#ifndef SKIFF_RUNTIME_LIBC_WAITQ_H_
#define SKIFF_RUNTIME_LIBC_WAITQ_H_

#include <string.h>
#include <sys/_skiff_waitq.h>

#include <new>

#include "skiff/sched.h"

namespace skiff::posix {

static_assert(sizeof(__skiff_waitq) == sizeof(WaitQueue));
static_assert(alignof(__skiff_waitq) == alignof(WaitQueue));

// The WaitQueue in |q|'s bytes, made there the first time it is needed: all zero is an empty
// queue not made yet (a made one points at itself, never at null). The object that holds |q|
// must not be moved or copied once a task has waited on it, which POSIX forbids anyway.
inline WaitQueue& Waiters(__skiff_waitq* q) {
  static constexpr char kZero[sizeof(__skiff_waitq)] = {};
  if (memcmp(q, kZero, sizeof(kZero)) == 0) new (q) WaitQueue;
  return *std::launder(reinterpret_cast<WaitQueue*>(q));
}

}  // namespace skiff::posix

#endif  // SKIFF_RUNTIME_LIBC_WAITQ_H_
