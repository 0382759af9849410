#include "runtime/xen/xenbus.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/unit/fake_platform.h"
#include "tests/unit/fake_xenstored.h"

namespace skiff {
namespace {

using xen::Enumerate;
using xen::XenbusDevice;
using xen::XenbusDriver;
using xen::XenbusFrontend;
using xen::XenbusOptions;
using xen::XenbusState;
using xen::XenstoreClient;

constexpr evtchn_port_t kPort = 5;
constexpr char kNode[] = "device/vif/0";
constexpr char kStateNode[] = "device/vif/0/state";
constexpr char kBackend[] = "/local/domain/0/backend/vif/7/0";
constexpr char kBackendState[] = "/local/domain/0/backend/vif/7/0/state";

// Counts the driver's calls, and notes in which task and with what frontend state they came.
class FakeDriver : public XenbusDriver {
 public:
  explicit FakeDriver(FakeXenstored* xenstored) : xenstored_(xenstored) {}

  Result<void> Setup(const XenbusDevice& device) override {
    setups++;
    calls.push_back("setup");
    EXPECT_EQ(device.node, kNode);
    EXPECT_STREQ(TaskName(CurrentTask()), "xenbus-vif-0");
    auto it = xenstored_->nodes.find(kStateNode);
    state_at_setup.push_back(it == xenstored_->nodes.end() ? "(none)" : it->second.value);
    if (setup_error) return *setup_error;
    return {};
  }
  Result<void> Connected(const XenbusDevice& device) override {
    connects++;
    calls.push_back("connected");
    EXPECT_EQ(device.node, kNode);
    EXPECT_EQ(setups - teardowns, 1) << "connected without a live Setup";
    if (connect_error) return *connect_error;
    return {};
  }
  void Teardown(const XenbusDevice& device) override {
    teardowns++;
    calls.push_back("teardown");
    EXPECT_EQ(device.node, kNode);
    EXPECT_EQ(setups - teardowns, 0) << "torn down more often than set up";
  }

  int setups = 0;
  int connects = 0;
  int teardowns = 0;
  std::optional<Error> setup_error;
  std::optional<Error> connect_error;
  std::vector<std::string> calls;   // "setup", "connected", "teardown", in order
  std::vector<std::string> state_at_setup;   // the frontend's <node>/state during each Setup

 private:
  FakeXenstored* xenstored_;
};

// The client on the fake xenstored, as in xs_client_test.cc; the test plays dom0, writing the
// backend's nodes straight into the fake (which fires the frontend's watch).
class XenbusTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    platform_.ports.SetHandler(EvtchnPort{kPort}, [this] { client_->OnEvent(); });
  }
  void TearDown() override {
    frontend_.reset();   // joins the device's task
    client_.reset();     // joins the watch task
    xenstored_.Stop();
    SchedulerTest::TearDown();
  }

  // The toolstack's part: the frontend's entries and a backend in |backend_state|.
  void AddVif(const std::string& id, const std::string& backend, const std::string& backend_id) {
    xenstored_.Put("device/vif/" + id + "/backend", backend);
    xenstored_.Put("device/vif/" + id + "/backend-id", backend_id);
  }

  XenbusDevice Device() { return {"vif", "0", kNode, kBackend, 0}; }

  void StartFrontend(XenbusOptions options = {}) {
    frontend_.emplace(*client_, Device(), driver_, options);
    Result<void> started = frontend_->Start();
    ASSERT_TRUE(started.ok()) << started.error().message;
  }

