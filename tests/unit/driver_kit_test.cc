// The driver kit together, as a frontend uses it: the xenbus handshake against the fake
// xenstored, a ring granted through the grant table and published with WriteFrontendKeys, a
// backend (the fake) that finds the ring through the grant entry and serves it, a feature
// read at Connected, requests matched to validated responses, a backend that misbehaves and
// leaves the device broken with a message while everything else goes on, and a reconnect
// that rebuilds the ring. The blkfront and netfront drivers follow this shape.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "runtime/xen/grant_table.h"
#include "runtime/xen/ring.h"
#include "runtime/xen/xenbus.h"
#include "tests/unit/fake_backend.h"
#include "tests/unit/fake_platform.h"
#include "tests/unit/fake_xenstored.h"

namespace skiff {
namespace {

using xen::XenbusDevice;
using xen::XenbusState;

struct EchoRequest {
  uint64_t id;
  uint32_t value;
  uint32_t pad;
};
struct EchoResponse {
  uint64_t id;
  int16_t status;   // 0 ok, -1 error
  uint16_t pad;
  uint32_t value;
};
using EchoRing = xen::FrontRing<EchoRequest, EchoResponse>;
using EchoBackend = FakeBackend<EchoRequest, EchoResponse>;

constexpr evtchn_port_t kStorePort = 5;
constexpr EvtchnPort kRingPort{9};
constexpr DomId kBackendDomain{0};
constexpr char kNode[] = "device/echo/0";
constexpr char kBackend[] = "/local/domain/0/backend/echo/3/0";

// What the guest's memory and grant table are to the driver; plain memory here. Pages get
// small made-up frame numbers, as a v1 grant names frames in 32 bits.
struct Machine {
  static constexpr uint32_t kPerFrame = xen::GrantTable::kEntriesPerFrame;
  std::unique_ptr<grant_entry_v1_t[]> entries{new grant_entry_v1_t[kPerFrame]()};
  xen::GrantTable grants{[](void* self, uint32_t index) {
                           return index == 0 ? static_cast<Machine*>(self)->entries.get()
                                             : nullptr;
                         },
                         this, 1};
  std::map<uint64_t, void*> frames;   // by gfn

  Gfn Add(void* page) {
    Gfn gfn{0x1000 + frames.size()};
    frames[gfn.value] = page;
    return gfn;
  }
  grant_entry_v1_t& entry(GrantRef ref) { return entries[ref.value]; }
};

// The frontend: Setup grants a one-page ring and publishes it; Connected reads the backend's
// feature; Call sends a request from a task and waits for its answer; every response is
// checked against the ids in flight, and a bad one breaks the device for good.
class EchoFront : public xen::XenbusDriver {
 public:
  EchoFront(xen::XenstoreClient& store, Machine& machine, FakePlatform& platform)
      : store_(store), machine_(machine), platform_(platform) {}

  Result<void> Setup(const XenbusDevice& device) override {
    page_.reset(aligned_alloc(xen::kRingPageSize, xen::kRingPageSize));
    ring_.emplace(TRY(EchoRing::Init(page_.get(), 0, "echo " + device.id)));
    ref_ = TRY(machine_.grants.Offer(device.backend_id, machine_.Add(page_.get()), false));
    platform_.ports.SetHandler(kRingPort, [this] { OnEvent(); });
    std::pair<std::string, std::string> keys[] = {
        {"ring-ref", std::to_string(ref_.value)},
        {"event-channel", std::to_string(kRingPort.value)}};
    return xen::WriteFrontendKeys(store_, device, keys);
  }

  Result<void> Connected(const XenbusDevice& device) override {
    doubles_ = TRY(xen::ReadBackendFeature(store_, device, "feature-double"));
    return {};
  }

  void Teardown(const XenbusDevice&) override {
    platform_.ports.ClearHandler(kRingPort);
    FailAll(MakeError(ENODEV, "echo: the backend went away"));
    ring_.reset();
    EXPECT_TRUE(machine_.grants.End(ref_).ok()) << "the ring's grant ends";
    page_.reset();
  }

  Result<uint32_t> Call(uint32_t value) {
    if (!ring_) return MakeError(ENODEV, "echo: not connected");
    uint64_t id = next_id_++;
    TRY(ring_->Enqueue({id, value, 0}));
    Waiter& waiter = in_flight_[id];
    if (TRY(ring_->Push())) kick();
    while (!waiter.answer) waiter.done.Wait();
    Result<uint32_t> answer = std::move(*waiter.answer);
    in_flight_.erase(id);
    return answer;
  }

  bool doubles() const { return doubles_; }
  const EchoRing* ring() const { return ring_ ? &*ring_ : nullptr; }
  std::function<void()> kick;   // the event channel send to the backend

 private:
  struct Waiter {
    std::optional<Result<uint32_t>> answer;
    Event done;
  };

  // The ring's event handler (event-loop context).
  void OnEvent() {
    if (!ring_) return;
    do {
      while (std::optional<EchoResponse> rsp = ring_->Next()) Complete(*rsp);
    } while (ring_->FinalCheckForResponses());
    if (ring_->broken()) {
      fprintf(stderr, "%s; the device is broken\n", ring_->error().message.c_str());
      FailAll(MakeError(EIO, "%s", ring_->error().message.c_str()));
    }
  }

  void Complete(const EchoResponse& rsp) {
    auto it = in_flight_.find(rsp.id);
    if (it == in_flight_.end() || it->second.answer) {
      return ring_->MarkBroken(MakeError(EPROTO, "%s: response for id %llu, which is not in "
                                         "flight", ring_->name().c_str(),
                                         static_cast<unsigned long long>(rsp.id)));
    }
    if (rsp.status != 0 && rsp.status != -1) {
      return ring_->MarkBroken(MakeError(EPROTO, "%s: response status %d is not 0 or -1",
                                         ring_->name().c_str(), rsp.status));
    }
    it->second.answer = rsp.status == 0 ? Result<uint32_t>(rsp.value)
                                        : Result<uint32_t>(MakeError(EIO, "echo: failed"));
    it->second.done.Signal();
  }

