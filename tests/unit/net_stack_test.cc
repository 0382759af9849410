// lwIP's glue and skiff/net.h, with two interfaces of one stack wired together in one process:
// A (10.0.0.1) and B (10.0.0.2) on a wire of a few frames in flight.
#include <errno.h>
#include <string.h>

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <vector>

#include "net/stack.h"
#include "skiff/coro.h"
#include "skiff/net.h"
#include "tests/unit/fake_platform.h"

namespace skiff::net {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;
const Ipv4 kA(10, 0, 0, 1), kB(10, 0, 0, 2), kMask(255, 255, 255, 0);

// Completes the TCP checksum of an IPv4 frame whose checksum field holds the pseudo-header
// sum: the ones' complement sum of the segment, field included, inverted.
void CompleteTcpChecksum(std::vector<uint8_t>& frame) {
  ASSERT_GE(frame.size(), 14u + 20 + 20);
  size_t tcp = 14 + (frame[14] & 0x0f) * 4, end = 14 + (frame[16] << 8 | frame[17]);
  ASSERT_EQ(frame[23], 6) << "TCP";
  ASSERT_LE(end, frame.size());
  uint32_t sum = 0;
  for (size_t i = tcp; i < end; i += 2) sum += frame[i] << 8 | (i + 1 < end ? frame[i + 1] : 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  frame[tcp + 16] = static_cast<uint8_t>(~sum >> 8);
  frame[tcp + 17] = static_cast<uint8_t>(~sum);
}

// One end of the wire. A frame sent is delivered to the other end 10 us later; with
// |capacity| frames in flight the end is full (EAGAIN) until one lands.
class WireEnd final : public Link {
 public:
  WireEnd(uint8_t last_mac_byte, size_t capacity)
      : mac_{2, 0, 0, 0, 0, last_mac_byte}, capacity_(capacity),
        deliver_([this] { Deliver(); }) {}

  Result<void> Send(std::span<const FramePiece> pieces, const SendOptions& options) override {
    if (!up_) return MakeError(ENETDOWN, "down");
    if (in_flight_.size() >= capacity_) {
      full_++;
      return MakeError(EAGAIN, "full");
    }
    std::vector<uint8_t> frame;
    for (const FramePiece& piece : pieces) {
      auto* data = static_cast<const uint8_t*>(piece.data);
      frame.insert(frame.end(), data, data + piece.size);
    }
    EXPECT_LE(frame.size(), options.gso_size != 0 ? 0xffffu : 1514u);
    EXPECT_TRUE(options.gso_size == 0 || offload.tso) << "GSO for a link without TSO";
    if (options.checksum == Checksum::kBlank) {
      EXPECT_TRUE(offload.tcp_checksum) << "a blank checksum for a link that sums nothing";
      CompleteTcpChecksum(frame);   // as netback does, so that the receiver checks it
    }
    sent.push_back(frame);
    sent_options.push_back(options);
    in_flight_.push_back(std::move(frame));
    if (!deliver_.armed()) deliver_.ArmAfter(10'000);
    return {};
  }
  const Mac& mac() const override { return mac_; }
  bool up() const override { return up_; }
  Offloads offloads() const override { return offload; }

  void Stop() { deliver_.Cancel(); }

  void SetUp(bool up) {
    up_ = up;
    if (on_link_change_) on_link_change_(up);
  }

  WireEnd* peer = nullptr;
  // What the receiving end is told of each frame's checksums, and a change made on the way.
  Checksum checksum = Checksum::kComplete;
  std::function<void(std::vector<uint8_t>&)> tamper;
  Offloads offload;
  std::vector<std::vector<uint8_t>> sent;
  std::vector<SendOptions> sent_options;
  uint64_t full_ = 0;

 private:
  void Deliver() {
    while (!in_flight_.empty()) {
      std::vector<uint8_t> frame = std::move(in_flight_.front());
      in_flight_.pop_front();
      if (tamper) tamper(frame);
      FramePiece piece{frame.data(), frame.size()};
      if (peer->receiver_) peer->receiver_({&piece, 1}, frame.size(), checksum);
      if (on_tx_space_) on_tx_space_();
    }
  }

  Mac mac_;
  size_t capacity_;
  bool up_ = true;
  std::deque<std::vector<uint8_t>> in_flight_;
  Timer deliver_;
};

// The virtual clock goes on from test to test, as lwIP's timeouts do.
uint64_t clock_now = kSecond;

class NetStackTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerTest::SetUp();
    platform_.now = clock_now;
    InitStack();
    wire_a_.peer = &wire_b_;
    wire_b_.peer = &wire_a_;
    // B first: lwIP lists the newest interface first and routes a connection from no
    // address in particular by the first one on the subnet, which must be A.
    b_.emplace(wire_b_, "b0");
    a_.emplace(wire_a_, "a0");
    ASSERT_TRUE(a_->Configure(kA, kMask, {}).ok());
    ASSERT_TRUE(b_->Configure(kB, kMask, {}).ok());
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    wire_a_.Stop();
    wire_b_.Stop();
    StopStackTimer();
    clock_now = platform_.now + kSecond;
    SchedulerTest::TearDown();
  }

  static std::vector<uint8_t> Bytes(size_t n, unsigned seed) {
    std::vector<uint8_t> v(n);
    std::mt19937 rng(seed);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    return v;
  }

  // A connects to B on |port| and sends 3 MiB; B reads it all, then sends 1 MiB back and
  // closes. Both arrive whole.
  void MoveMegabytesBothWays(uint16_t port) {
    Result<TcpListener> listener = TcpListener::Listen({kB, port});
    ASSERT_TRUE(listener.ok()) << listener.error().message;
    const std::vector<uint8_t> up = Bytes(3 << 20, 1), down = Bytes(1 << 20, 2);
    std::vector<uint8_t> got_up, got_down;
    // B: accepts, reads everything A sends, then sends its own and closes.
    Result<Task*> server = Spawn([&] {
      Result<TcpStream> conn = listener->Accept(Now() + 10 * kSecond);
      ASSERT_TRUE(conn.ok()) << conn.error().message;
      EXPECT_EQ(conn->peer().address, kA);
      std::vector<uint8_t> buffer(10000);
      while (true) {
        Result<size_t> n = conn->Read(buffer, Now() + 10 * kSecond);
        ASSERT_TRUE(n.ok()) << n.error().message;
        if (*n == 0) break;
        got_up.insert(got_up.end(), buffer.begin(), buffer.begin() + static_cast<long>(*n));
      }
      Result<size_t> written = conn->Write(down, Now() + 10 * kSecond);
      ASSERT_TRUE(written.ok()) << written.error().message;
      EXPECT_EQ(*written, down.size());
    }, {.name = "server", .stack_size = 1 << 20});
    ASSERT_TRUE(server.ok());
    Result<TcpStream> client = TcpStream::Connect({kB, port}, Now() + 10 * kSecond);
    ASSERT_TRUE(client.ok()) << client.error().message;
    EXPECT_EQ(client->local().address, kA);
    Result<size_t> written = client->Write(up, Now() + 10 * kSecond);
    ASSERT_TRUE(written.ok()) << written.error().message;
    EXPECT_EQ(*written, up.size());
    ASSERT_TRUE(client->ShutdownWrite().ok());
    // A reads B's answer from a coroutine.
    got_down = BlockOn([](TcpStream& s) -> Co<std::vector<uint8_t>> {
      std::vector<uint8_t> all, buffer(4096);
      while (true) {
        Result<size_t> n = co_await s.ReadAsync(buffer, Now() + 10 * kSecond);
        if (!n || *n == 0) break;
        all.insert(all.end(), buffer.begin(), buffer.begin() + static_cast<long>(*n));
      }
      co_return all;
    }(*client));
    Join(*server);
    EXPECT_TRUE(got_up == up) << got_up.size() << " bytes of " << up.size();
    EXPECT_TRUE(got_down == down) << got_down.size() << " bytes of " << down.size();
    }

  WireEnd wire_a_{0xa, 8}, wire_b_{0xb, 8};
  std::optional<Interface> a_, b_;
};

TEST_F(NetStackTest, TcpMovesMegabytesBothWaysAcrossTheWire) {
  MoveMegabytesBothWays(7000);
  // The wire was full at times: frames waited in the interface's queue, none was lost.
  EXPECT_GT(wire_a_.full_ + wire_b_.full_, 0u);
  EXPECT_GT(a_->info().tx_queued + b_->info().tx_queued, 0u);
  EXPECT_EQ(a_->info().tx_queue_drops + b_->info().tx_queue_drops, 0u);
  for (const SendOptions& options : wire_a_.sent_options) {
    EXPECT_EQ(options.checksum, Checksum::kComplete) << "the link sums nothing";
  }
}

// Links that complete TCP checksums and cut TCP packets (netfront's, with netback's offer):
// the offloads a link has are taken when it comes up.
void OffloadEverything(WireEnd& wire) {
  wire.offload = {.tcp_checksum = true, .tso = true};
  wire.SetUp(false);
  wire.SetUp(true);
}

bool IsTcp(const std::vector<uint8_t>& frame) {
  return frame.size() >= 34 && frame[12] == 0x08 && frame[13] == 0x00 && frame[23] == 6;
}

bool IsFragment(const std::vector<uint8_t>& frame) {
  return ((frame[20] & 0x3f) | frame[21]) != 0;
}

TEST_F(NetStackTest, TsoSendsWholePacketsWithBlankChecksumsThatTheDeviceCompletes) {
  OffloadEverything(wire_a_);
  OffloadEverything(wire_b_);
  MoveMegabytesBothWays(7100);
  size_t gso = 0, largest = 0;
  for (size_t i = 0; i < wire_a_.sent.size(); i++) {
    const std::vector<uint8_t>& frame = wire_a_.sent[i];
    if (!IsTcp(frame)) continue;
    EXPECT_EQ(wire_a_.sent_options[i].checksum, Checksum::kBlank) << "frame " << i;
    EXPECT_FALSE(IsFragment(frame)) << "frame " << i;
    if (wire_a_.sent_options[i].gso_size == 0) continue;
    EXPECT_EQ(wire_a_.sent_options[i].gso_size, 1460) << "the link's MSS";
    EXPECT_GT(frame.size(), 1514u) << "GSO only for a packet over the MTU";
    gso++;
    largest = std::max(largest, frame.size());
  }
  EXPECT_GT(gso, 0u);
  EXPECT_GT(largest, 60000u) << "segments of 44 MSS";
  EXPECT_EQ(GetStackStats().tcp_checksum_errors, 0u);
}

TEST_F(NetStackTest, AfterTheLinkLosesTsoBigSegmentsGoAsIpFragmentsWithCompleteChecksums) {
  OffloadEverything(wire_a_);
  OffloadEverything(wire_b_);
  Result<TcpListener> listener = TcpListener::Listen({kB, 7200});
  ASSERT_TRUE(listener.ok());
  Result<TcpStream> client = TcpStream::Connect({kB, 7200}, Now() + 10 * kSecond);
  ASSERT_TRUE(client.ok()) << client.error().message;
  Result<TcpStream> server = listener->Accept(Now() + 10 * kSecond);
  ASSERT_TRUE(server.ok()) << server.error().message;
  // The backend came back without GSO: the connection's segments are still large.
  wire_a_.offload.tso = false;
  wire_a_.SetUp(false);
  wire_a_.SetUp(true);
  size_t before = wire_a_.sent.size();
  const std::vector<uint8_t> data = Bytes(300000, 9);
  Result<Task*> writer = Spawn([&] {
    Result<size_t> written = client->Write(data, Now() + 10 * kSecond);
    EXPECT_TRUE(written.ok() && *written == data.size());
  }, {.name = "writer", .stack_size = 1 << 20});
  ASSERT_TRUE(writer.ok());
  std::vector<uint8_t> got, buffer(65536);
  while (got.size() < data.size()) {
    Result<size_t> n = server->Read(buffer, Now() + 10 * kSecond);
    ASSERT_TRUE(n.ok() && *n > 0) << got.size() << " " << (n ? "EOF" : n.error().message);
    got.insert(got.end(), buffer.begin(), buffer.begin() + static_cast<long>(*n));
  }
  Join(*writer);
  EXPECT_TRUE(got == data);
  size_t fragments = 0;
  for (size_t i = before; i < wire_a_.sent.size(); i++) {
    EXPECT_EQ(wire_a_.sent_options[i].gso_size, 0);
    if (IsTcp(wire_a_.sent[i]) && IsFragment(wire_a_.sent[i])) {
      fragments++;
      EXPECT_EQ(wire_a_.sent_options[i].checksum, Checksum::kComplete);
    }
  }
  EXPECT_GT(fragments, 0u);
}

TEST_F(NetStackTest, UdpDatagramsOfManySizesBothWays) {
  Result<UdpSocket> server = UdpSocket::Bind({kB, 7});
  Result<UdpSocket> client = UdpSocket::Bind({kA, 0});
  ASSERT_TRUE(server.ok() && client.ok());
  EXPECT_NE(client->local().port, 0);
  Start([](UdpSocket& s) -> Co<> {   // an echo server, in a coroutine
    std::vector<uint8_t> buffer(70000);
    for (int i = 0; i < 5; i++) {
      Endpoint from;
      Result<size_t> n = co_await s.ReceiveFromAsync(buffer, &from, Now() + 10 * kSecond);
      if (!n) co_return;
      (void)s.SendTo(from, std::span(buffer).first(*n));
    }
  }(*server));
  // 6000: fragments; 65507, the largest: 45 of them
  for (size_t size : {size_t{0}, size_t{1}, size_t{1472}, size_t{6000}, size_t{65507}}) {
    std::vector<uint8_t> out = Bytes(size, static_cast<unsigned>(size)), in(70000);
    ASSERT_TRUE(client->SendTo({kB, 7}, out).ok());
    Endpoint from;
    Result<size_t> n = client->ReceiveFrom(in, &from, Now() + 10 * kSecond);
    ASSERT_TRUE(n.ok()) << size << ": " << n.error().message;
    EXPECT_EQ(*n, size);
    EXPECT_EQ(from, (Endpoint{kB, 7}));
    EXPECT_TRUE(std::equal(out.begin(), out.end(), in.begin()));
  }
  std::vector<uint8_t> huge(65508);
  Result<void> too_big = client->SendTo({kB, 7}, huge);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, EMSGSIZE);
}

