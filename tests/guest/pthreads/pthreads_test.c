/* Guest tests of POSIX threads, written as a ported C program would use them:
   pthreads_test CASE... runs each case named. Each prints "ok: ..." or "FAIL: ..." lines;
   the exit status is the number of failures. "exit" ends in pthread_exit from main, and
   "relock" in a crash report. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures;

static int check(int ok, const char *what) {
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  if (!ok) failures++;
  return ok;
}

static uint64_t now_ns(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* An absolute time |ms| from now on |clock|. */
static struct timespec after_ms(clockid_t clock, long ms) {
  uint64_t ns = now_ns(clock) + (uint64_t)ms * 1000000u;
  struct timespec t = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
  return t;
}

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&t, NULL);
}

static pthread_t start(void *(*fn)(void *), void *arg) {
  pthread_t t;
  int error = pthread_create(&t, NULL, fn, arg);
  if (error != 0) {
    printf("FAIL: pthread_create: %s\n", strerror(error));
    exit(1);
  }
  return t;
}

static void *join(pthread_t t) {
  void *result = NULL;
  int error = pthread_join(t, &result);
  if (error != 0) printf("FAIL: pthread_join: %s\n", strerror(error));
  return result;
}

/* ---- buffer: the bounded buffer, one mutex and two condition variables ---- */

enum { kSlots = 8, kProducers = 4, kItems = 5000 };

static struct {
  pthread_mutex_t lock;
  pthread_cond_t not_full, not_empty;
  int items[kSlots];
  int head, count;
} buffer = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
            {0}, 0, 0};

static void put(int item) {
  pthread_mutex_lock(&buffer.lock);
  while (buffer.count == kSlots) pthread_cond_wait(&buffer.not_full, &buffer.lock);
  buffer.items[(buffer.head + buffer.count) % kSlots] = item;
  buffer.count++;
  pthread_cond_signal(&buffer.not_empty);
  pthread_mutex_unlock(&buffer.lock);
}

static int take(void) {
  pthread_mutex_lock(&buffer.lock);
  while (buffer.count == 0) pthread_cond_wait(&buffer.not_empty, &buffer.lock);
  int item = buffer.items[buffer.head];
  buffer.head = (buffer.head + 1) % kSlots;
  buffer.count--;
  pthread_cond_signal(&buffer.not_full);
  pthread_mutex_unlock(&buffer.lock);
  return item;
}

static void *producer(void *arg) {
  int id = (int)(intptr_t)arg;
  for (int i = 0; i < kItems; i++) {
    put(id * kItems + i);
    if (i % 97 == 0) sched_yield();
  }
  return NULL;
}

static void *consumer(void *arg) {
  (void)arg;
  int next[kProducers] = {0};
  long bad = 0;
  for (int n = 0; n < kProducers * kItems; n++) {
    int item = take();
    int id = item / kItems;
    if (id < 0 || id >= kProducers || item % kItems != next[id]) {
      bad++;
    } else {
      next[id]++;
    }
  }
  for (int id = 0; id < kProducers; id++) bad += next[id] != kItems;
  return (void *)(intptr_t)bad;
}

static void test_buffer(void) {
  pthread_t c = start(consumer, NULL);
  pthread_t p[kProducers];
  for (int i = 0; i < kProducers; i++) p[i] = start(producer, (void *)(intptr_t)i);
  for (int i = 0; i < kProducers; i++) join(p[i]);
  intptr_t bad = (intptr_t)join(c);
  check(bad == 0 && buffer.count == 0,
        "bounded buffer: 4 producers x 5000 items through 8 slots, each item arrives once and "
        "in its producer's order");
}

/* ---- barrier ---- */

enum { kBarrierThreads = 8, kRounds = 20 };
static pthread_barrier_t barrier;
static int arrivals[kRounds];
static int serials[kRounds];
static int barrier_bad;

static void *barrier_worker(void *arg) {
  (void)arg;
  for (int round = 0; round < kRounds; round++) {
    arrivals[round]++;
    if (round % 3 == 0) sleep_ms(1);
    int r = pthread_barrier_wait(&barrier);
    if (r == PTHREAD_BARRIER_SERIAL_THREAD) {
      serials[round]++;
    } else if (r != 0) {
      barrier_bad++;
    }
    /* Nobody passes the barrier before everybody arrived. */
    if (arrivals[round] != kBarrierThreads) barrier_bad++;
  }
  return NULL;
}

