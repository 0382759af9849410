// Busy-waiting for a ring, before the event loop exists. It spins on `pause` and reads the
// pvclock, and makes no hypercalls: a guest that makes hypercalls in a tight loop has been
// seen to triple-fault under nested SVM in QEMU TCG (the sandbox).
#ifndef SKIFF_RUNTIME_XEN_POLL_H_
#define SKIFF_RUNTIME_XEN_POLL_H_

#include <stdint.h>

#include "runtime/arch/x86/cpu.h"
#include "runtime/xen/shared_info.h"

namespace skiff::xen {

// Returns true as soon as ready() holds, false if it still does not after |timeout_ns|.
template <typename Ready>
bool PollUntil(Ready ready, uint64_t timeout_ns) {
  uint64_t deadline = SystemTimeNanoseconds() + timeout_ns;
  while (!ready()) {
    for (int i = 0; i < 1000; i++) x86::Pause();
    if (SystemTimeNanoseconds() > deadline) return ready();
  }
  return true;
}

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_POLL_H_
