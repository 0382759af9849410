/* POSIX unnamed semaphores on Skiff's tasks (newlib ships no <semaphore.h>).
   Implemented in runtime/libc/semaphore.cc; see docs/concurrency.md. Named semaphores
   (sem_open, sem_close, sem_unlink) fail with ENOSYS: there is no file system to name them. */
#ifndef _SEMAPHORE_H
#define _SEMAPHORE_H

#include <sys/types.h>
#include <sys/_skiff_waitq.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* All zero is a semaphore whose value is 0. */
typedef struct {
  unsigned __value;
  unsigned __reserved;
  struct __skiff_waitq __waiters;
} sem_t;

#define SEM_FAILED ((sem_t *)0)

/* SEM_VALUE_MAX is in <limits.h> too. */
#ifndef SEM_VALUE_MAX
#define SEM_VALUE_MAX 0x7fffffff
#endif

int sem_init(sem_t *__sem, int __pshared, unsigned __value);
int sem_destroy(sem_t *__sem);
int sem_wait(sem_t *__sem);
int sem_trywait(sem_t *__sem);
int sem_timedwait(sem_t *__restrict __sem, const struct timespec *__restrict __abstime);
int sem_post(sem_t *__sem);
int sem_getvalue(sem_t *__restrict __sem, int *__restrict __value);

sem_t *sem_open(const char *__name, int __oflag, ...);
int sem_close(sem_t *__sem);
int sem_unlink(const char *__name);

#ifdef __cplusplus
}
#endif

#endif /* _SEMAPHORE_H */
