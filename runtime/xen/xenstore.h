// Xenstore, the API: Xenstore() is the guest's client, a XenstoreClient, with requests from
// many tasks in flight at once over the shared ring [xen/io/xs_wire.h], transactions, and
// watches. The wire format is in xenstore_wire.h; the polled writer of the exit status in
// xenstore_exit.h. The client is portable: the guest runs it over the ring of
// HVM_PARAM_STORE_PFN (xenstore_start.cc), the unit tests over a fake xenstored
// (tests/unit/fake_xenstored.h).
//
// Calls (Read, Write, ...) are made from tasks: each parks until its reply comes or the
// timeout passes. OnEvent() runs in the event loop, from the xenstore event channel's handler:
// it drains the reply ring, hands replies to their tasks by req_id, and queues watch events.
// Watch callbacks run in a task of the client's own ("xenstore-watch"), one at a time and in
// the order the events came, so they may block and make xenstore calls themselves.
//
// The reply ring is hostile input. A reply for no request, a watch event for no watch, or a
// malformed event is dropped and counted; a malformed reply to a request fails that request.
// An index that runs past the ring, or a request ring that stalls part way through a request,
// breaks the client for good: every pending and later call fails with the reason.
#ifndef SKIFF_RUNTIME_XEN_XENSTORE_H_
#define SKIFF_RUNTIME_XEN_XENSTORE_H_

#include <stdint.h>

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/xen/start_info.h"
#include "runtime/xen/xenstore_wire.h"
#include "skiff/sched.h"

namespace skiff::xen {

// The shared page and how to kick xenstored after changing an index.
struct XsRing {
  xenstore_domain_interface* ring = nullptr;
  std::function<void()> notify;
};

struct XsClientOptions {
  uint64_t timeout_ns = 5'000'000'000;   // per call, ring space and reply together
  int transaction_attempts = 10;         // how many EAGAINs Transaction() takes
};

struct XsWatchId {
  uint64_t value = 0;
};

// What was dropped from the reply ring, for tests and diagnostics.
struct XsClientStats {
  uint64_t unknown_replies = 0;        // for no request in flight
  uint64_t bad_replies = 0;            // wrong type, over the limit, unparseable
  uint64_t unknown_watch_events = 0;   // for a token of no watch
  uint64_t bad_watch_events = 0;       // malformed
};

class XenstoreClient {
 public:
  XenstoreClient(XsRing ring, XsClientOptions options = {});
  // Stops the watch task, joining it: call from a task, with no calls in flight.
  ~XenstoreClient();
  XenstoreClient(const XenstoreClient&) = delete;
  XenstoreClient& operator=(const XenstoreClient&) = delete;

  // Event-loop context: drains the reply ring and wakes whoever it concerns. Never blocks.
  void OnEvent();

  // Task context. |tx| is a transaction from TransactionStart, or none.
  Result<std::string> Read(std::string_view path, XsTx tx = {});
  Result<void> Write(std::string_view path, std::string_view value, XsTx tx = {});
  Result<void> Mkdir(std::string_view path, XsTx tx = {});
  Result<void> Rm(std::string_view path, XsTx tx = {});
  Result<std::vector<std::string>> Directory(std::string_view path, XsTx tx = {});
  Result<std::vector<XsPermission>> GetPermissions(std::string_view path, XsTx tx = {});
  Result<void> SetPermissions(std::string_view path, const std::vector<XsPermission>& permissions,
                              XsTx tx = {});
  Result<XsTx> TransactionStart();
  // Commits (or with |commit| false, aborts) |tx|. EAGAIN: another write conflicted.
  Result<void> TransactionEnd(XsTx tx, bool commit);

  // Runs |body| in a transaction and commits it, starting over while the commit (or |body|)
  // fails with EAGAIN, up to options.transaction_attempts times. Another error from |body|
  // aborts the transaction and is returned.
  Result<void> Transaction(const std::function<Result<void>(XsTx)>& body);

  // Calls |callback| with the changed path whenever |path| or a node under it changes, and
  // once at registration (as xenstored does). The client picks a unique token.
  Result<XsWatchId> Watch(std::string_view path, std::function<void(std::string_view)> callback);
  // After it returns, the callback is not called again (unless it is running now).
  Result<void> Unwatch(XsWatchId id);

  bool broken() const { return broken_.has_value(); }
  const XsClientStats& stats() const { return stats_; }

 private:
  enum class State : uint8_t { kSending, kSent, kDone };
  struct Request {
    uint32_t req_id = 0;
    uint32_t type = 0;
    std::string what;   // "read of 'a/b'", for errors
    State state = State::kSending;
    std::optional<Result<std::string>> reply;   // the payload, once kDone
    WaitQueue waiter;
  };
  struct WatchEntry {
    std::string path;   // for XS_UNWATCH, which names the path and the token
    std::function<void(std::string_view)> callback;
    bool retired = false;   // being unwatched: its events are dropped quietly
  };

  // Sends a request and waits for its reply's payload; an XS_ERROR reply is an Error.
  Result<std::string> Call(uint32_t type, XsTx tx, std::initializer_list<std::string_view> args,
                           std::string_view raw, std::string what);
  Result<void> CallForAck(uint32_t type, XsTx tx, std::initializer_list<std::string_view> args,
                          std::string_view raw, std::string what);
  // Writes |bytes| into the request ring, parking while it is full. Holds the ring meanwhile.
  Result<void> Send(const std::string& bytes, uint64_t deadline, const std::string& what);
  Result<void> CopyIn(const std::string& bytes, uint64_t deadline, const std::string& what);
  uint32_t NextReqId();
  void Dispatch(XsMessage& message);
  void DispatchWatchEvent(const XsMessage& message);
  void Complete(Request* request, Result<std::string> reply);
  void MarkBroken(Error error);
  void Problem(uint64_t* counter, const char* format, ...) __attribute__((format(printf, 3, 4)));
  void WatchTaskMain();

  xenstore_domain_interface* ring_;
  std::function<void()> notify_;
  XsClientOptions options_;
  XENSTORE_RING_IDX req_prod_;   // our own copies: the shared ones are xenstored's to scribble
  XENSTORE_RING_IDX rsp_cons_;
  XsDecoder decoder_;
  uint32_t next_req_id_ = 1;
  std::map<uint32_t, Request*> requests_;   // in flight, by req_id
  bool sending_ = false;                    // a task is writing a request into the ring
  WaitQueue senders_;                       // tasks waiting for their turn to write
  WaitQueue ring_space_;                    // the sender, waiting for xenstored to consume
  std::optional<Error> broken_;
  XsClientStats stats_;

  std::map<std::string, WatchEntry> watches_;   // by token
  uint64_t next_watch_ = 1;
  std::deque<XsWatchEvent> watch_events_;       // for the watch task, in arrival order
  WaitQueue watch_wakeup_;
  Task* watch_task_ = nullptr;
  bool stopping_ = false;
};

// Starts the guest's client on the store ring of |info| (in the event loop's world: call
// after StartEventLoop). A PVH dom0 has no xenstore.
void StartXenstore(const StartInfo& info);

// The guest's client, or why there is none (ENODEV).
Result<XenstoreClient*> Xenstore();

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_XENSTORE_H_