  // Well before the frontend's default timeout of 10 s.
  uint64_t Soon() { return Now() + 1'000'000'000; }

  // The backend moves to |state|; waits for the frontend to answer with |answer|.
  void BackendMoves(const char* state, XenbusState answer) {
    xenstored_.Put(kBackendState, state);
    Result<void> reached = frontend_->WaitFor(answer, Soon());
    ASSERT_TRUE(reached.ok()) << reached.error().message;
    EXPECT_EQ(frontend_->state(), answer);
  }

  // Brings the device up to Connected on both sides.
  void Connect() {
    xenstored_.Put(kBackendState, "1");
    StartFrontend();
    BackendMoves("2", XenbusState::kInitialised);
    BackendMoves("4", XenbusState::kConnected);
  }

  // Lets the device's task run until |done| holds, without letting the clock reach a timeout.
  template <typename F>
  bool RunUntil(F done) {
    for (int i = 0; i < 1000 && !done(); i++) SleepFor(1000);
    return done();
  }

  std::string FrontendNode() {
    auto it = xenstored_.nodes.find(kStateNode);
    return it == xenstored_.nodes.end() ? "(none)" : it->second.value;
  }

  // Every value the client wrote to the frontend's state node, in order.
  std::vector<std::string> FrontendWrites() {
    std::vector<std::string> values;
    for (const auto& [path, value] : xenstored_.writes) {
      if (path == kStateNode) values.push_back(value);
    }
    return values;
  }

  FakeXenstored xenstored_{&platform_, kPort};
  std::optional<XenstoreClient> client_{std::in_place, xenstored_.ClientRing()};
  FakeDriver driver_{&xenstored_};
  std::optional<XenbusFrontend> frontend_;
};

using Strings = std::vector<std::string>;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}

// netback connects only to a Connected frontend: with connect_first the frontend says
// Connected once set up, and the driver hears of the backend's Connected when it comes.
TEST_F(XenbusTest, AConnectFirstFrontendIsConnectedBeforeItsBackend) {
  xenstored_.Put(kBackendState, "1");
  StartFrontend({.connect_first = true});
  BackendMoves("2", XenbusState::kConnected);
  EXPECT_EQ(FrontendWrites(), (Strings{"1", "4"})) << "never Initialised";
  EXPECT_EQ(driver_.calls, Strings{"setup"});
  xenstored_.Put(kBackendState, "2");   // the watch fires again: nothing changes
  ASSERT_TRUE(RunUntil([&] { return frontend_->backend_state() == XenbusState::kInitWait; }));
  SleepFor(1'000'000);
  EXPECT_EQ(driver_.calls, Strings{"setup"});
  xenstored_.Put(kBackendState, "4");
  ASSERT_TRUE(RunUntil([&] { return driver_.connects == 1; }));
  EXPECT_EQ(driver_.calls, (Strings{"setup", "connected"}));
  EXPECT_EQ(FrontendWrites(), (Strings{"1", "4"}));
  // The backend goes and comes back: torn down, set up and connected again.
  BackendMoves("5", XenbusState::kClosed);
  BackendMoves("2", XenbusState::kConnected);
  xenstored_.Put(kBackendState, "4");
  ASSERT_TRUE(RunUntil([&] { return driver_.connects == 2; }));
  EXPECT_EQ(driver_.calls,
            (Strings{"setup", "connected", "teardown", "setup", "connected"}));
}

// Enumerate.

TEST_F(XenbusTest, EnumerateFindsEachDeviceWithItsBackend) {
  AddVif("0", kBackend, "0");
  AddVif("1", "/local/domain/3/backend/vif/7/1", "32751");   // the highest domid there is
  xenstored_.Put("device/vbd/768/backend", "/local/domain/0/backend/vbd/7/768");
  xenstored_.Put("device/vbd/768/backend-id", "0");
  Result<std::vector<XenbusDevice>> devices = Enumerate(*client_, "vif");
  ASSERT_TRUE(devices.ok()) << devices.error().message;
  ASSERT_EQ(devices->size(), 2u);
  const XenbusDevice& a = (*devices)[0];
  EXPECT_EQ(a.type, "vif");
  EXPECT_EQ(a.id, "0");
  EXPECT_EQ(a.node, "device/vif/0");
  EXPECT_EQ(a.backend, kBackend);
  EXPECT_EQ(a.backend_id, DomId{0});
  const XenbusDevice& b = (*devices)[1];
  EXPECT_EQ(b.type, "vif");
  EXPECT_EQ(b.id, "1");
  EXPECT_EQ(b.node, "device/vif/1");
  EXPECT_EQ(b.backend, "/local/domain/3/backend/vif/7/1");
  EXPECT_EQ(b.backend_id, DomId{0x7fef});
}

TEST_F(XenbusTest, EnumerateWithoutTheTypesDirectoryFindsNothing) {
  AddVif("0", kBackend, "0");
  Result<std::vector<XenbusDevice>> devices = Enumerate(*client_, "vbd");
  ASSERT_TRUE(devices.ok()) << devices.error().message;
  EXPECT_TRUE(devices->empty());
}