  void FailAll(const Error& error) {
    for (auto& [id, waiter] : in_flight_) {
      if (waiter.answer) continue;
      waiter.answer = error;
      waiter.done.Signal();
    }
  }

  struct FreePage {
    void operator()(void* page) const { free(page); }
  };

  xen::XenstoreClient& store_;
  Machine& machine_;
  FakePlatform& platform_;
  std::unique_ptr<void, FreePage> page_;
  std::optional<EchoRing> ring_;
  GrantRef ref_;
  bool doubles_ = false;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Waiter> in_flight_;
};

class DriverKitTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    platform_.ports.SetHandler(EvtchnPort{kStorePort}, [this] { client_->OnEvent(); });
    xenstored_.Put(std::string(kNode) + "/backend", kBackend);
    xenstored_.Put(std::string(kNode) + "/backend-id", "0");
    xenstored_.Put(std::string(kBackend) + "/feature-double", "1");
    driver_.kick = [this] { backend_->Kick(); };
  }
  void TearDown() override {
    frontend_.reset();
    backend_.reset();
    client_.reset();
    xenstored_.Stop();
    SchedulerTest::TearDown();
  }

  // The backend's side of a connection, as blkback's is: waits for the frontend, maps the
  // ring its grant names (checking that the grant is for it), and connects.
  void BackendConnects() {
    BackendMoves("2", XenbusState::kInitialised);
    const std::string ref_text = xenstored_.nodes[std::string(kNode) + "/ring-ref"].value;
    ASSERT_EQ(xenstored_.nodes[std::string(kNode) + "/event-channel"].value, "9");
    grant_entry_v1_t& entry =
        machine_.entry(GrantRef{static_cast<uint32_t>(std::stoul(ref_text))});
    ASSERT_EQ(entry.flags, GTF_permit_access);
    ASSERT_EQ(entry.domid, kBackendDomain.value);
    void* page = machine_.frames.at(entry.frame);
    backend_ = std::make_unique<EchoBackend>(&platform_, kRingPort, page, 0,
                                             [](const EchoRequest& request) {
                                               return EchoResponse{request.id, 0, 0,
                                                                   request.value * 2};
                                             });
    BackendMoves("4", XenbusState::kConnected);
  }

  void BackendMoves(const char* state, XenbusState answer) {
    xenstored_.Put(std::string(kBackend) + "/state", state);
    Result<void> reached = frontend_->WaitFor(answer, Now() + 1'000'000'000);
    ASSERT_TRUE(reached.ok()) << reached.error().message;
  }

  void Start() {
    xenstored_.Put(std::string(kBackend) + "/state", "1");
    frontend_.emplace(*client_, XenbusDevice{"echo", "0", kNode, kBackend, kBackendDomain},
                      driver_);
    ASSERT_TRUE(frontend_->Start().ok());
  }

  FakeXenstored xenstored_{&platform_, kStorePort};
  std::optional<xen::XenstoreClient> client_{std::in_place, xenstored_.ClientRing()};
  Machine machine_;
  EchoFront driver_{*client_, machine_, platform_};
  std::unique_ptr<EchoBackend> backend_;
  std::optional<xen::XenbusFrontend> frontend_;
};

TEST_F(DriverKitTest, AFrontendConnectsAndItsRequestsAreAnswered) {
  Start();
  BackendConnects();
  EXPECT_TRUE(driver_.doubles());
  for (uint32_t i = 0; i < 100; i++) {
    Result<uint32_t> answer = driver_.Call(i);
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    EXPECT_EQ(*answer, 2 * i);
  }
  EXPECT_EQ(backend_->requests, 100u);
  // Each call waits for its answer, so the backend has gone to sleep before the next push:
  // every push asks for a notification, and each reaches the backend.
  EXPECT_EQ(driver_.ring()->stats().notifies, 100u);
  EXPECT_EQ(backend_->kicks, 100u);
}

TEST_F(DriverKitTest, AMisbehavingBackendBreaksTheDeviceAndNothingElse) {
  Start();
  BackendConnects();
  ASSERT_TRUE(driver_.Call(1).ok());
  backend_->wrong_id = 1;
  Result<uint32_t> answer = driver_.Call(2);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code, EIO);
  EXPECT_NE(answer.error().message.find("echo 0: response for id"), std::string::npos)
      << answer.error().message;
  EXPECT_TRUE(driver_.ring()->broken());
  Result<uint32_t> later = driver_.Call(3);
  ASSERT_FALSE(later.ok()) << "broken for good";
  EXPECT_NE(later.error().message.find("which is not in flight"), std::string::npos);
  Result<std::string> store = client_->Read(std::string(kNode) + "/ring-ref");
  EXPECT_TRUE(store.ok()) << "the rest (here xenstore) goes on";
}

TEST_F(DriverKitTest, ABackendThatGoesAndComesBackGetsANewRing) {
  Start();
  BackendConnects();
  ASSERT_TRUE(driver_.Call(5).ok());
  BackendMoves("5", XenbusState::kClosed);   // the grant ends: the fake backend maps nothing
  EXPECT_EQ(driver_.ring(), nullptr);
  EXPECT_FALSE(driver_.Call(6).ok());
  backend_.reset();
  BackendConnects();
  Result<uint32_t> answer = driver_.Call(7);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(*answer, 14u);
}

}  // namespace
}  // namespace skiff