static void test_barrier(void) {
  check(pthread_barrier_init(&barrier, NULL, kBarrierThreads) == 0, "pthread_barrier_init");
  pthread_t t[kBarrierThreads];
  for (int i = 0; i < kBarrierThreads; i++) t[i] = start(barrier_worker, NULL);
  for (int i = 0; i < kBarrierThreads; i++) join(t[i]);
  int one_serial_each = 1;
  for (int round = 0; round < kRounds; round++) one_serial_each &= serials[round] == 1;
  check(barrier_bad == 0 && one_serial_each,
        "barrier: 8 threads x 20 rounds, none passes early, one serial thread a round");
  check(pthread_barrier_destroy(&barrier) == 0, "pthread_barrier_destroy");
}

/* ---- threads: many threads, joined and detached; stack sizes ---- */

static pthread_t seen_self[1000];

static void *twice(void *arg) {
  intptr_t i = (intptr_t)arg;
  seen_self[i] = pthread_self();
  return (void *)(i * 2);
}

static sem_t detached_done;
static int detached_ran;

static void *detached_worker(void *arg) {
  (void)arg;
  sched_yield();
  detached_ran++;
  sem_post(&detached_done);
  return NULL;
}

/* Touches |size| bytes of its stack. */
static void *use_stack(void *arg) {
  size_t size = (size_t)arg;
  volatile char *buffer = __builtin_alloca(size);
  for (size_t i = 0; i < size; i += 512) buffer[i] = (char)i;
  return (void *)(uintptr_t)buffer[size - 512];
}

static void *print_double(void *arg) {
  printf("a thread on a PTHREAD_STACK_MIN stack prints %.3f and %Lf\n", *(double *)arg,
         (long double)*(double *)arg);
  return NULL;
}

static void test_threads(void) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  check(pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN) == 0,
        "pthread_attr_setstacksize(PTHREAD_STACK_MIN)");
  double third = 1.0 / 3;
  pthread_t p;
  check(pthread_create(&p, &attr, print_double, &third) == 0, "a thread with the least stack");
  join(p);
  static pthread_t t[1000];
  int created = 0;
  for (int i = 0; i < 1000; i++) created += pthread_create(&t[i], &attr, twice, (void *)(intptr_t)i) == 0;
  int right = 0, distinct = 1;
  for (int i = 0; i < 1000; i++) {
    right += (intptr_t)join(t[i]) == 2 * i && pthread_equal(seen_self[i], t[i]);
    if (i > 0) distinct &= !pthread_equal(t[i], t[i - 1]);
  }
  check(created == 1000 && right == 1000 && distinct,
        "1000 threads alive at once, each joined with its result, pthread_self() == its id");

  right = 0;
  for (int wave = 0; wave < 20; wave++) {
    pthread_t w[50];
    for (int i = 0; i < 50; i++) w[i] = start(twice, (void *)(intptr_t)i);
    for (int i = 0; i < 50; i++) right += (intptr_t)join(w[i]) == 2 * i;
  }
  check(right == 1000, "1000 threads with the default stack, 50 at a time, all joined");

  sem_init(&detached_done, 0, 0);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int state = -1;
  pthread_attr_getdetachstate(&attr, &state);
  created = 0;
  for (int i = 0; i < 1000; i++) {
    pthread_t d;
    created += pthread_create(&d, &attr, detached_worker, NULL) == 0;
  }
  for (int i = 0; i < 1000; i++) sem_wait(&detached_done);
  sleep_ms(10);   /* lets the event loop free the finished tasks */
  check(state == PTHREAD_CREATE_DETACHED && created == 1000 && detached_ran == 1000,
        "1000 detached threads all ran and finished");
  pthread_attr_destroy(&attr);

  size_t size = 0;
  pthread_attr_init(&attr);
  pthread_attr_getstacksize(&attr, &size);
  printf("the default stack is %zu KiB\n", size / 1024);
  pthread_t big = start(use_stack, (void *)(size - 32 * 1024));
  join(big);
  check(1, "a thread with the default stack uses all but 32 KiB of it");
  pthread_attr_setstacksize(&attr, 2 << 20);
  pthread_attr_getstacksize(&attr, &size);
  pthread_t huge;
  int error = pthread_create(&huge, &attr, use_stack, (void *)(size_t)(1900 * 1024));
  check(error == 0 && size == 2 << 20, "a 2 MiB stack from pthread_attr_setstacksize");
  if (error == 0) join(huge);
  check(1, "a thread uses 1900 KiB of its 2 MiB stack");
  pthread_attr_destroy(&attr);
}

