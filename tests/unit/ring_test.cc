#include "runtime/xen/ring.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <memory>
#include <random>

#include "runtime/xen/xen.h"
#include "tests/unit/fake_backend.h"
#include "tests/unit/fake_platform.h"

extern "C" {
#include <xen/io/blkif.h>
#include <xen/io/netif.h>
}

namespace skiff::xen {
namespace {

using BlkRing = FrontRing<blkif_request_t, blkif_response_t>;

// The layout matches what DEFINE_RING_TYPES produces. [xen/io/ring.h, xen/io/blkif.h]
static_assert(offsetof(blkif_sring, req_prod) == offsetof(SharedRingHeader, req_prod));
static_assert(offsetof(blkif_sring, req_event) == offsetof(SharedRingHeader, req_event));
static_assert(offsetof(blkif_sring, rsp_prod) == offsetof(SharedRingHeader, rsp_prod));
static_assert(offsetof(blkif_sring, rsp_event) == offsetof(SharedRingHeader, rsp_event));
static_assert(offsetof(blkif_sring, ring) == sizeof(SharedRingHeader));
static_assert(sizeof(blkif_sring_entry) == sizeof(BlkRing::Entry));
static_assert(sizeof(netif_tx_sring_entry) == sizeof(RingEntry<netif_tx_request_t,
                                                                netif_tx_response_t>));
static_assert(BlkRing::Slots(0) == 32);

// A request and response as simple as a driver's: an id to match them and a status.
struct TestRequest {
  uint64_t id;
  uint32_t value;
  uint32_t pad;
};
struct TestResponse {
  uint64_t id;
  int16_t status;   // 0 ok, -1 error, -2 unsupported, as blkif's
  uint16_t pad;
  uint32_t value;   // the request's value times two
};
using TestRing = FrontRing<TestRequest, TestResponse>;
using TestBackend = FakeBackend<TestRequest, TestResponse>;

constexpr EvtchnPort kPort{5};

TestResponse Double(const TestRequest& request) {
  return {request.id, 0, 0, request.value * 2};
}

struct FreePages {
  void operator()(void* pages) const { free(pages); }
};

// A driver's use of the ring, run from the fake platform's event loop: ids in flight, each
// response validated once and the ring broken on a bad one.
class RingTest : public ::testing::Test {
 protected:
  void Attach(unsigned order, RingIdx start = 0) {
    pages_.reset(aligned_alloc(kRingPageSize, kRingPageSize << order));
    Result<TestRing> ring = TestRing::Init(pages_.get(), order, "test 7", start);
    ASSERT_TRUE(ring.ok()) << ring.error().message;
    ring_.emplace(std::move(*ring));
    backend_ = std::make_unique<TestBackend>(&platform_, kPort, pages_.get(), order, Double);
    platform_.ports.SetHandler(kPort, [this] { Drain(); });
  }

  void TearDown() override { backend_.reset(); }

  TestRing& ring() { return *ring_; }

  // Enqueues a request and pushes it, kicking the backend when the ring says so.
  void Send(uint32_t value, bool push = true) {
    uint64_t id = next_id_++;
    Result<void> queued = ring().Enqueue({id, value, 0});
    ASSERT_TRUE(queued.ok()) << queued.error().message;
    in_flight_[id] = value;
    if (push) Push();
  }

  void Push() {
    Result<bool> notify = ring().Push();
    ASSERT_TRUE(notify.ok()) << notify.error().message;
    if (*notify) backend_->Kick();
  }

  // The port's handler: takes every response, then sleeps only after the final check.
  void Drain() {
    do {
      while (std::optional<TestResponse> response = ring().Next()) Complete(*response);
    } while (ring().FinalCheckForResponses());
  }

  void Complete(const TestResponse& response) {
    auto it = in_flight_.find(response.id);
    if (it == in_flight_.end()) {
      return ring().MarkBroken(MakeError(EPROTO, "ring %s: response for id %llu, not in flight",
                                         ring().name().c_str(),
                                         static_cast<unsigned long long>(response.id)));
    }
    if (response.status < -2 || response.status > 0) {
      return ring().MarkBroken(MakeError(EPROTO, "ring %s: response for id %llu has status %d",
                                         ring().name().c_str(),
                                         static_cast<unsigned long long>(response.id),
                                         response.status));
    }
    EXPECT_EQ(response.value, it->second * 2) << "id " << response.id;
    in_flight_.erase(it);
    completed_++;
  }

  void Turns(int n) {
    for (int i = 0; i < n; i++) platform_.PollEvents();
  }

