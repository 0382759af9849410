// A backend for the host tests of ring drivers: it serves a shared ring from the other side,
// from the fake platform's event loop (each PollEvents), as blkback and netback do. It copies
// each request once out of the ring, answers it with the test's handler, pushes responses and
// raises the front end's port only when rsp_event asks for it, and sleeps (req_event =
// req_cons + 1) only when it has nothing left to do, so a front end that pushes while the
// backend is still working is told not to notify. [xen/io/ring.h, the back end's half]
//
// It is generic over the request and response types; the fault knobs need a response with
// `id` and `status` fields, as blkif's and netif's have. The fault knobs make it misbehave.
#ifndef SKIFF_TESTS_UNIT_FAKE_BACKEND_H_
#define SKIFF_TESTS_UNIT_FAKE_BACKEND_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <deque>
#include <functional>
#include <limits>

#include "runtime/xen/ring.h"
#include "tests/unit/fake_platform.h"

namespace skiff {

// What does not depend on the entry types: the event loop, the port, the knobs, the counters.
class FakeBackendBase {
 public:
  // Serves from |platform|'s loop and raises |front_port| to notify the front end.
  FakeBackendBase(FakePlatform* platform, EvtchnPort front_port);
  virtual ~FakeBackendBase();
  FakeBackendBase(const FakeBackendBase&) = delete;
  FakeBackendBase& operator=(const FakeBackendBase&) = delete;

  // The front end's notification (what its event channel send would do): wakes the backend.
  void Kick();
  // Goes away mid-request, as a backend closing its xenbus device does: answers nothing
  // more, and calls on_close (the front end's view of the backend's state going Closing).
  void Close();
  bool closed() const { return closed_; }
  bool awake() const { return awake_; }

  uint64_t kicks = 0;           // notifications the front end sent
  uint64_t notifies = 0;        // times it raised the front end's port
  uint64_t requests = 0;        // requests copied out of the ring
  uint64_t responses = 0;       // responses pushed, injected ones included
  std::function<void()> on_close;

  // Faults.
  bool stalled = false;                    // reads and answers nothing, even when kicked
  bool hold = false;      // takes requests but answers none yet, as netback holds rx buffers
  size_t responses_per_turn = SIZE_MAX;    // fewer keeps it working across turns
  int wrong_id = 0;       // the next so many responses carry an id that was never issued
  int duplicate = 0;      // ... are sent twice: the same id answered twice
  int bad_status = 0;     // ... carry a status out of every range

 protected:
  // One turn of the loop while awake: take requests, answer some, maybe sleep.
  virtual void Serve() = 0;
  void Notify();
  void Sleep() { awake_ = false; }

 private:
  void Poll();

  FakePlatform* platform_;
  EvtchnPort front_port_;
  bool awake_ = false;
  bool closed_ = false;
};

template <typename Request, typename Response>
class FakeBackend final : public FakeBackendBase {
 public:
  using Entry = xen::RingEntry<Request, Response>;
  using Handler = std::function<Response(const Request&)>;

  // Serves the ring of 2^|order| pages at |pages| that the front end initialised, from the
  // first request not answered yet (requests pushed before it came, such as netfront's RX
  // buffers, included), answering each request with |handler|.
  FakeBackend(FakePlatform* platform, EvtchnPort front_port, void* pages, unsigned order,
              Handler handler)
      : FakeBackendBase(platform, front_port),
        header_(static_cast<xen::SharedRingHeader*>(pages)),
        entries_(reinterpret_cast<Entry*>(static_cast<char*>(pages) + 64)),
        size_(SlotsFor(order)), handler_(std::move(handler)),
        req_cons_(header_->rsp_prod), rsp_prod_pvt_(header_->rsp_prod) {}

  uint32_t size() const { return size_; }
  size_t unanswered() const { return pending_.size(); }
  // The requests taken and not answered yet, oldest first.
  const std::deque<Request>& unanswered_requests() const { return pending_; }

  // Pushes |response| as if it answered something: for ids never issued.
  void Inject(const Response& response) {
    Write(response);
    PushResponses();
  }

  // Moves rsp_prod |by| slots past what it has written, e.g. past the whole ring.
  void JumpProducer(uint32_t by) {
    rsp_prod_pvt_ += by;
    PushResponses();
  }

  // Writes |response| over the slot of the last response pushed, as a backend changing
  // memory the front end has already read would.
  void RewriteLast(const Response& response) {
    memcpy(&entries_[(rsp_prod_pvt_ - 1) & (size_ - 1)].rsp, &response, sizeof(Response));
  }

 private:
  // Its own arithmetic, not the ring's: the largest power of two of entries that fit.
  static uint32_t SlotsFor(unsigned order) {
    size_t fit = ((size_t{4096} << order) - 64) / sizeof(Entry);
    uint32_t slots = 1;
    while (slots * 2 <= fit) slots *= 2;
    return slots;
  }

  void Serve() override {
    TakeRequests();
    size_t n = 0;
    while (!hold && !pending_.empty() && n < responses_per_turn) {
      Answer(pending_.front());
      pending_.pop_front();
      n++;
    }
    if (n > 0) PushResponses();
    if (pending_.empty() && !RequestsWaiting()) Sleep();
  }

  void TakeRequests() {
    uint32_t prod = __atomic_load_n(&header_->req_prod, __ATOMIC_ACQUIRE);
    EXPECT_LE(prod - req_cons_, size_) << "the front end overran the ring";
    for (; req_cons_ != prod; req_cons_++) {
      Request request;
      memcpy(&request, &entries_[req_cons_ & (size_ - 1)].req, sizeof(Request));
      pending_.push_back(request);
      requests++;
    }
  }

  // [RING_FINAL_CHECK_FOR_REQUESTS]: asks for a kick on the next request, then looks again.
  bool RequestsWaiting() {
    __atomic_store_n(&header_->req_event, req_cons_ + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return __atomic_load_n(&header_->req_prod, __ATOMIC_ACQUIRE) != req_cons_;
  }

  void Answer(const Request& request) {
    Response response = handler_(request);
    using Id = decltype(response.id);
    using Status = decltype(response.status);
    if (wrong_id > 0) {
      wrong_id--;
      response.id = static_cast<Id>(~response.id);
    }
    if (bad_status > 0) {
      bad_status--;
      response.status = std::numeric_limits<Status>::min();
    }
    Write(response);
    if (duplicate > 0) {
      duplicate--;
      Write(response);
    }
  }

  void Write(const Response& response) {
    memcpy(&entries_[rsp_prod_pvt_ & (size_ - 1)].rsp, &response, sizeof(Response));
    rsp_prod_pvt_++;
    responses++;
  }

  // [RING_PUSH_RESPONSES_AND_CHECK_NOTIFY]
  void PushResponses() {
    uint32_t old = header_->rsp_prod;
    __atomic_store_n(&header_->rsp_prod, rsp_prod_pvt_, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t event = __atomic_load_n(&header_->rsp_event, __ATOMIC_RELAXED);
    if (static_cast<uint32_t>(rsp_prod_pvt_ - event) < static_cast<uint32_t>(rsp_prod_pvt_ - old)) {
      Notify();
    }
  }

  xen::SharedRingHeader* header_;
  Entry* entries_;
  uint32_t size_;
  Handler handler_;
  uint32_t req_cons_;
  uint32_t rsp_prod_pvt_;
  std::deque<Request> pending_;   // copied out, not answered yet
};

}  // namespace skiff

#endif  // SKIFF_TESTS_UNIT_FAKE_BACKEND_H_