/* ---- timed: timed waits that time out and one that is signalled ---- */

static pthread_mutex_t timed_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timed_cond = PTHREAD_COND_INITIALIZER;
static int timed_flag;

/* Signals the condition variable |arg| 20 ms from now. */
static void *signal_later(void *arg) {
  sleep_ms(20);
  pthread_mutex_lock(&timed_lock);
  timed_flag = 1;
  pthread_cond_signal(arg);
  pthread_mutex_unlock(&timed_lock);
  return NULL;
}

static void *hold_lock(void *arg) {
  pthread_mutex_t *m = arg;
  pthread_mutex_lock(m);
  sleep_ms(200);
  pthread_mutex_unlock(m);
  return NULL;
}

static void timed_out(pthread_cond_t *cond, clockid_t clock, const char *what) {
  char line[160];
  pthread_mutex_lock(&timed_lock);
  uint64_t before = now_ns(CLOCK_MONOTONIC);
  struct timespec deadline = after_ms(clock, 50);
  int r = pthread_cond_timedwait(cond, &timed_lock, &deadline);
  uint64_t ms = (now_ns(CLOCK_MONOTONIC) - before) / 1000000;
  int relocked = pthread_mutex_trylock(&timed_lock) == EBUSY;
  pthread_mutex_unlock(&timed_lock);
  snprintf(line, sizeof(line), "%s: ETIMEDOUT after %llu ms (50 to 500), the mutex held again",
           what, (unsigned long long)ms);
  check(r == ETIMEDOUT && ms >= 50 && ms < 500 && relocked, line);
}

static void test_timed(void) {
  timed_out(&timed_cond, CLOCK_REALTIME, "pthread_cond_timedwait on CLOCK_REALTIME (the default)");

  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  clockid_t clock = 0;
  pthread_condattr_getclock(&attr, &clock);
  check(clock == CLOCK_REALTIME, "a condition variable's clock is CLOCK_REALTIME by default");
  check(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0, "pthread_condattr_setclock");
  pthread_cond_t monotonic;
  pthread_cond_init(&monotonic, &attr);
  timed_out(&monotonic, CLOCK_MONOTONIC, "pthread_cond_timedwait on CLOCK_MONOTONIC");

  pthread_t t = start(signal_later, &monotonic);
  pthread_mutex_lock(&timed_lock);
  uint64_t before = now_ns(CLOCK_MONOTONIC);
  struct timespec deadline = after_ms(CLOCK_MONOTONIC, 5000);
  int r = 0;
  while (!timed_flag && r == 0) r = pthread_cond_timedwait(&monotonic, &timed_lock, &deadline);
  pthread_mutex_unlock(&timed_lock);
  uint64_t ms = (now_ns(CLOCK_MONOTONIC) - before) / 1000000;
  join(t);
  check(r == 0 && timed_flag && ms >= 20 && ms < 1000,
        "a timed wait (monotonic, 5 s) signalled after 20 ms returns 0 then");
  t = start(signal_later, &timed_cond);   /* the same on the realtime one */
  pthread_mutex_lock(&timed_lock);
  timed_flag = 0;
  deadline = after_ms(CLOCK_REALTIME, 5000);
  r = 0;
  while (!timed_flag && r == 0) r = pthread_cond_timedwait(&timed_cond, &timed_lock, &deadline);
  pthread_mutex_unlock(&timed_lock);
  join(t);
  check(r == 0 && timed_flag, "a timed wait (realtime, 5 s) signalled after 20 ms returns 0");
  pthread_cond_destroy(&monotonic);

  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  t = start(hold_lock, &m);
  sleep_ms(10);
  before = now_ns(CLOCK_MONOTONIC);
  deadline = after_ms(CLOCK_REALTIME, 50);
  r = pthread_mutex_timedlock(&m, &deadline);
  ms = (now_ns(CLOCK_MONOTONIC) - before) / 1000000;
  check(r == ETIMEDOUT && ms >= 50 && ms < 150,
        "pthread_mutex_timedlock on a held mutex: ETIMEDOUT after 50 ms");
  deadline = after_ms(CLOCK_REALTIME, 5000);
  r = pthread_mutex_timedlock(&m, &deadline);
  check(r == 0, "pthread_mutex_timedlock gets the mutex when its holder lets go");
  pthread_mutex_unlock(&m);
  join(t);
}