TEST_F(XenbusTest, EnumerateFailsNamingADeviceWithoutABackendPath) {
  AddVif("0", kBackend, "0");
  xenstored_.Put("device/vif/1/backend-id", "0");
  Result<std::vector<XenbusDevice>> devices = Enumerate(*client_, "vif");
  ASSERT_FALSE(devices.ok());
  EXPECT_EQ(devices.error().code, ENOENT);
  EXPECT_TRUE(Contains(devices.error().message, "device/vif/1 has no backend path"));
}

TEST_F(XenbusTest, EnumerateFailsNamingADeviceWithoutABackendId) {
  xenstored_.Put("device/vif/4/backend", kBackend);
  Result<std::vector<XenbusDevice>> devices = Enumerate(*client_, "vif");
  ASSERT_FALSE(devices.ok());
  EXPECT_EQ(devices.error().code, EPROTO);
  EXPECT_EQ(devices.error().message, "xenbus: device/vif/4 has no valid backend-id");
}

TEST_F(XenbusTest, EnumerateFailsNamingADeviceWithABadBackendId) {
  // Not decimal, or past the last real domid (DOMID_FIRST_RESERVED is 0x7ff0), or overflowing.
  for (const char* bad : {"abc", "", "-1", "1x", " 1", "0x10", "32752", "65535", "65536",
                          "18446744073709551617", "999999999999999999999"}) {
    SCOPED_TRACE(std::string("backend-id '") + bad + "'");
    xenstored_.nodes.clear();
    AddVif("2", kBackend, bad);
    Result<std::vector<XenbusDevice>> devices = Enumerate(*client_, "vif");
    ASSERT_FALSE(devices.ok());
    EXPECT_EQ(devices.error().code, EPROTO);
    EXPECT_EQ(devices.error().message, "xenbus: device/vif/2 has no valid backend-id");
  }
}

TEST_F(XenbusTest, EnumerateFailsNamingADeviceWhoseBackendPathIsNotAbsolute) {
  for (const char* bad : {"local/domain/0/backend/vif/7/0", ""}) {
    SCOPED_TRACE(std::string("backend '") + bad + "'");
    xenstored_.nodes.clear();
    AddVif("3", bad, "0");
    Result<std::vector<XenbusDevice>> devices = Enumerate(*client_, "vif");
    ASSERT_FALSE(devices.ok());
    EXPECT_EQ(devices.error().code, EPROTO);
    EXPECT_EQ(devices.error().message, std::string("xenbus: device/vif/3 names backend '") +
                                           bad + "', not an absolute path");
  }
}

// The handshake.

TEST_F(XenbusTest, HandshakeConnectsClosesAndReconnects) {
  AddVif("0", kBackend, "0");
  xenstored_.Put(kBackendState, "1");
  Result<std::vector<XenbusDevice>> devices = Enumerate(*client_, "vif");
  ASSERT_TRUE(devices.ok()) << devices.error().message;
  ASSERT_EQ(devices->size(), 1u);
  frontend_.emplace(*client_, (*devices)[0], driver_);
  ASSERT_TRUE(frontend_->Start().ok());

  // Both Initialising: the frontend waits for the backend, without setting up.
  Result<void> r = frontend_->WaitFor(XenbusState::kInitialising, Soon());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(RunUntil([&] { return frontend_->backend_state() == XenbusState::kInitialising; }));
  EXPECT_EQ(FrontendNode(), "1");
  EXPECT_EQ(frontend_->state(), XenbusState::kInitialising);
  EXPECT_EQ(driver_.setups, 0);

  BackendMoves("2", XenbusState::kInitialised);
  EXPECT_EQ(FrontendNode(), "3");
  EXPECT_EQ(driver_.setups, 1);
  EXPECT_EQ(driver_.connects, 0);
  EXPECT_EQ(driver_.state_at_setup, Strings{"1"});

  BackendMoves("4", XenbusState::kConnected);
  EXPECT_EQ(FrontendNode(), "4");
  EXPECT_EQ(frontend_->backend_state(), XenbusState::kConnected);
  EXPECT_EQ(driver_.connects, 1);
  EXPECT_EQ(driver_.teardowns, 0);

  // A closing backend waits for the frontend to close: Closed, not Closing (as Linux's do).
  BackendMoves("5", XenbusState::kClosed);
  EXPECT_EQ(FrontendNode(), "6");
  EXPECT_EQ(driver_.teardowns, 1);

  xenstored_.Put(kBackendState, "6");
  ASSERT_TRUE(RunUntil([&] { return frontend_->backend_state() == XenbusState::kClosed; }));
  EXPECT_EQ(FrontendNode(), "6");
  EXPECT_EQ(driver_.teardowns, 1);

  // The backend comes back: Initialising again, then a fresh Setup.
  BackendMoves("2", XenbusState::kInitialised);
  EXPECT_EQ(FrontendNode(), "3");
  EXPECT_EQ(driver_.setups, 2);
  EXPECT_EQ(driver_.state_at_setup, (Strings{"1", "1"}));
  BackendMoves("4", XenbusState::kConnected);
  EXPECT_EQ(driver_.connects, 2);
  EXPECT_EQ(driver_.teardowns, 1);
  EXPECT_EQ(FrontendWrites(), (Strings{"1", "3", "4", "6", "1", "3", "4"}));
  EXPECT_EQ(frontend_->error(), nullptr);
}