TEST_F(NetStackTest, ErrorsAreErrnoCodes) {
  Result<TcpStream> refused = TcpStream::Connect({kB, 9}, Now() + 10 * kSecond);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ECONNREFUSED) << refused.error().message;

  Result<TcpStream> unroutable = TcpStream::Connect({Ipv4(192, 0, 2, 1), 9}, Now() + kSecond);
  ASSERT_FALSE(unroutable.ok());
  EXPECT_EQ(unroutable.error().code, ENETUNREACH) << unroutable.error().message;

  Result<TcpListener> first = TcpListener::Listen({{}, 7001});
  ASSERT_TRUE(first.ok());
  Result<TcpListener> second = TcpListener::Listen({{}, 7001});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, EADDRINUSE);

  Result<TcpStream> accepted = first->Accept(Now() + kSecond);
  ASSERT_FALSE(accepted.ok());
  EXPECT_EQ(accepted.error().code, ETIMEDOUT);

  EXPECT_FALSE(Ipv4::Parse("10.0.0").ok());
  EXPECT_FALSE(Ipv4::Parse("10.0.0.256").ok());
  EXPECT_FALSE(Ipv4::Parse("10.0.0.1 ").ok());
  EXPECT_EQ(*Ipv4::Parse("169.254.77.2"), Ipv4(169, 254, 77, 2));
  EXPECT_EQ(Endpoint::Parse("10.0.0.2:80")->port, 80);
  EXPECT_FALSE(Endpoint::Parse("10.0.0.2:65536").ok());
}

