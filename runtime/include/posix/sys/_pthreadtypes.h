/* Skiff's pthread types, in place of newlib's sys/_pthreadtypes.h (whose objects are 32-bit
   handles into a table that Skiff does not have). Every object is a plain struct that lives
   where the program puts it; all its bytes zero is the same as its static initialiser, so a
   zero-initialised mutex, condition variable or rwlock is a valid unlocked one.
   Implemented in runtime/libc/pthread*.cc; see docs/concurrency.md. */
#ifndef _SYS__PTHREADTYPES_H_
#define _SYS__PTHREADTYPES_H_

#include <sys/features.h>

#if defined(_POSIX_THREADS) || __POSIX_VISIBLE >= 199506

#define __need_size_t
#include <stddef.h>
#include <sys/sched.h>
#include <sys/_skiff_waitq.h>

/* The thread's task; 0 is no thread. */
typedef unsigned long pthread_t;

#define PTHREAD_CREATE_JOINABLE 0
#define PTHREAD_CREATE_DETACHED 1

#define PTHREAD_SCOPE_SYSTEM 0
#define PTHREAD_SCOPE_PROCESS 1
#define PTHREAD_INHERIT_SCHED 0
#define PTHREAD_EXPLICIT_SCHED 1

#define PTHREAD_PROCESS_PRIVATE 0
#define PTHREAD_PROCESS_SHARED 1

/* PTHREAD_STACK_MIN is in <limits.h> too. */
#ifndef PTHREAD_STACK_MIN
#define PTHREAD_STACK_MIN 16384
#endif

typedef struct {
  size_t __stacksize; /* 0: the default, 256 KiB */
  size_t __guardsize; /* kept, not used: every stack has a 64 KiB guard */
  int __detachstate;
  int __inheritsched;
  struct sched_param __schedparam;
} pthread_attr_t;

/* Mutex types. 0, what a zero-initialised mutex has, is PTHREAD_MUTEX_DEFAULT: relocking it or
   unlocking it without holding it ends the guest with a crash report that says so. */
#define PTHREAD_MUTEX_DEFAULT 0
#define PTHREAD_MUTEX_RECURSIVE 1
#define PTHREAD_MUTEX_ERRORCHECK 2
#define PTHREAD_MUTEX_NORMAL 3

typedef struct {
  void *__owner;     /* the task that holds it, or 0 */
  unsigned __count;  /* how many times the owner holds it */
  int __type;        /* PTHREAD_MUTEX_* */
  struct __skiff_waitq __waiters;
} pthread_mutex_t;

typedef struct {
  int __type;
  int __pshared;
} pthread_mutexattr_t;

#define _PTHREAD_MUTEX_INITIALIZER { 0, 0, PTHREAD_MUTEX_DEFAULT, __SKIFF_WAITQ_INITIALIZER }
#define PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP \
  { 0, 0, PTHREAD_MUTEX_RECURSIVE, __SKIFF_WAITQ_INITIALIZER }
#define PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP \
  { 0, 0, PTHREAD_MUTEX_ERRORCHECK, __SKIFF_WAITQ_INITIALIZER }

typedef struct {
  int __clock; /* for pthread_cond_timedwait; 0 is CLOCK_REALTIME */
  int __reserved;
  struct __skiff_waitq __waiters;
} pthread_cond_t;

typedef struct {
  int __clock;
  int __pshared;
} pthread_condattr_t;

#define _PTHREAD_COND_INITIALIZER { 0, 0, __SKIFF_WAITQ_INITIALIZER }

/* An index into the runtime's table of keys; PTHREAD_KEYS_MAX of them. */
typedef unsigned pthread_key_t;

typedef int pthread_once_t;
#define _PTHREAD_ONCE_INIT 0

#endif /* defined(_POSIX_THREADS) || __POSIX_VISIBLE >= 199506 */

#if defined(_POSIX_BARRIERS)
typedef struct {
  unsigned __count;   /* threads that each round waits for */
  unsigned __arrived; /* in this round so far */
  unsigned __round;
  unsigned __reserved;
  struct __skiff_waitq __waiters;
} pthread_barrier_t;

typedef struct {
  int __pshared;
} pthread_barrierattr_t;
#endif /* defined(_POSIX_BARRIERS) */

#if defined(_POSIX_SPIN_LOCKS)
/* A lock that yields the vCPU while it spins: on Skiff's cooperative tasks a spinner that
   never yielded would never let the holder run. */
typedef int pthread_spinlock_t;
#endif /* defined(_POSIX_SPIN_LOCKS) */

#if defined(_POSIX_READER_WRITER_LOCKS)
typedef struct {
  void *__writer;     /* the task that holds it for writing, or 0 */
  unsigned __readers; /* how many hold it for reading */
  unsigned __reserved;
  struct __skiff_waitq __waiting_readers;
  struct __skiff_waitq __waiting_writers;
} pthread_rwlock_t;

typedef struct {
  int __pshared;
} pthread_rwlockattr_t;

#define _PTHREAD_RWLOCK_INITIALIZER \
  { 0, 0, 0, __SKIFF_WAITQ_INITIALIZER, __SKIFF_WAITQ_INITIALIZER }
#endif /* defined(_POSIX_READER_WRITER_LOCKS) */

#endif /* ! _SYS__PTHREADTYPES_H_ */
