// The blkif wire protocol: what goes in a request and what a response may say.
// [xen/io/blkif.h] Portable: no hypercalls, so the host tests check it byte by byte.
//
// Sector numbers, first_sect/last_sect and the backend's "sectors" are in 512-byte units
// whatever the disk's logical sector size, as Linux's blkfront and blkback use them (Xen's
// blkif.h says "sector-size" units unless the frontend writes feature-large-sector-size;
// FreeBSD and QEMU's qdisk follow that in places, FreeBSD bug 280884). The sandbox's backend,
// and most backends, are Linux blkback; the driver never writes feature-large-sector-size.
#ifndef SKIFF_DRIVERS_BLKFRONT_BLKIF_H_
#define SKIFF_DRIVERS_BLKFRONT_BLKIF_H_

#include <stddef.h>
#include <stdint.h>

#include <optional>
#include <span>
#include <string>

#include "runtime/xen/xen.h"
extern "C" {
#include <xen/io/blkif.h>
}
#include "skiff/result.h"
#include "skiff/xen_types.h"

namespace skiff::blk {

inline constexpr uint32_t kWireSector = 512;   // the unit of every sector number on the wire
inline constexpr uint32_t kPageSize = 4096;
inline constexpr uint32_t kDirectSegments = BLKIF_MAX_SEGMENTS_PER_REQUEST;   // 11
inline constexpr uint32_t kSegmentsPerIndirectPage = kPageSize / sizeof(blkif_request_segment);
// The most segments one indirect request carries here: 1 MiB of data, one indirect page.
inline constexpr uint32_t kMaxIndirectSegments = 256;

static_assert(sizeof(blkif_request_t) == 112 && sizeof(blkif_response_t) == 16);
static_assert(sizeof(blkif_request_discard_t) <= sizeof(blkif_request_t));
static_assert(sizeof(blkif_request_indirect_t) <= sizeof(blkif_request_t));
static_assert(sizeof(blkif_request_segment) == 8);

// One page of data in a request: the page's grant and how many bytes of it, from its start.
struct Segment {
  GrantRef ref;
  uint32_t bytes;   // a multiple of 512, 512 to 4096
};

// A read or write of |segments| (at most 11) at byte |offset|.
blkif_request_t DirectRequest(uint8_t op, uint16_t handle, uint64_t id, uint64_t offset,
                              std::span<const Segment> segments);
// A read or write whose segments are in |indirect_pages| (grants of pages that
// WriteIndirectSegments filled).
blkif_request_t IndirectRequest(uint8_t op, uint16_t handle, uint64_t id, uint64_t offset,
                                uint16_t segment_count, std::span<const GrantRef> indirect_pages);
// Writes the segment descriptors into indirect pages, kSegmentsPerIndirectPage a page.
void WriteIndirectSegments(std::span<void* const> pages, std::span<const Segment> segments);
blkif_request_t FlushRequest(uint8_t op, uint16_t handle, uint64_t id);
blkif_request_t DiscardRequest(uint16_t handle, uint64_t id, uint64_t offset, uint64_t length);

// The part of [offset, offset + length) that whole discard granules cover, as Linux's block
// layer trims a discard: granules start at |alignment| (mod |granularity|). Nothing when no
// whole granule fits. A granularity of 0 or 512 is the whole range.
struct ByteRange {
  uint64_t offset;
  uint64_t length;
};
std::optional<ByteRange> DiscardableRange(uint64_t offset, uint64_t length, uint64_t granularity,
                                          uint64_t alignment);

// The name Linux gives virtual device |vdev| (device/vbd/<vdev>): xvda for 51712 (202:0),
// xvdb for 51728, xvdaa for the 27th; the extended scheme (1 << 28) for more; hd and sd
// numbers map to xvd names as Linux's blkfront maps them. Nothing for a number that is none
// of these.
std::optional<std::string> DiskName(uint32_t vdev);

// Checks a response against what the request sent: |sent_op| its operation (BLKIF_OP_INDIRECT
// for an indirect one, whose response may also carry the inner |indirect_op|). EPROTO naming
// |device| for a status or operation out of the protocol.
Result<void> CheckResponse(const blkif_response_t& rsp, uint8_t sent_op, uint8_t indirect_op,
                           const std::string& device);

const char* OpName(uint8_t op);

}  // namespace skiff::blk

#endif  // SKIFF_DRIVERS_BLKFRONT_BLKIF_H_
