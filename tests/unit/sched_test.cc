#include "runtime/sched/scheduler.h"

#include <errno.h>
#include <stdlib.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "skiff/coro.h"
#include "tests/unit/fake_platform.h"

namespace skiff {
namespace {

using SchedTest = SchedulerTest;
using Log = std::vector<std::string>;

Task* MustSpawn(std::function<void()> body, const TaskOptions& options = {}) {
  Result<Task*> task = Spawn(std::move(body), options);
  if (!task.ok()) {
    ADD_FAILURE() << task.error().message;
    abort();   // the test cannot go on without its task
  }
  return *task;
}

TEST_F(SchedTest, TasksFirstRunInSpawnOrderAfterTheSpawnerBlocks) {
  Log log;
  std::vector<Task*> tasks;
  for (int i = 0; i < 4; i++) {
    tasks.push_back(MustSpawn([&log, i] { log.push_back("t" + std::to_string(i)); }));
  }
  EXPECT_TRUE(log.empty());
  for (Task* task : tasks) Join(task);
  EXPECT_EQ(log, (Log{"t0", "t1", "t2", "t3"}));
}

TEST_F(SchedTest, YieldRoundRobinsBetweenReadyTasks) {
  Log log;
  auto body = [&log](const char* name) {
    for (int i = 0; i < 3; i++) {
      log.push_back(name + std::to_string(i));
      Yield();
    }
  };
  Task* a = MustSpawn([&] { body("a"); });
  Task* b = MustSpawn([&] { body("b"); });
  body("m");
  Join(a);
  Join(b);
  EXPECT_EQ(log, (Log{"m0", "a0", "b0", "m1", "a1", "b1", "m2", "a2", "b2"}));
}

TEST_F(SchedTest, JoinWaitsForTheTaskAndFreesIt) {
  bool done = false;
  Task* task = MustSpawn([&] {
    SleepFor(100);
    done = true;
  });
  EXPECT_EQ(platform_.stacks_in_use, 2);   // the event loop's and the task's
  Join(task);
  EXPECT_TRUE(done);
  EXPECT_EQ(Now(), 100u);
  EXPECT_EQ(platform_.stacks_in_use, 1);
}

TEST_F(SchedTest, JoinOfAFinishedTaskReturnsAtOnce) {
  Task* task = MustSpawn([] {});
  Yield();
  uint64_t turns = sched_.loop_turns();
  Join(task);
  EXPECT_EQ(sched_.loop_turns(), turns);   // it did not wait, so the loop had no turn
  EXPECT_EQ(platform_.stacks_in_use, 1);
}

TEST_F(SchedTest, DetachedTaskIsFreedWhenItFinishes) {
  bool done = false;
  Detach(MustSpawn([&] {
    SleepFor(10);
    done = true;
  }));
  SleepFor(20);
  EXPECT_TRUE(done);
  EXPECT_EQ(platform_.stacks_in_use, 1);
}

TEST_F(SchedTest, DetachOfAFinishedTaskFreesItAtOnce) {
  Task* task = MustSpawn([] {});
  Yield();
  EXPECT_EQ(platform_.stacks_in_use, 2);
  Detach(task);
  EXPECT_EQ(platform_.stacks_in_use, 1);
}

TEST_F(SchedTest, SleepersWakeInDeadlineOrderAtTheirDeadlines) {
  std::vector<std::pair<uint64_t, uint64_t>> woke;   // (deadline, Now() at waking)
  std::vector<Task*> tasks;
  for (uint64_t deadline : {30, 10, 20, 10}) {
    tasks.push_back(MustSpawn([&woke, deadline] {
      SleepUntil(deadline);
      woke.emplace_back(deadline, Now());
    }));
  }
  for (Task* task : tasks) Join(task);
  EXPECT_EQ(woke, (std::vector<std::pair<uint64_t, uint64_t>>{
                      {10, 10}, {10, 10}, {20, 20}, {30, 30}}));
}

TEST_F(SchedTest, ClockMovesOnlyWhenTheLoopIdles) {
  bool woke = false;
  Task* sleeper = MustSpawn([&] {
    SleepFor(10);
    woke = true;
  });
  for (int i = 0; i < 100; i++) Yield();   // main stays ready: the loop never idles
  EXPECT_FALSE(woke);
  EXPECT_EQ(Now(), 0u);
  SleepFor(20);
  EXPECT_TRUE(woke);
  EXPECT_EQ(Now(), 20u);
  Join(sleeper);
}

TEST_F(SchedTest, SleepForAddsToNowAndSaturates) {
  platform_.now = 5;
  SleepFor(7);
  EXPECT_EQ(Now(), 12u);
  bool woke = false;
  Detach(MustSpawn([&] {
    SleepFor(kNever - 1);   // would overflow: sleeps until kNever
    woke = true;
  }));
  Yield();
  EXPECT_FALSE(woke);
  EXPECT_EQ(sched_.timers().size(), 1u);
  EXPECT_EQ(sched_.timers().NextDeadline(), kNever);
  sched_.timers().FireExpired(kNever);   // wake the sleeper without idling forever
  Yield();
  EXPECT_TRUE(woke);
}

TEST_F(SchedTest, WaitQueueWakesInArrivalOrder) {
  WaitQueue queue;
  Log log;
  std::vector<Task*> tasks;
  for (int i = 0; i < 3; i++) {
    tasks.push_back(MustSpawn([&, i] {
      queue.Wait();
      log.push_back("t" + std::to_string(i));
    }));
  }
  Yield();   // all three wait
  EXPECT_FALSE(queue.empty());
  EXPECT_TRUE(queue.WakeOne());
  Yield();
  EXPECT_EQ(log, Log{"t0"});
  queue.WakeAll();
  EXPECT_TRUE(queue.empty());
  for (Task* task : tasks) Join(task);
  EXPECT_EQ(log, (Log{"t0", "t1", "t2"}));
}

TEST_F(SchedTest, WakeOneWithoutWaitersReturnsFalse) {
  WaitQueue queue;
  EXPECT_FALSE(queue.WakeOne());
  EXPECT_TRUE(queue.empty());
}

TEST_F(SchedTest, WaitUntilTimesOutAndLeavesTheQueue) {
  WaitQueue queue;
  EXPECT_FALSE(queue.WaitUntil(50));
  EXPECT_EQ(Now(), 50u);
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.WakeOne());
}

TEST_F(SchedTest, WaitUntilReturnsTrueWhenWoken) {
  WaitQueue queue;
  bool woken = false;
  Task* task = MustSpawn([&] { woken = queue.WaitUntil(50); });
  Yield();
  EXPECT_TRUE(queue.WakeOne());
  Join(task);
  EXPECT_TRUE(woken);
  EXPECT_EQ(Now(), 0u);
  EXPECT_EQ(sched_.timers().size(), 0u);   // the timeout was cancelled
}

TEST_F(SchedTest, WaitUntilWokenJustBeforeItsTimeoutReportsTheWake) {
  WaitQueue queue;
  Timer waker([&] { queue.WakeOne(); });
  waker.ArmAt(10);   // armed before the timeout: fires just before it, in the same turn
  bool woken = false;
  Task* task = MustSpawn([&] { woken = queue.WaitUntil(10); });
  Join(task);
  EXPECT_TRUE(woken);
  EXPECT_EQ(Now(), 10u);
  EXPECT_EQ(sched_.timers().size(), 0u);
}

TEST_F(SchedTest, MutexIsHandedOverInArrivalOrder) {
  Mutex mutex;
  Log log;
  mutex.Lock();
  EXPECT_EQ(mutex.owner(), CurrentTask());
  std::vector<Task*> tasks;
  for (int i = 0; i < 3; i++) {
    tasks.push_back(MustSpawn([&, i] {
      mutex.Lock();
      log.push_back("t" + std::to_string(i));
      Yield();   // holds it across a yield: the others keep waiting
      mutex.Unlock();
    }));
  }
  Yield();
  EXPECT_TRUE(log.empty());
  mutex.Unlock();
  EXPECT_EQ(mutex.owner(), tasks[0]);   // handed over, not released
  EXPECT_FALSE(mutex.TryLock());
  for (Task* task : tasks) Join(task);
  EXPECT_EQ(log, (Log{"t0", "t1", "t2"}));
  EXPECT_EQ(mutex.owner(), nullptr);
}

TEST_F(SchedTest, TryLockTakesOnlyAFreeMutex) {
  Mutex mutex;
  EXPECT_TRUE(mutex.TryLock());
  bool other = true;
  Task* task = MustSpawn([&] { other = mutex.TryLock(); });
  Join(task);
  EXPECT_FALSE(other);
  mutex.Unlock();
  EXPECT_EQ(mutex.owner(), nullptr);
  EXPECT_TRUE(mutex.TryLock());
  mutex.Unlock();
}

TEST_F(SchedTest, CondVarNotifyOneWakesOneWaiterWithTheMutexHeld) {
  Mutex mutex;
  CondVar cv;
  int items = 0, taken = 0;
  std::vector<Task*> tasks;
  for (int i = 0; i < 2; i++) {
    tasks.push_back(MustSpawn([&] {
      mutex.Lock();
      while (items == 0) cv.Wait(mutex);
      EXPECT_EQ(mutex.owner(), CurrentTask());
      items--;
      taken++;
      mutex.Unlock();
    }));
  }
  Yield();
  mutex.Lock();
  items = 1;
  cv.NotifyOne();
  mutex.Unlock();
  Yield();
  Yield();
  EXPECT_EQ(taken, 1);
  mutex.Lock();
  items = 1;
  cv.NotifyOne();
  mutex.Unlock();
  for (Task* task : tasks) Join(task);
  EXPECT_EQ(taken, 2);
}

TEST_F(SchedTest, CondVarNotifyAllWakesEveryWaiter) {
  Mutex mutex;
  CondVar cv;
  bool go = false;
  int running = 0;
  std::vector<Task*> tasks;
  for (int i = 0; i < 3; i++) {
    tasks.push_back(MustSpawn([&] {
      mutex.Lock();
      while (!go) cv.Wait(mutex);
      running++;
      mutex.Unlock();
    }));
  }
  Yield();
  mutex.Lock();
  go = true;
  cv.NotifyAll();
  mutex.Unlock();
  for (Task* task : tasks) Join(task);
  EXPECT_EQ(running, 3);
}

TEST_F(SchedTest, CondVarWaitUntilTimesOutAndRelocks) {
  Mutex mutex;
  CondVar cv;
  mutex.Lock();
  bool other_locked = false;
  Task* task = MustSpawn([&] {
    mutex.Lock();   // gets the mutex while main waits
    other_locked = true;
    mutex.Unlock();
  });
  EXPECT_FALSE(cv.WaitUntil(mutex, 40));
  EXPECT_EQ(Now(), 40u);
  EXPECT_TRUE(other_locked);
  EXPECT_EQ(mutex.owner(), CurrentTask());
  mutex.Unlock();
  Join(task);
}

TEST_F(SchedTest, CondVarWaitUntilReturnsTrueWhenNotified) {
  Mutex mutex;
  CondVar cv;
  Task* task = MustSpawn([&] {
    mutex.Lock();
    cv.NotifyOne();
    mutex.Unlock();
  });
  mutex.Lock();
  EXPECT_TRUE(cv.WaitUntil(mutex, 40));
  EXPECT_EQ(Now(), 0u);
  EXPECT_EQ(mutex.owner(), CurrentTask());
  mutex.Unlock();
  Join(task);
}

TEST_F(SchedTest, SemaphoreCounts) {
  Semaphore sem(2);
  EXPECT_TRUE(sem.TryAcquire());
  sem.Acquire();
  EXPECT_FALSE(sem.TryAcquire());
  EXPECT_EQ(sem.count(), 0u);
  sem.Release(3);
  EXPECT_EQ(sem.count(), 3u);
}

TEST_F(SchedTest, SemaphoreAcquireUntilTimesOut) {
  Semaphore sem;
  EXPECT_FALSE(sem.AcquireUntil(25));
  EXPECT_EQ(Now(), 25u);
  sem.Release();
  EXPECT_TRUE(sem.AcquireUntil(kNever));
  EXPECT_EQ(sem.count(), 0u);
}

TEST_F(SchedTest, SemaphoreReleaseNWakesNWaiters) {
  Semaphore sem;
  int acquired = 0;
  std::vector<Task*> tasks;
  for (int i = 0; i < 3; i++) {
    tasks.push_back(MustSpawn([&] {
      sem.Acquire();
      acquired++;
    }));
  }
  Yield();
  sem.Release(2);
  EXPECT_EQ(sem.count(), 0u);   // both units went to waiters
  Yield();
  EXPECT_EQ(acquired, 2);
  sem.Release(2);
  for (Task* task : tasks) Join(task);
  EXPECT_EQ(acquired, 3);
  EXPECT_EQ(sem.count(), 1u);
}

TEST_F(SchedTest, EventIsKeptUntilOneWaitAndDoesNotCount) {
  Event event;
  event.Signal();
  event.Signal();
  EXPECT_TRUE(event.signalled());
  event.Wait();   // returns at once
  EXPECT_FALSE(event.signalled());
  EXPECT_FALSE(event.TryWait());
}

TEST_F(SchedTest, EventSignalWakesOneWaiter) {
  Event event;
  int woke = 0;
  std::vector<Task*> tasks;
  for (int i = 0; i < 2; i++) {
    tasks.push_back(MustSpawn([&] {
      event.Wait();
      woke++;
    }));
  }
  Yield();
  event.Signal();
  Yield();
  EXPECT_EQ(woke, 1);
  EXPECT_FALSE(event.signalled());   // consumed by the waiter, not kept
  event.Signal();
  for (Task* task : tasks) Join(task);
  EXPECT_EQ(woke, 2);
}

TEST_F(SchedTest, EventWaitUntil) {
  Event event;
  EXPECT_FALSE(event.WaitUntil(30));
  EXPECT_EQ(Now(), 30u);
  Task* task = MustSpawn([&] {
    SleepFor(5);
    event.Signal();
  });
  EXPECT_TRUE(event.WaitUntil(100));
  EXPECT_EQ(Now(), 35u);
  event.Signal();
  EXPECT_TRUE(event.WaitUntil(0));   // already signalled: the deadline does not matter
  Join(task);
}

TEST_F(SchedTest, SpawnWithTooSmallAStackFailsNamingTheTask) {
  TaskOptions options;
  options.name = "tiny";
  options.stack_size = kMinStackSize - 1;
  Result<Task*> task = Spawn([] {}, options);
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.error().code, EINVAL);
  EXPECT_NE(task.error().message.find("'tiny'"), std::string::npos) << task.error().message;
  EXPECT_EQ(platform_.stacks_in_use, 1);
}

