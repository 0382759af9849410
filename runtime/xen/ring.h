// The front end of a Xen shared ring: requests out to a backend, responses back, on pages
// both domains map. [xen/io/ring.h]
//
// The layout is the one DEFINE_RING_TYPES produces: four indices, 48 bytes of padding, then
// the entries, each a union of a request and a response, filling 2^order contiguous pages.
// Everything the backend writes is hostile input: each response is copied once out of shared
// memory before the driver sees it, the response producer index is checked against what we
// issued, and the first fault breaks the ring for good with a message naming it.
//
//   FrontRing<blkif_request_t, blkif_response_t> ring =
//       TRY(FrontRing<...>::Init(pages, order, "vbd 51712"));
//   TRY(ring.Enqueue(request));
//   if (TRY(ring.Push())) Notify(port);
//   ...
//   do {
//     while (std::optional<blkif_response_t> rsp = ring.Next()) Complete(*rsp);
//   } while (ring.FinalCheckForResponses());
//   if (ring.broken()) return ring.error();
//
// Single-threaded: one context (the event loop or one task) owns a FrontRing. Portable: no
// hypercalls, so the host tests run it against a fake backend on ordinary memory.
#ifndef SKIFF_RUNTIME_XEN_RING_H_
#define SKIFF_RUNTIME_XEN_RING_H_

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "skiff/result.h"

namespace skiff::xen {

// A free-running ring index: it wraps at 2^32, and slot = index & (slots - 1). [RING_IDX]
using RingIdx = uint32_t;

inline constexpr size_t kRingPageSize = 4096;
// Rings of 1 to 16 pages, as Xen's xenbus allows (XENBUS_MAX_RING_GRANT_ORDER).
inline constexpr unsigned kMaxRingOrder = 4;

// The shared page's header, before the entries. [xen/io/ring.h __name##_sring]
struct SharedRingHeader {
  RingIdx req_prod;    // written by the front end
  RingIdx req_event;   // written by the back end: notify when req_prod passes it
  RingIdx rsp_prod;    // written by the back end
  RingIdx rsp_event;   // written by the front end: notify when rsp_prod passes it
  uint8_t pad[48];     // the pvt union and __pad: zero
};
static_assert(sizeof(SharedRingHeader) == 64 && offsetof(SharedRingHeader, rsp_event) == 12);

// One slot: the request the front end wrote, later overwritten by the response.
template <typename Request, typename Response>
union RingEntry {
  Request req;
  Response rsp;
};

// What a ring has done, for drivers and tests.
struct RingStats {
  uint64_t requests = 0;    // pushed to the backend
  uint64_t pushes = 0;      // calls of Push that published something
  uint64_t notifies = 0;    // pushes after which the backend had to be notified
  uint64_t responses = 0;   // copied out and handed to the driver
};

// Slots in a ring of 2^|order| pages of |Entry|: the largest power of two that fits after
// the header, as __RING_SIZE computes it; 0 if |order| is over kMaxRingOrder.
template <typename Entry>
constexpr RingIdx RingSlots(unsigned order) {
  if (order > kMaxRingOrder) return 0;
  size_t fit = ((kRingPageSize << order) - sizeof(SharedRingHeader)) / sizeof(Entry);
  RingIdx slots = 1;
  while (slots * 2 <= fit) slots *= 2;
  return fit == 0 ? 0 : slots;
}

template <typename Request, typename Response>
class FrontRing {
 public:
  using Entry = RingEntry<Request, Response>;
  static_assert(std::is_trivially_copyable_v<Request> && std::is_trivially_copyable_v<Response>,
                "ring entries are copied as bytes");

  static constexpr RingIdx Slots(unsigned order) { return RingSlots<Entry>(order); }

  // Takes 2^|order| contiguous pages at |pages| (page-aligned, mapped by nobody else yet),
  // zeroes them, initialises the header with both producers at |start| and both event
  // indices at |start| + 1 [SHARED_RING_INIT, which uses 0], and attaches the front end
  // there [FRONT_RING_ATTACH]. |name| heads every error, e.g. "vbd 51712".
  static Result<FrontRing> Init(void* pages, unsigned order, std::string name,
                                RingIdx start = 0) {
    if (order > kMaxRingOrder || Slots(order) == 0) {
      return MakeError(EINVAL, "ring %s: order %u is not a ring order (0 to %u)", name.c_str(),
                       order, kMaxRingOrder);
    }
    memset(pages, 0, kRingPageSize << order);
    auto* header = static_cast<SharedRingHeader*>(pages);
    header->req_prod = header->rsp_prod = start;
    header->req_event = header->rsp_event = start + 1;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    return FrontRing(header, Slots(order), std::move(name), start);
  }

  FrontRing(FrontRing&&) = default;
  FrontRing& operator=(FrontRing&&) = default;
  FrontRing(const FrontRing&) = delete;
  FrontRing& operator=(const FrontRing&) = delete;

  const std::string& name() const { return name_; }
  RingIdx size() const { return size_; }
  // Requests enqueued or pushed whose responses the driver has not taken yet.
  RingIdx InFlight() const { return req_prod_pvt_ - rsp_cons_; }
  RingIdx FreeSlots() const { return size_ - InFlight(); }   // [RING_FREE_REQUESTS]
  bool Full() const { return FreeSlots() == 0; }              // [RING_FULL]
  const RingStats& stats() const { return stats_; }

