// The netif wire protocol: TX requests for a frame, TX responses, and received packets read
// back from RX responses, hostile ones included.
#include <gtest/gtest.h>
#include <string.h>

#include <vector>

#include "drivers/netfront/netif.h"

namespace skiff::net {
namespace {

const std::string kDevice = "vif 0";

netif_rx_response_t Rx(uint16_t id, uint16_t offset, int16_t status, uint16_t flags = 0) {
  netif_rx_response_t r = {};
  r.id = id;
  r.offset = offset;
  r.status = status;
  r.flags = flags;
  return r;
}

netif_rx_response_t Extra(uint8_t type, uint16_t gso_size, bool more = false) {
  netif_extra_info_t e = {};
  e.type = type;
  e.flags = more ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
  e.u.gso.size = gso_size;
  e.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
  netif_rx_response_t r;   // its id field is the extra's type and flags
  memcpy(&r, &e, sizeof(r));
  return r;
}

TEST(NetifTx, OneSlotFrameCarriesItsLengthAndNoMoreData) {
  TxSlot slots[] = {{GrantRef{42}, 7, 60}};
  netif_tx_request_t out[1];
  ASSERT_TRUE(TxRequests(slots, 60, {}, out).ok());
  EXPECT_EQ(out[0].gref, 42u);
  EXPECT_EQ(out[0].id, 7);
  EXPECT_EQ(out[0].size, 60);
  EXPECT_EQ(out[0].offset, 0);
  EXPECT_EQ(out[0].flags, 0);
}

TEST(NetifTx, AChainedFrameHasTheTotalFirstAndMoreDataOnAllButTheLast) {
  TxSlot slots[] = {{GrantRef{10}, 1, 4096}, {GrantRef{11}, 2, 4096}, {GrantRef{12}, 3, 1000}};
  netif_tx_request_t out[3];
  ASSERT_TRUE(TxRequests(slots, 9192, {.checksum = Checksum::kBlank}, out).ok());
  EXPECT_EQ(out[0].size, 9192);
  EXPECT_EQ(out[1].size, 4096);
  EXPECT_EQ(out[2].size, 1000);
  EXPECT_TRUE(out[0].flags & NETTXF_more_data);
  EXPECT_TRUE(out[1].flags & NETTXF_more_data);
  EXPECT_FALSE(out[2].flags & NETTXF_more_data);
  // The TX names: csum_blank is TX bit 0 (RX's data_validated bit), data_validated bit 1.
  EXPECT_EQ(out[0].flags & (NETTXF_csum_blank | NETTXF_data_validated),
            NETTXF_csum_blank | NETTXF_data_validated);
  EXPECT_EQ(NETTXF_csum_blank, 1u);
  EXPECT_EQ(NETRXF_csum_blank, 2u);
  EXPECT_EQ(out[1].flags & NETTXF_csum_blank, 0u) << "only the first slot carries them";
}

TEST(NetifTx, AGsoPacketHasItsExtraInfoSlotAfterTheFirstRequest) {
  TxSlot slots[] = {{GrantRef{10}, 1, 4096}, {GrantRef{11}, 2, 904}};
  netif_tx_request_t out[3];
  ASSERT_TRUE(TxRequests(slots, 5000, {.checksum = Checksum::kBlank, .gso_size = 1460}, out).ok());
  EXPECT_EQ(out[0].size, 5000);
  EXPECT_EQ(out[0].flags, NETTXF_csum_blank | NETTXF_data_validated | NETTXF_more_data |
                              NETTXF_extra_info);
  netif_extra_info_t extra;
  memcpy(&extra, &out[1], sizeof(extra));
  EXPECT_EQ(extra.type, XEN_NETIF_EXTRA_TYPE_GSO);
  EXPECT_EQ(extra.flags, 0) << "no further extra";
  EXPECT_EQ(extra.u.gso.size, 1460);
  EXPECT_EQ(extra.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
  EXPECT_EQ(out[2].gref, 11u);
  EXPECT_EQ(out[2].id, 2);
  EXPECT_EQ(out[2].size, 904);
  EXPECT_EQ(out[2].flags, 0);
  netif_tx_request_t short_out[2];
  EXPECT_EQ(TxRequests(slots, 5000, {.checksum = Checksum::kBlank, .gso_size = 1460}, short_out)
                .error().code, EINVAL) << "no room for the extra";
  EXPECT_EQ(TxRequests(slots, 5000, {.gso_size = 1460}, out).error().code, EINVAL)
      << "netback wants a GSO packet's checksum blank";
}

TEST(NetifTx, BadFramesAreRefused) {
  netif_tx_request_t out[20];
  TxSlot one[] = {{GrantRef{1}, 0, 10}};
  EXPECT_EQ(TxRequests(one, 10, {}, out).error().code, EINVAL)
      << "shorter than an Ethernet header";
  std::vector<TxSlot> many(kMaxTxSlots + 1, TxSlot{GrantRef{1}, 0, 4096});
  EXPECT_EQ(TxRequests(many, 4096 * many.size(), {}, out).error().code, EINVAL)
      << "more slots than netback takes";
  TxSlot gap[] = {{GrantRef{1}, 0, 1000}, {GrantRef{2}, 1, 1000}};
  EXPECT_EQ(TxRequests(gap, 2000, {}, out).error().code, EINVAL)
      << "a slot but the last that is not a full page";
  TxSlot short_sum[] = {{GrantRef{1}, 0, 100}};
  EXPECT_EQ(TxRequests(short_sum, 200, {}, out).error().code, EINVAL);
}

TEST(NetifTx, ResponsesOutsideTheProtocolAreErrors) {
  for (int16_t s : {NETIF_RSP_DROPPED, NETIF_RSP_ERROR, NETIF_RSP_OKAY, NETIF_RSP_NULL}) {
    EXPECT_TRUE(CheckTxResponse({3, s}, kDevice).ok()) << s;
  }
  Result<void> bad = CheckTxResponse({3, 7}, kDevice);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, EPROTO);
  EXPECT_EQ(bad.error().message, "vif 0: the TX response for id 3 has status 7, not one of -2 to 1");
}

TEST(NetifRx, OneSlotPacketWithTheRxChecksumBits) {
  RxPacket p;
  netif_rx_response_t r[] = {Rx(5, 10, 60, NETRXF_data_validated)};
  Result<uint32_t> n = ParseRxPacket(r, &p, kDevice);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(p.count, 1u);
  EXPECT_EQ(p.bytes, 60u);
  EXPECT_EQ(p.fragments[0].id, 5);
  EXPECT_EQ(p.fragments[0].offset, 10);
  EXPECT_EQ(p.checksum, Checksum::kValidated) << "RX bit 0 is data_validated";
  netif_rx_response_t blank[] = {Rx(5, 0, 60, NETRXF_csum_blank | NETRXF_data_validated)};
  ASSERT_TRUE(ParseRxPacket(blank, &p, kDevice).ok());
  EXPECT_EQ(p.checksum, Checksum::kBlank) << "RX bit 1 is csum_blank";
}

TEST(NetifRx, AChainWaitsForItsLastSlotThenSumsItsFragments) {
  RxPacket p;
  netif_rx_response_t r[] = {Rx(1, 0, 4096, NETRXF_more_data), Rx(2, 0, 4096, NETRXF_more_data),
                             Rx(3, 0, 100)};
  Result<uint32_t> partial = ParseRxPacket(std::span(r, 2), &p, kDevice);
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(*partial, 0u) << "incomplete: wait for more";
  Result<uint32_t> n = ParseRxPacket(r, &p, kDevice);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(p.bytes, 8292u);
  EXPECT_EQ(p.count, 3u);
}

TEST(NetifRx, GsoExtraInfoTakesASlotAndItsRequest) {
  RxPacket p;
  netif_rx_response_t r[] = {Rx(1, 0, 4096, NETRXF_more_data | NETRXF_extra_info),
                             Extra(XEN_NETIF_EXTRA_TYPE_GSO, 1448), Rx(3, 0, 2000)};
  Result<uint32_t> n = ParseRxPacket(r, &p, kDevice);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(p.count, 2u);
  EXPECT_EQ(p.gso_size, 1448);
  EXPECT_EQ(p.extra_count, 1u);
  EXPECT_EQ(p.extra_positions[0], 1) << "the second slot: its buffer is recycled by position";
  EXPECT_EQ(p.bytes, 6096u);
}

TEST(NetifRx, AFailedPacketIsDroppedNotABrokenDevice) {
  RxPacket p;
  netif_rx_response_t r[] = {Rx(1, 0, NETIF_RSP_ERROR)};
  Result<uint32_t> n = ParseRxPacket(r, &p, kDevice);
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(p.error);
  EXPECT_EQ(p.count, 1u) << "its buffer is still to recycle";
}

TEST(NetifRx, HostileResponsesBreakTheProtocol) {
  RxPacket p;
  netif_rx_response_t past_page[] = {Rx(1, 4000, 200)};
  Result<uint32_t> n = ParseRxPacket(past_page, &p, kDevice);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().message, "vif 0: RX id 1: offset 4000 and size 200 run past the page");
  std::vector<netif_rx_response_t> endless(40, Rx(1, 0, 4096, NETRXF_more_data));
  n = ParseRxPacket(endless, &p, kDevice);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("goes on past"), std::string::npos);
  netif_rx_response_t bad_extra[] = {Rx(1, 0, 60, NETRXF_extra_info), Extra(9, 0)};
  n = ParseRxPacket(bad_extra, &p, kDevice);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().message, "vif 0: an RX extra-info slot of type 9");
  std::vector<netif_rx_response_t> too_big(17, Rx(1, 0, 4096, NETRXF_more_data));
  too_big.push_back(Rx(1, 0, 100));
  n = ParseRxPacket(too_big, &p, kDevice);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("over 65535"), std::string::npos) << n.error().message;
}

}  // namespace
}  // namespace skiff::net
