// pthread attributes and scheduling parameters. See docs/concurrency.md.
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>

namespace {

// Task stacks are mapped in full when the task starts, so the default is a trade between a
// ported program's deep frames and the memory each thread costs; musl's is 128 KiB.
constexpr size_t kDefaultStackSize = 256 * 1024;
constexpr size_t kMaxStackSize = size_t{1} << 30;
constexpr size_t kGuardSize = 64 * 1024;   // runtime/mm/stacks.cc

}  // namespace

extern "C" {

int pthread_attr_init(pthread_attr_t* attr) {
  *attr = {};
  attr->__stacksize = kDefaultStackSize;
  attr->__guardsize = kGuardSize;
  attr->__inheritsched = PTHREAD_INHERIT_SCHED;
  return 0;
}

int pthread_attr_destroy(pthread_attr_t*) { return 0; }

int pthread_attr_setstacksize(pthread_attr_t* attr, size_t size) {
  if (size < PTHREAD_STACK_MIN || size > kMaxStackSize) return EINVAL;
  attr->__stacksize = size;
  return 0;
}

int pthread_attr_getstacksize(const pthread_attr_t* attr, size_t* size) {
  *size = attr->__stacksize != 0 ? attr->__stacksize : kDefaultStackSize;
  return 0;
}

// A stack the program allocates itself is not supported: each task's stack has a guard
// below it in an address range of its own (runtime/mm/stacks.cc).
int pthread_attr_setstack(pthread_attr_t*, void*, size_t) { return ENOSYS; }
int pthread_attr_setstackaddr(pthread_attr_t*, void*) { return ENOSYS; }

int pthread_attr_getstack(const pthread_attr_t* attr, void** address, size_t* size) {
  *address = nullptr;
  return pthread_attr_getstacksize(attr, size);
}

int pthread_attr_getstackaddr(const pthread_attr_t*, void** address) {
  *address = nullptr;
  return 0;
}

int pthread_attr_setdetachstate(pthread_attr_t* attr, int state) {
  if (state != PTHREAD_CREATE_JOINABLE && state != PTHREAD_CREATE_DETACHED) return EINVAL;
  attr->__detachstate = state;
  return 0;
}

int pthread_attr_getdetachstate(const pthread_attr_t* attr, int* state) {
  *state = attr->__detachstate;
  return 0;
}

// Kept and reported; every task stack has the same 64 KiB guard.
int pthread_attr_setguardsize(pthread_attr_t* attr, size_t size) {
  attr->__guardsize = size;
  return 0;
}

int pthread_attr_getguardsize(const pthread_attr_t* attr, size_t* size) {
  *size = attr->__guardsize;
  return 0;
}

// Kept and reported; the scheduler has no priorities.
int pthread_attr_setschedparam(pthread_attr_t* attr, const struct sched_param* param) {
  attr->__schedparam = *param;
  return 0;
}

int pthread_attr_getschedparam(const pthread_attr_t* attr, struct sched_param* param) {
  *param = attr->__schedparam;
  return 0;
}

// One policy, SCHED_OTHER, at priority 0, and one scope, the system's: the scheduler has no
// priorities. The others are ENOTSUP, which POSIX allows.
int pthread_attr_setscope(pthread_attr_t*, int scope) {
  if (scope == PTHREAD_SCOPE_SYSTEM) return 0;
  return scope == PTHREAD_SCOPE_PROCESS ? ENOTSUP : EINVAL;
}

int pthread_attr_getscope(const pthread_attr_t*, int* scope) {
  *scope = PTHREAD_SCOPE_SYSTEM;
  return 0;
}

int pthread_attr_setinheritsched(pthread_attr_t* attr, int inherit) {
  if (inherit != PTHREAD_INHERIT_SCHED && inherit != PTHREAD_EXPLICIT_SCHED) return EINVAL;
  attr->__inheritsched = inherit;
  return 0;
}

int pthread_attr_getinheritsched(const pthread_attr_t* attr, int* inherit) {
  *inherit = attr->__inheritsched;
  return 0;
}

int pthread_attr_setschedpolicy(pthread_attr_t*, int policy) {
  if (policy == SCHED_OTHER) return 0;
  return policy == SCHED_FIFO || policy == SCHED_RR ? ENOTSUP : EINVAL;
}

int pthread_attr_getschedpolicy(const pthread_attr_t*, int* policy) {
  *policy = SCHED_OTHER;
  return 0;
}

int pthread_getschedparam(pthread_t, int* policy, struct sched_param* param) {
  *policy = SCHED_OTHER;
  *param = {};
  return 0;
}

int pthread_setschedparam(pthread_t thread, int policy, const struct sched_param* param) {
  if (int error = pthread_attr_setschedpolicy(nullptr, policy)) return error;
  return pthread_setschedprio(thread, param->sched_priority);
}

int pthread_setschedprio(pthread_t, int priority) { return priority == 0 ? 0 : EINVAL; }

}  // extern "C"