/* ---- mutex: recursive, errorcheck, trylock, exclusion ---- */

static void *try_from_other(void *arg) {
  return (void *)(intptr_t)pthread_mutex_trylock(arg);
}

static void *unlock_from_other(void *arg) {
  return (void *)(intptr_t)pthread_mutex_unlock(arg);
}

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static int inside, overlapped, counter;

static void *increment(void *arg) {
  (void)arg;
  for (int i = 0; i < 200; i++) {
    pthread_mutex_lock(&counter_lock);
    overlapped += inside++ != 0;
    if (i % 10 == 0) sched_yield();   /* gives the others the vCPU while holding it */
    counter++;
    inside--;
    pthread_mutex_unlock(&counter_lock);
  }
  return NULL;
}

static void test_mutex(void) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_t rec;
  pthread_mutex_init(&rec, &attr);
  int ok = pthread_mutex_lock(&rec) == 0 && pthread_mutex_lock(&rec) == 0 &&
           pthread_mutex_trylock(&rec) == 0;
  check(ok, "a recursive mutex locks three times");
  check((intptr_t)join(start(try_from_other, &rec)) == EBUSY,
        "another thread's trylock of it is EBUSY");
  check((intptr_t)join(start(unlock_from_other, &rec)) == EPERM,
        "another thread's unlock of it is EPERM");
  pthread_mutex_unlock(&rec);
  pthread_mutex_unlock(&rec);
  check((intptr_t)join(start(try_from_other, &rec)) == EBUSY,
        "still held after two of three unlocks");
  pthread_mutex_unlock(&rec);
  check(pthread_mutex_unlock(&rec) == EPERM, "a fourth unlock is EPERM");
  intptr_t r = (intptr_t)join(start(try_from_other, &rec));
  check(r == 0, "free after three unlocks: another thread's trylock gets it");
  check(pthread_mutex_destroy(&rec) == EBUSY, "destroying a held mutex is EBUSY");

  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  int type = -1;
  pthread_mutexattr_gettype(&attr, &type);
  pthread_mutex_t ec;
  pthread_mutex_init(&ec, &attr);
  check(type == PTHREAD_MUTEX_ERRORCHECK && pthread_mutex_lock(&ec) == 0 &&
            pthread_mutex_lock(&ec) == EDEADLK,
        "an errorcheck mutex relocked is EDEADLK");
  check(pthread_mutex_trylock(&ec) == EBUSY, "an errorcheck mutex's trylock by its holder is EBUSY");
  check((intptr_t)join(start(unlock_from_other, &ec)) == EPERM,
        "an errorcheck mutex unlocked by another thread is EPERM");
  check(pthread_mutex_unlock(&ec) == 0 && pthread_mutex_unlock(&ec) == EPERM,
        "an errorcheck mutex unlocked when unlocked is EPERM");
  pthread_mutex_destroy(&ec);
  pthread_mutexattr_destroy(&attr);

  static pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;
  check(pthread_mutex_trylock(&plain) == 0 && pthread_mutex_trylock(&plain) == EBUSY &&
            pthread_mutex_unlock(&plain) == 0,
        "a static PTHREAD_MUTEX_INITIALIZER mutex: trylock, EBUSY, unlock");
  pthread_mutex_t zeroed;
  memset(&zeroed, 0, sizeof(zeroed));
  check(pthread_mutex_lock(&zeroed) == 0 && pthread_mutex_unlock(&zeroed) == 0,
        "a zero-filled mutex is a valid unlocked one");

  pthread_t t[10];
  for (int i = 0; i < 10; i++) t[i] = start(increment, NULL);
  for (int i = 0; i < 10; i++) join(t[i]);
  check(counter == 2000 && overlapped == 0,
        "10 threads x 200 increments that yield while holding the mutex: none overlap");
}

