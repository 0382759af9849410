#include "runtime/xen/xenstore.h"

#include <errno.h>
#include <string.h>

#include "runtime/arch/x86/cpu.h"
#include "runtime/xen/hypercall.h"
#include "runtime/xen/poll.h"

namespace skiff::xen {
namespace {

xenstore_domain_interface* ring;
evtchn_port_t port;
// Apart from the ids of runtime/xen/xs_client.cc, which may have used the ring before.
uint32_t next_id = 0x80000000;

// xenstored answers within milliseconds; five seconds means it is gone.
bool WaitFor(bool (*ready)()) { return PollUntil(ready, 5000000000); }

bool Put(const void* data, uint32_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    if (!WaitFor([] { return ring->req_prod - *(volatile XENSTORE_RING_IDX*)&ring->req_cons <
                             XENSTORE_RING_SIZE; })) {
      return false;
    }
    XENSTORE_RING_IDX prod = ring->req_prod;
    while (len > 0 && prod - *(volatile XENSTORE_RING_IDX*)&ring->req_cons < XENSTORE_RING_SIZE) {
      ring->req[MASK_XENSTORE_IDX(prod)] = *p++;
      prod++;
      len--;
    }
    x86::MemoryFence();
    ring->req_prod = prod;
    Notify(port);
  }
  return true;
}

bool Get(void* data, uint32_t len) {
  char* p = static_cast<char*>(data);
  while (len > 0) {
    if (!WaitFor([] { return *(volatile XENSTORE_RING_IDX*)&ring->rsp_prod != ring->rsp_cons; })) {
      return false;
    }
    x86::MemoryFence();
    XENSTORE_RING_IDX cons = ring->rsp_cons;
    while (len > 0 && cons != *(volatile XENSTORE_RING_IDX*)&ring->rsp_prod) {
      *p++ = ring->rsp[MASK_XENSTORE_IDX(cons)];
      cons++;
      len--;
    }
    x86::MemoryFence();
    ring->rsp_cons = cons;
    Notify(port);
  }
  return true;
}

}  // namespace

bool XenstoreInit() {
  uint64_t pfn, evtchn;
  if (!GetHvmParam(HVM_PARAM_STORE_PFN, &pfn) || !GetHvmParam(HVM_PARAM_STORE_EVTCHN, &evtchn) ||
      pfn == 0) {
    return false;
  }
  ring = reinterpret_cast<xenstore_domain_interface*>(pfn << 12);
  port = static_cast<evtchn_port_t>(evtchn);
  return true;
}

int XenstoreWrite(const char* path, const char* value) {
  if (ring == nullptr) return -ENODEV;
  uint32_t path_len = strlen(path) + 1;   // the path's NUL separates it from the value
  uint32_t value_len = strlen(value);
  if (path_len + value_len > XENSTORE_PAYLOAD_MAX) return -E2BIG;
  xsd_sockmsg request = {XS_WRITE, next_id++, 0, path_len + value_len};
  if (!Put(&request, sizeof(request)) || !Put(path, path_len) || !Put(value, value_len)) {
    return -ETIMEDOUT;
  }
  xsd_sockmsg reply;
  char body[XENSTORE_PAYLOAD_MAX];
  do {   // skip watch events and stale replies until ours arrives
    if (!Get(&reply, sizeof(reply))) return -ETIMEDOUT;
    if (reply.len > XENSTORE_PAYLOAD_MAX) return -EIO;
    if (!Get(body, reply.len)) return -ETIMEDOUT;
  } while (reply.type == XS_WATCH_EVENT || reply.req_id != request.req_id);
  return reply.type == XS_WRITE ? 0 : -EIO;
}

}  // namespace skiff::xen