TEST_F(XenbusTest, ABackendStillConnectedToAPreviousFrontendIsNotConnectedTo) {
  xenstored_.Put(kBackendState, "4");
  StartFrontend();
  ASSERT_TRUE(RunUntil([&] { return frontend_->backend_state() == XenbusState::kConnected; }));
  SleepFor(1'000'000);
  EXPECT_EQ(frontend_->state(), XenbusState::kInitialising);
  EXPECT_EQ(FrontendNode(), "1");
  EXPECT_EQ(driver_.setups, 0);
  EXPECT_EQ(driver_.connects, 0);
  // Once it has noticed us and starts over, the handshake goes as usual.
  BackendMoves("6", XenbusState::kClosed);
  BackendMoves("2", XenbusState::kInitialised);
  BackendMoves("4", XenbusState::kConnected);
  EXPECT_EQ(driver_.setups, 1);
  EXPECT_EQ(driver_.connects, 1);
}

TEST_F(XenbusTest, ABackendWhoseNodesAreRemovedCountsAsClosed) {
  Connect();
  xenstored_.Remove(kBackend);
  Result<void> r = frontend_->WaitFor(XenbusState::kClosed, Soon());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(frontend_->backend_state(), XenbusState::kClosed);
  EXPECT_EQ(FrontendNode(), "6");
  EXPECT_EQ(driver_.teardowns, 1);
  EXPECT_EQ(frontend_->error(), nullptr);
  // Closed waits without a limit: long after the timeout, the task is still fine.
  SleepFor(60'000'000'000);
  EXPECT_EQ(frontend_->error(), nullptr);
  // ... and picks up a backend that is made again.
  BackendMoves("2", XenbusState::kInitialised);
  EXPECT_EQ(driver_.setups, 2);
}

TEST_F(XenbusTest, BothConnectedWaitsWithoutALimit) {
  Connect();
  SleepFor(60'000'000'000);
  EXPECT_EQ(frontend_->error(), nullptr);
  EXPECT_EQ(frontend_->state(), XenbusState::kConnected);
}

TEST_F(XenbusTest, ASetupThatFailsEndsTheTaskWithItsError) {
  driver_.setup_error = MakeError(ENOSPC, "vif: no grant references left");
  xenstored_.Put(kBackendState, "2");
  StartFrontend();
  Result<void> r = frontend_->WaitFor(XenbusState::kInitialised, Soon());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ENOSPC);
  EXPECT_EQ(r.error().message, "vif: no grant references left");
  ASSERT_NE(frontend_->error(), nullptr);
  EXPECT_EQ(frontend_->error()->message, "vif: no grant references left");
  // Later waits return it too, and at once.
  uint64_t before = Now();
  r = frontend_->WaitFor(XenbusState::kConnected, Soon());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ENOSPC);
  EXPECT_EQ(Now(), before);
  EXPECT_EQ(driver_.setups, 1);
  EXPECT_EQ(driver_.teardowns, 0);   // nothing was set up
  // A failed device says Closing, so that its backend lets go.
  ASSERT_TRUE(RunUntil([&] { return FrontendNode() == "5"; }));
}