TEST_F(NetStackTest, AWriterWaitsWhileTheSendBufferIsFull) {
  Result<TcpListener> listener = TcpListener::Listen({kB, 7002});
  ASSERT_TRUE(listener.ok());
  Result<TcpStream> client = TcpStream::Connect({kB, 7002}, Now() + 10 * kSecond);
  ASSERT_TRUE(client.ok());
  Result<TcpStream> server = listener->Accept(Now() + 10 * kSecond);
  ASSERT_TRUE(server.ok());
  // Nobody reads: the receive window and the send buffer fill, and the write stops there.
  const std::vector<uint8_t> data = Bytes(8 << 20, 3);
  Result<size_t> partial = client->Write(data, Now() + 2 * kSecond);
  ASSERT_TRUE(partial.ok()) << partial.error().message;
  EXPECT_GT(*partial, 0u);
  EXPECT_LT(*partial, data.size());
  // Once the server reads, the rest goes.
  size_t received = 0;
  Result<Task*> reader = Spawn([&] {
    std::vector<uint8_t> buffer(65536);
    while (received < data.size()) {
      Result<size_t> n = server->Read(buffer, Now() + 10 * kSecond);
      if (!n || *n == 0) break;
      received += *n;
    }
  });
  ASSERT_TRUE(reader.ok());
  Result<size_t> rest = client->Write(std::span(data).subspan(*partial), Now() + 60 * kSecond);
  ASSERT_TRUE(rest.ok()) << rest.error().message;
  EXPECT_EQ(*partial + *rest, data.size());
  Join(*reader);
  EXPECT_EQ(received, data.size());
}

