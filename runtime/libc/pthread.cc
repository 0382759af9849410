// POSIX threads on Skiff's tasks: a thread's life (create, join, detach, exit),
// thread-specific data, pthread_once, the cancellation and signal stubs and sched_yield.
// Attributes are in pthread_attr.cc; mutexes, condition variables and the rest in
// pthread_sync.cc, semaphores in semaphore.cc.
// See docs/concurrency.md for what is supported and what is not.
//
// A pthread_t is the thread's Task*. Each thread made by pthread_create is a task whose body is
// RunThread; its record (Thread) hangs off Task::pthread. Any other task (main, or one made by
// skiff::Spawn) gets a record when it first needs one, for keys or cleanup handlers.
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <new>

#include "runtime/libc/waitq.h"
#include "runtime/sched/scheduler.h"
#include "skiff/sched.h"

namespace skiff::posix {
namespace {

struct Specific {
  uint64_t generation;   // of the key the value was set for
  void* value;
};

struct Thread {
  Task* task = nullptr;
  bool created = false;    // by pthread_create: joinable or detached, and runs RunThread
  bool detached = false;
  bool finished = false;   // its start routine has returned or it called pthread_exit
  Task* joiner = nullptr;  // the task waiting in pthread_join for it
  Task* joining = nullptr; // the task it waits for in pthread_join
  void* (*start)(void*) = nullptr;
  void* arg = nullptr;
  void* result = nullptr;
  jmp_buf exit_jump;       // pthread_exit's way back to RunThread
  _pthread_cleanup_context* cleanups = nullptr;
  Specific* specific = nullptr;   // PTHREAD_KEYS_MAX of them, from the first value set
  int cancel_state = PTHREAD_CANCEL_ENABLE;
  int cancel_type = PTHREAD_CANCEL_DEFERRED;
};

struct Key {
  uint64_t generation;   // counts creations, so that a reused key sees no stale values
  bool used;
  void (*destructor)(void*);
};

Key keys[PTHREAD_KEYS_MAX];
unsigned live_threads;          // made by pthread_create and not finished
__skiff_waitq all_finished;     // main in pthread_exit, until live_threads is 0
__skiff_waitq once_waiters;     // tasks in pthread_once while another runs its routine
unsigned thread_count;          // for the tasks' names
int concurrency;

Thread* Record(Task* task) { return static_cast<Thread*>(task->pthread); }

void FreeSpecific(Thread* t) {
  delete[] t->specific;
  t->specific = nullptr;
}

// The task is being freed. A created thread's record goes with its joiner or, if detached,
// at its end; any other record goes now.
void FreeRecord(Task* task) {
  Thread* t = Record(task);
  task->pthread = nullptr;
  if (!t->created) {
    FreeSpecific(t);
    delete t;
  }
}

void Attach(Task* task, Thread* t) {
  t->task = task;
  task->pthread = t;
  sched::free_pthread_record = FreeRecord;
}

// The current task's record; with |make|, made if it has none (null if out of memory).
Thread* Self(bool make) {
  Task* task = CurrentTask();
  if (task->pthread == nullptr && make) {
    auto* t = new (std::nothrow) Thread;
    if (t != nullptr) Attach(task, t);
  }
  return Record(task);
}

void RunCleanups(Thread* t) {
  while (t->cleanups != nullptr) {
    _pthread_cleanup_context* c = t->cleanups;
    t->cleanups = c->_previous;
    c->_routine(c->_arg);
  }
}

// Calls the destructor of each key with a value, the value cleared first, in rounds until
// no value is left or PTHREAD_DESTRUCTOR_ITERATIONS rounds have run.
void RunDestructors(Thread* t) {
  if (t->specific == nullptr) return;
  for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; round++) {
    bool ran = false;
    for (unsigned k = 0; k < PTHREAD_KEYS_MAX; k++) {
      Specific& s = t->specific[k];
      if (!keys[k].used || keys[k].destructor == nullptr || s.value == nullptr ||
          s.generation != keys[k].generation) {
        continue;
      }
      void* value = s.value;
      s.value = nullptr;
      keys[k].destructor(value);
      ran = true;
    }
    if (!ran) return;
  }
}

// The body of a pthread's task.
void RunThread(Thread* t) {
  if (setjmp(t->exit_jump) == 0) t->result = t->start(t->arg);
  RunDestructors(t);
  FreeSpecific(t);
  t->finished = true;
  if (--live_threads == 0) Waiters(&all_finished).WakeAll();
  if (t->detached) {
    t->task->pthread = nullptr;
    delete t;
  }
}

bool IsKey(pthread_key_t key) { return key < PTHREAD_KEYS_MAX && keys[key].used; }

[[noreturn]] void Misuse(const char* what) {
  char message[120];
  snprintf(message, sizeof(message), "task '%s' %s", TaskName(CurrentTask()), what);
  sched::Fatal(message);
}

}  // namespace
}  // namespace skiff::posix