TEST_F(SchedTest, TaskNameIsCopied) {
  char name[] = "worker";
  TaskOptions options;
  options.name = name;
  std::string seen;
  Task* task = MustSpawn([&] { seen = TaskName(CurrentTask()); }, options);
  name[0] = 'W';
  Join(task);
  EXPECT_EQ(seen, "worker");
  EXPECT_STREQ(TaskName(CurrentTask()), "main");
}

TEST_F(SchedTest, TenThousandSleepersWakeInDeadlineOrder) {
  constexpr int kTasks = 10000;
  std::mt19937_64 random(42);
  std::vector<uint64_t> deadlines(kTasks);
  for (uint64_t& deadline : deadlines) deadline = random() % 100000;
  std::vector<std::pair<uint64_t, int>> woke;   // (Now() at waking, task index)
  std::vector<Task*> tasks;
  TaskOptions options;
  options.stack_size = 16 * 1024;
  for (int i = 0; i < kTasks; i++) {
    tasks.push_back(MustSpawn([&woke, &deadlines, i] {
      SleepUntil(deadlines[i]);
      woke.emplace_back(Now(), i);
    }, options));
  }
  for (Task* task : tasks) Join(task);
  // Equal deadlines wake in the order the tasks slept: spawn order.
  std::vector<std::pair<uint64_t, int>> expected;
  for (int i = 0; i < kTasks; i++) expected.emplace_back(deadlines[i], i);
  std::stable_sort(expected.begin(), expected.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  EXPECT_EQ(woke, expected);
  EXPECT_EQ(platform_.stacks_in_use, 1);
}

Co<int> Double(int x) {
  co_await Sleep(10);
  co_return 2 * x;
}

Co<int> SumOfDoubles(int a, int b) {
  int x = co_await Double(a);
  int y = co_await Double(b);
  co_return x + y;
}

TEST_F(SchedTest, CoroutinesAwaitCoroutinesAndSleep) {
  EXPECT_EQ(BlockOn(SumOfDoubles(1, 2)), 6);
  EXPECT_EQ(Now(), 20u);
}

TEST_F(SchedTest, BlockOnFromATask) {
  int result = 0;
  Task* task = MustSpawn([&] { result = BlockOn(Double(21)); });
  Join(task);
  EXPECT_EQ(result, 42);
  EXPECT_EQ(Now(), 10u);
}

TEST_F(SchedTest, BlockOnAVoidCoroutine) {
  bool ran = false;
  BlockOn([](bool& r) -> Co<> {
    co_await Sleep(5);
    r = true;
  }(ran));
  EXPECT_TRUE(ran);
  EXPECT_EQ(Now(), 5u);
}

Co<> AwaitEvent(Event& event, int& step) {
  step = 1;
  co_await event;
  step = 2;
}

// Under LeakSanitizer, the test also asserts that the finished coroutine freed itself.
TEST_F(SchedTest, StartedCoroutineAwaitsAnEventSignalledByATask) {
  Event event;
  int step = 0;
  Start(AwaitEvent(event, step));
  EXPECT_EQ(step, 0);   // runs from the loop's next turn
  Yield();
  EXPECT_EQ(step, 1);
  Task* task = MustSpawn([&] { event.Signal(); });
  Join(task);
  Yield();
  EXPECT_EQ(step, 2);
  EXPECT_FALSE(event.signalled());
}

TEST_F(SchedTest, ACoroutineWaitsOnAQueueUntilWokenOrItsDeadline) {
  WaitQueue queue;
  std::vector<std::pair<bool, uint64_t>> got;
  Start([](WaitQueue& q, std::vector<std::pair<bool, uint64_t>>& out) -> Co<> {
    bool woken = co_await WaitAwaiter(q, 100);
    out.emplace_back(woken, Now());
    woken = co_await WaitAwaiter(q, 200);
    out.emplace_back(woken, Now());
  }(queue, got));
  Yield();
  Task* waker = MustSpawn([&] {
    SleepUntil(30);
    queue.WakeAll();
  });
  Join(waker);
  SleepUntil(300);   // the loop idles: the clock moves to the second wait's deadline
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], std::make_pair(true, uint64_t{30}));
  EXPECT_EQ(got[1], std::make_pair(false, uint64_t{200}));
  EXPECT_TRUE(queue.empty()) << "the timed-out waiter left the queue";
}