// Frames from this host may come with blank checksums, which the stack trusts; a frame that
// says its sums are complete and has a bad one is dropped and counted.
TEST_F(NetStackTest, BlankChecksumsAreTrustedAndBadCompleteOnesDropped) {
  Result<UdpSocket> server = UdpSocket::Bind({kB, 7003});
  Result<UdpSocket> client = UdpSocket::Bind({kA, 0});
  ASSERT_TRUE(server.ok() && client.ok());
  // The ARP exchange first, with nothing changed.
  ASSERT_TRUE(client->SendTo({kB, 7003}, Bytes(10, 1)).ok());
  std::vector<uint8_t> in(100);
  ASSERT_TRUE(server->ReceiveFrom(in, nullptr, Now() + kSecond).ok());
  wire_a_.tamper = [](std::vector<uint8_t>& frame) {
    if (frame.size() > 42 && frame[12] == 0x08 && frame[13] == 0x00 && frame[23] == 17) {
      frame[40] ^= 0x5a;   // the UDP checksum
    }
  };
  uint64_t errors = GetStackStats().udp_checksum_errors;
  ASSERT_TRUE(client->SendTo({kB, 7003}, Bytes(10, 2)).ok());
  Result<size_t> dropped = server->ReceiveFrom(in, nullptr, Now() + kSecond);
  ASSERT_FALSE(dropped.ok());
  EXPECT_EQ(dropped.error().code, ETIMEDOUT);
  EXPECT_EQ(GetStackStats().udp_checksum_errors, errors + 1);

  wire_a_.checksum = Checksum::kBlank;
  ASSERT_TRUE(client->SendTo({kB, 7003}, Bytes(10, 3)).ok());
  Result<size_t> trusted = server->ReceiveFrom(in, nullptr, Now() + kSecond);
  ASSERT_TRUE(trusted.ok());
  EXPECT_EQ(*trusted, 10u);
  EXPECT_EQ(GetStackStats().udp_checksum_errors, errors + 1);
}

// When the link comes back (a backend reconnected), the interface keeps its address and
// announces it with a gratuitous ARP.
TEST_F(NetStackTest, LinkUpAgainAnnouncesTheAddress) {
  wire_a_.SetUp(false);
  EXPECT_FALSE(a_->info().link_up);
  wire_a_.sent.clear();
  wire_a_.SetUp(true);
  InterfaceInfo info = a_->info();
  EXPECT_TRUE(info.link_up);
  EXPECT_EQ(info.address, kA);
  bool announced = false;
  for (const std::vector<uint8_t>& frame : wire_a_.sent) {
    // ARP (0x0806) with sender and target protocol address both A's.
    if (frame.size() >= 42 && frame[12] == 0x08 && frame[13] == 0x06 &&
        memcmp(&frame[28], &frame[38], 4) == 0 && frame[28] == 10 && frame[31] == 1) {
      announced = true;
    }
  }
  EXPECT_TRUE(announced);
  Result<InterfaceInfo> ready = WaitForAddress("", Now());   // none registered here
  EXPECT_FALSE(ready.ok());
}

}  // namespace
}  // namespace skiff::net