/* ---- once ---- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs, once_done;

static void once_routine(void) {
  once_runs++;
  sleep_ms(5);   /* the others arrive while it runs */
  once_done = 1;
}

static void *call_once(void *arg) {
  (void)arg;
  pthread_once(&once, once_routine);
  return (void *)(intptr_t)once_done;
}

static void test_once(void) {
  pthread_t t[50];
  for (int i = 0; i < 50; i++) t[i] = start(call_once, NULL);
  int saw_done = 0;
  for (int i = 0; i < 50; i++) saw_done += (intptr_t)join(t[i]) == 1;
  pthread_once(&once, once_routine);
  check(once_runs == 1 && saw_done == 50,
        "pthread_once from 50 threads (its routine sleeps): run once, done for all on return");
}

/* ---- keys ---- */

static pthread_key_t key, again_key;
static int destroyed[10];
static int destructor_bad;
static int again_calls;

static void destroy(void *value) {
  int *p = value;
  if (pthread_getspecific(key) != NULL) destructor_bad++;   /* cleared before the call */
  if (*p >= 0 && *p < 10) destroyed[*p]++;
  free(p);
}

/* Sets its value again each time: called PTHREAD_DESTRUCTOR_ITERATIONS times in all. */
static void destroy_again(void *value) {
  again_calls++;
  pthread_setspecific(again_key, value);
}

static void *keep_value(void *arg) {
  int *p = malloc(sizeof(int));
  *p = (int)(intptr_t)arg;
  pthread_setspecific(key, p);
  sched_yield();
  if (pthread_getspecific(key) != p) destructor_bad++;
  if (*p == 0) pthread_setspecific(again_key, &again_calls);
  return NULL;
}

static void test_keys(void) {
  check(pthread_key_create(&key, destroy) == 0 && pthread_key_create(&again_key, destroy_again) == 0,
        "pthread_key_create");
  static int mine;
  pthread_setspecific(key, &mine);
  pthread_t t[10];
  for (int i = 0; i < 10; i++) t[i] = start(keep_value, (void *)(intptr_t)i);
  for (int i = 0; i < 10; i++) join(t[i]);
  int once_each = 1;
  for (int i = 0; i < 10; i++) once_each &= destroyed[i] == 1;
  check(once_each && destructor_bad == 0,
        "10 threads' values: each its own, each destroyed once at thread exit with its value");
  char line[120];
  snprintf(line, sizeof(line), "a destructor that sets its value again runs %d times (%d rounds)",
           again_calls, PTHREAD_DESTRUCTOR_ITERATIONS);
  check(again_calls == PTHREAD_DESTRUCTOR_ITERATIONS, line);
  check(pthread_getspecific(key) == &mine, "main's value is its own");
  pthread_key_delete(key);
  pthread_key_t fresh;
  pthread_key_create(&fresh, NULL);
  check(pthread_getspecific(fresh) == NULL, "a key made after a delete starts out NULL");
  pthread_key_delete(fresh);
  pthread_key_delete(again_key);
}

/* ---- rwlock ---- */

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static int readers_in, most_readers, writer_in, rw_bad;

static void *reader(void *arg) {
  (void)arg;
  pthread_rwlock_rdlock(&rw);
  readers_in++;
  if (readers_in > most_readers) most_readers = readers_in;
  if (writer_in) rw_bad++;
  sleep_ms(10);
  readers_in--;
  pthread_rwlock_unlock(&rw);
  return NULL;
}

static void *writer(void *arg) {
  (void)arg;
  pthread_rwlock_wrlock(&rw);
  writer_in++;
  if (readers_in != 0 || writer_in != 1) rw_bad++;
  sleep_ms(5);
  writer_in--;
  pthread_rwlock_unlock(&rw);
  return NULL;
}

static void *try_write(void *arg) {
  (void)arg;
  return (void *)(intptr_t)pthread_rwlock_trywrlock(&rw);
}

