// blkfront against a fake blkback: the xenbus handshake through the fake xenstored, requests
// served from the ring through the grant table into a disk in memory, every feature
// combination the backend may offer, hostile responses, and a backend that goes away with
// requests in flight and comes back.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "drivers/blkfront/blkfront.h"
#include "runtime/xen/grant_table.h"
#include "runtime/xen/xenbus.h"
#include "tests/unit/fake_backend.h"
#include "tests/unit/fake_machine.h"
#include "tests/unit/fake_platform.h"
#include "tests/unit/fake_xenstored.h"

namespace skiff {
namespace {

using blk::kPageSize;
using xen::XenbusDevice;
using xen::XenbusState;

constexpr evtchn_port_t kStorePort = 5;
constexpr DomId kBackendDomain{0};
constexpr char kNode[] = "device/vbd/51712";
constexpr char kBackend[] = "/local/domain/0/backend/vbd/3/51712";
using BlkBackend = FakeBackend<blkif_request_t, blkif_response_t>;

// What the backend offers.
struct Offer {
  unsigned max_ring_order = 0;
  bool indirect = false;
  bool persistent = false;
  bool flush = false;
  bool barrier = false;
  bool discard = false;
  uint32_t sector_size = 512;
  bool read_only = false;
};

std::string Name(const Offer& o) {
  return std::string("order") + std::to_string(o.max_ring_order) + (o.indirect ? "_indirect" : "") +
         (o.persistent ? "_persistent" : "") + (o.flush ? "_flush" : "") + (o.barrier ? "_barrier" : "") +
         (o.discard ? "_discard" : "") + "_" + std::to_string(o.sector_size);
}

class BlkfrontTest : public SchedulerTest {
 protected:
  static constexpr uint64_t kDiskBytes = 8 << 20;

  void SetUp() override {
    SchedulerTest::SetUp();
    platform_.ports.SetHandler(EvtchnPort{kStorePort}, [this] { client_->OnEvent(); });
    xenstored_.Put(std::string(kNode) + "/backend", kBackend);
    xenstored_.Put(std::string(kNode) + "/backend-id", "0");
    machine_.kick = [this] {
      if (backend_) backend_->Kick();
    };
    disk_.resize(kDiskBytes);
    for (size_t i = 0; i < disk_.size(); i++) disk_[i] = static_cast<uint8_t>(i * 7 + i / 4096);
  }
  void TearDown() override {
    frontend_.reset();
    driver_.reset();
    backend_.reset();
    registry_.reset();
    EXPECT_EQ(machine_.granted(), 0u) << "every grant ended";
    EXPECT_EQ(machine_.pages_in_use, 0u) << "every page freed";
    EXPECT_EQ(machine_.open_ports, 0);
    client_.reset();
    xenstored_.Stop();
    SchedulerTest::TearDown();
  }

  void Put(const std::string& key, const std::string& value) {
    xenstored_.Put(std::string(kBackend) + "/" + key, value);
  }
  std::string FrontKey(const std::string& key) {
    auto it = xenstored_.nodes.find(std::string(kNode) + "/" + key);
    return it == xenstored_.nodes.end() ? "" : it->second.value;
  }

  void Advertise(const Offer& o) {
    offer_ = o;
    if (o.max_ring_order > 0) Put("max-ring-page-order", std::to_string(o.max_ring_order));
    Put("sectors", std::to_string(kDiskBytes / 512));
    Put("sector-size", std::to_string(o.sector_size));
    Put("info", o.read_only ? "4" : "0");
    Put("mode", o.read_only ? "r" : "w");
    Put("feature-flush-cache", o.flush ? "1" : "0");
    if (o.barrier) Put("feature-barrier", "1");
    Put("feature-persistent", o.persistent ? "1" : "0");
    if (o.indirect) Put("feature-max-indirect-segments", "256");
    if (o.discard) {
      Put("feature-discard", "1");
      Put("discard-granularity", "65536");
      Put("discard-alignment", "0");
    }
  }

