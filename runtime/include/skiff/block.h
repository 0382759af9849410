// Disks: the guest's block devices (Xen vbds, through blkfront). See docs/block.md.
//
//   skiff::Disk* disk = TRY(skiff::OpenDisk("xvda"));
//   TRY(disk->Write(0, data, 4096));          // parks this task until the disk has it
//   TRY(disk->Flush());                        // and until it is stable
//
//   skiff::BlockRequest reads[8];              // many in flight at once
//   for (int i = 0; i < 8; i++) TRY(disk->StartRead(reads[i], i * 4096, {{buffers[i], 4096}}));
//   for (auto& r : reads) TRY(r.Wait());       // or, in a coroutine: TRY(co_await r);
//
// Offsets and lengths are bytes, multiples of the disk's logical sector size; buffers may lie
// anywhere in memory (the driver copies through pages it has granted to the backend). A range
// past the end, a length that is not a whole number of sectors, or a write to a read-only disk
// is an error at once (EINVAL, EROFS), before anything is sent. Disks found at boot are
// connected before main runs; disks attached later appear when their backend connects. A disk
// whose backend goes away keeps its requests and sends them again when it comes back; those
// still waiting after kOrphanTimeout fail with EIO.
#ifndef SKIFF_BLOCK_H_
#define SKIFF_BLOCK_H_

#include <stddef.h>
#include <stdint.h>

#include <coroutine>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/result.h"
#include "skiff/sched.h"

namespace skiff {

// What the disk's backend offered and the driver uses.
struct BlockFeatures {
  bool flush = false;          // a write cache that Flush empties (feature-flush-cache)
  bool barrier = false;        // Flush is a write barrier (feature-barrier, without the above)
  bool discard = false;        // Discard frees blocks (feature-discard)
  bool persistent = false;     // data pages stay granted across requests (feature-persistent)
  uint32_t indirect_segments = 0;   // pages in one indirect request; 0: 11 per request
  uint32_t ring_pages = 1;          // the shared ring's size
  uint32_t max_queues = 1;          // what the backend offers (multi-queue-max-queues)
  uint32_t queues = 1;              // what the driver uses: one
  uint64_t discard_granularity = 0;   // bytes; discards are shrunk to whole granules
  uint64_t discard_alignment = 0;     // bytes: where the first granule starts
};

struct BlockInfo {
  std::string name;                 // "xvda"
  std::string node;                 // the xenstore node, "device/vbd/51712"
  uint64_t size = 0;                // bytes
  uint32_t sector_size = 512;       // logical: offsets and lengths are multiples of it
  uint32_t physical_sector_size = 512;
  bool read_only = false;
  bool removable = false;
  bool cdrom = false;
  bool connected = false;           // the backend is there now
  bool broken = false;              // a backend broke the protocol; see DiskError
  BlockFeatures features;
};

// Counters, since boot, across reconnections.
struct BlockStats {
  uint64_t reads = 0, writes = 0, flushes = 0, discards = 0;   // requests of the app's
  uint64_t bytes_read = 0, bytes_written = 0;
  uint64_t ring_requests = 0;    // requests put on the ring (a large read may take several)
  uint64_t indirect_requests = 0;
  uint64_t connects = 0;         // times the backend connected: more than 1 after a comeback
  uint64_t reissued = 0;         // ring requests sent again after a reconnection
  uint64_t errors = 0;           // requests that failed
  uint64_t ring_full = 0;        // times a request waited for a ring slot or a page
  uint32_t grants = 0;           // grant references held now
  uint32_t pages = 0;            // pages the driver holds now (ring, data, indirect)
  uint32_t in_flight = 0;        // ring requests the backend has not answered
};

enum class BlockOp : uint8_t { kRead, kWrite, kFlush, kDiscard };

// One piece of a scatter-gather list.
struct BlockBuffer {
  void* data;
  size_t size;
};

namespace blk {
class Device;
}

// One request the caller owns while it is in flight: it must stay put until done.
class BlockRequest {
 public:
  BlockRequest() = default;
  BlockRequest(const BlockRequest&) = delete;
  BlockRequest& operator=(const BlockRequest&) = delete;
  ~BlockRequest();   // waits for it, if in flight

