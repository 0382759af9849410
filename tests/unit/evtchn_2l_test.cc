#include "runtime/xen/evtchn_2l.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "skiff/sched.h"
#include "tests/unit/fake_platform.h"

namespace skiff::xen {
namespace {

using Ports = std::vector<evtchn_port_t>;

class EventPortsTest : public ::testing::Test {
 protected:
  static constexpr int kForever = -1;

  // Logs each event on |port|; the handler raises the port again |reraise| times.
  void Handle(evtchn_port_t port, int reraise = 0) {
    Handler& handler = handlers_[port];
    handler = {this, port, reraise};
    ports().SetHandler(EvtchnPort{port}, [h = &handler] {
      h->test->dispatched_.push_back(h->port);
      if (h->reraise == 0) return;
      if (h->reraise > 0) h->reraise--;
      h->test->platform_.Raise(h->port);
    });
  }

  // Dispatches and returns the ports dispatched by that call.
  Ports Dispatch() {
    dispatched_.clear();
    int count = ports().Dispatch();
    EXPECT_EQ(count, static_cast<int>(dispatched_.size()));
    return dispatched_;
  }

  EventPorts& ports() { return platform_.ports; }

  struct Handler {
    EventPortsTest* test;
    evtchn_port_t port;
    int reraise;
  };
  FakePlatform platform_;
  std::map<evtchn_port_t, Handler> handlers_;
  Ports dispatched_;
};

TEST_F(EventPortsTest, RaisedPortRunsOnceAndIsCleared) {
  Handle(3);
  platform_.Raise(3);
  platform_.Raise(3);   // a second send before dispatch is the same event
  EXPECT_TRUE(ports().Pending());
  EXPECT_EQ(Dispatch(), Ports{3});
  EXPECT_FALSE(platform_.IsPending(3));
  EXPECT_FALSE(ports().Pending());
  EXPECT_EQ(Dispatch(), Ports{});
}

TEST_F(EventPortsTest, EventDuringItsOwnHandlerRunsOnTheNextDispatch) {
  // Port 100 is in word 1; the ports before it put the scan's start in each position
  // relative to it: another word, the same word below it, the same word above it, itself.
  for (evtchn_port_t before : {0, 90, 110, 100}) {
    SCOPED_TRACE(before);
    Handle(before);
    platform_.Raise(before);
    EXPECT_EQ(Dispatch(), Ports{before});
    Handle(100, 1);
    platform_.Raise(100);
    EXPECT_EQ(Dispatch(), Ports{100});
    EXPECT_TRUE(platform_.IsPending(100));
    EXPECT_TRUE(ports().Pending());
    EXPECT_EQ(Dispatch(), Ports{100});
    EXPECT_EQ(Dispatch(), Ports{});
  }
}

TEST_F(EventPortsTest, MaskedPortIsHeldUntilUnmasked) {
  Handle(7);
  Handle(8);
  ports().Mask(EvtchnPort{7});
  EXPECT_TRUE(ports().IsMasked(EvtchnPort{7}));
  EXPECT_FALSE(ports().IsMasked(EvtchnPort{8}));
  platform_.Raise(7);
  EXPECT_FALSE(ports().Pending());   // Xen does not announce a masked port
  platform_.Raise(8);
  EXPECT_EQ(Dispatch(), Ports{8});
  EXPECT_TRUE(platform_.IsPending(7));
  EXPECT_EQ(Dispatch(), Ports{});
  ports().Unmask(EvtchnPort{7});
  EXPECT_FALSE(ports().IsMasked(EvtchnPort{7}));
  EXPECT_TRUE(ports().Pending());
  EXPECT_EQ(Dispatch(), Ports{7});
  EXPECT_FALSE(ports().Pending());
}

TEST_F(EventPortsTest, UnmaskWithNothingPendingLeavesNothingToDo) {
  ports().Mask(EvtchnPort{7});
  ports().Unmask(EvtchnPort{7});
  EXPECT_FALSE(ports().Pending());
  EXPECT_EQ(Dispatch(), Ports{});
}

TEST_F(EventPortsTest, ScanResumesAfterTheLastDispatchedPort) {
  for (evtchn_port_t port : {5, 70, 4000}) Handle(port);
  auto raise_all = [this] {
    for (evtchn_port_t port : {4000, 70, 5}) platform_.Raise(port);
  };
  platform_.Raise(5);
  EXPECT_EQ(Dispatch(), Ports{5});
  raise_all();
  EXPECT_EQ(Dispatch(), (Ports{70, 4000, 5}));
  platform_.Raise(70);
  EXPECT_EQ(Dispatch(), Ports{70});
  raise_all();
  EXPECT_EQ(Dispatch(), (Ports{4000, 5, 70}));
  platform_.Raise(4000);
  EXPECT_EQ(Dispatch(), Ports{4000});
  raise_all();
  EXPECT_EQ(Dispatch(), (Ports{5, 70, 4000}));
}

TEST_F(EventPortsTest, PortsInEveryWordAreAllDelivered) {
  Ports raised;
  for (evtchn_port_t w = 0; w < EventPorts::kWordBits; w++) {
    evtchn_port_t port = w * EventPorts::kWordBits + (w * 7) % EventPorts::kWordBits;
    Handle(port);
    platform_.Raise(port);
    raised.push_back(port);
  }
  EXPECT_EQ(Dispatch(), raised);
  EXPECT_FALSE(ports().Pending());
}

TEST_F(EventPortsTest, EveryPortRaisedAtOnceRunsOnceEach) {
  for (evtchn_port_t port = 0; port < EventPorts::kPorts; port++) {
    Handle(port);
    platform_.Raise(port);
  }
  Ports ran = Dispatch();
  ASSERT_EQ(ran.size(), EventPorts::kPorts);
  for (evtchn_port_t port = 0; port < EventPorts::kPorts; port++) EXPECT_EQ(ran[port], port);
  EXPECT_FALSE(ports().Pending());
}

TEST_F(EventPortsTest, EventsWithoutAHandlerAreConsumed) {
  Handle(1);
  platform_.Raise(2);
  platform_.Raise(1);
  platform_.Raise(4000);   // beyond every port with a handler
  EXPECT_EQ(ports().Dispatch(), 3);
  EXPECT_EQ(dispatched_, Ports{1});
  EXPECT_FALSE(platform_.IsPending(2));
  EXPECT_FALSE(platform_.IsPending(4000));
  ports().ClearHandler(EvtchnPort{1});
  platform_.Raise(1);
  EXPECT_EQ(ports().Dispatch(), 1);
  EXPECT_EQ(dispatched_, Ports{1});
}

TEST_F(EventPortsTest, PendingReflectsUpcallFlagSelectorAndLeftoverWords) {
  EXPECT_FALSE(ports().Pending());
  platform_.vcpu().evtchn_upcall_pending = 1;
  EXPECT_TRUE(ports().Pending());
  EXPECT_EQ(Dispatch(), Ports{});
  EXPECT_FALSE(ports().Pending());
  EXPECT_EQ(platform_.vcpu().evtchn_upcall_pending, 0);

  platform_.vcpu().evtchn_pending_sel = xen_ulong_t{1} << 3;   // a word with nothing pending
  EXPECT_TRUE(ports().Pending());
  EXPECT_EQ(Dispatch(), Ports{});
  EXPECT_FALSE(ports().Pending());
  EXPECT_EQ(platform_.vcpu().evtchn_pending_sel, 0u);

  // A word left for the next scan: here, by unmasking a port whose event came while masked.
  Handle(9);
  ports().Mask(EvtchnPort{9});
  platform_.Raise(9);
  ports().Unmask(EvtchnPort{9});
  EXPECT_EQ(platform_.vcpu().evtchn_upcall_pending, 0);
  EXPECT_EQ(platform_.vcpu().evtchn_pending_sel, 0u);
  EXPECT_TRUE(ports().Pending());
  EXPECT_EQ(Dispatch(), Ports{9});
  EXPECT_FALSE(ports().Pending());
}

// A port whose handler raises it again every time (A) cannot starve another (B), wherever
// they lie relative to each other.
class EventPortsFairnessTest : public EventPortsTest,
                               public ::testing::WithParamInterface<std::pair<int, int>> {};

TEST_P(EventPortsFairnessTest, BusyPortCannotStarveAnother) {
  auto [a, b] = GetParam();
  Handle(a, kForever);
  Handle(b);
  platform_.Raise(a);
  EXPECT_EQ(Dispatch(), Ports{static_cast<evtchn_port_t>(a)});
  platform_.Raise(b);
  int b_runs = 0;
  for (int call = 0; call < 2 && b_runs == 0; call++) {
    Ports ran = Dispatch();
    EXPECT_EQ(std::count(ran.begin(), ran.end(), a), 1);   // once per call, not looped
    b_runs += std::count(ran.begin(), ran.end(), b);
  }
  EXPECT_EQ(b_runs, 1);
  handlers_[a].reraise = 0;
  EXPECT_EQ(Dispatch(), Ports{static_cast<evtchn_port_t>(a)});
  EXPECT_FALSE(ports().Pending());
}

INSTANTIATE_TEST_SUITE_P(Placements, EventPortsFairnessTest,
                         ::testing::Values(std::pair{5, 6}, std::pair{6, 5}, std::pair{5, 70},
                                           std::pair{70, 5}, std::pair{0, 4095},
                                           std::pair{4095, 0}, std::pair{63, 64},
                                           std::pair{64, 63}));

// A handler that clears its own port (an EventChannel closed in its handler) runs to its end
// on a live function, and the port then has no handler; one that replaces its own keeps the
// replacement.
TEST_F(EventPortsTest, AHandlerMayClearOrReplaceItself) {
  std::vector<int> ran;
  auto big = std::make_shared<std::vector<int>>(100, 7);   // captured state the clear would free
  ports().SetHandler(EvtchnPort{3}, [this, &ran, big] {
    ports().ClearHandler(EvtchnPort{3});
    ports().SetHandler(EvtchnPort{4000}, [] {});   // grows the registry meanwhile
    ran.push_back((*big)[99]);                     // still valid: ASan would say otherwise
  });
  platform_.Raise(3);
  EXPECT_EQ(ports().Dispatch(), 1);
  EXPECT_EQ(ran, std::vector<int>{7});
  EXPECT_EQ(big.use_count(), 1) << "the cleared handler was destroyed after it returned";
  platform_.Raise(3);
  ports().Dispatch();
  EXPECT_EQ(ran.size(), 1u);

  ports().SetHandler(EvtchnPort{5}, [this, &ran] {
    ran.push_back(1);
    ports().SetHandler(EvtchnPort{5}, [&ran] { ran.push_back(2); });
  });
  for (int i = 0; i < 2; i++) {
    platform_.Raise(5);
    ports().Dispatch();
  }
  EXPECT_EQ(ran, (std::vector<int>{7, 1, 2}));
}

// The event loop polls the ports: a port's handler signals an Event that a task waits on.
using EventLoopTest = SchedulerTest;

TEST_F(EventLoopTest, PortHandlerWakesATaskWaitingOnAnEvent) {
  Event event;
  platform_.ports.SetHandler(EvtchnPort{42}, [&event] { event.Signal(); });
  uint64_t woke_at = 0;
  Result<Task*> task = Spawn([&] {
    event.Wait();
    woke_at = Now();
  });
  ASSERT_TRUE(task.ok());
  Yield();   // the task waits
  Timer sender([this] { platform_.Raise(42); });   // as if a device sent it at 30
  sender.ArmAt(30);
  Join(*task);   // the loop idles until 30, then must see the event rather than deadlock
  EXPECT_EQ(woke_at, 30u);
  EXPECT_FALSE(platform_.IsPending(42));
}

}  // namespace
}  // namespace skiff::xen
