// XenbusBus against the fake xenstored: devices there at start, attached and detached while
// it runs (as xl block-attach and block-detach do), and malformed ones.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/xen/xenbus.h"
#include "tests/unit/fake_platform.h"
#include "tests/unit/fake_xenstored.h"

namespace skiff {
namespace {

using xen::XenbusBus;
using xen::XenbusDevice;
using xen::XenbusDriver;
using xen::XenbusFrontend;
using xen::XenbusState;
using xen::XenstoreClient;
using Strings = std::vector<std::string>;

constexpr evtchn_port_t kPort = 5;

// Logs "<node>: setup", "<node>: connected", "<node>: teardown".
class LoggingDriver : public XenbusDriver {
 public:
  explicit LoggingDriver(Strings* log) : log_(log) {}
  Result<void> Setup(const XenbusDevice& device) override { return Note(device, "setup"); }
  Result<void> Connected(const XenbusDevice& device) override {
    return Note(device, "connected");
  }
  void Teardown(const XenbusDevice& device) override { (void)Note(device, "teardown"); }

 private:
  Result<void> Note(const XenbusDevice& device, const char* what) {
    log_->push_back(device.node + ": " + what);
    return {};
  }
  Strings* log_;
};

class XenbusBusTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    platform_.ports.SetHandler(EvtchnPort{kPort}, [this] { client_->OnEvent(); });
  }
  void TearDown() override {
    bus_.reset();
    client_.reset();
    xenstored_.Stop();
    SchedulerTest::TearDown();
  }

  static std::string Backend(const std::string& id) {
    return "/local/domain/0/backend/vif/7/" + id;
  }

  // The toolstack's part, as one change (libxl writes a device in a transaction): only the
  // last write fires the watches.
  void Attach(const std::string& id, const std::string& backend_state) {
    xenstored_.nodes[Backend(id) + "/state"].value = backend_state;
    xenstored_.nodes["device/vif/" + id + "/backend"].value = Backend(id);
    xenstored_.nodes["device/vif/" + id + "/state"].value = "1";
    xenstored_.Put("device/vif/" + id + "/backend-id", "0");
  }

  // What xl's detach does: the backend Closing; the frontend answers Closed; both
  // directories removed.
  void Detach(const std::string& id) {
    xenstored_.Put(Backend(id) + "/state", "5");
    ASSERT_TRUE(RunUntil([&] { return Node("device/vif/" + id + "/state") == "6"; }));
    xenstored_.Put(Backend(id) + "/state", "6");
    xenstored_.Remove(Backend(id));
    xenstored_.Remove("device/vif/" + id);
  }

  void StartBus() {
    bus_.emplace(
        *client_, "vif",
        [this](const XenbusDevice&) -> std::unique_ptr<XenbusDriver> {
          return std::make_unique<LoggingDriver>(&log_);
        },
        xen::XenbusBusCallbacks{
            .added = [this](const XenbusFrontend& f) { added_.push_back(f.device().node); },
            .removed = [this](const XenbusDevice& d) { removed_.push_back(d.node); },
            .error = [this](const Error& e) { errors_.push_back(e.message); }});
    Result<void> started = bus_->Start();
    ASSERT_TRUE(started.ok()) << started.error().message;
  }