TEST_F(XenbusTest, AConnectedThatFailsEndsTheTaskNamingTheDeviceAndTearsDown) {
  driver_.connect_error = MakeError(EPROTO, "vbd: sectors is missing");
  xenstored_.Put(kBackendState, "1");
  StartFrontend();
  BackendMoves("2", XenbusState::kInitialised);
  xenstored_.Put(kBackendState, "4");
  Result<void> r = frontend_->WaitFor(XenbusState::kConnected, Soon());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, EPROTO);
  EXPECT_EQ(r.error().message,
            "xenbus: device/vif/0: the driver failed to connect: vbd: sectors is missing");
  ASSERT_NE(frontend_->error(), nullptr);
  EXPECT_EQ(frontend_->error()->code, EPROTO);
  ASSERT_TRUE(RunUntil([&] { return FrontendNode() == "5"; }));
  EXPECT_EQ(driver_.calls, (Strings{"setup", "connected", "teardown"}));
  // Never Connected: the frontend went from Initialised to Closing.
  EXPECT_EQ(FrontendWrites(), (Strings{"1", "3", "5"}));
}

// Reconnecting is the framework's: every driver gets it without code of its own.
TEST_F(XenbusTest, ABackendThatClosesAndComesBackIsReconnected) {
  Connect();
  BackendMoves("6", XenbusState::kClosed);   // straight to Closed, without Closing
  EXPECT_EQ(FrontendNode(), "6");
  BackendMoves("2", XenbusState::kInitialised);
  BackendMoves("4", XenbusState::kConnected);
  EXPECT_EQ(driver_.calls,
            (Strings{"setup", "connected", "teardown", "setup", "connected"}));
  EXPECT_EQ(driver_.state_at_setup, (Strings{"1", "1"}));
  EXPECT_EQ(FrontendWrites(), (Strings{"1", "3", "4", "6", "1", "3", "4"}));
  EXPECT_EQ(frontend_->error(), nullptr);
}

TEST_F(XenbusTest, AReconnectWhoseSetupFailsEndsTheTask) {
  Connect();
  BackendMoves("5", XenbusState::kClosed);
  driver_.setup_error = MakeError(ENOMEM, "vif: no pages for the rings");
  xenstored_.Put(kBackendState, "2");
  Result<void> r = frontend_->WaitFor(XenbusState::kConnected, Soon());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ENOMEM);
  EXPECT_EQ(driver_.calls, (Strings{"setup", "connected", "teardown", "setup"}));
  ASSERT_TRUE(RunUntil([&] { return FrontendNode() == "5"; }));
}

// Timeouts.

TEST_F(XenbusTest, ABackendThatStaysInitialisingTimesOut) {
  xenstored_.Put(kBackendState, "1");
  uint64_t start = Now();
  std::string told;
  StartFrontend({.timeout_ns = 5'000'000,
                 .failed = [&](const XenbusDevice& d, const Error& e) { told = d.node + ": " + e.message; }});
  Result<void> r = frontend_->WaitFor(XenbusState::kInitialised, Soon());
  EXPECT_EQ(told, "device/vif/0: " + r.error().message) << "the failed callback says it";
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ETIMEDOUT);
  EXPECT_EQ(r.error().message,
            std::string("xenbus: device/vif/0 timed out: the frontend is Initialising and its "
                        "backend (") + kBackend + ") stayed Initialising");
  EXPECT_GE(Now() - start, 5'000'000u);
  EXPECT_LT(Now() - start, 10'000'000u);
  ASSERT_NE(frontend_->error(), nullptr);
  EXPECT_EQ(frontend_->error()->code, ETIMEDOUT);
  EXPECT_EQ(driver_.setups, 0);
}

TEST_F(XenbusTest, ABackendThatNeverConnectsTimesOutAndTheDriverIsTornDown) {
  xenstored_.Put(kBackendState, "2");
  StartFrontend({.timeout_ns = 5'000'000});
  Result<void> r = frontend_->WaitFor(XenbusState::kConnected, Soon());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ETIMEDOUT);
  EXPECT_EQ(r.error().message,
            std::string("xenbus: device/vif/0 timed out: the frontend is Initialised and its "
                        "backend (") + kBackend + ") stayed InitWait");
  EXPECT_EQ(driver_.setups, 1);
  EXPECT_EQ(driver_.connects, 0);
  EXPECT_EQ(driver_.teardowns, 1);
}

