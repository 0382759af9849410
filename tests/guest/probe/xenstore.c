/*
 * xenstore.c: one request at a time over the xenstore ring, busy-polling
 * with bounded waits [xen/io/xs_wire.h, docs/misc/xenstore-ring.txt].
 * The ring is shared memory: indices and reply headers are checked, and a
 * bad one (or a timeout, after which the stream is out of step) ends the
 * client for good.
 */
#include "probe.h"

#include <xen/hvm/params.h>
#include <xen/io/xs_wire.h>

enum { kReplyWaitMs = 5000 };

static struct xenstore_domain_interface *ring;
static EvtchnPort ring_port;
static uint32_t next_req_id = 1;
static const char *broken;   /* why the client stopped, or NULL */
static char error_name[32];  /* the payload of the last XS_ERROR reply */

bool XsInit(void) {
  uint64_t pfn, port;
  if (!XenHvmParam(HVM_PARAM_STORE_PFN, &pfn) || !XenHvmParam(HVM_PARAM_STORE_EVTCHN, &port) ||
      pfn == 0 || pfn >= kMappedPfns)
    return false;
  ring = (struct xenstore_domain_interface *)(uintptr_t)(pfn << kPageShift);
  ring_port.value = (uint32_t)port;
  return true;
}

static bool Break(const char *reason) {
  broken = reason;
  return false;
}

/* One step of a wait on the ring; false once |deadline| has passed. */
static bool Wait(uint64_t deadline) {
  if (NowMs() >= deadline) return Break("timed out waiting for xenstored");
  Relax();
  return true;
}

/* Copies |n| bytes into the request ring as room appears. */
static bool Send(const void *data, size_t n, uint64_t deadline) {
  const char *p = data;
  while (n > 0) {
    XENSTORE_RING_IDX prod = ring->req_prod;  /* ours alone */
    XENSTORE_RING_IDX used = prod - __atomic_load_n(&ring->req_cons, __ATOMIC_ACQUIRE);
    if (used > XENSTORE_RING_SIZE) return Break("request ring indices corrupt");
    if (used == XENSTORE_RING_SIZE) {
      if (!Wait(deadline)) return false;
      continue;
    }
    for (; used < XENSTORE_RING_SIZE && n > 0; used++, n--)
      ring->req[MASK_XENSTORE_IDX(prod++)] = *p++;
    __atomic_store_n(&ring->req_prod, prod, __ATOMIC_RELEASE);
    XenNotify(ring_port);
  }
  return true;
}

/* Takes |n| bytes from the reply ring into |data|, or drops them if NULL. */
static bool Receive(void *data, size_t n, uint64_t deadline) {
  char *p = data;
  while (n > 0) {
    XENSTORE_RING_IDX cons = ring->rsp_cons;  /* ours alone */
    XENSTORE_RING_IDX avail = __atomic_load_n(&ring->rsp_prod, __ATOMIC_ACQUIRE) - cons;
    if (avail > XENSTORE_RING_SIZE) return Break("reply ring indices corrupt");
    if (avail == 0) {
      if (!Wait(deadline)) return false;
      continue;
    }
    for (; avail > 0 && n > 0; avail--, n--, cons++) {
      char c = ring->rsp[MASK_XENSTORE_IDX(cons)];
      if (p) *p++ = c;
    }
    __atomic_store_n(&ring->rsp_cons, cons, __ATOMIC_RELEASE);
    XenNotify(ring_port);
  }
  return true;
}

/* Sends |type| with the payload "|path| NUL |value|" (no value: just the
 * path) and reads up to |cap| - 1 reply bytes into |reply|, NUL-terminated. */
static const char *Transact(enum xsd_sockmsg_type type, const char *path, const char *value,
                            char *reply, size_t cap, size_t *len) {
  if (broken) return broken;
  size_t path_len = strlen(path) + 1, value_len = value ? strlen(value) : 0;
  if (path_len + value_len > XENSTORE_PAYLOAD_MAX) return "request too long";
  struct xsd_sockmsg request = {
      .type = type, .req_id = next_req_id++, .len = (uint32_t)(path_len + value_len)};
  struct xsd_sockmsg header;
  uint64_t deadline = NowMs() + kReplyWaitMs;
  if (!Send(&request, sizeof(request), deadline) || !Send(path, path_len, deadline) ||
      !Send(value, value_len, deadline) || !Receive(&header, sizeof(header), deadline))
    return broken;
  if (header.req_id != request.req_id || header.len > XENSTORE_PAYLOAD_MAX ||
      (header.type != type && header.type != XS_ERROR)) {
    Break("bad reply header from xenstored");
    return broken;
  }
  if (header.type == XS_ERROR) {
    reply = error_name;
    cap = sizeof(error_name);
  }
  size_t kept = header.len < cap - 1 ? header.len : cap - 1;
  if (!Receive(reply, kept, deadline) || !Receive(NULL, header.len - kept, deadline)) return broken;
  reply[kept] = '\0';
  if (header.type == XS_ERROR) return error_name;
  if (len) *len = kept;
  return kept < header.len ? "reply too long" : NULL;
}

const char *XsRead(const char *path, char *value, size_t cap) {
  return Transact(XS_READ, path, NULL, value, cap, NULL);
}

const char *XsDirectory(const char *path, char *names, size_t cap, size_t *len) {
  return Transact(XS_DIRECTORY, path, NULL, names, cap, len);
}

const char *XsWrite(const char *path, const char *value) {
  char reply[8];  /* "OK" */
  return Transact(XS_WRITE, path, value, reply, sizeof(reply), NULL);
}