  bool done() const { return state_ != State::kInFlight; }
  // Parks the task until the request is done; its result.
  Result<void> Wait();
  // Its result once done.
  const Result<void>& result() const { return result_; }

  struct Awaiter {
    BlockRequest& request;
    sched::Waiter waiter;
    bool await_ready() { return request.done(); }
    void await_suspend(std::coroutine_handle<> handle) {
      waiter.coroutine = handle;
      request.waiters_.Link(&waiter);
    }
    Result<void> await_resume() { return request.result_; }
  };
  // From a coroutine: `TRY(co_await request)`.
  Awaiter operator co_await() { return Awaiter{*this, {}}; }

 private:
  friend class blk::Device;
  enum class State : uint8_t { kIdle, kInFlight, kDone };

  State state_ = State::kIdle;
  BlockOp op_ = BlockOp::kRead;
  uint64_t offset_ = 0;
  uint64_t length_ = 0;
  std::vector<BlockBuffer> buffers_;
  uint32_t queued_ = 0;       // pieces of it waiting in the disk's queue
  uint32_t parts_ = 0;        // ring requests in flight for it
  Result<void> result_;
  WaitQueue waiters_;
};

class Disk {
 public:
  virtual ~Disk() = default;

  virtual BlockInfo info() const = 0;
  virtual BlockStats stats() const = 0;
  // Why the disk is broken (a message naming it and the fault), or nullptr.
  virtual const Error* error() const = 0;

  // Start a request and return at once; Wait or co_await it. An error here (a bad range, a
  // broken disk) means nothing was sent, and |request| is done with that error too.
  virtual Result<void> Start(BlockRequest& request, BlockOp op, uint64_t offset,
                             std::span<const BlockBuffer> buffers) = 0;
  virtual Result<void> StartDiscard(BlockRequest& request, uint64_t offset,
                                    uint64_t length) = 0;

  Result<void> StartRead(BlockRequest& r, uint64_t offset, std::span<const BlockBuffer> b) {
    return Start(r, BlockOp::kRead, offset, b);
  }
  Result<void> StartWrite(BlockRequest& r, uint64_t offset, std::span<const BlockBuffer> b) {
    return Start(r, BlockOp::kWrite, offset, b);
  }
  Result<void> StartRead(BlockRequest& r, uint64_t offset, std::initializer_list<BlockBuffer> b) {
    return Start(r, BlockOp::kRead, offset, std::span<const BlockBuffer>(b.begin(), b.size()));
  }
  Result<void> StartWrite(BlockRequest& r, uint64_t offset,
                          std::initializer_list<BlockBuffer> b) {
    return Start(r, BlockOp::kWrite, offset, std::span<const BlockBuffer>(b.begin(), b.size()));
  }
  // Empties the disk's write cache (with feature-flush-cache, else a barrier); without
  // either the disk writes through, and it is done at once.
  Result<void> StartFlush(BlockRequest& r) { return Start(r, BlockOp::kFlush, 0, {}); }

  // The same, parking the task until done.
  Result<void> Read(uint64_t offset, void* data, size_t size);
  Result<void> Write(uint64_t offset, const void* data, size_t size);
  Result<void> Readv(uint64_t offset, std::span<const BlockBuffer> buffers);
  Result<void> Writev(uint64_t offset, std::span<const BlockBuffer> buffers);
  Result<void> Flush();
  // Frees [offset, offset + length): shrunk to whole discard granules; EOPNOTSUPP without
  // feature-discard.
  Result<void> Discard(uint64_t offset, uint64_t length);
};

// How long a disk whose backend has gone keeps requests for it to come back.
inline constexpr uint64_t kOrphanTimeout = 30'000'000'000;

// The disks the guest has had since boot, in the order they appeared.
std::vector<BlockInfo> ListDisks();
// The disk |name| ("xvda"); ENODEV naming the disks there are.
Result<Disk*> OpenDisk(std::string_view name);
// Waits until disk |name| is connected (attached at run time), or |deadline|: ETIMEDOUT.
Result<Disk*> WaitForDisk(std::string_view name, uint64_t deadline);

}  // namespace skiff

#endif  // SKIFF_BLOCK_H_