static void *try_read(void *arg) {
  (void)arg;
  return (void *)(intptr_t)pthread_rwlock_tryrdlock(&rw);
}

static void test_rwlock(void) {
  pthread_t t[8];
  for (int i = 0; i < 5; i++) t[i] = start(reader, NULL);
  for (int i = 5; i < 8; i++) t[i] = start(writer, NULL);
  for (int i = 0; i < 8; i++) join(t[i]);
  check(most_readers == 5 && rw_bad == 0,
        "rwlock: 5 readers hold it at once; 3 writers each hold it alone");
  pthread_rwlock_rdlock(&rw);
  check((intptr_t)join(start(try_write, NULL)) == EBUSY, "trywrlock while read-held is EBUSY");
  check((intptr_t)join(start(try_read, NULL)) == 0, "tryrdlock while read-held succeeds");
  pthread_rwlock_unlock(&rw);   /* ours; the other thread's read lock stays */
  pthread_rwlock_unlock(&rw);   /* and that one */
  pthread_rwlock_wrlock(&rw);
  check((intptr_t)join(start(try_read, NULL)) == EBUSY, "tryrdlock while write-held is EBUSY");
  check(pthread_rwlock_wrlock(&rw) == EDEADLK, "wrlock by the writer is EDEADLK");
  pthread_rwlock_unlock(&rw);
  pthread_rwlock_rdlock(&rw);
  struct timespec deadline = after_ms(CLOCK_REALTIME, 30);
  check(pthread_rwlock_timedwrlock(&rw, &deadline) == ETIMEDOUT,
        "timedwrlock while read-held is ETIMEDOUT");
  pthread_rwlock_unlock(&rw);
  check(pthread_rwlock_destroy(&rw) == 0, "pthread_rwlock_destroy of a free rwlock");
}

/* ---- semaphores ---- */

static sem_t sem_items;
static int sem_sum;

static void *sem_consumer(void *arg) {
  (void)arg;
  for (int i = 0; i < 100; i++) {
    sem_wait(&sem_items);
    sem_sum++;
  }
  return NULL;
}

/* A failed sem_trywait's errno, seen from the thread that called it. */
static void *trywait_errno(void *arg) {
  errno = 0;
  int r = sem_trywait(arg);
  sched_yield();   /* main runs, and checks its own errno, meanwhile */
  return (void *)(intptr_t)(r == -1 ? errno : 0);
}

static void test_semaphore(void) {
  check(sem_init(&sem_items, 0, 0) == 0, "sem_init");
  pthread_t t = start(sem_consumer, NULL);
  for (int i = 0; i < 100; i++) {
    sem_post(&sem_items);
    if (i % 7 == 0) sched_yield();
  }
  join(t);
  int value = -1;
  sem_getvalue(&sem_items, &value);
  check(sem_sum == 100 && value == 0, "100 posts reach a waiting thread, none lost");
  errno = 0;
  check(sem_trywait(&sem_items) == -1 && errno == EAGAIN, "sem_trywait at 0: -1, errno EAGAIN");
  errno = 0;
  pthread_t t2 = start(trywait_errno, &sem_items);
  sched_yield();
  int main_errno = errno;
  check((intptr_t)join(t2) == EAGAIN && main_errno == 0,
        "errno is each thread's own: another thread's EAGAIN is not main's");
  sem_post(&sem_items);
  sem_post(&sem_items);
  sem_getvalue(&sem_items, &value);
  check(value == 2 && sem_trywait(&sem_items) == 0, "sem_getvalue 2 after two posts; trywait");
  struct timespec deadline = after_ms(CLOCK_REALTIME, 5000);
  check(sem_timedwait(&sem_items, &deadline) == 0, "sem_timedwait with a unit left returns 0");
  uint64_t before = now_ns(CLOCK_MONOTONIC);
  deadline = after_ms(CLOCK_REALTIME, 50);
  errno = 0;
  int r = sem_timedwait(&sem_items, &deadline);
  uint64_t ms = (now_ns(CLOCK_MONOTONIC) - before) / 1000000;
  char line[120];
  snprintf(line, sizeof(line), "sem_timedwait at 0: -1, errno ETIMEDOUT, after %llu ms (50 to 500)",
           (unsigned long long)ms);
  check(r == -1 && errno == ETIMEDOUT && ms >= 50 && ms < 500, line);
  struct timespec bad = {0, 2000000000};
  errno = 0;
  check(sem_timedwait(&sem_items, &bad) == -1 && errno == EINVAL,
        "sem_timedwait with 2e9 ns: -1, errno EINVAL");
  errno = 0;
  sem_t big;
  check(sem_init(&big, 0, (unsigned)SEM_VALUE_MAX + 1) == -1 && errno == EINVAL,
        "sem_init above SEM_VALUE_MAX: -1, errno EINVAL");
  check(sem_destroy(&sem_items) == 0, "sem_destroy");
}

