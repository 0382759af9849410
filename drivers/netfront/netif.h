// The netif wire protocol: how a packet goes out as TX requests, and how received packets are
// read back from RX responses. [xen/io/netif.h] Portable: no hypercalls, so the host tests
// check it slot by slot. The netfront driver stands on it.
//
// The RX and TX flags differ: NETRXF_data_validated is bit 0 and NETRXF_csum_blank bit 1, but
// NETTXF_csum_blank is bit 0 and NETTXF_data_validated bit 1. Each side uses its own names.
#ifndef SKIFF_DRIVERS_NETFRONT_NETIF_H_
#define SKIFF_DRIVERS_NETFRONT_NETIF_H_

#include <stddef.h>
#include <stdint.h>

#include <span>
#include <string>

#include "net/link.h"
#include "runtime/xen/xen.h"
extern "C" {
#include <xen/io/netif.h>
}
#include "skiff/result.h"
#include "skiff/xen_types.h"

namespace skiff::net {

inline constexpr uint32_t kPageSize = 4096;
// Netback drops a packet of XEN_NETIF_NR_SLOTS_MIN (18) slots or more, and disables the
// whole vif for one far beyond; the driver never sends more than this.
inline constexpr uint32_t kMaxTxSlots = XEN_NETIF_NR_SLOTS_MIN - 1;
// The largest frame: what the first TX request's 16-bit size can say
// (XEN_NETIF_MAX_TX_SIZE).
inline constexpr uint32_t kMaxFrame = 0xFFFF;
inline constexpr uint32_t kEthernetHeader = 14;

static_assert(sizeof(netif_tx_request_t) == 12 && sizeof(netif_tx_response_t) == 4);
static_assert(sizeof(netif_rx_request_t) == 8 && sizeof(netif_rx_response_t) == 8);
static_assert(sizeof(netif_extra_info_t) == 8);

// One TX slot's data: a grant of a page (of the driver's copy pool) and the bytes from its
// start.
struct TxSlot {
  GrantRef ref;
  uint16_t id;
  uint16_t bytes;
};

// The TX requests of one frame of |frame_bytes| over |slots| (each a full page but the last):
// the first carries the frame's whole length and the checksum flags, every one but the last
// NETTXF_more_data. A GSO packet (options.gso_size) has its checksum blank and an extra-info
// slot after the first request (NETTXF_extra_info), which takes a ring slot but no page:
// |out| holds one more. EINVAL for a frame that is empty, over kMaxFrame or shorter than an
// Ethernet header, for more than kMaxTxSlots slots, slots that do not add up to the frame, or
// a GSO packet whose checksum is not blank.
Result<void> TxRequests(std::span<const TxSlot> slots, uint32_t frame_bytes,
                        const SendOptions& options, std::span<netif_tx_request_t> out);

// Checks a TX response: EPROTO naming |device| for a status that is not NETIF_RSP_*. (The id
// is the driver's to check: it must be a request in flight.)
Result<void> CheckTxResponse(const netif_tx_response_t& rsp, const std::string& device);

// One received packet's slots, as the responses gave them.
struct RxFragment {
  uint16_t id;       // of the RX request (buffer) that holds it
  uint16_t offset;   // within that page
  uint16_t bytes;
};

struct RxPacket {
  RxFragment fragments[kMaxTxSlots + 1];
  uint32_t count = 0;        // fragments
  uint32_t slots = 0;        // ring slots the packet took, extra-info slots included
  uint32_t bytes = 0;        // the frame's length
  Checksum checksum = Checksum::kComplete;
  uint16_t gso_size = 0;     // a GSO (TCPv4) packet's segment size, or 0
  // Extra-info slots (GSO) take RX requests' places without an id of their own (their first
  // bytes are the extra's type and flags): their positions in the packet's slots, so that the
  // driver recycles the buffers posted at those ring indexes, as Linux's netfront does.
  uint8_t extra_positions[4];
  uint32_t extra_count = 0;
  bool error = false;        // the backend failed it (status < 0): drop it, recycle its buffers
};

// Reads the packet that starts at responses[0] from the responses available. Returns the
// number of slots it took, 0 when its chain goes on past the responses there are (wait for
// more), or EPROTO naming |device| when the backend broke the protocol: an offset and size
// past the page, a chain longer than any packet may be, an extra-info slot of an unknown type,
// or a packet over kMaxFrame. Each id must be checked by the driver against its posted
// buffers.
Result<uint32_t> ParseRxPacket(std::span<const netif_rx_response_t> responses, RxPacket* packet,
                               const std::string& device);

}  // namespace skiff::net

#endif  // SKIFF_DRIVERS_NETFRONT_NETIF_H_
