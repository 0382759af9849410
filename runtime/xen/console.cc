#include "runtime/xen/console.h"

#include <stdarg.h>
#include <stdio.h>

#include "runtime/arch/x86/cpu.h"
#include "runtime/xen/byte_ring.h"
#include "runtime/xen/hypercall.h"
#include "runtime/xen/poll.h"

namespace skiff::xen {
namespace {

xencons_interface* ring;
EvtchnPort port;
bool use_console_io;
bool stalled;

// Waits until |ready| holds; gives up after a second without progress from the backend.
template <typename Ready>
bool WaitFor(Ready ready) {
  Notify(port);
  return PollUntil(ready, 1000000000);
}

}  // namespace

void ConsoleInit(const StartInfo& info) {
  use_console_io = info.dom0;
  if (info.console.present()) {
    ring = static_cast<xencons_interface*>(info.console.address());
    port = info.console.port;
  }
}

void ConsoleWrite(const char* data, size_t len) {
  if (use_console_io) {
    Hypercall(__HYPERVISOR_console_io, CONSOLEIO_write, len, reinterpret_cast<uint64_t>(data));
    return;
  }
  if (ring == nullptr || stalled) return;
  constexpr uint32_t kSize = sizeof(ring->out);
  while (len > 0) {
    auto space = [] {
      return ring->out_prod - *(volatile XENCONS_RING_IDX*)&ring->out_cons < kSize;
    };
    if (!space() && !WaitFor(space)) {
      stalled = true;
      return;
    }
    XENCONS_RING_IDX prod = ring->out_prod;
    size_t n = ByteRingPut(ring->out, kSize, prod, *(volatile XENCONS_RING_IDX*)&ring->out_cons,
                           std::string_view(data, len));
    data += n;
    len -= n;
    x86::MemoryFence();   // the bytes before the index [xen/io/console.h]
    ring->out_prod = prod + static_cast<XENCONS_RING_IDX>(n);
    Notify(port);
  }
}

size_t ConsoleRead(char* out, size_t len) {
  if (ring == nullptr) return 0;
  XENCONS_RING_IDX cons = ring->in_cons;
  XENCONS_RING_IDX prod = *(volatile XENCONS_RING_IDX*)&ring->in_prod;
  x86::MemoryFence();   // the index before the bytes [xen/io/console.h]
  size_t n = ByteRingGet(ring->in, sizeof(ring->in), cons, prod, out, len);
  x86::MemoryFence();   // the bytes are copied before the space is given back
  ring->in_cons = cons + static_cast<XENCONS_RING_IDX>(n);
  if (n > 0) Notify(port);
  return n;
}

EvtchnPort ConsolePort() { return ring != nullptr ? port : EvtchnPort{0}; }

void ConsoleFlush() {
  if (ring == nullptr || stalled) return;
  WaitFor([] { return *(volatile XENCONS_RING_IDX*)&ring->out_cons == ring->out_prod; });
}

void ConsolePrint(const char* format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(buffer, sizeof(buffer), format, args);
  va_end(args);
  if (n > 0) ConsoleWrite(buffer, n < static_cast<int>(sizeof(buffer)) ? n : sizeof(buffer) - 1);
}

}  // namespace skiff::xen
