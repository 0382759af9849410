// The blkif wire protocol. [xen/io/blkif.h]
#include "drivers/blkfront/blkif.h"

#include <errno.h>
#include <string.h>

namespace skiff::blk {
namespace {

blkif_request_segment WireSegment(const Segment& segment) {
  blkif_request_segment wire = {};
  wire.gref = segment.ref.value;
  wire.first_sect = 0;
  wire.last_sect = static_cast<uint8_t>(segment.bytes / kWireSector - 1);
  return wire;
}

template <typename T>
blkif_request_t AsRequest(const T& request) {
  blkif_request_t wire = {};
  memcpy(&wire, &request, sizeof(T));
  return wire;
}

std::string Letters(uint32_t index) {   // 0 a, 25 z, 26 aa: Linux's encode_disk_name
  std::string name;
  if (index >= 26) name = Letters(index / 26 - 1);
  name += static_cast<char>('a' + index % 26);
  return name;
}

}  // namespace

blkif_request_t DirectRequest(uint8_t op, uint16_t handle, uint64_t id, uint64_t offset,
                              std::span<const Segment> segments) {
  blkif_request_t request = {};
  request.operation = op;
  request.nr_segments = static_cast<uint8_t>(segments.size());
  request.handle = handle;
  request.id = id;
  request.sector_number = offset / kWireSector;
  for (size_t i = 0; i < segments.size() && i < kDirectSegments; i++) {
    request.seg[i] = WireSegment(segments[i]);
  }
  return request;
}

blkif_request_t IndirectRequest(uint8_t op, uint16_t handle, uint64_t id, uint64_t offset,
                                uint16_t segment_count, std::span<const GrantRef> indirect_pages) {
  blkif_request_indirect_t request = {};
  request.operation = BLKIF_OP_INDIRECT;
  request.indirect_op = op;
  request.nr_segments = segment_count;
  request.id = id;
  request.sector_number = offset / kWireSector;
  request.handle = handle;
  for (size_t i = 0; i < indirect_pages.size() && i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++) {
    request.indirect_grefs[i] = indirect_pages[i].value;
  }
  return AsRequest(request);
}

void WriteIndirectSegments(std::span<void* const> pages, std::span<const Segment> segments) {
  for (size_t i = 0; i < segments.size(); i++) {
    blkif_request_segment wire = WireSegment(segments[i]);
    auto* page = static_cast<blkif_request_segment*>(pages[i / kSegmentsPerIndirectPage]);
    memcpy(&page[i % kSegmentsPerIndirectPage], &wire, sizeof(wire));
  }
}

blkif_request_t FlushRequest(uint8_t op, uint16_t handle, uint64_t id) {
  blkif_request_t request = {};
  request.operation = op;
  request.handle = handle;
  request.id = id;
  return request;
}

blkif_request_t DiscardRequest(uint16_t handle, uint64_t id, uint64_t offset, uint64_t length) {
  blkif_request_discard_t request = {};
  request.operation = BLKIF_OP_DISCARD;
  request.handle = handle;
  request.id = id;
  request.sector_number = offset / kWireSector;
  request.nr_sectors = length / kWireSector;
  return AsRequest(request);
}

std::optional<ByteRange> DiscardableRange(uint64_t offset, uint64_t length, uint64_t granularity,
                                          uint64_t alignment) {
  if (length == 0) return std::nullopt;
  if (granularity <= kWireSector) return ByteRange{offset, length};
  uint64_t end = offset + length;
  uint64_t phase = alignment % granularity;
  // The first granule boundary at or after |offset|, and the last at or before |end|.
  uint64_t first = offset < phase ? phase
                                  : offset + (granularity - (offset - phase) % granularity) %
                                                 granularity;
  if (end < phase) return std::nullopt;
  uint64_t last = end - (end - phase) % granularity;
  if (last <= first) return std::nullopt;
  return ByteRange{first, last - first};
}

std::optional<std::string> DiskName(uint32_t vdev) {
  constexpr uint32_t kExtended = 1u << 28;
  uint32_t index, part;
  if (vdev & kExtended) {
    uint32_t minor = vdev & ~kExtended;
    if (minor >= kExtended) return std::nullopt;
    index = minor / 256;
    part = minor % 256;
  } else {
    uint32_t major = vdev >> 8, minor = vdev & 0xff;
    if (major == 202) {          // xvd
      index = minor / 16;
      part = minor % 16;
    } else if (major == 3 || major == 22) {   // hda, hdb; hdc, hdd: as Linux maps them
      index = (major == 22 ? 2 : 0) + minor / 64;
      part = minor % 64;
    } else if (major == 8) {     // sda...: after the four hd names
      index = 4 + minor / 16;
      part = minor % 16;
    } else {
      return std::nullopt;
    }
  }
  std::string name = "xvd" + Letters(index);
  if (part != 0) name += std::to_string(part);
  return name;
}

const char* OpName(uint8_t op) {
  switch (op) {
    case BLKIF_OP_READ: return "read";
    case BLKIF_OP_WRITE: return "write";
    case BLKIF_OP_WRITE_BARRIER: return "barrier";
    case BLKIF_OP_FLUSH_DISKCACHE: return "flush";
    case BLKIF_OP_DISCARD: return "discard";
    case BLKIF_OP_INDIRECT: return "indirect";
    default: return "unknown";
  }
}

Result<void> CheckResponse(const blkif_response_t& rsp, uint8_t sent_op, uint8_t indirect_op,
                           const std::string& device) {
  bool op_ok = rsp.operation == sent_op ||
               (sent_op == BLKIF_OP_INDIRECT && rsp.operation == indirect_op);
  if (!op_ok) {
    return MakeError(EPROTO, "%s: the response to request %llu says operation %u (%s), but the "
                     "request was %u (%s)", device.c_str(),
                     static_cast<unsigned long long>(rsp.id), rsp.operation,
                     OpName(rsp.operation), sent_op, OpName(sent_op));
  }
  if (rsp.status != BLKIF_RSP_OKAY && rsp.status != BLKIF_RSP_ERROR &&
      rsp.status != BLKIF_RSP_EOPNOTSUPP) {
    return MakeError(EPROTO, "%s: the response to request %llu has status %d, which is not "
                     "0, -1 or -2", device.c_str(), static_cast<unsigned long long>(rsp.id),
                     rsp.status);
  }
  return {};
}

}  // namespace skiff::blk