  void Reach(const std::string& id, XenbusState state) {
    ASSERT_TRUE(RunUntil([&] { return bus_->Find(id) != nullptr; })) << "no device " << id;
    Result<void> r = bus_->Find(id)->WaitFor(state, Now() + 1'000'000'000);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  template <typename F>
  bool RunUntil(F done) {
    for (int i = 0; i < 1000 && !done(); i++) SleepFor(1000);
    return done();
  }

  std::optional<std::string> Node(const std::string& path) {
    auto it = xenstored_.nodes.find(path);
    if (it == xenstored_.nodes.end()) return std::nullopt;
    return it->second.value;
  }

  FakeXenstored xenstored_{&platform_, kPort};
  std::optional<XenstoreClient> client_{std::in_place, xenstored_.ClientRing()};
  std::optional<XenbusBus> bus_;
  Strings log_, added_, removed_, errors_;
};

TEST_F(XenbusBusTest, DevicesThereAtStartGetADriver) {
  Attach("0", "2");
  Attach("1", "4");   // still connected to a previous frontend: waits
  StartBus();
  Reach("0", XenbusState::kInitialised);
  Reach("1", XenbusState::kInitialising);
  EXPECT_EQ(bus_->size(), 2u);
  EXPECT_EQ(added_, (Strings{"device/vif/0", "device/vif/1"}));
  EXPECT_EQ(log_, Strings{"device/vif/0: setup"});
  EXPECT_TRUE(errors_.empty());
}

TEST_F(XenbusBusTest, ADeviceAttachedWhileRunningIsSetUpAndConnected) {
  StartBus();   // device/vif does not exist yet
  ASSERT_TRUE(RunUntil([&] { return xenstored_.watch_count() == 1; }));
  SleepFor(1'000'000);
  EXPECT_EQ(bus_->size(), 0u);
  Attach("3", "2");
  Reach("3", XenbusState::kInitialised);
  xenstored_.Put(Backend("3") + "/state", "4");
  Reach("3", XenbusState::kConnected);
  EXPECT_EQ(added_, Strings{"device/vif/3"});
  EXPECT_EQ(log_, (Strings{"device/vif/3: setup", "device/vif/3: connected"}));
  EXPECT_TRUE(errors_.empty());
}

TEST_F(XenbusBusTest, ADeviceDetachedAsTheToolstackDoesIsTornDownAndGone) {
  Attach("0", "2");
  Attach("1", "2");
  StartBus();
  Reach("0", XenbusState::kInitialised);
  Reach("1", XenbusState::kInitialised);
  xenstored_.Put(Backend("0") + "/state", "4");
  Reach("0", XenbusState::kConnected);
  Detach("0");
  ASSERT_TRUE(RunUntil([&] { return bus_->Find("0") == nullptr; }));
  EXPECT_EQ(removed_, Strings{"device/vif/0"});
  EXPECT_EQ(log_, (Strings{"device/vif/0: setup", "device/vif/1: setup",
                           "device/vif/0: connected", "device/vif/0: teardown"}));
  // The frontend wrote nothing after the removal: its node stays gone.
  SleepFor(1'000'000);
  EXPECT_EQ(Node("device/vif/0/state"), std::nullopt);
  EXPECT_EQ(Node("device/vif/0"), std::nullopt);
  // The other device goes on; the id can come back.
  EXPECT_NE(bus_->Find("1"), nullptr);
  Attach("0", "2");
  Reach("0", XenbusState::kInitialised);
  EXPECT_EQ(added_, (Strings{"device/vif/0", "device/vif/1", "device/vif/0"}));
  EXPECT_TRUE(errors_.empty());
}

TEST_F(XenbusBusTest, ADeviceRemovedWhileConnectedIsTornDownWithoutWritingItsNode) {
  Attach("0", "2");
  StartBus();
  Reach("0", XenbusState::kInitialised);
  xenstored_.Put(Backend("0") + "/state", "4");
  Reach("0", XenbusState::kConnected);
  size_t writes = xenstored_.writes.size();
  xenstored_.Remove("device/vif/0");   // as a toolstack that gave up waiting does
  ASSERT_TRUE(RunUntil([&] { return !removed_.empty(); }));
  EXPECT_EQ(bus_->Find("0"), nullptr);
  EXPECT_EQ(log_.back(), "device/vif/0: teardown");
  EXPECT_EQ(xenstored_.writes.size(), writes);
  EXPECT_EQ(Node("device/vif/0"), std::nullopt);
}

TEST_F(XenbusBusTest, AnIncompleteDeviceIsReportedAndPickedUpOnceComplete) {
  StartBus();
  ASSERT_TRUE(RunUntil([&] { return xenstored_.watch_count() == 1; }));
  xenstored_.Put("device/vif/2/backend-id", "0");
  ASSERT_TRUE(RunUntil([&] { return !errors_.empty(); }));
  EXPECT_EQ(errors_.front().rfind("xenbus: device/vif/2 has no backend path", 0), 0u)
      << errors_.front();
  EXPECT_EQ(bus_->Find("2"), nullptr);
  xenstored_.Put(Backend("2") + "/state", "2");
  xenstored_.Put("device/vif/2/backend", Backend("2"));
  Reach("2", XenbusState::kInitialised);
  EXPECT_EQ(log_, Strings{"device/vif/2: setup"});
}

TEST_F(XenbusBusTest, DestroyingTheBusClosesEveryDevice) {
  Attach("0", "2");
  Attach("1", "2");
  StartBus();
  Reach("0", XenbusState::kInitialised);
  Reach("1", XenbusState::kInitialised);
  bus_.reset();
  EXPECT_EQ(Node("device/vif/0/state"), "6");
  EXPECT_EQ(Node("device/vif/1/state"), "6");
  EXPECT_EQ(log_, (Strings{"device/vif/0: setup", "device/vif/1: setup",
                           "device/vif/0: teardown", "device/vif/1: teardown"}));
  EXPECT_TRUE(removed_.empty());   // closed, not removed
  EXPECT_EQ(xenstored_.watch_count(), 0u);
}

}  // namespace
}  // namespace skiff
