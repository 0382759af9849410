// libFuzzer target: a hostile backend's side of a blkif front ring. The input is a script of
// steps: push requests, write arbitrary response bytes into any slot, set rsp_prod or
// req_event to anything, and drain the ring as a driver would (ids in flight in a table,
// statuses in range, MarkBroken on anything else). The ring must never read or write outside
// its pages (ASan), never hand over more responses than requests, and stay broken once broken.
// Build and run: scripts/lib/fuzz ring.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "runtime/xen/ring.h"
#include "runtime/xen/xen.h"

extern "C" {
#include <xen/io/blkif.h>
}

using namespace skiff;
using namespace skiff::xen;

namespace {

using BlkRing = FrontRing<blkif_request_t, blkif_response_t>;

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  uint8_t Byte() { return at_ < size_ ? data_[at_++] : 0; }
  uint32_t Word() {
    uint32_t word = 0;
    for (int i = 0; i < 4; i++) word = word << 8 | Byte();
    return word;
  }
  void Bytes(void* out, size_t n) {
    auto* bytes = static_cast<uint8_t*>(out);
    for (size_t i = 0; i < n; i++) bytes[i] = Byte();
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

// A driver's bookkeeping: which ids are in flight.
struct Driver {
  explicit Driver(BlkRing* ring) : ring(ring), in_flight(ring->size(), false) {}

  void Send(unsigned n) {
    for (unsigned i = 0; i < n && !ring->Full(); i++) {
      uint64_t id = next_id++ % ring->size();
      if (in_flight[id]) break;
      blkif_request_t request = {};
      request.operation = BLKIF_OP_READ;
      request.id = id;
      if (!ring->Enqueue(request).ok()) break;
      in_flight[id] = true;
    }
    (void)ring->Push();
  }

  void Drain() {
    do {
      while (std::optional<blkif_response_t> response = ring->Next()) Complete(*response);
    } while (ring->FinalCheckForResponses());
  }

  void Complete(const blkif_response_t& response) {
    if (response.id >= in_flight.size() || !in_flight[response.id]) {
      return ring->MarkBroken(MakeError(EPROTO, "fuzz: response for id %llu, not in flight",
                                        static_cast<unsigned long long>(response.id)));
    }
    if (response.status < BLKIF_RSP_EOPNOTSUPP || response.status > BLKIF_RSP_OKAY) {
      return ring->MarkBroken(MakeError(EPROTO, "fuzz: status %d", response.status));
    }
    in_flight[response.id] = false;
    completed++;
  }

  BlkRing* ring;
  std::vector<bool> in_flight;
  uint64_t next_id = 0;
  uint64_t completed = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input input(data, size);
  unsigned order = input.Byte() % 3;
  size_t bytes = kRingPageSize << order;
  void* pages = aligned_alloc(kRingPageSize, bytes);
  RingIdx start = input.Word();
  Result<BlkRing> created = BlkRing::Init(pages, order, "fuzz", start);
  if (!created.ok()) __builtin_trap();
  BlkRing ring = std::move(*created);
  auto* header = static_cast<SharedRingHeader*>(pages);
  auto* entries = reinterpret_cast<BlkRing::Entry*>(static_cast<char*>(pages) +
                                                    sizeof(SharedRingHeader));
  Driver driver(&ring);
  bool was_broken = false;
  while (!input.empty()) {
    switch (input.Byte() % 6) {
      case 0:
        driver.Send(input.Byte() % 8 + 1);
        break;
      case 1:   // any response bytes in any slot
        input.Bytes(&entries[input.Byte() % ring.size()].rsp, sizeof(blkif_response_t));
        break;
      case 2:   // rsp_prod a little ahead, as a backend would move it
        header->rsp_prod += input.Byte() % 8;
        break;
      case 3:   // rsp_prod anywhere
        header->rsp_prod = input.Word();
        break;
      case 4:
        header->req_event = input.Word();
        break;
      case 5:
        driver.Drain();
        break;
    }
    if (ring.InFlight() > ring.size() || ring.stats().responses > ring.stats().requests) {
      __builtin_trap();
    }
    if (was_broken && (!ring.broken() || ring.Next().has_value())) __builtin_trap();
    was_broken = ring.broken();
  }
  driver.Drain();
  free(pages);
  return 0;
}
