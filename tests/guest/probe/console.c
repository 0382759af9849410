/*
 * console.c: line-buffered output to port 0xe9 and to one Xen console:
 * HYPERVISOR_console_io (dom0) or the PV console ring (domU) [xen/io/console.h].
 */
#include "probe.h"

#include <stdarg.h>

#include <xen/hvm/params.h>
#include <xen/io/console.h>

enum { kDebugPort = 0xe9, kLineMax = 256, kRingWaitMs = 2000 };

static enum { kSinkNone, kSinkConsoleIo, kSinkRing } sink = kSinkNone;
static struct xencons_interface *ring;
static EvtchnPort ring_port;
static char line[kLineMax];
static size_t line_len;

void ConsoleUseConsoleIo(void) { sink = kSinkConsoleIo; }

bool ConsoleUseRing(void) {
  uint64_t pfn, port;
  if (!XenHvmParam(HVM_PARAM_CONSOLE_PFN, &pfn) || !XenHvmParam(HVM_PARAM_CONSOLE_EVTCHN, &port) ||
      pfn == 0 || pfn >= kMappedPfns)
    return false;
  ring = (struct xencons_interface *)(uintptr_t)(pfn << kPageShift);
  ring_port.value = (uint32_t)port;
  sink = kSinkRing;
  return true;
}

/* Copies |n| bytes into the ring and notifies xenconsoled. While the ring is
 * full it polls; after kRingWaitMs without room the rest is dropped. Indices
 * that make no sense end ring output for good (the ring is shared memory). */
static void RingWrite(const char *s, size_t n) {
  XENCONS_RING_IDX prod = ring->out_prod;  /* ours alone */
  uint64_t deadline = NowMs() + kRingWaitMs;
  while (n > 0) {
    XENCONS_RING_IDX used = prod - __atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE);
    if (used > sizeof(ring->out)) {
      sink = kSinkNone;
      return;
    }
    if (used == sizeof(ring->out)) {
      if (NowMs() >= deadline) return;
      Relax();
      continue;
    }
    for (; used < sizeof(ring->out) && n > 0; used++, n--)
      ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = *s++;
    __atomic_store_n(&ring->out_prod, prod, __ATOMIC_RELEASE);
    XenNotify(ring_port);
  }
}

static void Flush(void) {
  for (size_t i = 0; i < line_len; i++) OutB(kDebugPort, (uint8_t)line[i]);
  if (sink == kSinkConsoleIo)
    Hypercall(__HYPERVISOR_console_io, CONSOLEIO_write, line_len, (uintptr_t)line);
  else if (sink == kSinkRing)
    RingWrite(line, line_len);
  line_len = 0;
}

static void Put(char c) {
  line[line_len++] = c;
  if (c == '\n' || line_len == kLineMax) Flush();
}

static void PutString(const char *s) {
  while (*s) Put(*s++);
}

void Printf(const char *format, ...) {
  va_list args;
  va_start(args, format);
  char number[21];
  for (const char *p = format; *p; p++) {
    if (*p != '%' || p[1] == '\0') {
      Put(*p);
      continue;
    }
    switch (*++p) {
      case 's': PutString(va_arg(args, const char *)); break;
      case 'u':
        FormatUnsigned(number, va_arg(args, unsigned));
        PutString(number);
        break;
      default: Put(*p); break;  /* %% */
    }
  }
  va_end(args);
}

void ConsoleDrain(void) {
  if (line_len > 0) Flush();
  if (sink != kSinkRing) return;
  XenNotify(ring_port);
  uint64_t deadline = NowMs() + kRingWaitMs;
  while (__atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE) != ring->out_prod && NowMs() < deadline)
    Relax();
}
