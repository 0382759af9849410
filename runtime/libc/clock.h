// The clocks behind newlib's time functions (time.cc), shared with the pthread and semaphore
// timeouts (pthread_sync.cc, semaphore.cc).
#ifndef SKIFF_RUNTIME_LIBC_CLOCK_H_
#define SKIFF_RUNTIME_LIBC_CLOCK_H_

#include <stdint.h>
#include <time.h>

namespace skiff::posix {

// What |clock| reads now, in nanoseconds. False for a clock Skiff does not have (only
// CLOCK_MONOTONIC and CLOCK_REALTIME).
bool ClockNow(clockid_t clock, uint64_t* ns);

// |t| in nanoseconds, saturating at kNever. False if |t| is null or not a valid time
// (a negative second, nanoseconds outside [0, 1e9)).
bool ToNanoseconds(const struct timespec* t, uint64_t* ns);

// The monotonic deadline (for skiff::SleepUntil and WaitQueue::WaitUntil) at which |clock|
// reads |ns|: real time is taken relative to now, so a later change of the wallclock does not
// move it. |clock| must be CLOCK_MONOTONIC or CLOCK_REALTIME.
uint64_t MonotonicDeadline(clockid_t clock, uint64_t ns);

// The monotonic deadline of a timed wait until |abstime| on |clock|; false if |abstime| is not
// a valid time.
bool TimeoutDeadline(const struct timespec* abstime, clockid_t clock, uint64_t* deadline);

}  // namespace skiff::posix

#endif  // SKIFF_RUNTIME_LIBC_CLOCK_H_