using SchedDeathTest = SchedulerTest;

TEST_F(SchedDeathTest, JoinOfSelfDies) {
  EXPECT_DEATH(Join(CurrentTask()), "task 'main' joins itself");
}

TEST_F(SchedDeathTest, JoinOfADetachedTaskDies) {
  EXPECT_DEATH(
      {
        Task* task = MustSpawn([] {});
        Detach(task);
        Join(task);
      },
      "already joined or detached");
}

TEST_F(SchedDeathTest, BlockingInATimerCallbackDies) {
  EXPECT_DEATH(
      {
        Event event;
        Timer timer([&] { event.Wait(); });
        timer.ArmAfter(1);
        SleepFor(2);
      },
      "event loop");
}

TEST_F(SchedDeathTest, BlockingInACoroutineDies) {
  EXPECT_DEATH(
      {
        Start([]() -> Co<> {
          SleepFor(1);
          co_return;
        }());
        Yield();
      },
      "event loop");
}

TEST_F(SchedDeathTest, YieldInTheEventLoopDies) {
  EXPECT_DEATH(
      {
        Timer timer([] { Yield(); });
        timer.ArmAfter(1);
        SleepFor(2);
      },
      "event loop");
}

TEST_F(SchedDeathTest, UnlockingAnotherTasksMutexDies) {
  EXPECT_DEATH(
      {
        Mutex mutex;
        mutex.Lock();
        Task* task = MustSpawn([&] { mutex.Unlock(); });
        Join(task);
      },
      "task 'task' unlocks a mutex it does not hold");
}

TEST_F(SchedDeathTest, DeadlockFailsLoudly) {
  EXPECT_DEATH(
      {
        WaitQueue queue;
        queue.Wait();
      },
      "deadlock");
}

}  // namespace
}  // namespace skiff

// Task switches must keep AddressSanitizer's fake stacks (for use-after-return) per task.
extern "C" const char* __asan_default_options() { return "detect_stack_use_after_return=1"; }