TEST_F(XenbusTest, EachStepOfTheBackendRestartsTheTimeout) {
  xenstored_.Put(kBackendState, "1");
  StartFrontend({.timeout_ns = 5'000'000});
  ASSERT_TRUE(frontend_->WaitFor(XenbusState::kInitialising, Soon()).ok());
  SleepFor(4'000'000);
  BackendMoves("2", XenbusState::kInitialised);
  SleepFor(4'000'000);   // 8 ms in all, but under 5 ms for each step
  BackendMoves("4", XenbusState::kConnected);
  EXPECT_EQ(frontend_->error(), nullptr);
}

TEST_F(XenbusTest, WaitForWithADeadlineTimesOutNamingTheStates) {
  xenstored_.Put(kBackendState, "1");
  StartFrontend();   // the frontend's own timeout, 10 s, is far off
  ASSERT_TRUE(RunUntil([&] { return frontend_->backend_state() == XenbusState::kInitialising; }));
  uint64_t deadline = Now() + 2'000'000;
  Result<void> r = frontend_->WaitFor(XenbusState::kInitialised, deadline);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ETIMEDOUT);
  EXPECT_EQ(r.error().message,
            "xenbus: device/vif/0 is Initialising, not Initialised, and its backend is "
            "Initialising");
  EXPECT_GE(Now(), deadline);
  EXPECT_EQ(frontend_->error(), nullptr);   // the task itself goes on
  BackendMoves("2", XenbusState::kInitialised);
}

// Malformed backend states.

class XenbusBadStateTest : public XenbusTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(XenbusBadStateTest, AtStartIsAnError) {
  xenstored_.Put(kBackendState, GetParam());
  StartFrontend();
  Result<void> r = frontend_->WaitFor(XenbusState::kInitialised, Soon());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, EPROTO);
  EXPECT_EQ(r.error().message, std::string("xenbus: ") + kBackend + "/state is '" + GetParam() +
                                   "', not a xenbus state");
  EXPECT_EQ(driver_.setups, 0);
}

TEST_P(XenbusBadStateTest, WhenConnectedIsAnErrorAndTearsDown) {
  Connect();
  xenstored_.Put(kBackendState, GetParam());
  Result<void> r = frontend_->WaitFor(XenbusState::kClosed, Soon());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, EPROTO);
  EXPECT_TRUE(Contains(r.error().message, std::string("'") + GetParam() + "'"));
  EXPECT_EQ(driver_.teardowns, 1);
}

INSTANTIATE_TEST_SUITE_P(Values, XenbusBadStateTest,
                         ::testing::Values("9", "abc", "", "-1", "4x", "04 ", "256", "4294967300",
                                           "99999999999999999999999"));

// Closing from our side.

TEST_F(XenbusTest, DestroyingAConnectedFrontendClosesItAndTearsDownOnce) {
  Connect();
  EXPECT_EQ(xenstored_.watch_count(), 1u);
  frontend_.reset();
  EXPECT_EQ(FrontendNode(), "6");
  EXPECT_EQ(FrontendWrites(), (Strings{"1", "3", "4", "5", "6"}));
  EXPECT_EQ(driver_.setups, 1);
  EXPECT_EQ(driver_.teardowns, 1);
  EXPECT_EQ(xenstored_.watch_count(), 0u);   // the watch on the backend went with it
}

TEST_F(XenbusTest, DestroyingAFrontendThatNeverSetUpClosesItWithoutTeardown) {
  xenstored_.Put(kBackendState, "1");
  StartFrontend();
  ASSERT_TRUE(frontend_->WaitFor(XenbusState::kInitialising, Soon()).ok());
  frontend_.reset();
  EXPECT_EQ(FrontendNode(), "6");
  EXPECT_EQ(FrontendWrites(), (Strings{"1", "5", "6"}));
  EXPECT_EQ(driver_.setups, 0);
  EXPECT_EQ(driver_.teardowns, 0);
}

TEST_F(XenbusTest, DestroyingAFrontendThatWasNeverStartedDoesNothing) {
  frontend_.emplace(*client_, Device(), driver_);
  frontend_.reset();
  EXPECT_TRUE(FrontendWrites().empty());
  EXPECT_EQ(xenstored_.requests, 0u);
}

}  // namespace
}  // namespace skiff