  void ExpectBroken(const char* what) {
    ASSERT_TRUE(ring().broken());
    EXPECT_NE(ring().error().message.find("test 7"), std::string::npos) << ring().error().message;
    EXPECT_NE(ring().error().message.find(what), std::string::npos) << ring().error().message;
    // Broken for good: nothing more goes in or comes out.
    Result<void> queued = ring().Enqueue({999, 1, 0});
    ASSERT_FALSE(queued.ok());
    EXPECT_EQ(queued.error().message, ring().error().message);
    EXPECT_FALSE(ring().Push().ok());
    EXPECT_FALSE(ring().Next().has_value());
    EXPECT_FALSE(ring().FinalCheckForResponses());
  }

  FakePlatform platform_;
  std::unique_ptr<void, FreePages> pages_;
  std::optional<TestRing> ring_;
  std::unique_ptr<TestBackend> backend_;
  std::map<uint64_t, uint32_t> in_flight_;
  uint64_t next_id_ = 1;
  uint64_t completed_ = 0;
};

TEST(RingLayout, SlotsMatchXensRingSize) {
  for (unsigned order = 0; order <= kMaxRingOrder; order++) {
    size_t bytes = kRingPageSize << order;
    std::unique_ptr<void, FreePages> pages(aligned_alloc(kRingPageSize, bytes));
    auto* sring = static_cast<blkif_sring*>(pages.get());
    EXPECT_EQ(BlkRing::Slots(order), static_cast<RingIdx>(__RING_SIZE(sring, bytes)))
        << "order " << order;
    auto* tx = static_cast<netif_tx_sring*>(pages.get());
    EXPECT_EQ((FrontRing<netif_tx_request_t, netif_tx_response_t>::Slots(order)),
              static_cast<RingIdx>(__RING_SIZE(tx, bytes)))
        << "order " << order;
  }
}

TEST(RingLayout, InitIsSharedRingInit) {
  std::unique_ptr<void, FreePages> pages(aligned_alloc(kRingPageSize, 2 * kRingPageSize));
  memset(pages.get(), 0xa5, 2 * kRingPageSize);
  Result<BlkRing> ring = BlkRing::Init(pages.get(), 1, "vbd 51712");
  ASSERT_TRUE(ring.ok());
  auto* sring = static_cast<blkif_sring*>(pages.get());
  EXPECT_EQ(sring->req_prod, 0u);
  EXPECT_EQ(sring->rsp_prod, 0u);
  EXPECT_EQ(sring->req_event, 1u);
  EXPECT_EQ(sring->rsp_event, 1u);
  for (uint8_t byte : sring->__pad) EXPECT_EQ(byte, 0);
  EXPECT_EQ(ring->size(), 64u);
  EXPECT_EQ(ring->FreeSlots(), 64u);
}

TEST(RingLayout, InitRejectsAnOrderTooLarge) {
  std::unique_ptr<void, FreePages> pages(aligned_alloc(kRingPageSize, kRingPageSize));
  Result<BlkRing> ring = BlkRing::Init(pages.get(), kMaxRingOrder + 1, "vbd 51712");
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.error().message.find("vbd 51712: order 5"), std::string::npos)
      << ring.error().message;
}

TEST_F(RingTest, FillsAndEmptiesMultiPageRings) {
  for (unsigned order = 0; order <= kMaxRingOrder; order++) {
    SCOPED_TRACE(order);
    Attach(order);
    RingIdx slots = TestRing::Slots(order);
    for (RingIdx i = 0; i < slots; i++) Send(i, false);
    EXPECT_TRUE(ring().Full());
    Result<void> extra = ring().Enqueue({0, 0, 0});
    ASSERT_FALSE(extra.ok());
    EXPECT_EQ(extra.error().code, ENOSPC);
    EXPECT_NE(extra.error().message.find("all " + std::to_string(slots) + " slots are in flight"),
              std::string::npos) << extra.error().message;
    Push();
    Turns(3);
    EXPECT_EQ(completed_, slots);
    EXPECT_EQ(ring().FreeSlots(), slots);
    EXPECT_FALSE(ring().broken());
    completed_ = 0;
    backend_.reset();
  }
}

TEST_F(RingTest, WrapsAMillionRequestsPastTheIndexLimit) {
  Attach(0, UINT32_MAX - 1000);
  std::mt19937 random(7);
  constexpr uint64_t kRequests = 1000000;
  uint64_t sent = 0;
  while (sent < kRequests) {
    if (ring().Full()) {
      Turns(1);
      continue;
    }
    RingIdx batch = std::min<uint64_t>(random() % ring().FreeSlots() + 1, kRequests - sent);
    for (RingIdx i = 0; i < batch; i++) Send(static_cast<uint32_t>(sent++), false);
    Push();
    Turns(static_cast<int>(random() % 3));
  }
  Turns(3);
  EXPECT_FALSE(ring().broken());
  EXPECT_EQ(completed_, kRequests);
  EXPECT_EQ(ring().stats().responses, kRequests);
  EXPECT_EQ(ring().stats().requests, kRequests);
  EXPECT_EQ(backend_->requests, kRequests);
  EXPECT_TRUE(in_flight_.empty());
}

TEST_F(RingTest, ABackendStillWorkingIsNotNotifiedAgain) {
  Attach(0);
  backend_->responses_per_turn = 1;
  Send(1);
  EXPECT_EQ(ring().stats().notifies, 1u);
  Turns(1);   // answers one; still has nothing else, so it sleeps
  EXPECT_EQ(completed_, 1u);
  EXPECT_FALSE(backend_->awake());
  for (uint32_t i = 0; i < 4; i++) Send(i);
  EXPECT_EQ(ring().stats().notifies, 2u);   // the first woke it
  EXPECT_EQ(ring().stats().pushes, 5u);
  Turns(1);
  Send(9);   // it is working through the rest: no notification
  Send(10);
  EXPECT_EQ(ring().stats().notifies, 2u);
  Turns(10);
  EXPECT_EQ(completed_, 7u);
  EXPECT_FALSE(backend_->awake());
  EXPECT_EQ(backend_->kicks, 2u);
  Send(11);   // asleep again: notified
  EXPECT_EQ(ring().stats().notifies, 3u);
  Turns(2);
  EXPECT_EQ(completed_, 8u);
}

TEST_F(RingTest, FinalCheckCatchesAResponseBeforeSleeping) {
  Attach(0);
  platform_.ports.SetHandler(kPort, nullptr);   // the test consumes by hand
  Send(1);
  Turns(1);
  ASSERT_TRUE(ring().Next().has_value());   // rsp_event is still 1: no event for the next
  EXPECT_FALSE(ring().Next().has_value());
  uint64_t notified = backend_->notifies;
  Send(2);
  Turns(1);
  EXPECT_EQ(backend_->notifies, notified);   // it came without an event
  EXPECT_TRUE(ring().FinalCheckForResponses());
  ASSERT_TRUE(ring().Next().has_value());
  EXPECT_FALSE(ring().FinalCheckForResponses());   // asks for an event on the next one
  Send(3);
  Turns(1);
  EXPECT_EQ(backend_->notifies, notified + 1);
}

TEST_F(RingTest, ResponseIsCopiedOnce) {
  Attach(0);
  platform_.ports.SetHandler(kPort, nullptr);
  Send(21);
  Turns(1);
  std::optional<TestResponse> response = ring().Next();
  ASSERT_TRUE(response.has_value());
  backend_->RewriteLast({12345, -99, 0, 0});
  EXPECT_EQ(response->id, 1u);
  EXPECT_EQ(response->status, 0);
  EXPECT_EQ(response->value, 42u);
  EXPECT_FALSE(ring().Next().has_value());
}

TEST_F(RingTest, ProducerIsReadOncePerPass) {
  Attach(0);
  platform_.ports.SetHandler(kPort, nullptr);
  for (uint32_t i = 0; i < 3; i++) Send(i);
  Turns(1);
  ASSERT_TRUE(ring().Next().has_value());
  backend_->JumpProducer(1000);   // the three it announced stay good
  EXPECT_TRUE(ring().Next().has_value());
  EXPECT_TRUE(ring().Next().has_value());
  EXPECT_FALSE(ring().Next().has_value());
  ExpectBroken("slots past our consumer index");
}

TEST_F(RingTest, ResponseForAnIdNeverIssuedBreaksIt) {
  Attach(0);
  backend_->wrong_id = 1;
  Send(1);
  Send(2);
  Turns(2);
  ExpectBroken("not in flight");
}

TEST_F(RingTest, SameIdAnsweredTwiceBreaksIt) {
  Attach(0);
  backend_->duplicate = 1;
  backend_->responses_per_turn = 1;   // else rsp_prod runs past the requests, caught first
  Send(1);
  Send(2);
  Turns(2);
  ExpectBroken("response for id 1, not in flight");
}

TEST_F(RingTest, MoreResponsesThanRequestsBreaksIt) {
  Attach(0);
  backend_->duplicate = 1;
  Send(1);
  Turns(2);
  ExpectBroken("announces 2 responses, but only 1 requests are in flight");
}

TEST_F(RingTest, InjectedResponseWithNothingInFlightBreaksIt) {
  Attach(1);
  backend_->Inject({77, 0, 0, 0});
  Turns(1);
  ExpectBroken("only 0 requests are in flight");
}

TEST_F(RingTest, StatusOutOfRangeBreaksIt) {
  Attach(0);
  backend_->bad_status = 1;
  Send(1);
  Turns(2);
  ExpectBroken("has status -32768");
}

TEST_F(RingTest, ProducerPastTheRingBreaksIt) {
  Attach(2);
  Send(1);
  Turns(1);
  backend_->JumpProducer(ring().size() + 1);
  Turns(1);
  ExpectBroken("over the ring's 512 slots");
}

TEST_F(RingTest, ProducerBehindTheConsumerBreaksIt) {
  Attach(0, 100);
  Send(1);
  Turns(1);
  backend_->JumpProducer(UINT32_MAX);   // rsp_prod moves back by one
  Turns(1);
  ExpectBroken("rsp_prod 100 is 4294967295 slots past our consumer index 101 (or behind it)");
}

TEST_F(RingTest, StalledBackendLeavesRequestsInFlight) {
  Attach(0);
  backend_->stalled = true;
  for (RingIdx i = 0; i < ring().size(); i++) Send(i);
  Turns(20);
  EXPECT_EQ(completed_, 0u);
  EXPECT_TRUE(ring().Full());
  EXPECT_EQ(ring().InFlight(), ring().size());
  EXPECT_EQ(ring().stats().notifies, 1u);
  EXPECT_FALSE(ring().broken());   // a slow backend is the driver's timeout, not a fault
  backend_->stalled = false;
  Turns(2);
  EXPECT_EQ(completed_, ring().size());
}

TEST_F(RingTest, HeldRequestsAreAnsweredLater) {
  Attach(0);
  backend_->hold = true;   // an rx ring: buffers posted, no packet yet
  for (uint32_t i = 0; i < 5; i++) Send(i);
  Turns(3);
  EXPECT_EQ(completed_, 0u);
  ASSERT_EQ(backend_->unanswered(), 5u);
  EXPECT_EQ(backend_->unanswered_requests().front().value, 0u);
  Send(5);   // it is awake, holding work: not notified
  EXPECT_EQ(ring().stats().notifies, 1u);
  backend_->hold = false;
  Turns(2);
  EXPECT_EQ(completed_, 6u);
  EXPECT_FALSE(backend_->awake());
}

TEST_F(RingTest, BackendClosingMidRequestIsSeen) {
  Attach(0);
  backend_->responses_per_turn = 1;
  backend_->on_close = [this] {
    ring().MarkBroken(MakeError(ENODEV, "ring %s: the backend closed with %u requests in flight",
                                ring().name().c_str(), ring().InFlight()));
  };
  for (uint32_t i = 0; i < 4; i++) Send(i);
  Turns(1);
  backend_->Close();
  Turns(5);
  EXPECT_EQ(completed_, 1u);
  EXPECT_TRUE(backend_->closed());
  ExpectBroken("the backend closed with 3 requests in flight");
}

TEST_F(RingTest, MarkBrokenKeepsTheFirstError) {
  Attach(0);
  ring().MarkBroken(MakeError(EPROTO, "ring test 7: first"));
  ring().MarkBroken(MakeError(EPROTO, "ring test 7: second"));
  ExpectBroken("first");
}

TEST(RingBlkif, CarriesBlkifRequestsAtEveryOrder) {
  for (unsigned order = 0; order <= 3; order++) {
    FakePlatform platform;
    std::unique_ptr<void, FreePages> pages(aligned_alloc(kRingPageSize, kRingPageSize << order));
    Result<BlkRing> ring = BlkRing::Init(pages.get(), order, "vbd 51712");
    ASSERT_TRUE(ring.ok());
    FakeBackend<blkif_request_t, blkif_response_t> backend(
        &platform, kPort, pages.get(), order, [](const blkif_request_t& request) {
          return blkif_response_t{request.id, request.operation, BLKIF_RSP_OKAY};
        });
    platform.ports.SetHandler(kPort, [] {});
    EXPECT_EQ(backend.size(), ring->size());
    for (RingIdx i = 0; i < ring->size(); i++) {
      blkif_request_t request = {};
      request.operation = BLKIF_OP_READ;
      request.id = 1000 + i;
      ASSERT_TRUE(ring->Enqueue(request).ok());
    }
    if (*ring->Push()) backend.Kick();
    platform.PollEvents();
    for (RingIdx i = 0; i < ring->size(); i++) {
      std::optional<blkif_response_t> response = ring->Next();
      ASSERT_TRUE(response.has_value());
      EXPECT_EQ(response->id, 1000 + i);
      EXPECT_EQ(response->status, BLKIF_RSP_OKAY);
    }
    EXPECT_FALSE(ring->FinalCheckForResponses());
  }
}

}  // namespace
}  // namespace skiff::xen
