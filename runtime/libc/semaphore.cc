// POSIX unnamed semaphores on Skiff's wait queues. A semaphore holds its own waiters
// (sys/_skiff_waitq.h), so one of all zero bytes is valid, with the value 0. These set errno
// and return -1 on failure, as POSIX says. See docs/concurrency.md.
#include <errno.h>
#include <semaphore.h>
#include <time.h>

#include "runtime/libc/clock.h"
#include "runtime/libc/waitq.h"

namespace {

int Fail(int error) {
  errno = error;
  return -1;
}

}  // namespace

using skiff::posix::Waiters;

extern "C" {

int sem_init(sem_t* s, int, unsigned value) {
  if (value > SEM_VALUE_MAX) return Fail(EINVAL);
  *s = {};
  s->__value = value;
  return 0;
}

int sem_destroy(sem_t* s) {
  if (!Waiters(&s->__waiters).empty()) return Fail(EBUSY);
  *s = {};
  return 0;
}

// sem_post hands its unit to the first waiter rather than counting it.
int sem_wait(sem_t* s) {
  if (s->__value > 0) {
    s->__value--;
    return 0;
  }
  Waiters(&s->__waiters).Wait();
  return 0;
}

int sem_trywait(sem_t* s) {
  if (s->__value == 0) return Fail(EAGAIN);
  s->__value--;
  return 0;
}

int sem_timedwait(sem_t* s, const struct timespec* abstime) {
  if (s->__value > 0) {
    s->__value--;
    return 0;
  }
  uint64_t deadline;
  if (!skiff::posix::TimeoutDeadline(abstime, CLOCK_REALTIME, &deadline)) {
    return Fail(EINVAL);
  }
  if (!Waiters(&s->__waiters).WaitUntil(deadline)) return Fail(ETIMEDOUT);
  return 0;
}

int sem_post(sem_t* s) {
  if (Waiters(&s->__waiters).WakeOne()) return 0;
  if (s->__value == SEM_VALUE_MAX) return Fail(EOVERFLOW);
  s->__value++;
  return 0;
}

int sem_getvalue(sem_t* s, int* value) {
  *value = static_cast<int>(s->__value);
  return 0;
}

sem_t* sem_open(const char*, int, ...) {
  errno = ENOSYS;
  return SEM_FAILED;
}

int sem_close(sem_t*) { return Fail(ENOSYS); }
int sem_unlink(const char*) { return Fail(ENOSYS); }

}  // extern "C"
