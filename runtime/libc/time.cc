// newlib's clocks and sleeps: CLOCK_MONOTONIC from pvclock, CLOCK_REALTIME from the
// shared_info wallclock, sleeps parked on the scheduler's timers. gettimeofday and times
// are in syscalls.cc.
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "runtime/libc/clock.h"
#include "runtime/xen/shared_info.h"
#include "skiff/sched.h"

namespace {

constexpr uint64_t kNanosecondsPerSecond = 1000000000;

}  // namespace

namespace skiff::posix {

bool ClockNow(clockid_t clock, uint64_t* ns) {
  switch (clock) {
    case CLOCK_MONOTONIC:
      *ns = xen::SystemTimeNanoseconds();
      return true;
    case CLOCK_REALTIME:
      *ns = xen::WallClockNanoseconds();
      return true;
    default:
      return false;
  }
}

bool ToNanoseconds(const struct timespec* t, uint64_t* ns) {
  if (t == nullptr || t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= 1000000000) return false;
  uint64_t sec = static_cast<uint64_t>(t->tv_sec);
  *ns = sec >= kNever / kNanosecondsPerSecond
            ? kNever
            : sec * kNanosecondsPerSecond + static_cast<uint64_t>(t->tv_nsec);
  return true;
}

uint64_t MonotonicDeadline(clockid_t clock, uint64_t ns) {
  if (clock == CLOCK_MONOTONIC) return ns;
  uint64_t now;
  ClockNow(clock, &now);
  uint64_t monotonic = Now();
  if (ns <= now) return monotonic;
  return ns - now >= kNever - monotonic ? kNever : monotonic + (ns - now);
}

bool TimeoutDeadline(const struct timespec* abstime, clockid_t clock, uint64_t* deadline) {
  uint64_t ns;
  if (!ToNanoseconds(abstime, &ns)) return false;
  *deadline = MonotonicDeadline(clock, ns);
  return true;
}

}  // namespace skiff::posix

// These are called by apps directly, not through newlib's _r wrappers: errno is the task's.
using skiff::posix::ClockNow;
using skiff::posix::ToNanoseconds;

extern "C" {

int clock_gettime(clockid_t clock, struct timespec* t) {
  uint64_t ns;
  if (t == nullptr || !ClockNow(clock, &ns)) {
    errno = EINVAL;
    return -1;
  }
  t->tv_sec = static_cast<time_t>(ns / kNanosecondsPerSecond);
  t->tv_nsec = static_cast<long>(ns % kNanosecondsPerSecond);
  return 0;
}

int clock_getres(clockid_t clock, struct timespec* t) {
  uint64_t ns;
  if (!ClockNow(clock, &ns)) {
    errno = EINVAL;
    return -1;
  }
  if (t != nullptr) *t = {0, 1};
  return 0;
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec* request,
                    struct timespec* remain) {
  uint64_t ns, now;
  if (!ToNanoseconds(request, &ns)) return EINVAL;
  if (!ClockNow(clock, &now)) return EINVAL;
  if (flags & TIMER_ABSTIME) {
    skiff::SleepUntil(skiff::posix::MonotonicDeadline(clock, ns));
  } else {
    skiff::SleepFor(ns);
  }
  if (remain != nullptr && !(flags & TIMER_ABSTIME)) *remain = {0, 0};
  return 0;
}

int nanosleep(const struct timespec* request, struct timespec* remain) {
  int error = clock_nanosleep(CLOCK_MONOTONIC, 0, request, remain);
  if (error == 0) return 0;
  errno = error;
  return -1;
}

int usleep(useconds_t us) {
  skiff::SleepFor(static_cast<uint64_t>(us) * 1000);
  return 0;
}

unsigned sleep(unsigned seconds) {
  skiff::SleepFor(static_cast<uint64_t>(seconds) * kNanosecondsPerSecond);
  return 0;
}

}  // extern "C"
