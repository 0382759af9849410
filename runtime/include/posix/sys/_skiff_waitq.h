/* The waiters of a pthread object or a semaphore: Skiff's wait queue, stored in the object.
   All zero is an empty queue, so that a zero-initialised object is a valid one; the runtime
   makes a skiff::WaitQueue of these bytes the first time a task waits. */
#ifndef _SYS__SKIFF_WAITQ_H_
#define _SYS__SKIFF_WAITQ_H_

struct __skiff_waitq {
  void *__prev;
  void *__next;
};

#define __SKIFF_WAITQ_INITIALIZER { 0, 0 }

#endif /* _SYS__SKIFF_WAITQ_H_ */
