// netfront against a fake netback: the handshake through the fake xenstored, frames sent
// through TX slots and received through the RX buffers netback holds, chains over several
// slots both ways, buffers posted again whatever the stack does, hostile responses, a full
// TX ring, and a backend that goes and comes back.
#include <gtest/gtest.h>
#include <string.h>

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "drivers/netfront/netfront.h"
#include "runtime/xen/xenbus.h"
#include "tests/unit/fake_backend.h"
#include "tests/unit/fake_machine.h"
#include "tests/unit/fake_platform.h"
#include "tests/unit/fake_xenstored.h"

namespace skiff::net {
namespace {

using xen::XenbusDevice;
using xen::XenbusState;
using TxBackend = FakeBackend<netif_tx_request_t, netif_tx_response_t>;
using RxBackend = FakeBackend<netif_rx_request_t, netif_rx_response_t>;

constexpr evtchn_port_t kStorePort = 5;
constexpr DomId kBackendDomain{0};
constexpr char kNode[] = "device/vif/0";
constexpr char kBackend[] = "/local/domain/0/backend/vif/3/0";

std::vector<uint8_t> Frame(size_t n, unsigned seed) {
  std::vector<uint8_t> v(n);
  std::mt19937 rng(seed);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

class NetfrontTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    platform_.ports.SetHandler(EvtchnPort{kStorePort}, [this] { client_->OnEvent(); });
    xenstored_.Put(std::string(kNode) + "/backend", kBackend);
    xenstored_.Put(std::string(kNode) + "/backend-id", "0");
    xenstored_.Put(std::string(kNode) + "/mac", "00:16:3e:12:34:56");
    machine_.kick = [this] {
      if (tx_backend_) tx_backend_->Kick();
      if (rx_backend_) rx_backend_->Kick();
    };
    driver_.SetReceiver([this](std::span<const FramePiece> pieces, size_t bytes,
                               Checksum checksum) {
      std::vector<uint8_t> frame;
      for (const FramePiece& piece : pieces) {
        auto* data = static_cast<const uint8_t*>(piece.data);
        frame.insert(frame.end(), data, data + piece.size);
      }
      EXPECT_EQ(frame.size(), bytes);
      received_.push_back(std::move(frame));
      checksums_.push_back(checksum);
    });
  }
  void TearDown() override {
    tx_backend_.reset();   // netback lets go first: the rings go with the frontend
    rx_backend_.reset();
    frontend_.reset();
    driver_.Teardown(device_);
    EXPECT_EQ(machine_.granted(), 0u) << "every grant ended";
    EXPECT_EQ(machine_.pages_in_use, 0u) << "every page freed";
    EXPECT_EQ(machine_.open_ports, 0);
    client_.reset();
    xenstored_.Stop();
    SchedulerTest::TearDown();
  }

  std::string FrontKey(const std::string& key) {
    auto it = xenstored_.nodes.find(std::string(kNode) + "/" + key);
    return it == xenstored_.nodes.end() ? "" : it->second.value;
  }

  void Start(bool rx_copy = true, bool split = false, bool gso = false) {
    xenstored_.Put(std::string(kBackend) + "/feature-rx-copy", rx_copy ? "1" : "0");
    if (split) xenstored_.Put(std::string(kBackend) + "/feature-split-event-channels", "1");
    if (gso) xenstored_.Put(std::string(kBackend) + "/feature-gso-tcpv4", "1");
    xenstored_.Put(std::string(kBackend) + "/state", "2");
    frontend_.emplace(*client_, device_, driver_, xen::XenbusOptions{.connect_first = true, .failed = {}});
    ASSERT_TRUE(frontend_->Start().ok());
  }