/* ---- sleep: a sleeping thread parks only itself ---- */

static volatile int sleeper_done;

static void *sleeper(void *arg) {
  (void)arg;
  uint64_t before = now_ns(CLOCK_MONOTONIC);
  sleep_ms(50);
  usleep(10000);
  sleeper_done = 1;
  return (void *)(uintptr_t)((now_ns(CLOCK_MONOTONIC) - before) / 1000000);
}

static void *spinner(void *arg) {
  (void)arg;
  long turns = 0;
  while (!sleeper_done) {
    turns++;
    sched_yield();
  }
  return (void *)turns;
}

static void test_sleep(void) {
  pthread_t s = start(sleeper, NULL);
  pthread_t y = start(spinner, NULL);
  uintptr_t slept = (uintptr_t)join(s);
  long turns = (long)join(y);
  char line[160];
  snprintf(line, sizeof(line),
           "a thread in nanosleep and usleep (%lu ms) lets another run %ld turns meanwhile",
           (unsigned long)slept, turns);
  check(slept >= 60 && slept < 600 && turns > 10, line);
}

/* ---- spin ---- */

static pthread_spinlock_t spin;
static int spin_inside, spin_overlap, spin_count;

static void *spin_worker(void *arg) {
  (void)arg;
  for (int i = 0; i < 100; i++) {
    pthread_spin_lock(&spin);
    spin_overlap += spin_inside++ != 0;
    if (i % 5 == 0) sched_yield();
    spin_count++;
    spin_inside--;
    pthread_spin_unlock(&spin);
  }
  return NULL;
}

static void test_spin(void) {
  pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
  pthread_t t[5];
  for (int i = 0; i < 5; i++) t[i] = start(spin_worker, NULL);
  for (int i = 0; i < 5; i++) join(t[i]);
  check(spin_count == 500 && spin_overlap == 0,
        "spinlock: 5 threads that yield while holding it never overlap, and none hangs");
  check(pthread_spin_trylock(&spin) == 0 && pthread_spin_trylock(&spin) == EBUSY &&
            pthread_spin_unlock(&spin) == 0 && pthread_spin_destroy(&spin) == 0,
        "pthread_spin_trylock: 0, then EBUSY");
}

/* ---- errors: bad input ---- */

static void *join_self(void *arg) {
  (void)arg;
  return (void *)(intptr_t)pthread_join(pthread_self(), NULL);
}

static void *quick(void *arg) { return arg; }