  // Starts the frontend through the registry, as the guest's XenbusBus does.
  void Start(const Offer& o) {
    Advertise(o);
    Put("state", "2");   // InitWait: blkback's probe is done
    registry_.emplace(machine_, *client_, options_);
    driver_ = registry_->MakeDriver(device_);
    ASSERT_NE(driver_, nullptr);
    frontend_.emplace(*client_, device_, *driver_);
    ASSERT_TRUE(frontend_->Start().ok());
    Result<void> ready = frontend_->WaitFor(XenbusState::kInitialised, Now() + 1'000'000'000);
    ASSERT_TRUE(ready.ok()) << ready.error().message;
    Connect();
    disk = registry_->Find("xvda");
    ASSERT_NE(disk, nullptr);
  }

  // The backend maps the ring the frontend published and connects.
  void Connect() {
    unsigned order = 0;
    std::vector<uint32_t> refs;
    if (FrontKey("ring-page-order").empty()) {
      refs.push_back(std::stoul(FrontKey("ring-ref")));
    } else {
      order = std::stoul(FrontKey("ring-page-order"));
      EXPECT_TRUE(FrontKey("ring-ref").empty());
      for (unsigned i = 0; i < (1u << order); i++) {
        refs.push_back(std::stoul(FrontKey("ring-ref" + std::to_string(i))));
      }
    }
    ASSERT_LE(order, offer_.max_ring_order);
    EXPECT_EQ(FrontKey("protocol"), "x86_64-abi");
    EXPECT_EQ(FrontKey("feature-persistent"), "1");
    char* ring = machine_.Map(refs[0], true);
    for (size_t i = 1; i < refs.size(); i++) {
      ASSERT_EQ(machine_.Map(refs[i], true), ring + i * kPageSize) << "contiguous ring pages";
    }
    EvtchnPort port{static_cast<uint32_t>(std::stoul(FrontKey("event-channel")))};
    backend_ = std::make_unique<BlkBackend>(&platform_, port, ring, order,
                                            [this](const blkif_request_t& r) { return Serve(r); });
    Put("state", "4");
    Result<void> up = frontend_->WaitFor(XenbusState::kConnected, Now() + 1'000'000'000);
    ASSERT_TRUE(up.ok()) << up.error().message;
  }

  void Disconnect() {
    backend_->stalled = true;   // unmaps the ring: touches it no more
    Put("state", "5");
    Result<void> closed = frontend_->WaitFor(XenbusState::kClosed, Now() + 1'000'000'000);
    ASSERT_TRUE(closed.ok()) << closed.error().message;
    backend_.reset();
  }

  void Reconnect() {
    Put("state", "2");
    Result<void> ready = frontend_->WaitFor(XenbusState::kInitialised, Now() + 1'000'000'000);
    ASSERT_TRUE(ready.ok()) << ready.error().message;
    Connect();
  }

  // blkback's side of one request: segments through grants, into and out of disk_.
  blkif_response_t Serve(const blkif_request_t& r) {
    blkif_response_t rsp = {};
    rsp.id = r.id;
    rsp.operation = r.operation;
    served_ops.push_back(r.operation);
    uint8_t op = r.operation;
    std::vector<blkif_request_segment> segs;
    if (op == BLKIF_OP_INDIRECT) {
      blkif_request_indirect_t ind;
      memcpy(&ind, &r, sizeof(ind));
      EXPECT_TRUE(offer_.indirect) << "indirect request without the feature";
      EXPECT_LE(ind.nr_segments, 256);
      op = ind.indirect_op;
      for (uint32_t i = 0; i < ind.nr_segments; i++) {
        char* page = machine_.Map(ind.indirect_grefs[i / blk::kSegmentsPerIndirectPage], false);
        blkif_request_segment seg;
        memcpy(&seg, page + (i % blk::kSegmentsPerIndirectPage) * sizeof(seg), sizeof(seg));
        segs.push_back(seg);
      }
      max_segments = std::max<size_t>(max_segments, ind.nr_segments);
    } else if (op == BLKIF_OP_READ || op == BLKIF_OP_WRITE) {
      EXPECT_LE(r.nr_segments, 11);
      segs.assign(r.seg, r.seg + r.nr_segments);
      max_segments = std::max<size_t>(max_segments, r.nr_segments);
    }
    if (op == BLKIF_OP_FLUSH_DISKCACHE || op == BLKIF_OP_WRITE_BARRIER) {
      flushes++;
      bool offered = op == BLKIF_OP_FLUSH_DISKCACHE ? offer_.flush : offer_.barrier;
      EXPECT_TRUE(offered) << blk::OpName(op) << " without the feature";
      if (op == BLKIF_OP_WRITE_BARRIER) {
        EXPECT_FALSE(offer_.flush) << "flush-cache comes first";
      }
      rsp.status = offered ? BLKIF_RSP_OKAY : BLKIF_RSP_EOPNOTSUPP;
      return rsp;
    }
    if (op == BLKIF_OP_DISCARD) {
      blkif_request_discard_t d;
      memcpy(&d, &r, sizeof(d));
      discarded.push_back({d.sector_number * 512, d.nr_sectors * 512});
      rsp.status = BLKIF_RSP_OKAY;
      return rsp;
    }
    uint64_t at = r.sector_number * 512;
    EXPECT_EQ(at % offer_.sector_size, 0u);
    for (const blkif_request_segment& seg : segs) {
      EXPECT_LE(seg.first_sect, seg.last_sect);
      EXPECT_LE(seg.last_sect, 7);
      uint32_t bytes = (seg.last_sect - seg.first_sect + 1) * 512;
      EXPECT_EQ(bytes % offer_.sector_size, 0u);
      if (at + bytes > disk_.size()) {
        rsp.status = BLKIF_RSP_ERROR;
        return rsp;
      }
      char* page = machine_.Map(seg.gref, op == BLKIF_OP_READ);
      if (page == nullptr) {
        rsp.status = BLKIF_RSP_ERROR;
        return rsp;
      }
      if (op == BLKIF_OP_READ) {
        memcpy(page + seg.first_sect * 512, &disk_[at], bytes);
      } else {
        memcpy(&disk_[at], page + seg.first_sect * 512, bytes);
      }
      at += bytes;
    }
    rsp.status = BLKIF_RSP_OKAY;
    if (garble_) garble_(rsp);
    return rsp;
  }

  std::function<void(blkif_response_t&)> garble_;
  FakeXenstored xenstored_{&platform_, kStorePort};
  std::optional<xen::XenstoreClient> client_{std::in_place, xenstored_.ClientRing()};
  FakeMachine machine_{platform_, kBackendDomain};
  blk::Options options_;
  XenbusDevice device_{"vbd", "51712", kNode, kBackend, kBackendDomain};
  std::optional<blk::Registry> registry_;
  std::unique_ptr<xen::XenbusDriver> driver_;
  std::optional<xen::XenbusFrontend> frontend_;
  std::unique_ptr<BlkBackend> backend_;
  std::vector<uint8_t> disk_;
  Offer offer_;
  blk::Device* disk = nullptr;
  std::vector<uint8_t> served_ops;
  size_t max_segments = 0;
  int flushes = 0;
  std::vector<std::pair<uint64_t, uint64_t>> discarded;
};

std::vector<uint8_t> Pattern(size_t n, unsigned seed) {
  std::vector<uint8_t> v(n);
  std::mt19937 rng(seed);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

class BlkfrontFeatures : public BlkfrontTest, public ::testing::WithParamInterface<Offer> {};

TEST_P(BlkfrontFeatures, WritesAndReadsBackEverySizeAndScatterList) {
  const Offer o = GetParam();
  Start(o);
  BlockInfo info = disk->info();
  EXPECT_EQ(info.size, kDiskBytes);
  EXPECT_EQ(info.sector_size, o.sector_size);
  EXPECT_EQ(info.features.indirect_segments, o.indirect ? 256u : 0u);
  EXPECT_EQ(info.features.persistent, o.persistent);
  EXPECT_EQ(info.features.ring_pages, o.max_ring_order > 0 ? 2u : 1u) << "two pages at most by default";
  EXPECT_EQ(info.features.flush, o.flush);
  EXPECT_EQ(info.features.discard, o.discard);
  const size_t ss = o.sector_size;
  for (size_t bytes : {ss, 4096ul, 11 * 4096ul, 12 * 4096ul, 256 * 1024ul, 1024 * 1024ul,
                       1024 * 1024ul + 2 * 4096ul}) {
    std::vector<uint8_t> data = Pattern(bytes, static_cast<unsigned>(bytes));
    uint64_t offset = 3 * 1024 * 1024 + ss;   // not page aligned on the disk for 512
    ASSERT_TRUE(disk->Write(offset, data.data(), bytes).ok());
    EXPECT_EQ(0, memcmp(&disk_[offset], data.data(), bytes)) << bytes;
    // Read back into an odd scatter list: three buffers at odd addresses.
    std::vector<uint8_t> a(bytes / 3 + 1), b(bytes / 3), c(bytes - a.size() - b.size() + 7);
    BlockBuffer list[] = {{a.data(), a.size()}, {b.data() + 0, b.size()},
                          {c.data() + 7, c.size() - 7}};
    Result<void> read = disk->Readv(offset, list);
    ASSERT_TRUE(read.ok()) << read.error().message;
    std::vector<uint8_t> joined(a);
    joined.insert(joined.end(), b.begin(), b.end());
    joined.insert(joined.end(), c.begin() + 7, c.end());
    EXPECT_EQ(joined, data) << bytes;
  }
  if (o.indirect) {
    EXPECT_EQ(max_segments, 256u) << "1 MiB went as one indirect request";
  } else {
    EXPECT_LE(max_segments, 11u);
  }
  Result<void> flushed = disk->Flush();
  EXPECT_TRUE(flushed.ok()) << flushed.error().message;
  EXPECT_EQ(flushes, o.flush || o.barrier ? 1 : 0) << "without a cache the disk writes through";
  EXPECT_EQ(info.features.barrier, o.barrier && !o.flush);
  Result<void> discarded_ok = disk->Discard(65536 - ss, 3 * 65536);
  if (o.discard) {
    ASSERT_TRUE(discarded_ok.ok()) << discarded_ok.error().message;
    ASSERT_EQ(discarded.size(), 1u);
    EXPECT_EQ(discarded[0].first, 65536u) << "shrunk to whole granules";
    EXPECT_EQ(discarded[0].second, 2 * 65536u);
  } else {
    EXPECT_EQ(discarded_ok.error().code, EOPNOTSUPP);
  }
}

// Every combination of what a backend may offer, with 512- and 4096-byte sectors.
std::vector<Offer> EveryOffer() {
  std::vector<Offer> offers;
  for (unsigned bits = 0; bits < 128; bits++) {
    Offer o;
    o.max_ring_order = bits & 1 ? 2 : 0;
    o.indirect = bits & 2;
    o.persistent = bits & 4;
    o.flush = bits & 8;
    o.barrier = bits & 16;
    o.discard = bits & 32;
    o.sector_size = bits & 64 ? 4096 : 512;
    offers.push_back(o);
  }
  return offers;
}

INSTANTIATE_TEST_SUITE_P(Offers, BlkfrontFeatures, ::testing::ValuesIn(EveryOffer()),
                         [](const ::testing::TestParamInfo<Offer>& info) {
                           return Name(info.param);
                         });

TEST_F(BlkfrontTest, ManyRequestsInFlightFromOneTask) {
  Start({.indirect = true, .persistent = true});
  constexpr int kCount = 64;   // twice the ring
  std::vector<std::vector<uint8_t>> bufs(kCount, std::vector<uint8_t>(4096));
  std::vector<BlockRequest> reqs(kCount);
  for (int i = 0; i < kCount; i++) {
    ASSERT_TRUE(disk->StartRead(reqs[i], uint64_t(i) * 8192, {{bufs[i].data(), 4096}}).ok());
  }
  EXPECT_GE(disk->stats().in_flight, 1u);
  for (int i = 0; i < kCount; i++) {
    ASSERT_TRUE(reqs[i].Wait().ok());
    EXPECT_EQ(0, memcmp(bufs[i].data(), &disk_[i * 8192], 4096)) << i;
  }
  EXPECT_GE(disk->stats().ring_full, 1u) << "the ring filled and the rest waited";
}

TEST_F(BlkfrontTest, BadRangesAndAlignmentAreClearErrorsAndNothingIsSent) {
  Start({});
  char buf[1024];
  Result<void> r = disk->Read(kDiskBytes - 512, buf, 1024);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, EINVAL);
  EXPECT_NE(r.error().message.find("past the end of the disk"), std::string::npos)
      << r.error().message;
  r = disk->Read(100, buf, 512);
  EXPECT_EQ(r.error().code, EINVAL);
  EXPECT_NE(r.error().message.find("whole 512-byte sectors"), std::string::npos);
  r = disk->Read(0, buf, 1000);
  EXPECT_EQ(r.error().code, EINVAL);
  EXPECT_EQ(backend_->requests, 0u);
  EXPECT_TRUE(disk->Read(kDiskBytes - 1024, buf, 1024).ok()) << "the last sectors";
}

TEST_F(BlkfrontTest, AReadOnlyDiskRefusesWritesWithEROFS) {
  Start({.read_only = true});
  EXPECT_TRUE(disk->info().read_only);
  char buf[512] = {};
  Result<void> w = disk->Write(0, buf, 512);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, EROFS);
  EXPECT_NE(w.error().message.find("xvda is read-only"), std::string::npos);
  EXPECT_TRUE(disk->Read(0, buf, 512).ok());
}

TEST_F(BlkfrontTest, BackendErrorStatusFailsOnlyThatRequest) {
  Start({});
  char buf[512];
  // A read the backend fails (past its own, smaller disk).
  disk_.resize(kDiskBytes - 4096);
  Result<void> r = disk->Read(kDiskBytes - 512, buf, 512);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, EIO);
  EXPECT_NE(r.error().message.find("the backend failed a read"), std::string::npos);
  EXPECT_FALSE(disk->info().broken);
  EXPECT_TRUE(disk->Read(0, buf, 512).ok());
}

struct Hostile {
  const char* name;
  void (*arm)(BlkBackend&);
  const char* message;
  bool wrong_operation = false;   // answers the held request with another operation
};

class BlkfrontHostile : public BlkfrontTest, public ::testing::WithParamInterface<Hostile> {};

TEST_P(BlkfrontHostile, BreaksTheDiskWithAMessageAndTheGuestGoesOn) {
  Start({.indirect = true, .persistent = true});
  char buf[4096];
  ASSERT_TRUE(disk->Read(0, buf, 4096).ok());
  GetParam().arm(*backend_);
  BlockRequest a;
  Result<void> ra = disk->StartRead(a, 0, {{buf, 4096}});
  if (ra.ok() && GetParam().wrong_operation) {
    while (backend_->unanswered() == 0) Yield();
    blkif_response_t rsp = {};
    rsp.id = backend_->unanswered_requests().front().id;
    rsp.operation = BLKIF_OP_DISCARD;
    backend_->Inject(rsp);
  }
  if (ra.ok()) ra = a.Wait();
  ASSERT_FALSE(ra.ok());
  EXPECT_EQ(ra.error().code, EIO);
  EXPECT_NE(ra.error().message.find(GetParam().message), std::string::npos) << ra.error().message;
  EXPECT_TRUE(disk->info().broken);
  EXPECT_NE(machine_.reports.find("the disk is broken"), std::string::npos) << machine_.reports;
  Result<void> later = disk->Read(0, buf, 512);
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error().code, EIO);
  EXPECT_TRUE(client_->Read(std::string(kNode) + "/ring-ref").ok()) << "xenstore goes on";
  // A reconnection heals it.
  Disconnect();
  Reconnect();
  EXPECT_FALSE(disk->info().broken);
  EXPECT_TRUE(disk->Read(0, buf, 512).ok());
}

INSTANTIATE_TEST_SUITE_P(
    Faults, BlkfrontHostile,
    ::testing::Values(
        Hostile{"WrongId", [](BlkBackend& b) { b.wrong_id = 1; }, "which is not in flight"},
        Hostile{"Duplicate", [](BlkBackend& b) { b.duplicate = 1; }, "announces 2 responses"},
        Hostile{"BadStatus", [](BlkBackend& b) { b.bad_status = 1; }, "has status -32768"},
        Hostile{"ProducerRunsAhead", [](BlkBackend& b) { b.JumpProducer(1000); },
                "rsp_prod"},
        Hostile{"WrongOperation", [](BlkBackend& b) { b.hold = true; },
                "says operation 5 (discard)", true}),
    [](const ::testing::TestParamInfo<Hostile>& info) { return std::string(info.param.name); });

// A backend that answers with random bytes now and then: each request ends (done, or failed
// with EIO once the disk is broken), nothing crashes, and a reconnection heals the disk.
TEST_F(BlkfrontTest, RandomHostileResponsesNeverCrashOrHang) {
  Start({.indirect = true, .persistent = true});
  std::mt19937 rng(1234);
  garble_ = [&rng](blkif_response_t& rsp) {
    switch (rng() % 12) {
      case 0: rsp.id = rng() % 80; break;                    // often an id in the ring's range
      case 1: rsp.operation = static_cast<uint8_t>(rng()); break;
      case 2: rsp.status = static_cast<int16_t>(rng()); break;
      case 3: memset(&rsp, static_cast<int>(rng()), sizeof(rsp)); break;
      default: break;                                         // an honest answer
    }
  };
  std::vector<uint8_t> buf(256 * 1024);
  int broken = 0, done = 0;
  for (int round = 0; round < 60; round++) {
    std::vector<BlockRequest> reqs(8);
    for (int i = 0; i < 8; i++) {
      size_t n = 512 * (1 + rng() % 64);
      uint64_t at = 512 * (rng() % (kDiskBytes / 512 - 64));
      (void)(i % 2 ? disk->StartRead(reqs[i], at, {{buf.data() + i * 32768, n}})
                   : disk->StartWrite(reqs[i], at, {{buf.data() + i * 32768, n}}));
    }
    if (rng() % 10 == 0) backend_->JumpProducer(rng() % 100);
    for (auto& r : reqs) {
      (void)r.Wait();
      done++;
    }
    if (disk->info().broken) {
      broken++;
      Disconnect();
      Reconnect();
      ASSERT_FALSE(disk->info().broken) << "a reconnection heals the disk";
    }
  }
  EXPECT_EQ(done, 60 * 8);
  EXPECT_GT(broken, 5) << "the garbling broke the disk now and then";
  garble_ = nullptr;
  char sector[512];
  EXPECT_TRUE(disk->Read(0, sector, 512).ok());
}

TEST_F(BlkfrontTest, ABackendThatClosesWithRequestsInFlightGetsThemAgainNoneTwice) {
  Start({.indirect = true, .persistent = true});
  backend_->hold = true;   // takes requests, answers none
  constexpr int kCount = 20;
  std::vector<std::vector<uint8_t>> data;
  std::vector<BlockRequest> reqs(kCount);
  for (int i = 0; i < kCount; i++) {
    data.push_back(Pattern(65536, i));
    ASSERT_TRUE(disk->StartWrite(reqs[i], uint64_t(i) * 65536, {{data[i].data(), 65536}}).ok());
  }
  while (backend_->unanswered() < kCount) Yield();
  Disconnect();   // the held requests are never answered by this backend
  for (auto& r : reqs) EXPECT_FALSE(r.done()) << "they wait for the backend";
  EXPECT_NE(machine_.reports.find("the backend went away; 20 requests wait"), std::string::npos)
      << machine_.reports;
  served_ops.clear();
  Reconnect();
  for (int i = 0; i < kCount; i++) {
    Result<void> r = reqs[i].Wait();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(0, memcmp(&disk_[i * 65536], data[i].data(), 65536)) << i;
  }
  EXPECT_EQ(served_ops.size(), size_t{kCount}) << "each sent again once";
  EXPECT_EQ(disk->stats().reissued, uint64_t{kCount});
}

TEST_F(BlkfrontTest, RequestsWaitingForABackendThatNeverReturnsFailWithEIO) {
  options_.orphan_timeout_ns = 2'000'000'000;
  Start({});
  Disconnect();
  char buf[512];
  BlockRequest r;
  ASSERT_TRUE(disk->StartRead(r, 0, {{buf, 512}}).ok());
  Result<void> result = r.Wait();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, EIO);
  EXPECT_NE(result.error().message.find("did not come back within 2 s"), std::string::npos)
      << result.error().message;
}

TEST_F(BlkfrontTest, GrantsAndMemoryReturnToWhereTheyStartedAfter100kRequests) {
  for (bool persistent : {false, true}) {
    SCOPED_TRACE(persistent);
    Start({.indirect = true, .persistent = persistent});
    size_t grants_at_rest = machine_.granted();
    size_t pages_at_rest = machine_.pages_in_use;
    std::vector<uint8_t> buf(8192);
    std::vector<BlockRequest> reqs(16);
    for (int i = 0; i < 100000; i += 16) {
      for (int j = 0; j < 16; j++) {
        uint64_t at = (uint64_t(i + j) * 4096 * 13) % (kDiskBytes - 8192);
        at -= at % 512;
        ASSERT_TRUE(((i + j) % 2 ? disk->StartRead(reqs[j], at, {{buf.data(), size_t(4096 + 512 * (j % 8))}})
                                 : disk->StartWrite(reqs[j], at, {{buf.data(), 4096}}))
                        .ok());
      }
      for (auto& r : reqs) ASSERT_TRUE(r.Wait().ok());
    }
    if (!persistent) {
      EXPECT_EQ(machine_.granted(), grants_at_rest) << "per-request grants all ended";
    }
    BlockStats s = disk->stats();
    EXPECT_EQ(s.in_flight, 0u);
    EXPECT_LE(machine_.pages_in_use - pages_at_rest, 64u) << "the pool stays small for 4K I/O";
    frontend_.reset();
    driver_.reset();
    backend_.reset();
    registry_.reset();
    EXPECT_EQ(machine_.granted(), 0u);
    EXPECT_EQ(machine_.pages_in_use, 0u);
  }
}

TEST_F(BlkfrontTest, DiskNamesFollowLinux) {
  EXPECT_EQ(blk::DiskName(51712), "xvda");
  EXPECT_EQ(blk::DiskName(51728), "xvdb");
  EXPECT_EQ(blk::DiskName(51713), "xvda1");
  EXPECT_EQ(blk::DiskName(768), "xvda");                    // hda
  EXPECT_EQ(blk::DiskName(2048), "xvde");                   // sda
  EXPECT_EQ(blk::DiskName((1u << 28) | (26 << 8)), "xvdaa");
  EXPECT_EQ(blk::DiskName(12345), std::nullopt);
}

TEST_F(BlkfrontTest, DiscardRangesShrinkToWholeGranules) {
  using blk::DiscardableRange;
  auto r = DiscardableRange(0, 4096, 0, 0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->length, 4096u);
  EXPECT_FALSE(DiscardableRange(512, 4096, 65536, 0));
  r = DiscardableRange(1000, 200000, 65536, 4096);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 4096u);
  EXPECT_EQ(r->length, 3 * 65536u);
}

}  // namespace
}  // namespace skiff
