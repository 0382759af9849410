// blkfront: the Xen virtual block device frontend. [xen/io/blkif.h]
#include "drivers/blkfront/blkfront.h"

#include <errno.h>
#include <string.h>

#include <algorithm>
#include <utility>

namespace skiff::blk {
namespace {

constexpr char kProtocol[] = "x86_64-abi";   // XEN_IO_PROTO_ABI_X86_64

const char* OpWord(BlockOp op) {
  switch (op) {
    case BlockOp::kRead: return "read";
    case BlockOp::kWrite: return "write";
    case BlockOp::kFlush: return "flush";
    case BlockOp::kDiscard: return "discard";
  }
  return "request";
}

// Copies bytes [start, start + n) of a request's |buffers| into the pages |page_of(i)| gives
// (4 KiB each, from their start), or out of them.
template <typename PageOf>
void CopyPages(const std::vector<BlockBuffer>& buffers, uint64_t start, uint64_t n,
               PageOf&& page_of, bool into_pages) {
  uint64_t skip = start, at = 0;   // |at|: bytes of |pages| done
  for (const BlockBuffer& b : buffers) {
    if (at == n) break;
    if (skip >= b.size) {
      skip -= b.size;
      continue;
    }
    char* user = static_cast<char*>(b.data) + skip;
    uint64_t left = std::min<uint64_t>(b.size - skip, n - at);
    skip = 0;
    while (left > 0) {
      uint64_t run = std::min<uint64_t>(left, kPageSize - at % kPageSize);
      char* page = static_cast<char*>(page_of(at / kPageSize)) + at % kPageSize;
      memcpy(into_pages ? page : user, into_pages ? user : page, run);
      user += run;
      at += run;
      left -= run;
    }
  }
}

}  // namespace

Device::Device(Machine& machine, xen::XenstoreClient& store, std::string name, Options options)
    : machine_(machine), store_(store), name_(std::move(name)), options_(options),
      orphan_timer_([](void* self) { static_cast<Device*>(self)->OrphanTimeout(); }, this) {
  info_.name = name_;
}

Device::~Device() {
  ReleaseConnection();
  FailQueued(MakeError(ENODEV, "%s: the disk's driver is gone", name_.c_str()));
}

BlockInfo Device::info() const {
  BlockInfo info = info_;
  info.connected = connected_;
  info.broken = broken_.has_value();
  return info;
}

BlockStats Device::stats() const {
  BlockStats stats = stats_;
  stats.grants = static_cast<uint32_t>(ring_refs_.size());
  stats.pages = ring_pages_ != nullptr ? 1u << ring_order_ : 0;
  for (const PoolPage& page : pool_) {
    if (page.granted) stats.grants++;
    if (page.data != nullptr) stats.pages++;
  }
  stats.in_flight = static_cast<uint32_t>(slots_.size() - free_slots_.size());
  return stats;
}

// ---- The xenbus steps.

Result<void> Device::Setup(const xen::XenbusDevice& device) {
  if (device_ && device_->node != device.node) {
    return MakeError(EBUSY, "blkfront: %s: the disk %s is already reached through %s",
                     device.node.c_str(), name_.c_str(), device_->node.c_str());
  }
  if (device_) Teardown(*device_);   // a connection still up: its requests go again
  device_ = device;
  broken_.reset();
  handle_ = static_cast<uint16_t>(strtoul(device.id.c_str(), nullptr, 10));
  Result<void> made = [&]() -> Result<void> {
    uint64_t max_order = TRY(xen::ReadBackendUint(store_, device, "max-ring-page-order",
                                                  xen::kMaxRingOrder, 0));
    ring_order_ = static_cast<unsigned>(std::min<uint64_t>(max_order, options_.max_ring_order));
    size_t count = size_t{1} << ring_order_;
    ring_pages_ = TRY(machine_.AllocPages(count));
    ring_.emplace(TRY(BlkRing::Init(ring_pages_, ring_order_, name_)));
    for (size_t i = 0; i < count; i++) {
      void* page = static_cast<char*>(ring_pages_) + i * kPageSize;
      ring_refs_.push_back(
          TRY(machine_.grants().Offer(device.backend_id, machine_.GfnOf(page), false)));
    }
    port_ = TRY(machine_.OpenChannel(device.backend_id, [this] { OnEvent(); }));
    std::vector<std::pair<std::string, std::string>> keys;
    if (ring_order_ == 0) {
      keys.emplace_back("ring-ref", std::to_string(ring_refs_[0].value));
    } else {   // only for more than one page, as FreeBSD does: either scheme reads it
      keys.emplace_back("ring-page-order", std::to_string(ring_order_));
      for (size_t i = 0; i < count; i++) {
        keys.emplace_back("ring-ref" + std::to_string(i), std::to_string(ring_refs_[i].value));
      }
    }
    keys.emplace_back("event-channel", std::to_string(port_->value));
    keys.emplace_back("protocol", kProtocol);
    keys.emplace_back("feature-persistent", "1");
    return xen::WriteFrontendKeys(store_, device, keys);
  }();
  if (!made) ReleaseConnection();
  return made;
}

Result<void> Device::Connected(const xen::XenbusDevice& device) {
  auto uint = [&](const char* key, uint64_t max, uint64_t fallback) {
    return xen::ReadBackendUint(store_, device, key, max, fallback);
  };
  auto feature = [&](const char* key) { return xen::ReadBackendFeature(store_, device, key); };
  BlockInfo info;
  info.name = name_;
  info.node = device.node;
  uint64_t sectors = TRY(xen::ReadBackendUint(store_, device, "sectors", UINT64_MAX / kWireSector));
  info.sector_size = static_cast<uint32_t>(TRY(uint("sector-size", 1u << 20, kWireSector)));
  if (info.sector_size < kWireSector || info.sector_size > kPageSize ||
      (info.sector_size & (info.sector_size - 1)) != 0) {
    return MakeError(EPROTO, "blkfront: %s: sector-size %u is not a power of two from 512 to "
                     "4096", device.node.c_str(), info.sector_size);
  }
  info.physical_sector_size =
      static_cast<uint32_t>(TRY(uint("physical-sector-size", 1u << 20, info.sector_size)));
  if (info.physical_sector_size % info.sector_size != 0) {
    return MakeError(EPROTO, "blkfront: %s: physical-sector-size %u is not a multiple of "
                     "sector-size %u", device.node.c_str(), info.physical_sector_size,
                     info.sector_size);
  }
  info.size = sectors * kWireSector;   // "sectors" counts 512 bytes, as Linux blkback says it
  if (info.size % info.sector_size != 0) {
    return MakeError(EPROTO, "blkfront: %s: %llu sectors of 512 bytes are not whole %u-byte "
                     "sectors", device.node.c_str(), static_cast<unsigned long long>(sectors),
                     info.sector_size);
  }
  uint64_t vdisk_info = TRY(uint("info", UINT32_MAX, 0));
  info.cdrom = vdisk_info & VDISK_CDROM;
  info.removable = vdisk_info & VDISK_REMOVABLE;
  info.read_only = vdisk_info & VDISK_READONLY;
  if (Result<std::string> mode = store_.Read(device.backend + "/mode"); mode && *mode == "r") {
    info.read_only = true;
  }
  BlockFeatures& f = info.features;
  f.flush = TRY(feature("feature-flush-cache"));
  f.barrier = !f.flush && TRY(feature("feature-barrier"));
  f.discard = TRY(feature("feature-discard"));
  if (f.discard) {
    f.discard_granularity = TRY(uint("discard-granularity", UINT32_MAX, info.sector_size));
    f.discard_alignment = TRY(uint("discard-alignment", UINT32_MAX, 0));
  }
  f.persistent = TRY(feature("feature-persistent"));
  f.ring_pages = 1u << ring_order_;
  f.max_queues = static_cast<uint32_t>(TRY(uint("multi-queue-max-queues", 1024, 1)));
  f.queues = 1;   // one vCPU: one queue
  // The page pool: a sixteenth of memory, at least 16 pages, at most the option's.
  pool_cap_ = std::clamp<size_t>(machine_.RamBytes() / kPageSize / 16, 16,
                                 std::max<size_t>(options_.max_pool_pages, 16));
  uint64_t indirect = TRY(uint("feature-max-indirect-segments", UINT32_MAX, 0));
  indirect = std::min<uint64_t>({indirect, options_.max_indirect_segments, kMaxIndirectSegments,
                                 pool_cap_ - 1});
  f.indirect_segments = indirect > kDirectSegments ? static_cast<uint32_t>(indirect) : 0;

  // The slots, one per ring entry, each with room for its pages' pool indexes.
  size_t per_slot = f.indirect_segments > 0
                        ? f.indirect_segments +
                              (f.indirect_segments + kSegmentsPerIndirectPage - 1) /
                                  kSegmentsPerIndirectPage
                        : kDirectSegments;
  size_t count = ring_->size();
  slot_pages_.reset(new uint16_t[count * per_slot]);
  slots_.assign(count, Slot{});
  free_slots_.clear();
  for (size_t i = count; i-- > 0;) {
    slots_[i].pages = &slot_pages_[i * per_slot];
    free_slots_.push_back(static_cast<uint16_t>(i));
  }
  info_ = info;
  connected_ = true;
  orphan_timer_.Cancel();
  char line[256];
  snprintf(line, sizeof(line),
           "blkfront: %s: %llu bytes, %u-byte sectors (physical %u)%s%s%s%s%s, indirect %u, "
           "ring %u page%s, %zu queued\n",
           name_.c_str(), static_cast<unsigned long long>(info.size), info.sector_size,
           info.physical_sector_size, info.read_only ? ", read-only" : "",
           f.flush ? ", flush" : f.barrier ? ", barrier" : "", f.discard ? ", discard" : "",
           f.persistent ? ", persistent grants" : "", info.cdrom ? ", cd-rom" : "",
           f.indirect_segments, f.ring_pages, f.ring_pages == 1 ? "" : "s", queue_.size());
  machine_.Report(line);
  ever_connected_ = true;
  stats_.connects++;
  connections_.WakeAll();
  Pump();
  return {};
}

void Device::Teardown(const xen::XenbusDevice& device) {
  if (!device_ || device_->node != device.node) return;
  bool was_connected = connected_;
  connected_ = false;
  // Requests in flight go back to the front of the queue, to be sent again. [blkif_recover]
  size_t requeued = 0;
  for (size_t i = slots_.size(); i-- > 0;) {
    Slot& slot = slots_[i];
    if (!slot.in_flight) continue;
    slot.in_flight = false;
    slot.piece.request->parts_--;
    slot.piece.request->queued_++;
    queue_.push_front(slot.piece);
    requeued++;
  }
  stats_.reissued += requeued;
  ReleaseConnection();
  if (was_connected) {
    char line[160];
    snprintf(line, sizeof(line), "blkfront: %s: the backend went away; %zu requests wait for "
             "it\n", name_.c_str(), queue_.size());
    machine_.Report(line);
  }
  if (!queue_.empty()) orphan_timer_.ArmAfter(options_.orphan_timeout_ns);
}

void Device::Detach(const xen::XenbusDevice& device) {
  if (!device_ || device_->node != device.node) return;
  Teardown(device);
  device_.reset();
}

// Ends every grant of the connection and frees its pages; the backend has let go of them (or
// they go when it does).
void Device::ReleaseConnection() {
  if (port_) machine_.CloseChannel(*port_);
  port_.reset();
  ring_.reset();
  for (size_t i = 0; i < ring_refs_.size(); i++) {
    machine_.EndGrant(ring_refs_[i], static_cast<char*>(ring_pages_) + i * kPageSize);
  }
  for (size_t i = ring_refs_.size(); ring_pages_ != nullptr && i < (size_t{1} << ring_order_); i++) {
    machine_.FreePage(static_cast<char*>(ring_pages_) + i * kPageSize);
  }
  ring_refs_.clear();
  ring_pages_ = nullptr;
  for (PoolPage& page : pool_) {
    if (page.granted) {
      machine_.EndGrant(page.ref, page.data);
    } else if (page.data != nullptr) {
      machine_.FreePage(page.data);
    }
  }
  pool_.clear();
  free_pages_.clear();
  slots_.clear();
  free_slots_.clear();
  slot_pages_.reset();
  connected_ = false;
  stalled_ = false;
}

void Device::OrphanTimeout() {
  if (connected_ || queue_.empty()) return;
  Error error = MakeError(EIO, "%s: the backend went away and did not come back within %llu s",
                          name_.c_str(),
                          static_cast<unsigned long long>(options_.orphan_timeout_ns / 1000000000));
  std::string line = "blkfront: " + error.message + "; its requests fail\n";
  machine_.Report(line.c_str());
  FailQueued(error);
}

// ---- Requests from the app.

Result<void> Device::Check(BlockRequest& request, BlockOp op, uint64_t offset, uint64_t length) {
  if (request.state_ == BlockRequest::State::kInFlight) {
    return MakeError(EBUSY, "%s: a %s with a request that is still in flight", name_.c_str(),
                     OpWord(op));
  }
  if (broken_) return MakeError(EIO, "%s is broken: %s", name_.c_str(), broken_->message.c_str());
  if (!ever_connected_) {
    return MakeError(ENODEV, "%s has not connected yet (WaitForDisk waits for it)",
                     name_.c_str());
  }
  if (info_.read_only && (op == BlockOp::kWrite || op == BlockOp::kDiscard)) {
    return MakeError(EROFS, "%s is read-only: a %s is refused", name_.c_str(), OpWord(op));
  }
  if (op == BlockOp::kFlush) return {};
  if (op == BlockOp::kDiscard && !info_.features.discard) {
    return MakeError(EOPNOTSUPP, "%s: its backend cannot discard", name_.c_str());
  }
  if (offset % info_.sector_size != 0 || length % info_.sector_size != 0) {
    return MakeError(EINVAL, "%s: a %s of %llu bytes at offset %llu is not in whole %u-byte "
                     "sectors", name_.c_str(), OpWord(op),
                     static_cast<unsigned long long>(length),
                     static_cast<unsigned long long>(offset), info_.sector_size);
  }
  if (offset > info_.size || length > info_.size - offset) {
    return MakeError(EINVAL, "%s: a %s of %llu bytes at offset %llu goes past the end of the "
                     "disk (%llu bytes)", name_.c_str(), OpWord(op),
                     static_cast<unsigned long long>(length),
                     static_cast<unsigned long long>(offset),
                     static_cast<unsigned long long>(info_.size));
  }
  return {};
}

// Check, and a refused request is done with the error (unless it is still in flight).
Result<void> Device::Admit(BlockRequest& request, BlockOp op, uint64_t offset, uint64_t length) {
  Result<void> ok = Check(request, op, offset, length);
  if (!ok) {
    if (ok.error().code != EBUSY) {
      request.state_ = BlockRequest::State::kDone;
      request.result_ = ok.error();
    }
    stats_.errors++;
  }
  return ok;
}

Result<void> Device::Start(BlockRequest& request, BlockOp op, uint64_t offset,
                           std::span<const BlockBuffer> buffers) {
  if (op == BlockOp::kDiscard) {
    return MakeError(EINVAL, "%s: a discard takes a length, not buffers (StartDiscard)",
                     name_.c_str());
  }
  uint64_t length = 0;
  for (const BlockBuffer& b : buffers) length += b.size;
  TRY(Admit(request, op, offset, length));
  request.op_ = op;
  request.offset_ = offset;
  request.length_ = length;
  request.buffers_.assign(buffers.begin(), buffers.end());
  request.result_ = {};
  switch (op) {
    case BlockOp::kRead:
      stats_.reads++;
      stats_.bytes_read += length;
      break;
    case BlockOp::kWrite:
      stats_.writes++;
      stats_.bytes_written += length;
      break;
    default:
      stats_.flushes++;
      break;
  }
  bool nothing_to_do = op == BlockOp::kFlush
                           ? connected_ && !info_.features.flush && !info_.features.barrier
                           : length == 0;
  if (nothing_to_do) {
    request.state_ = BlockRequest::State::kDone;
    return {};
  }
  Enqueue(request);
  return {};
}

Result<void> Device::StartDiscard(BlockRequest& request, uint64_t offset, uint64_t length) {
  TRY(Admit(request, BlockOp::kDiscard, offset, length));
  stats_.discards++;
  request.op_ = BlockOp::kDiscard;
  request.buffers_.clear();
  request.result_ = {};
  std::optional<ByteRange> range =
      DiscardableRange(offset, length, info_.features.discard_granularity,
                       info_.features.discard_alignment);
  if (!range) {   // no whole granule: nothing to free
    request.state_ = BlockRequest::State::kDone;
    return {};
  }
  request.offset_ = range->offset;
  request.length_ = range->length;
  Enqueue(request);
  return {};
}

void Device::Enqueue(BlockRequest& request) {
  request.state_ = BlockRequest::State::kInFlight;
  request.parts_ = 0;
  request.queued_ = 1;
  queue_.push_back({&request, 0, request.length_});
  if (!connected_ && !orphan_timer_.armed()) orphan_timer_.ArmAfter(options_.orphan_timeout_ns);
  Pump();
}

uint8_t Device::WireOp(BlockOp op) const {
  switch (op) {
    case BlockOp::kRead: return BLKIF_OP_READ;
    case BlockOp::kWrite: return BLKIF_OP_WRITE;
    case BlockOp::kDiscard: return BLKIF_OP_DISCARD;
    case BlockOp::kFlush:
      return info_.features.flush ? BLKIF_OP_FLUSH_DISKCACHE : BLKIF_OP_WRITE_BARRIER;
  }
  return BLKIF_OP_READ;
}

uint64_t Device::MaxPieceBytes() const {
  uint32_t segments = info_.features.indirect_segments > 0 ? info_.features.indirect_segments
                                                           : kDirectSegments;
  return uint64_t{segments} * kPageSize;
}

void Device::Pump() {
  if (!connected_ || broken_ || !ring_) return;
  bool enqueued = false;
  while (!queue_.empty()) {
    Piece& piece = queue_.front();
    BlockRequest& request = *piece.request;
    std::optional<Result<void>> settled;   // the piece ends without going on the ring
    if (request.op_ == BlockOp::kFlush && !info_.features.flush && !info_.features.barrier) {
      settled = Result<void>();   // reconnected to a disk that writes through
    } else if (request.op_ == BlockOp::kDiscard && !info_.features.discard) {
      settled = MakeError(EOPNOTSUPP, "%s: its backend cannot discard", name_.c_str());
    } else if (request.op_ != BlockOp::kFlush &&
               request.offset_ + piece.start + piece.bytes > info_.size) {
      settled = MakeError(EIO, "%s: the disk is smaller since it reconnected (%llu bytes)",
                          name_.c_str(), static_cast<unsigned long long>(info_.size));
    }
    if (settled) {
      Piece done = piece;
      queue_.pop_front();
      request.queued_--;
      FinishPiece(done, std::move(*settled));
      continue;
    }
    Issued issued = Issue(piece);
    if (broken_) return;
    if (issued == Issued::kNo) {
      if (!stalled_) stats_.ring_full++;
      stalled_ = true;
      break;
    }
    stalled_ = false;
    if (issued == Issued::kDropped) continue;
    enqueued = true;
    if (piece.bytes == 0) {
      queue_.pop_front();
      request.queued_--;
    }
  }
  if (!enqueued) return;
  Result<bool> notify = ring_->Push();
  if (!notify) return Fail(notify.error());
  if (*notify) machine_.Notify(*port_);
}

// Puts the next ring request of |piece| on the ring and takes its bytes off the piece. kNo when
// no slot or not enough pages are free; kDropped when the piece failed and left the queue.
Device::Issued Device::Issue(Piece& piece) {
  if (free_slots_.empty() || ring_->Full()) return Issued::kNo;
  BlockRequest& request = *piece.request;
  uint16_t id = free_slots_.back();
  Slot& slot = slots_[id];
  slot.op = WireOp(request.op_);
  slot.indirect_op = 0;
  slot.data_pages = slot.indirect_pages = 0;
  blkif_request_t wire;
  uint64_t bytes = piece.bytes;
  if (request.op_ == BlockOp::kFlush) {
    wire = FlushRequest(slot.op, handle_, id);
  } else if (request.op_ == BlockOp::kDiscard) {
    wire = DiscardRequest(handle_, id, request.offset_, request.length_);
  } else {
    bytes = std::min(piece.bytes, MaxPieceBytes());
    uint32_t data_pages = static_cast<uint32_t>((bytes + kPageSize - 1) / kPageSize);
    bool indirect = data_pages > kDirectSegments;
    uint32_t indirect_pages =
        indirect ? (data_pages + kSegmentsPerIndirectPage - 1) / kSegmentsPerIndirectPage : 0;
    size_t can_have = free_pages_.size() + (pool_cap_ - std::min(pool_cap_, pool_.size()));
    if (can_have < data_pages + indirect_pages) return Issued::kNo;
    bool writing = request.op_ == BlockOp::kWrite;
    for (uint32_t i = 0; i < data_pages + indirect_pages; i++) {
      Result<uint16_t> page = TakePage(/*readonly=*/writing || i >= data_pages);
      if (!page) {
        for (uint32_t j = 0; j < i; j++) GivePage(slot.pages[j]);
        if (slots_.size() - free_slots_.size() > 0) return Issued::kNo;   // a completion frees some
        // Nothing in flight will free a page: the request cannot go; fail it.
        Piece failed = piece;
        queue_.pop_front();
        request.queued_--;
        FinishPiece(failed, page.error());
        return Issued::kDropped;
      }
      slot.pages[i] = *page;
    }
    slot.data_pages = static_cast<uint16_t>(data_pages);
    slot.indirect_pages = static_cast<uint16_t>(indirect_pages);
    if (writing) {
      CopyPages(request.buffers_, piece.start, bytes,
                [&](uint64_t i) { return pool_[slot.pages[i]].data; }, true);
    }
    Segment segments[kMaxIndirectSegments];
    for (uint32_t i = 0; i < data_pages; i++) {
      uint64_t left = bytes - uint64_t{i} * kPageSize;
      segments[i] = {pool_[slot.pages[i]].ref, static_cast<uint32_t>(std::min<uint64_t>(left, kPageSize))};
    }
    uint64_t offset = request.offset_ + piece.start;
    if (indirect) {
      void* pages[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
      GrantRef refs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
      for (uint32_t i = 0; i < indirect_pages; i++) {
        pages[i] = pool_[slot.pages[data_pages + i]].data;
        refs[i] = pool_[slot.pages[data_pages + i]].ref;
      }
      WriteIndirectSegments({pages, indirect_pages}, {segments, data_pages});
      slot.indirect_op = slot.op;
      slot.op = BLKIF_OP_INDIRECT;
      wire = IndirectRequest(slot.indirect_op, handle_, id, offset,
                             static_cast<uint16_t>(data_pages), {refs, indirect_pages});
      stats_.indirect_requests++;
    } else {
      wire = DirectRequest(slot.op, handle_, id, offset, {segments, data_pages});
    }
  }
  if (Result<void> queued = ring_->Enqueue(wire); !queued) {
    for (uint32_t i = 0; i < slot.data_pages + slot.indirect_pages; i++) GivePage(slot.pages[i]);
    Fail(queued.error());
    return Issued::kDropped;
  }
  free_slots_.pop_back();
  slot.in_flight = true;
  slot.piece = {&request, piece.start, bytes};
  request.parts_++;
  stats_.ring_requests++;
  if (request.op_ == BlockOp::kRead || request.op_ == BlockOp::kWrite) {
    piece.start += bytes;
    piece.bytes -= bytes;
  } else {
    piece.bytes = 0;
  }
  return Issued::kYes;
}

// A page of the pool, granted to the backend: for good with persistent grants (read-write, as
// blkback maps persistent grants), else for this request only.
Result<uint16_t> Device::TakePage(bool readonly) {
  uint16_t index;
  if (!free_pages_.empty()) {
    index = free_pages_.back();
    free_pages_.pop_back();
  } else {
    if (pool_.size() >= pool_cap_) return MakeError(ENOSPC, "%s: the page pool is full", name_.c_str());
    pool_.push_back({});
    index = static_cast<uint16_t>(pool_.size() - 1);
  }
  PoolPage& page = pool_[index];
  if (page.data == nullptr) {
    Result<void*> data = machine_.AllocPages(1);
    if (!data) {
      free_pages_.push_back(index);
      return data.error();
    }
    page.data = *data;
  }
  if (!page.granted) {
    bool ro = info_.features.persistent ? false : readonly;
    Result<GrantRef> ref = machine_.grants().Offer(device_->backend_id, machine_.GfnOf(page.data), ro);
    if (!ref) {
      free_pages_.push_back(index);
      return ref.error();
    }
    page.ref = *ref;
    page.granted = true;
  }
  return index;
}

void Device::GivePage(uint16_t index) {
  PoolPage& page = pool_[index];
  if (!info_.features.persistent && page.granted) {
    Result<void> ended = machine_.grants().End(page.ref);
    page.granted = false;
    if (!ended) {   // still mapped: the page goes when the backend lets go of it
      machine_.EndGrant(page.ref, page.data);
      page.data = nullptr;
    }
  }
  free_pages_.push_back(index);
}

// ---- Responses.

void Device::OnEvent() {
  if (!ring_ || broken_) return;
  do {
    while (std::optional<blkif_response_t> rsp = ring_->Next()) {
      Complete(*rsp);
      if (ring_->broken()) break;
    }
  } while (!ring_->broken() && ring_->FinalCheckForResponses());
  if (ring_->broken()) return Fail(ring_->error());
  Pump();
}

void Device::Complete(const blkif_response_t& rsp) {
  if (rsp.id >= slots_.size() || !slots_[rsp.id].in_flight) {
    return ring_->MarkBroken(MakeError(EPROTO, "%s: a response for request id %llu, which is "
                                       "not in flight", name_.c_str(),
                                       static_cast<unsigned long long>(rsp.id)));
  }
  Slot& slot = slots_[rsp.id];
  if (Result<void> ok = CheckResponse(rsp, slot.op, slot.indirect_op, name_); !ok) {
    return ring_->MarkBroken(ok.error());
  }
  Piece piece = slot.piece;
  BlockRequest& request = *piece.request;
  Result<void> result;
  if (rsp.status == BLKIF_RSP_EOPNOTSUPP) {
    uint8_t op = slot.indirect_op != 0 ? slot.indirect_op : slot.op;
    result = MakeError(EOPNOTSUPP, "%s: the backend does not support %s", name_.c_str(),
                       OpName(op));
    if (op == BLKIF_OP_FLUSH_DISKCACHE) info_.features.flush = false;
    if (op == BLKIF_OP_WRITE_BARRIER) info_.features.barrier = false;
    if (op == BLKIF_OP_DISCARD) info_.features.discard = false;
  } else if (rsp.status == BLKIF_RSP_ERROR) {
    result = MakeError(EIO, "%s: the backend failed a %s of %llu bytes at offset %llu",
                       name_.c_str(), OpWord(request.op_),
                       static_cast<unsigned long long>(piece.bytes),
                       static_cast<unsigned long long>(request.offset_ + piece.start));
  } else if (request.op_ == BlockOp::kRead) {
    CopyPages(request.buffers_, piece.start, piece.bytes,
              [&](uint64_t i) { return pool_[slot.pages[i]].data; }, false);
  }
  for (uint32_t i = 0; i < slot.data_pages + slot.indirect_pages; i++) GivePage(slot.pages[i]);
  slot.in_flight = false;
  free_slots_.push_back(static_cast<uint16_t>(rsp.id));
  request.parts_--;
  FinishPiece(piece, std::move(result));
}

void Device::FinishPiece(const Piece& piece, Result<void> result) {
  BlockRequest& request = *piece.request;
  if (!result && request.result_) request.result_ = std::move(result);
  if (request.parts_ == 0 && request.queued_ == 0) Finish(request);
}

void Device::Finish(BlockRequest& request) {
  if (!request.result_) stats_.errors++;
  request.state_ = BlockRequest::State::kDone;
  request.waiters_.WakeAll();
}

// The backend broke the protocol: the device is broken until it connects again, and every
// request on it fails.
void Device::Fail(const Error& error) {
  if (broken_) return;
  broken_ = error;
  std::string line = "blkfront: " + error.message + "; the disk is broken\n";
  machine_.Report(line.c_str());
  Error eio = MakeError(EIO, "%s is broken: %s", name_.c_str(), error.message.c_str());
  for (size_t i = 0; i < slots_.size(); i++) {
    Slot& slot = slots_[i];
    if (!slot.in_flight) continue;
    slot.in_flight = false;   // its pages stay out of use: the backend may still write them
    slot.piece.request->parts_--;
    FinishPiece(slot.piece, eio);
  }
  FailQueued(eio);
}

void Device::FailQueued(const Error& error) {
  while (!queue_.empty()) {
    Piece piece = queue_.front();
    queue_.pop_front();
    piece.request->queued_--;
    FinishPiece(piece, error);
  }
}

// ---- The registry.

class Registry::Driver final : public xen::XenbusDriver {
 public:
  Driver(Device& disk, xen::XenbusDevice device) : disk_(disk), device_(std::move(device)) {}
  ~Driver() override { disk_.Detach(device_); }
  Result<void> Setup(const xen::XenbusDevice& device) override { return disk_.Setup(device); }
  Result<void> Connected(const xen::XenbusDevice& device) override {
    return disk_.Connected(device);
  }
  void Teardown(const xen::XenbusDevice& device) override { disk_.Teardown(device); }

 private:
  Device& disk_;
  xen::XenbusDevice device_;
};

std::unique_ptr<xen::XenbusDriver> Registry::MakeDriver(const xen::XenbusDevice& device) {
  char* end = nullptr;
  unsigned long vdev = strtoul(device.id.c_str(), &end, 10);
  if (device.id.empty() || *end != '\0' || vdev > UINT32_MAX) return nullptr;
  std::optional<std::string> name = DiskName(static_cast<uint32_t>(vdev));
  if (!name) return nullptr;
  Device* disk = Find(*name);
  if (disk == nullptr) {
    devices_.push_back(std::make_unique<Device>(machine_, store_, *name, options_));
    disk = devices_.back().get();
    if (on_new_disk) on_new_disk(*disk, devices_.size() - 1);
  }
  return std::make_unique<Driver>(*disk, device);
}

Device* Registry::Find(std::string_view name) {
  for (auto& device : devices_) {
    if (device->name() == name) return device.get();
  }
  return nullptr;
}

}  // namespace skiff::blk