  // netback maps the rings the frontend published, holds its RX buffers, and connects.
  void Connect() {
    Result<void> up = frontend_->WaitFor(XenbusState::kConnected, Now() + 1'000'000'000);
    ASSERT_TRUE(up.ok()) << up.error().message;
    EXPECT_EQ(FrontKey("request-rx-copy"), "1");
    EXPECT_EQ(FrontKey("feature-rx-notify"), "1");
    EXPECT_EQ(FrontKey("feature-sg"), "1");
    EXPECT_EQ(FrontKey("feature-no-csum-offload"), "0");
    EXPECT_EQ(FrontKey("feature-gso-tcpv4"), "1");
    bool split = !FrontKey("event-channel-tx").empty();
    EXPECT_EQ(split, FrontKey("event-channel").empty()) << "one channel or two, not both";
    EvtchnPort tx_port{static_cast<uint32_t>(
        std::stoul(FrontKey(split ? "event-channel-tx" : "event-channel")))};
    EvtchnPort rx_port{static_cast<uint32_t>(
        std::stoul(FrontKey(split ? "event-channel-rx" : "event-channel")))};
    EXPECT_EQ(split, tx_port != rx_port);
    char* tx = machine_.Map(std::stoul(FrontKey("tx-ring-ref")), true);
    char* rx = machine_.Map(std::stoul(FrontKey("rx-ring-ref")), true);
    tx_backend_ = std::make_unique<TxBackend>(&platform_, tx_port, tx, 0,
                                              [this](const netif_tx_request_t& r) { return Take(r); });
    rx_backend_ = std::make_unique<RxBackend>(&platform_, rx_port, rx, 0,
                                              [](const netif_rx_request_t&) {
                                                ADD_FAILURE() << "RX buffers are held";
                                                return netif_rx_response_t{};
                                              });
    rx_backend_->hold = true;
    rx_used_ = 0;
    xenstored_.Put(std::string(kBackend) + "/state", "4");
    while (!driver_.connected()) Yield();
    tx_backend_->Kick();
    rx_backend_->Kick();
    while (rx_backend_->unanswered() == 0) Yield();
  }

  // netback's TX side: copies each frame out of its slots, through the grants. An extra-info
  // slot's response is NETIF_RSP_NULL with the slot's first bytes left as its id, as
  // netback's.
  netif_tx_response_t Take(const netif_tx_request_t& r) {
    if (extra_next_) {
      extra_next_ = false;
      netif_extra_info_t extra;
      memcpy(&extra, &r, sizeof(extra));
      EXPECT_EQ(extra.type, XEN_NETIF_EXTRA_TYPE_GSO);
      tx_gso_sizes_.push_back(extra.u.gso.size);
      netif_tx_response_t rsp;
      memcpy(&rsp.id, &r, sizeof(rsp.id));
      rsp.status = NETIF_RSP_NULL;
      return rsp;
    }
    char* page = machine_.Map(r.gref, false);
    if (sending_.empty()) {
      tx_total_ = r.size;
      tx_flags_.push_back(r.flags);
      extra_next_ = r.flags & NETTXF_extra_info;
    }
    uint32_t in_slot = sending_.empty() ? std::min<uint32_t>(r.size, 4096) : r.size;
    EXPECT_LE(r.offset + in_slot, 4096u) << "a TX slot never crosses its page";
    if (page != nullptr) sending_.insert(sending_.end(), page + r.offset, page + r.offset + in_slot);
    if (!(r.flags & NETTXF_more_data)) {
      EXPECT_EQ(sending_.size(), tx_total_);
      sent_.push_back(std::move(sending_));
      sending_.clear();
    }
    return netif_tx_response_t{r.id, NETIF_RSP_OKAY};
  }

  // netback's RX side: copies |frame| into the buffers it holds, slot by slot.
  void Deliver(const std::vector<uint8_t>& frame, uint16_t first_flags = 0) {
    size_t at = 0;
    while (at < frame.size() || at == 0) {
      ASSERT_LT(rx_used_, rx_backend_->unanswered()) << "netback has no RX buffer left";
      const netif_rx_request_t& req = rx_backend_->unanswered_requests()[rx_used_++];
      size_t n = std::min<size_t>(4096, frame.size() - at);
      memcpy(machine_.Map(req.gref, true), frame.data() + at, n);
      netif_rx_response_t rsp = {};
      rsp.id = req.id;
      rsp.status = static_cast<int16_t>(n);
      rsp.flags = static_cast<uint16_t>((at == 0 ? first_flags : 0) |
                                        (at + n < frame.size() ? NETRXF_more_data : 0));
      rx_backend_->Inject(rsp);
      at += n;
      if (n == 0) break;
    }
  }

  void Settle() {
    for (int i = 0; i < 10; i++) Yield();
  }

  FakeXenstored xenstored_{&platform_, kStorePort};
  std::optional<xen::XenstoreClient> client_{std::in_place, xenstored_.ClientRing()};
  FakeMachine machine_{platform_, kBackendDomain};
  XenbusDevice device_{"vif", "0", kNode, kBackend, kBackendDomain};
  Netfront driver_{machine_, *client_, "vif 0"};
  std::optional<xen::XenbusFrontend> frontend_;
  std::unique_ptr<TxBackend> tx_backend_;
  std::unique_ptr<RxBackend> rx_backend_;
  size_t rx_used_ = 0;
  std::vector<uint8_t> sending_;
  uint32_t tx_total_ = 0;
  std::vector<uint16_t> tx_flags_;
  bool extra_next_ = false;
  std::vector<uint16_t> tx_gso_sizes_;
  std::vector<std::vector<uint8_t>> sent_, received_;
  std::vector<Checksum> checksums_;
};

TEST_F(NetfrontTest, ConnectsWithTheMacAndPostsItsReceiveBuffers) {
  Start();
  Connect();
  EXPECT_EQ(driver_.mac(), (xen::MacAddress{0x00, 0x16, 0x3e, 0x12, 0x34, 0x56}));
  EXPECT_EQ(rx_backend_->unanswered(), 256u) << "the whole RX ring, for 256 MiB of memory";
  EXPECT_NE(machine_.reports.find("netfront: vif 0: 00:16:3e:12:34:56, 256 receive buffers"),
            std::string::npos) << machine_.reports;
}

TEST_F(NetfrontTest, ABackendWithoutRxCopyIsAClearError) {
  Start(/*rx_copy=*/false);
  Result<void> up = frontend_->WaitFor(XenbusState::kConnected, Now() + 1'000'000'000);
  ASSERT_FALSE(up.ok());
  EXPECT_NE(up.error().message.find("does not copy received packets (no feature-rx-copy)"),
            std::string::npos) << up.error().message;
}

TEST_F(NetfrontTest, SendsFramesOfOneAndSeveralSlotsFromPieces) {
  Start();
  Connect();
  for (size_t n : {60ul, 1514ul, 4096ul, 4097ul, 9014ul, 65535ul}) {
    std::vector<uint8_t> frame = Frame(n, static_cast<unsigned>(n));
    size_t cut = n / 3;
    FramePiece pieces[] = {{frame.data(), cut}, {frame.data() + cut, n - cut}};
    Result<void> sent = driver_.Send(pieces);
    ASSERT_TRUE(sent.ok()) << sent.error().message;
    Settle();
    ASSERT_FALSE(sent_.empty());
    EXPECT_EQ(sent_.back(), frame) << n;
  }
  EXPECT_EQ(sent_.size(), 6u);
  for (uint16_t flags : tx_flags_) {
    EXPECT_EQ(flags & (NETTXF_csum_blank | NETTXF_data_validated), 0)
        << "complete checksums: no offload flags";
  }
  EXPECT_EQ(driver_.stats().tx_packets, 6u);
  FramePiece tiny[] = {{"x", 1}};
  EXPECT_EQ(driver_.Send(tiny).error().code, EINVAL);
}

TEST_F(NetfrontTest, SendsGsoPacketsOnlyToANetbackThatTakesThem) {
  Start();
  Connect();
  EXPECT_TRUE(driver_.offloads().tcp_checksum);
  EXPECT_FALSE(driver_.offloads().tso) << "netback did not offer feature-gso-tcpv4";
  std::vector<uint8_t> frame = Frame(30000, 3);
  FramePiece piece[] = {{frame.data(), frame.size()}};
  EXPECT_EQ(driver_.Send(piece, {.checksum = Checksum::kBlank, .gso_size = 1460}).error().code,
            EINVAL);
}

TEST_F(NetfrontTest, SendsGsoPacketsWithAnExtraInfoSlot) {
  Start(/*rx_copy=*/true, /*split=*/false, /*gso=*/true);
  Connect();
  EXPECT_TRUE(driver_.offloads().tso);
  // More packets than the ring holds at once: the extras' NULL responses free no id.
  for (unsigned i = 0; i < 40; i++) {
    std::vector<uint8_t> frame = Frame(i % 2 ? 65535 : 3000, i);
    FramePiece piece[] = {{frame.data(), frame.size()}};
    Result<void> sent = driver_.Send(piece, {.checksum = Checksum::kBlank, .gso_size = 1460});
    ASSERT_TRUE(sent.ok()) << i << ": " << sent.error().message;
    Settle();
    EXPECT_EQ(sent_.back(), frame) << i;
  }
  EXPECT_EQ(tx_gso_sizes_, std::vector<uint16_t>(40, 1460));
  for (uint16_t flags : tx_flags_) {
    EXPECT_EQ(flags & (NETTXF_csum_blank | NETTXF_extra_info),
              NETTXF_csum_blank | NETTXF_extra_info);
  }
  EXPECT_EQ(driver_.error(), nullptr);
}

TEST_F(NetfrontTest, ReceivesFramesAndChainsThatArriveInParts) {
  Start();
  Connect();
  std::vector<uint8_t> small = Frame(60, 1), big = Frame(9014, 2);
  Deliver(small, NETRXF_data_validated);
  Deliver(big, NETRXF_csum_blank | NETRXF_data_validated);
  Settle();
  ASSERT_EQ(received_.size(), 2u);
  EXPECT_EQ(received_[0], small);
  EXPECT_EQ(received_[1], big);
  EXPECT_EQ(checksums_[0], Checksum::kValidated);
  EXPECT_EQ(checksums_[1], Checksum::kBlank);
  EXPECT_EQ(driver_.stats().rx_packets, 2u);
}

// netback offers split event channels (Linux's does by default): one for TX, one for RX.
TEST_F(NetfrontTest, SplitEventChannelsCarryEachRingsEvents) {
  Start(/*rx_copy=*/true, /*split=*/true);
  Connect();
  std::vector<uint8_t> frame = Frame(1514, 7);
  FramePiece piece[] = {{frame.data(), frame.size()}};
  ASSERT_TRUE(driver_.Send(piece).ok());
  Deliver(Frame(60, 8));
  Settle();
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0], frame);
  ASSERT_EQ(received_.size(), 1u);
  EXPECT_EQ(received_[0], Frame(60, 8));
  for (int i = 0; i < 300; i++) {   // more than the TX ring: completions come on the TX port
    ASSERT_TRUE(driver_.Send(piece).ok()) << i;
    Settle();
  }
  EXPECT_EQ(sent_.size(), 301u);
}

TEST_F(NetfrontTest, BuffersArePostedAgainSoTrafficNeverStalls) {
  Start();
  Connect();
  for (int i = 0; i < 2000; i++) {   // eight times the buffers there are
    Deliver(Frame(1514, i));
    Settle();
  }
  ASSERT_EQ(received_.size(), 2000u);
  EXPECT_EQ(received_[1999], Frame(1514, 1999));
}

TEST_F(NetfrontTest, AFullTxRingIsEagainThenRoomComesBack) {
  Start();
  Connect();
  tx_backend_->stalled = true;
  std::vector<uint8_t> frame = Frame(1514, 3);
  FramePiece piece[] = {{frame.data(), frame.size()}};
  int sent = 0;
  Result<void> r;
  while ((r = driver_.Send(piece)).ok()) sent++;
  EXPECT_EQ(r.error().code, EAGAIN);
  EXPECT_EQ(sent, 256);
  EXPECT_EQ(driver_.stats().tx_ring_full, 1u);
  tx_backend_->stalled = false;
  tx_backend_->Kick();
  Settle();
  EXPECT_TRUE(driver_.Send(piece).ok());
}

struct Hostile {
  const char* name;
  void (*act)(NetfrontTest*, TxBackend&, RxBackend&);
  const char* message;
};

class NetfrontHostile : public NetfrontTest, public ::testing::WithParamInterface<Hostile> {
 public:
  using NetfrontTest::Deliver;
  using NetfrontTest::rx_backend_;
};

TEST_P(NetfrontHostile, BreaksTheDeviceWithAMessageAndTheGuestGoesOn) {
  Start();
  Connect();
  GetParam().act(this, *tx_backend_, *rx_backend_);
  Settle();
  ASSERT_NE(driver_.error(), nullptr);
  EXPECT_NE(driver_.error()->message.find(GetParam().message), std::string::npos)
      << driver_.error()->message;
  EXPECT_NE(machine_.reports.find("the device is broken"), std::string::npos);
  std::vector<uint8_t> frame = Frame(60, 1);
  FramePiece piece[] = {{frame.data(), frame.size()}};
  EXPECT_EQ(driver_.Send(piece).error().code, EIO);
  EXPECT_TRUE(client_->Read(std::string(kNode) + "/mac").ok()) << "xenstore goes on";
}

INSTANTIATE_TEST_SUITE_P(
    Faults, NetfrontHostile,
    ::testing::Values(
        Hostile{"RxWrongBuffer",
                [](NetfrontTest*, TxBackend&, RxBackend& rx) {
                  netif_rx_response_t rsp = {};
                  rsp.id = 77;   // not the buffer of ring index 0
                  rsp.status = 60;
                  rx.Inject(rsp);
                },
                "the RX response at ring index 0 names buffer 77, not 0"},
        Hostile{"RxPastThePage",
                [](NetfrontTest*, TxBackend&, RxBackend& rx) {
                  netif_rx_response_t rsp = {};
                  rsp.offset = 4000;
                  rsp.status = 200;
                  rx.Inject(rsp);
                },
                "offset 4000 and size 200 run past the page"},
        Hostile{"TxNotInFlight",
                [](NetfrontTest*, TxBackend& tx, RxBackend&) { tx.Inject({5, 0}); },
                "rsp_prod"},
        Hostile{"RxProducerRunsAhead",
                [](NetfrontTest*, TxBackend&, RxBackend& rx) { rx.JumpProducer(1000); },
                "rsp_prod"}),
    [](const ::testing::TestParamInfo<Hostile>& info) { return std::string(info.param.name); });

TEST_F(NetfrontTest, ABackendThatGoesAndComesBackGetsNewRings) {
  Start();
  Connect();
  tx_backend_->stalled = true;
  std::vector<uint8_t> frame = Frame(1514, 4);
  FramePiece piece[] = {{frame.data(), frame.size()}};
  ASSERT_TRUE(driver_.Send(piece).ok());
  rx_backend_->stalled = true;
  xenstored_.Put(std::string(kBackend) + "/state", "5");
  ASSERT_TRUE(frontend_->WaitFor(XenbusState::kClosed, Now() + 1'000'000'000).ok());
  EXPECT_EQ(driver_.stats().tx_drops, 1u) << "the frame in flight is lost, and counted";
  EXPECT_EQ(driver_.Send(piece).error().code, ENETDOWN);
  tx_backend_.reset();
  rx_backend_.reset();
  xenstored_.Put(std::string(kBackend) + "/state", "2");
  Connect();
  EXPECT_EQ(driver_.stats().connects, 2u);
  ASSERT_TRUE(driver_.Send(piece).ok());
  Deliver(frame);
  Settle();
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_.back(), frame);
  ASSERT_EQ(received_.size(), 1u);
}

}  // namespace
}  // namespace skiff::net
