// blkfront: the Xen virtual block device frontend. [xen/io/blkif.h] See docs/block.md.
//
// A Device is one disk by name ("xvda"). It lives for the rest of the guest, across its
// backend's comings and goings: each xenbus device/vbd/<id> gets a Driver that connects the
// Device to that backend (Setup publishes the ring, Connected reads the disk and its
// features), and a Teardown puts the requests in flight back in the Device's queue, to be sent
// again on the next connection [Linux blkif_recover]. Requests wait in the queue while no
// backend is there, up to kOrphanTimeout.
//
// Data goes through pages of the driver's own, granted to the backend: kept granted across
// requests with feature-persistent, granted for each request without it. Writes copy the
// caller's buffers in, reads copy out, so buffers may be anywhere, of any alignment, and a
// backend that misbehaves can never reach the caller's memory. A request of more than 11 pages
// goes as one indirect request (feature-max-indirect-segments) when the backend has them,
// else as several. Every response is checked: an id not in flight, an operation that is not
// the request's, a status out of the protocol or a producer index that runs ahead breaks the
// device with a message naming it, and every request on it fails with EIO; the rest of the
// guest goes on.
//
// Portable: it reaches the machine only through Machine, so the host tests run it against a
// fake blkback. One context: tasks and the event loop of one vCPU.
#ifndef SKIFF_DRIVERS_BLKFRONT_BLKFRONT_H_
#define SKIFF_DRIVERS_BLKFRONT_BLKFRONT_H_

#include <stdint.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drivers/blkfront/blkif.h"
#include "runtime/xen/driver_machine.h"
#include "runtime/xen/grant_table.h"
#include "runtime/xen/ring.h"
#include "runtime/xen/xenbus.h"
#include "skiff/block.h"

namespace skiff::blk {

using BlkRing = xen::FrontRing<blkif_request_t, blkif_response_t>;

using Machine = xen::DriverMachine;

struct Options {
  unsigned max_ring_order = 1;           // 64 slots when the backend allows two pages
  uint32_t max_indirect_segments = kMaxIndirectSegments;
  size_t max_pool_pages = 1024;          // data and indirect pages, at most 4 MiB
  uint64_t orphan_timeout_ns = kOrphanTimeout;
};

class Device final : public Disk {
 public:
  Device(Machine& machine, xen::XenstoreClient& store, std::string name, Options options = {});
  ~Device() override;

  // Disk.
  BlockInfo info() const override;
  BlockStats stats() const override;
  const Error* error() const override { return broken_ ? &*broken_ : nullptr; }
  Result<void> Start(BlockRequest& request, BlockOp op, uint64_t offset,
                     std::span<const BlockBuffer> buffers) override;
  Result<void> StartDiscard(BlockRequest& request, uint64_t offset, uint64_t length) override;

  const std::string& name() const { return name_; }
  bool connected() const { return connected_; }
  // Signalled each time the disk connects.
  WaitQueue& connections() { return connections_; }

  // The xenbus steps, from the Driver of the device the disk is reached through now.
  Result<void> Setup(const xen::XenbusDevice& device);
  Result<void> Connected(const xen::XenbusDevice& device);
  // Each ignores a device other than the one the disk is reached through now.
  void Teardown(const xen::XenbusDevice& device);
  // The xenbus device is gone; its requests wait for another, up to the orphan timeout.
  void Detach(const xen::XenbusDevice& device);

 private:
  // A run of a request's bytes not yet answered: [start, start + bytes) of its buffers.
  struct Piece {
    BlockRequest* request;
    uint64_t start;
    uint64_t bytes;
  };
  struct PoolPage {
    void* data = nullptr;
    GrantRef ref;
    bool granted = false;
  };
  struct Slot {
    bool in_flight = false;
    Piece piece;
    uint8_t op = 0;            // what went on the ring
    uint8_t indirect_op = 0;
    uint16_t data_pages = 0;
    uint16_t indirect_pages = 0;
    uint16_t* pages = nullptr;   // pool indexes: data, then indirect
  };

  Result<void> Check(BlockRequest& request, BlockOp op, uint64_t offset, uint64_t length);
  Result<void> Admit(BlockRequest& request, BlockOp op, uint64_t offset, uint64_t length);
  void Enqueue(BlockRequest& request);
  // Puts as much of the queue on the ring as slots and pages allow.
  void Pump();
  enum class Issued { kNo, kYes, kDropped };
  Issued Issue(Piece& piece);
  Result<uint16_t> TakePage(bool readonly);
  void GivePage(uint16_t index);
  void OnEvent();
  void Complete(const blkif_response_t& rsp);
  void FinishPiece(const Piece& piece, Result<void> result);
  void Finish(BlockRequest& request);
  void Fail(const Error& error);   // the backend broke the protocol
  void FailQueued(const Error& error);
  void ReleaseConnection();
  void OrphanTimeout();
  uint8_t WireOp(BlockOp op) const;
  uint64_t MaxPieceBytes() const;

  Machine& machine_;
  xen::XenstoreClient& store_;
  std::string name_;
  Options options_;

  // The connection: from Setup to Teardown.
  std::optional<xen::XenbusDevice> device_;
  uint16_t handle_ = 0;
  unsigned ring_order_ = 0;
  void* ring_pages_ = nullptr;
  std::vector<GrantRef> ring_refs_;
  std::optional<BlkRing> ring_;
  std::optional<EvtchnPort> port_;
  bool connected_ = false;
  std::optional<Error> broken_;

  // What the backend said at Connected.
  BlockInfo info_;
  bool ever_connected_ = false;

  std::vector<Slot> slots_;
  std::vector<uint16_t> free_slots_;
  std::unique_ptr<uint16_t[]> slot_pages_;
  std::vector<PoolPage> pool_;
  std::vector<uint16_t> free_pages_;
  size_t pool_cap_ = 0;

  std::deque<Piece> queue_;   // not yet on the ring, oldest first
  bool stalled_ = false;      // the queue waits for a slot or pages
  BlockStats stats_;
  Timer orphan_timer_;
  WaitQueue connections_;
};

// The disks of the guest by name, and the xenbus drivers that connect them.
class Registry {
 public:
  Registry(Machine& machine, xen::XenstoreClient& store, Options options = {})
      : machine_(machine), store_(store), options_(options) {}

  // The driver for xenbus device |device| (for XenbusBus's factory); null for a vdev number
  // that names no disk.
  std::unique_ptr<xen::XenbusDriver> MakeDriver(const xen::XenbusDevice& device);
  Device* Find(std::string_view name);
  // In the order they first appeared.
  const std::vector<std::unique_ptr<Device>>& devices() const { return devices_; }
  // Called with each disk the first time it connects (to give it a /dev node).
  std::function<void(Device&, size_t ordinal)> on_new_disk;

 private:
  class Driver;

  Machine& machine_;
  xen::XenstoreClient& store_;
  Options options_;
  std::vector<std::unique_ptr<Device>> devices_;
};

}  // namespace skiff::blk

#endif  // SKIFF_DRIVERS_BLKFRONT_BLKFRONT_H_