using skiff::Task;
using skiff::posix::Record;
using skiff::posix::Thread;

extern "C" {

int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*),
                   void* arg) {
  using namespace skiff::posix;
  pthread_attr_t defaults;
  pthread_attr_init(&defaults);
  if (attr == nullptr) attr = &defaults;
  if (attr->__detachstate != PTHREAD_CREATE_JOINABLE &&
      attr->__detachstate != PTHREAD_CREATE_DETACHED) {
    return EINVAL;
  }
  size_t stack_size;
  pthread_attr_getstacksize(attr, &stack_size);
  if (stack_size < PTHREAD_STACK_MIN) return EINVAL;
  auto* t = new (std::nothrow) Thread;
  if (t == nullptr) return EAGAIN;
  t->created = true;
  t->start = start;
  t->arg = arg;
  char name[32];
  snprintf(name, sizeof(name), "pthread-%u", ++thread_count);
  skiff::Result<Task*> task =
      skiff::Spawn([t] { RunThread(t); }, {.name = name, .stack_size = stack_size});
  if (!task) {   // out of memory for the stack or the task
    delete t;
    return EAGAIN;
  }
  Attach(*task, t);
  live_threads++;
  if (attr->__detachstate == PTHREAD_CREATE_DETACHED) {
    t->detached = true;
    skiff::Detach(*task);
  }
  *thread = reinterpret_cast<pthread_t>(*task);
  return 0;
}

int pthread_join(pthread_t thread, void** result) {
  auto* task = reinterpret_cast<Task*>(thread);
  if (task == nullptr) return ESRCH;
  if (task == skiff::CurrentTask()) return EDEADLK;
  Thread* t = Record(task);
  if (t == nullptr || !t->created || t->detached || t->joiner != nullptr) return EINVAL;
  Thread* self = skiff::posix::Self(true);
  if (t->joining == skiff::CurrentTask()) return EDEADLK;   // it is joining us
  t->joiner = skiff::CurrentTask();
  if (self != nullptr) self->joining = task;
  skiff::Join(task);   // frees the task, not |t|
  if (self != nullptr) self->joining = nullptr;
  if (result != nullptr) *result = t->result;
  delete t;
  return 0;
}

int pthread_detach(pthread_t thread) {
  auto* task = reinterpret_cast<Task*>(thread);
  if (task == nullptr) return ESRCH;
  Thread* t = Record(task);
  if (t == nullptr || !t->created || t->detached || t->joiner != nullptr) return EINVAL;
  t->detached = true;
  bool finished = t->finished;
  skiff::Detach(task);   // frees a finished task at once
  if (finished) delete t;
  return 0;
}

void pthread_exit(void* result) {
  using namespace skiff::posix;
  Thread* t = Self(false);
  if (t != nullptr) RunCleanups(t);
  if (t != nullptr && t->created) {
    t->result = result;
    longjmp(t->exit_jump, 1);
  }
  if (!skiff::sched::Current()->IsMain(skiff::CurrentTask())) {
    Misuse("called pthread_exit, but it is not a thread that pthread_create made");
  }
  // main: as on POSIX, the program ends with status 0 when its last thread has.
  if (t != nullptr) RunDestructors(t);
  while (live_threads != 0) Waiters(&all_finished).Wait();
  exit(0);
}

pthread_t pthread_self() { return reinterpret_cast<pthread_t>(skiff::CurrentTask()); }

int pthread_equal(pthread_t a, pthread_t b) { return a == b; }

int pthread_once(pthread_once_t* once, void (*routine)()) {
  constexpr int kRunning = 1, kDone = 2;
  while (*once != kDone) {
    if (*once == 0) {
      *once = kRunning;
      routine();
      *once = kDone;
      skiff::posix::Waiters(&skiff::posix::once_waiters).WakeAll();
      break;
    }
    skiff::posix::Waiters(&skiff::posix::once_waiters).Wait();   // another task runs it
  }
  return 0;
}

int pthread_key_create(pthread_key_t* key, void (*destructor)(void*)) {
  for (unsigned k = 0; k < PTHREAD_KEYS_MAX; k++) {
    skiff::posix::Key& slot = skiff::posix::keys[k];
    if (slot.used) continue;
    slot.used = true;
    slot.generation++;
    slot.destructor = destructor;
    *key = k;
    return 0;
  }
  return EAGAIN;
}

