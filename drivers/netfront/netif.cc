// The netif wire protocol. [xen/io/netif.h]
#include "drivers/netfront/netif.h"

#include <errno.h>
#include <string.h>

namespace skiff::net {

Result<void> TxRequests(std::span<const TxSlot> slots, uint32_t frame_bytes,
                        const SendOptions& options, std::span<netif_tx_request_t> out) {
  const bool gso = options.gso_size != 0;
  if (frame_bytes < kEthernetHeader || frame_bytes > kMaxFrame) {
    return MakeError(EINVAL, "netif: a frame of %u bytes is not %u to %u bytes", frame_bytes,
                     kEthernetHeader, kMaxFrame);
  }
  if (gso && options.checksum != Checksum::kBlank) {
    return MakeError(EINVAL, "netif: a GSO packet with its checksum complete (netback wants "
                     "it blank)");
  }
  if (slots.empty() || slots.size() > kMaxTxSlots || out.size() < slots.size() + gso) {
    return MakeError(EINVAL, "netif: a frame in %zu slots (1 to %u)", slots.size(), kMaxTxSlots);
  }
  uint32_t sum = 0;
  for (size_t i = 0; i < slots.size(); i++) {
    bool last = i + 1 == slots.size();
    if (slots[i].bytes == 0 || slots[i].bytes > kPageSize || (!last && slots[i].bytes != kPageSize)) {
      return MakeError(EINVAL, "netif: slot %zu of a frame holds %u bytes", i, slots[i].bytes);
    }
    sum += slots[i].bytes;
  }
  if (sum != frame_bytes) {
    return MakeError(EINVAL, "netif: the slots hold %u bytes of a %u-byte frame", sum,
                     frame_bytes);
  }
  for (size_t i = 0; i < slots.size(); i++) {
    netif_tx_request_t& r = out[i == 0 ? 0 : i + gso];
    r = {};
    r.gref = slots[i].ref.value;
    r.offset = 0;
    r.id = slots[i].id;
    r.size = static_cast<uint16_t>(i == 0 ? frame_bytes : slots[i].bytes);
    if (i + 1 < slots.size()) r.flags |= NETTXF_more_data;
  }
  // The first request carries the frame's checksum state (TX bit names, not RX's).
  if (options.checksum == Checksum::kBlank) {
    out[0].flags |= NETTXF_csum_blank | NETTXF_data_validated;
  }
  if (gso) {
    out[0].flags |= NETTXF_extra_info;
    netif_extra_info_t extra = {};
    extra.type = XEN_NETIF_EXTRA_TYPE_GSO;
    extra.u.gso.size = options.gso_size;
    extra.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
    out[1] = {};
    memcpy(&out[1], &extra, sizeof(extra));
  }
  return {};
}

Result<void> CheckTxResponse(const netif_tx_response_t& rsp, const std::string& device) {
  if (rsp.status < NETIF_RSP_DROPPED || rsp.status > NETIF_RSP_NULL) {
    return MakeError(EPROTO, "%s: the TX response for id %u has status %d, not one of -2 to 1",
                     device.c_str(), rsp.id, rsp.status);
  }
  return {};
}

Result<uint32_t> ParseRxPacket(std::span<const netif_rx_response_t> responses, RxPacket* packet,
                               const std::string& device) {
  *packet = RxPacket{};
  size_t i = 0;
  bool more = true;
  bool first = true;
  while (more) {
    if (i >= responses.size()) return uint32_t{0};   // the chain goes on: wait
    const netif_rx_response_t& rsp = responses[i++];
    if (packet->count == sizeof(packet->fragments) / sizeof(packet->fragments[0])) {
      return MakeError(EPROTO, "%s: a received packet goes on past %u slots", device.c_str(),
                       packet->count);
    }
    if (rsp.status < 0) {
      packet->error = true;
    } else if (rsp.offset + static_cast<uint32_t>(rsp.status) > kPageSize) {
      return MakeError(EPROTO, "%s: RX id %u: offset %u and size %d run past the page",
                       device.c_str(), rsp.id, rsp.offset, rsp.status);
    }
    uint16_t bytes = rsp.status > 0 ? static_cast<uint16_t>(rsp.status) : 0;
    packet->fragments[packet->count++] = {rsp.id, rsp.offset, bytes};
    packet->bytes += bytes;
    if (first) {
      // RX bit names: data_validated is bit 0 here, csum_blank bit 1.
      packet->checksum = (rsp.flags & NETRXF_csum_blank)       ? Checksum::kBlank
                         : (rsp.flags & NETRXF_data_validated) ? Checksum::kValidated
                                                               : Checksum::kComplete;
    }
    more = rsp.flags & NETRXF_more_data;
    bool extras = first && (rsp.flags & NETRXF_extra_info);
    first = false;
    // Extra-info slots follow the first response: each takes an RX request's place.
    while (extras) {
      if (i >= responses.size()) return uint32_t{0};
      netif_extra_info_t extra;
      static_assert(sizeof(extra) == sizeof(responses[i]));
      memcpy(&extra, &responses[i], sizeof(extra));
      uint8_t position = static_cast<uint8_t>(i++);
      if (extra.type == XEN_NETIF_EXTRA_TYPE_NONE || extra.type >= XEN_NETIF_EXTRA_TYPE_MAX) {
        return MakeError(EPROTO, "%s: an RX extra-info slot of type %u", device.c_str(),
                         extra.type);
      }
      if (packet->extra_count ==
          sizeof(packet->extra_positions) / sizeof(packet->extra_positions[0])) {
        return MakeError(EPROTO, "%s: more than %u RX extra-info slots", device.c_str(),
                         packet->extra_count);
      }
      packet->extra_positions[packet->extra_count++] = position;
      if (extra.type == XEN_NETIF_EXTRA_TYPE_GSO) {
        if (extra.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 || extra.u.gso.size == 0) {
          return MakeError(EPROTO, "%s: an RX GSO slot of type %u, size %u", device.c_str(),
                           extra.u.gso.type, extra.u.gso.size);
        }
        packet->gso_size = extra.u.gso.size;
      }
      extras = extra.flags & XEN_NETIF_EXTRA_FLAG_MORE;
    }
  }
  if (packet->bytes > kMaxFrame) {
    return MakeError(EPROTO, "%s: a received packet of %u bytes, over %u", device.c_str(),
                     packet->bytes, kMaxFrame);
  }
  packet->slots = static_cast<uint32_t>(i);
  return packet->slots;
}

}  // namespace skiff::net
