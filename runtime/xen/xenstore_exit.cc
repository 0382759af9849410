#include "runtime/xen/xenstore_exit.h"

#include <errno.h>
#include <string.h>

#include <algorithm>
#include <vector>

#include "runtime/arch/x86/cpu.h"
#include "runtime/xen/byte_ring.h"
#include "runtime/xen/hypercall.h"
#include "runtime/xen/poll.h"
#include "runtime/xen/xenstore_wire.h"

namespace skiff::xen {
namespace {

xenstore_domain_interface* ring;
EvtchnPort port;
// Apart from the ids of the client (xenstore.cc), which may have used the ring before.
uint32_t next_id = 0x80000000;

// xenstored answers within milliseconds; five seconds means it is gone.
bool WaitFor(bool (*ready)()) { return PollUntil(ready, 5'000'000'000); }

XENSTORE_RING_IDX Load(const XENSTORE_RING_IDX& index) {
  return __atomic_load_n(&index, __ATOMIC_ACQUIRE);
}

bool Put(std::string_view bytes) {
  while (!bytes.empty()) {
    if (!WaitFor([] { return ring->req_prod - Load(ring->req_cons) < XENSTORE_RING_SIZE; })) {
      return false;
    }
    XENSTORE_RING_IDX prod = ring->req_prod;
    size_t n = ByteRingPut(ring->req, XENSTORE_RING_SIZE, prod, Load(ring->req_cons), bytes);
    bytes.remove_prefix(n);
    __atomic_store_n(&ring->req_prod, prod + static_cast<XENSTORE_RING_IDX>(n), __ATOMIC_RELEASE);
    Notify(port);
  }
  return true;
}

// Feeds reply bytes to |decoder| until it completes a message.
bool Get(XsDecoder& decoder, std::vector<XsMessage>* messages) {
  while (messages->empty()) {
    if (!WaitFor([] { return Load(ring->rsp_prod) != ring->rsp_cons; })) return false;
    XENSTORE_RING_IDX cons = ring->rsp_cons;
    char bytes[XENSTORE_RING_SIZE];   // copied once: xenstored may change the ring
    size_t n = ByteRingGet(ring->rsp, XENSTORE_RING_SIZE, cons, Load(ring->rsp_prod), bytes,
                           sizeof(bytes));
    __atomic_store_n(&ring->rsp_cons, cons + static_cast<XENSTORE_RING_IDX>(n), __ATOMIC_RELEASE);
    Notify(port);
    decoder.Feed(std::string_view(bytes, n), messages);
  }
  return true;
}

}  // namespace

bool XenstoreExitInit(const StartInfo& info) {
  if (!info.store.present()) return false;
  ring = static_cast<xenstore_domain_interface*>(info.store.address());
  port = info.store.port;
  return true;
}

Result<void> XenstoreExitWrite(std::string_view path, std::string_view value) {
  if (ring == nullptr) return MakeError(ENODEV, "xenstore: no ring to write '%.*s' to",
                                        static_cast<int>(path.size()), path.data());
  uint32_t id = next_id++;
  Result<std::string> request = EncodeRequest(XS_WRITE, id, {}, {path}, value);
  if (!request) return request.error();
  if (!Put(*request)) return MakeError(ETIMEDOUT, "xenstore: xenstored took no request");
  XsDecoder decoder;
  std::vector<XsMessage> messages;
  for (;;) {   // skip watch events and stale replies until ours arrives
    if (!Get(decoder, &messages)) return MakeError(ETIMEDOUT, "xenstore: no reply from xenstored");
    for (const XsMessage& reply : messages) {
      if (reply.header.type == XS_WATCH_EVENT || reply.header.req_id != id) continue;
      if (reply.header.type == XS_WRITE) return {};
      return MakeError(EIO, "xenstore: write of '%.*s' failed: %s",
                       static_cast<int>(path.size()), path.data(),
                       reply.header.type == XS_ERROR ? reply.payload.c_str() : "a bad reply");
    }
    messages.clear();
  }
}

}  // namespace skiff::xen
