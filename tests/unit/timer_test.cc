// Timers, through the scheduler's TimerHeap: the tests fire it themselves with FireExpired(),
// except where they say they let the event loop do it.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "runtime/sched/scheduler.h"
#include "tests/unit/fake_platform.h"

namespace skiff {
namespace {

class TimerTest : public SchedulerTest {
 protected:
  // A timer that logs |name| when it fires.
  std::unique_ptr<Timer> Logging(std::string name) {
    return std::make_unique<Timer>([this, name] { log_.push_back(name); });
  }
  int Fire(uint64_t now) { return sched_.timers().FireExpired(now); }

  std::vector<std::string> log_;
};

using Log = std::vector<std::string>;

TEST_F(TimerTest, FireInDeadlineOrderOnlyOnceDue) {
  auto a = Logging("a"), b = Logging("b"), c = Logging("c");
  a->ArmAt(30);
  b->ArmAt(10);
  c->ArmAt(20);
  EXPECT_EQ(sched_.timers().NextDeadline(), 10u);
  EXPECT_EQ(Fire(9), 0);
  EXPECT_EQ(Fire(10), 1);
  EXPECT_FALSE(b->armed());
  EXPECT_EQ(sched_.timers().NextDeadline(), 20u);
  EXPECT_EQ(Fire(100), 2);
  EXPECT_EQ(log_, (Log{"b", "c", "a"}));
  EXPECT_EQ(sched_.timers().NextDeadline(), kNever);
}

TEST_F(TimerTest, EqualDeadlinesFireInArmingOrder) {
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < 6; i++) {
    timers.push_back(Logging("t" + std::to_string(i)));
    timers.back()->ArmAt(10);
  }
  timers[0]->ArmAt(10);   // re-arming counts as arming again
  EXPECT_EQ(Fire(10), 6);
  EXPECT_EQ(log_, (Log{"t1", "t2", "t3", "t4", "t5", "t0"}));
}

TEST_F(TimerTest, CancelRemovesOnce) {
  auto a = Logging("a"), b = Logging("b");
  EXPECT_FALSE(a->Cancel());   // never armed
  a->ArmAt(10);
  b->ArmAt(20);
  EXPECT_TRUE(a->Cancel());
  EXPECT_FALSE(a->Cancel());
  EXPECT_FALSE(a->armed());
  EXPECT_EQ(sched_.timers().size(), 1u);
  EXPECT_EQ(Fire(100), 1);
  EXPECT_EQ(log_, Log{"b"});
  EXPECT_FALSE(b->Cancel());   // already fired
}

TEST_F(TimerTest, RearmingMovesTheTimer) {
  auto a = Logging("a"), b = Logging("b");
  a->ArmAt(10);
  b->ArmAt(20);
  a->ArmAt(30);
  EXPECT_EQ(sched_.timers().size(), 2u);
  EXPECT_EQ(a->deadline(), 30u);
  EXPECT_EQ(Fire(25), 1);
  EXPECT_EQ(Fire(100), 1);
  EXPECT_EQ(log_, (Log{"b", "a"}));
  a->ArmAt(5);   // earlier than before
  EXPECT_EQ(sched_.timers().NextDeadline(), 5u);
}

TEST_F(TimerTest, DestroyingATimerCancelsIt) {
  auto a = Logging("a");
  {
    auto b = Logging("b");
    b->ArmAt(10);
    a->ArmAt(20);
  }
  EXPECT_EQ(sched_.timers().size(), 1u);
  EXPECT_EQ(Fire(100), 1);
  EXPECT_EQ(log_, Log{"a"});
}

TEST_F(TimerTest, ArmAfterCountsFromNowAndSaturates) {
  platform_.now = 100;
  Timer timer([] {});
  timer.ArmAfter(5);
  EXPECT_EQ(timer.deadline(), 105u);
  timer.ArmAfter(kNever - 50);
  EXPECT_EQ(timer.deadline(), kNever);
}

TEST_F(TimerTest, CallbackMayRearmItsOwnTimer) {
  int fired = 0;
  Timer periodic([&] {
    if (++fired < 3) periodic.ArmAt(periodic.deadline() + 10);
  });
  periodic.ArmAt(10);
  EXPECT_EQ(Fire(25), 2);   // at 10 and 20; re-armed at 30
  EXPECT_TRUE(periodic.armed());
  EXPECT_EQ(Fire(100), 1);
  EXPECT_EQ(fired, 3);
  EXPECT_FALSE(periodic.armed());
}

TEST_F(TimerTest, CallbackMayCancelAndRearmOtherTimers) {
  auto b = Logging("b"), c = Logging("c"), d = Logging("d");
  Timer a([&] {
    log_.push_back("a");
    EXPECT_TRUE(b->Cancel());
    c->ArmAt(40);
    d->ArmAt(5);   // already due: fires in the same call
  });
  a.ArmAt(10);
  b->ArmAt(20);
  c->ArmAt(15);
  EXPECT_EQ(Fire(30), 2);
  EXPECT_EQ(Fire(100), 1);
  EXPECT_EQ(log_, (Log{"a", "d", "c"}));
}

TEST_F(TimerTest, CallbackMayDestroyItsTimer) {
  Timer* timer = nullptr;
  timer = new Timer([](void* slot) { delete *static_cast<Timer**>(slot); }, &timer);
  timer->ArmAt(10);
  EXPECT_EQ(Fire(10), 1);
  EXPECT_EQ(sched_.timers().size(), 0u);
}

TEST_F(TimerTest, TenThousandRandomTimersFireSorted) {
  constexpr int kTimers = 10000;
  std::mt19937_64 random(7);
  std::vector<std::tuple<uint64_t, int, int>> fired, expected;   // (deadline, arming, index)
  std::vector<std::unique_ptr<Timer>> timers;
  std::vector<int> arming(kTimers);
  int armings = 0;
  for (int i = 0; i < kTimers; i++) {
    timers.push_back(std::make_unique<Timer>([&, i] {
      fired.emplace_back(timers[i]->deadline(), arming[i], i);
    }));
    timers[i]->ArmAt(random() % 50000);
    arming[i] = armings++;
  }
  for (int i = 0; i < kTimers; i++) {
    if (i % 3 == 0) {
      EXPECT_TRUE(timers[i]->Cancel());
    } else if (i % 3 == 1) {
      timers[i]->ArmAt(random() % 50000);
      arming[i] = armings++;
    }
    if (timers[i]->armed()) expected.emplace_back(timers[i]->deadline(), arming[i], i);
  }
  std::sort(expected.begin(), expected.end());
  size_t due = 0;
  for (uint64_t now = 0; now <= 50000; now += 1000) {
    while (due < expected.size() && std::get<0>(expected[due]) <= now) due++;
    EXPECT_EQ(Fire(now), static_cast<int>(due - fired.size()));
    EXPECT_EQ(fired.size(), due);
  }
  EXPECT_EQ(fired, expected);
  EXPECT_EQ(sched_.timers().size(), 0u);
}

// The event loop fires timers, at their deadlines, while the tasks sleep.
TEST_F(TimerTest, EventLoopFiresTimersAtTheirDeadlines) {
  std::vector<std::pair<uint64_t, std::string>> fired;
  auto record = [&] { fired.emplace_back(Now(), TaskName(CurrentTask())); };
  Timer a(record), b(record);
  a.ArmAt(50);
  b.ArmAfter(20);
  SleepFor(100);
  EXPECT_EQ(fired, (std::vector<std::pair<uint64_t, std::string>>{
                       {20, "event-loop"}, {50, "event-loop"}}));
}

}  // namespace
}  // namespace skiff