static void test_errors(void) {
  check(pthread_join(pthread_self(), NULL) == EDEADLK, "pthread_join of main by main: EDEADLK");
  check((intptr_t)join(start(join_self, NULL)) == EDEADLK,
        "pthread_join of a thread by itself: EDEADLK");
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_t ec;
  pthread_mutex_init(&ec, &attr);
  check(pthread_mutex_unlock(&ec) == EPERM, "unlock of an unlocked errorcheck mutex: EPERM");
  check(pthread_mutexattr_settype(&attr, 42) == EINVAL, "an unknown mutex type: EINVAL");
  pthread_attr_t a;
  pthread_attr_init(&a);
  check(pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN - 1) == EINVAL,
        "a stack below PTHREAD_STACK_MIN: EINVAL");
  check(pthread_attr_setdetachstate(&a, 7) == EINVAL, "an unknown detach state: EINVAL");
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  pthread_t d;
  pthread_create(&d, &a, quick, NULL);
  check(pthread_join(d, NULL) == EINVAL, "pthread_join of a detached thread: EINVAL");
  pthread_t j = start(quick, NULL);
  check(pthread_detach(j) == 0 && pthread_detach(j) == EINVAL,
        "pthread_detach twice: 0, then EINVAL");
  sched_yield();
  pthread_barrier_t b;
  check(pthread_barrier_init(&b, NULL, 0) == EINVAL, "a barrier for 0 threads: EINVAL");
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  check(pthread_condattr_setclock(&ca, (clockid_t)77) == EINVAL,
        "a condition variable on an unknown clock: EINVAL");
  check(pthread_key_delete(PTHREAD_KEYS_MAX + 3) == EINVAL, "deleting no key: EINVAL");
  check(pthread_cancel(pthread_self()) == ENOSYS, "pthread_cancel: ENOSYS");
  struct sched_param param = {0};
  int policy = -1;
  check(pthread_attr_setscope(&a, PTHREAD_SCOPE_SYSTEM) == 0 &&
            pthread_attr_setschedpolicy(&a, SCHED_FIFO) == ENOTSUP &&
            pthread_setschedparam(pthread_self(), SCHED_OTHER, &param) == 0 &&
            pthread_getschedparam(pthread_self(), &policy, &param) == 0 && policy == SCHED_OTHER,
        "one scheduling policy: SCHED_OTHER; SCHED_FIFO is ENOTSUP");
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t c = PTHREAD_COND_INITIALIZER;
  struct timespec bad = {0, -1};
  pthread_mutex_lock(&m);
  check(pthread_cond_timedwait(&c, &m, &bad) == EINVAL, "a timed wait until -1 ns: EINVAL");
  pthread_mutex_unlock(&m);
  sleep_ms(1);
}

/* ---- exit: pthread_exit and cleanup handlers; main's pthread_exit ---- */

static int cleaned;

static void cleanup(void *arg) { cleaned += (int)(intptr_t)arg; }

static void leave(void) { pthread_exit((void *)42); }

static void *exits_deep(void *arg) {
  (void)arg;
  pthread_cleanup_push(cleanup, (void *)1);
  pthread_cleanup_push(cleanup, (void *)10);
  pthread_cleanup_pop(0);
  pthread_cleanup_push(cleanup, (void *)100);
  leave();
  pthread_cleanup_pop(0);
  pthread_cleanup_pop(0);
  return NULL;
}

static void *outlives_main(void *arg) {
  (void)arg;
  sleep_ms(50);
  printf("the last thread ends 50 ms after main's pthread_exit\n");
  return NULL;
}

static void test_exit(void) {
  check((intptr_t)join(start(exits_deep, NULL)) == 42 && cleaned == 101,
        "pthread_exit(42) from a nested call: joined with 42, pending cleanup handlers ran");
  if (failures != 0) exit(failures);   /* main's pthread_exit would end with status 0 */
  pthread_t t = start(outlives_main, NULL);
  pthread_detach(t);
  printf("main calls pthread_exit\n");
  fflush(stdout);
  pthread_exit(NULL);
}

/* ---- misuse: undefined behaviour that ends the guest with a crash report ---- */

static void test_relock(void) {
  static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&m);
  pthread_mutex_lock(&m);
  printf("FAIL: relocking a default mutex went on\n");
}

struct test {
  const char *name;
  void (*run)(void);
};

static const struct test tests[] = {
    {"buffer", test_buffer}, {"barrier", test_barrier},     {"threads", test_threads},
    {"timed", test_timed},   {"mutex", test_mutex},         {"once", test_once},
    {"keys", test_keys},     {"rwlock", test_rwlock},       {"semaphore", test_semaphore},
    {"sleep", test_sleep},   {"spin", test_spin},           {"errors", test_errors},
    {"exit", test_exit},     {"relock", test_relock},
};

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const struct test *found = NULL;
    for (size_t k = 0; k < sizeof(tests) / sizeof(tests[0]); k++) {
      if (strcmp(argv[i], tests[k].name) == 0) found = &tests[k];
    }
    if (found == NULL) {
      printf("FAIL: unknown test '%s'\n", argv[i]);
      return 1;
    }
    printf("== %s\n", found->name);
    found->run();
  }
  if (argc < 2) printf("FAIL: no test named\n");
  return argc < 2 ? 1 : failures;
}