  // A broken ring stays broken: Enqueue and Push fail with its error, Next returns nothing.
  bool broken() const { return broken_.has_value(); }
  const Error& error() const { return *broken_; }   // only when broken()

  // Breaks the ring for good with |error|, e.g. when a response carries an id the driver
  // never issued. The first error is kept.
  void MarkBroken(Error error) {
    if (!broken_) broken_ = std::move(error);
  }

  // Copies |request| into the next free slot; the backend sees it after Push. ENOSPC when
  // Full().
  Result<void> Enqueue(const Request& request) {
    if (broken_) return *broken_;
    if (Full()) {
      return MakeError(ENOSPC, "ring %s: all %u slots are in flight", name_.c_str(), size_);
    }
    memcpy(&entries_[req_prod_pvt_ & (size_ - 1)].req, &request, sizeof(Request));
    req_prod_pvt_++;
    return {};
  }

  // Publishes the enqueued requests and returns whether the backend must be notified: only
  // if its req_event lies in (old req_prod, new req_prod], so a backend that is still
  // working through the ring is not notified again. [RING_PUSH_REQUESTS_AND_CHECK_NOTIFY]
  Result<bool> Push() {
    if (broken_) return *broken_;
    RingIdx old_prod = req_prod_;
    if (old_prod == req_prod_pvt_) return false;
    req_prod_ = req_prod_pvt_;
    __atomic_store_n(&header_->req_prod, req_prod_, __ATOMIC_RELEASE);   // entries first
    // The backend must see the new req_prod before we read req_event.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    RingIdx event = __atomic_load_n(&header_->req_event, __ATOMIC_RELAXED);
    bool notify = static_cast<RingIdx>(req_prod_ - event) <
                  static_cast<RingIdx>(req_prod_ - old_prod);
    stats_.requests += req_prod_ - old_prod;
    stats_.pushes++;
    if (notify) stats_.notifies++;
    return notify;
  }

  // The next response, copied once out of shared memory; nothing when none has arrived or
  // the ring is broken. The driver validates it (id, status) and calls MarkBroken if it is
  // bad. [RING_COPY_RESPONSE]
  std::optional<Response> Next() {
    if (!HasResponses()) return std::nullopt;
    Response response;
    memcpy(&response, &entries_[rsp_cons_ & (size_ - 1)].rsp, sizeof(Response));
    // The copy is what counts: the compiler must not read the slot again in its place.
    __asm__ __volatile__("" ::: "memory");
    rsp_cons_++;
    stats_.responses++;
    return response;
  }

  // Whether responses are waiting; if none are, asks the backend for an event on the next
  // one and looks once more, so a consumer that then sleeps on the event channel cannot
  // miss a response that arrived in between. False on a broken ring.
  // [RING_FINAL_CHECK_FOR_RESPONSES]
  bool FinalCheckForResponses() {
    if (HasResponses()) return true;
    if (broken_) return false;
    __atomic_store_n(&header_->rsp_event, rsp_cons_ + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return HasResponses();
  }

 private:
  FrontRing(SharedRingHeader* header, RingIdx size, std::string name, RingIdx start)
      : header_(header),
        entries_(reinterpret_cast<Entry*>(reinterpret_cast<char*>(header) +
                                          sizeof(SharedRingHeader))),
        size_(size), name_(std::move(name)), req_prod_pvt_(start), req_prod_(start),
        rsp_cons_(start), rsp_prod_(start) {}

  // Whether a response is ready at rsp_cons_. Reads the backend's rsp_prod only when every
  // response it announced before has been taken, once, and checks it: it may not run past
  // the requests we pushed (which also bounds it by the ring's size), nor fall behind us.
  // [RING_RESPONSE_PROD_OVERFLOW]
  bool HasResponses() {
    if (broken_) return false;
    if (rsp_cons_ != rsp_prod_) return true;
    RingIdx prod = __atomic_load_n(&header_->rsp_prod, __ATOMIC_ACQUIRE);
    RingIdx announced = prod - rsp_cons_;
    RingIdx pushed = req_prod_ - rsp_cons_;
    if (announced > size_) {
      MarkBroken(MakeError(EPROTO,
                           "ring %s: the backend's rsp_prod %u is %u slots past our consumer "
                           "index %u (or behind it), over the ring's %u slots",
                           name_.c_str(), prod, announced, rsp_cons_, size_));
      return false;
    }
    if (announced > pushed) {
      MarkBroken(MakeError(EPROTO,
                           "ring %s: the backend's rsp_prod %u announces %u responses, but only "
                           "%u requests are in flight",
                           name_.c_str(), prod, announced, pushed));
      return false;
    }
    rsp_prod_ = prod;
    return rsp_cons_ != rsp_prod_;
  }

  SharedRingHeader* header_;
  Entry* entries_;
  RingIdx size_;
  std::string name_;
  RingIdx req_prod_pvt_;   // the next slot Enqueue fills [req_prod_pvt]
  RingIdx req_prod_;       // what we last published as req_prod; never read back
  RingIdx rsp_cons_;       // the next response to copy [rsp_cons]; ours, never shared
  RingIdx rsp_prod_;       // the backend's rsp_prod as last read and checked
  std::optional<Error> broken_;
  RingStats stats_;
};

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_RING_H_