int pthread_key_delete(pthread_key_t key) {
  if (!skiff::posix::IsKey(key)) return EINVAL;
  skiff::posix::keys[key].used = false;
  skiff::posix::keys[key].destructor = nullptr;
  return 0;
}

void* pthread_getspecific(pthread_key_t key) {
  if (!skiff::posix::IsKey(key)) return nullptr;
  Thread* t = skiff::posix::Self(false);
  if (t == nullptr || t->specific == nullptr) return nullptr;
  const skiff::posix::Specific& s = t->specific[key];
  return s.generation == skiff::posix::keys[key].generation ? s.value : nullptr;
}

int pthread_setspecific(pthread_key_t key, const void* value) {
  if (!skiff::posix::IsKey(key)) return EINVAL;
  Thread* t = skiff::posix::Self(true);
  if (t == nullptr) return ENOMEM;
  if (t->specific == nullptr) {
    t->specific = new (std::nothrow) skiff::posix::Specific[PTHREAD_KEYS_MAX]();
    if (t->specific == nullptr) return ENOMEM;
  }
  t->specific[key] = {skiff::posix::keys[key].generation, const_cast<void*>(value)};
  return 0;
}

void _pthread_cleanup_push(struct _pthread_cleanup_context* context, void (*routine)(void*),
                           void* arg) {
  Thread* t = skiff::posix::Self(true);
  if (t == nullptr) skiff::sched::Fatal("pthread_cleanup_push: out of memory");
  context->_routine = routine;
  context->_arg = arg;
  context->_canceltype = t->cancel_type;
  context->_previous = t->cleanups;
  t->cleanups = context;
}

void _pthread_cleanup_pop(struct _pthread_cleanup_context* context, int execute) {
  Thread* t = skiff::posix::Self(false);
  if (t == nullptr || t->cleanups != context) {
    skiff::posix::Misuse("pops a cleanup handler it did not push last");
  }
  t->cleanups = context->_previous;
  if (execute) context->_routine(context->_arg);
}

// Cancellation is not supported: pthread_cancel fails with ENOSYS, so no cancellation is ever
// pending. The state and type are kept and reported.
int pthread_cancel(pthread_t) { return ENOSYS; }

void pthread_testcancel() {}

int pthread_setcancelstate(int state, int* old) {
  if (state != PTHREAD_CANCEL_ENABLE && state != PTHREAD_CANCEL_DISABLE) return EINVAL;
  Thread* t = skiff::posix::Self(true);
  if (t == nullptr) return ENOMEM;
  if (old != nullptr) *old = t->cancel_state;
  t->cancel_state = state;
  return 0;
}

int pthread_setcanceltype(int type, int* old) {
  if (type != PTHREAD_CANCEL_DEFERRED && type != PTHREAD_CANCEL_ASYNCHRONOUS) return EINVAL;
  Thread* t = skiff::posix::Self(true);
  if (t == nullptr) return ENOMEM;
  if (old != nullptr) *old = t->cancel_type;
  t->cancel_type = type;
  return 0;
}

// There is no fork, so the handlers would never run.
int pthread_atfork(void (*)(), void (*)(), void (*)()) { return 0; }

int pthread_getconcurrency() { return skiff::posix::concurrency; }

int pthread_setconcurrency(int level) {
  if (level < 0) return EINVAL;
  skiff::posix::concurrency = level;
  return 0;
}

// Tasks have no CPU-time clocks.
int pthread_getcpuclockid(pthread_t, clockid_t*) { return ENOENT; }

// The name is the task's, shown in crash reports; at most 31 bytes are kept.
int pthread_setname_np(pthread_t thread, const char* name) {
  auto* task = reinterpret_cast<Task*>(thread);
  snprintf(task->name, sizeof(task->name), "%s", name);
  return 0;
}

int pthread_getname_np(pthread_t thread, char* name, size_t size) {
  const char* task_name = skiff::TaskName(reinterpret_cast<Task*>(thread));
  if (strlen(task_name) >= size) return ERANGE;
  strcpy(name, task_name);
  return 0;
}

// Signals are the whole guest's, raised inside it (process.cc): one mask for every thread.
int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  return sigprocmask(how, set, old) == 0 ? 0 : errno;
}

void pthread_yield() { skiff::Yield(); }

int sched_yield() {
  skiff::Yield();
  return 0;
}

}  // extern "C"
