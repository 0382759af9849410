// The 2-level event channel ABI's bitmaps: per-port pending and mask bits in shared_info, and
// the per-vCPU selector of words with pending bits. [xen/xen.h struct shared_info, vcpu_info]
// Portable: the guest points it at the real shared_info, the unit tests at a fake one.
#ifndef SKIFF_RUNTIME_XEN_EVTCHN_2L_H_
#define SKIFF_RUNTIME_XEN_EVTCHN_2L_H_

#include <stdint.h>

#include <vector>

#include "runtime/xen/xen.h"

namespace skiff::xen {

class EventPorts {
 public:
  static constexpr unsigned kWordBits = sizeof(xen_ulong_t) * 8;
  static constexpr unsigned kPorts = kWordBits * kWordBits;   // 4096 on x86-64
  using Handler = void (*)(void* arg);

  void Attach(shared_info* info, vcpu_info* vcpu) {
    info_ = info;
    vcpu_ = vcpu;
  }

  // |handler| runs, in the event loop, for each event on |port|. Events on ports without one
  // are consumed and dropped.
  void SetHandler(evtchn_port_t port, Handler handler, void* arg);
  void ClearHandler(evtchn_port_t port);

  // Runs the handler of every pending, unmasked port once, clearing its pending bit first
  // (so an event during the handler is kept for the next call). The scan starts after the
  // last port it dispatched, so a busy port cannot starve the others. Returns how many ran.
  int Dispatch();

  // Anything for Dispatch(): the upcall flag, the selector or words left from an earlier scan.
  bool Pending() const {
    return __atomic_load_n(&vcpu_->evtchn_upcall_pending, __ATOMIC_ACQUIRE) != 0 ||
           __atomic_load_n(&vcpu_->evtchn_pending_sel, __ATOMIC_ACQUIRE) != 0 || words_ != 0;
  }

  void Mask(evtchn_port_t port);
  // Clears the mask; an event that came while masked is dispatched on the next call.
  void Unmask(evtchn_port_t port);
  bool IsMasked(evtchn_port_t port) const;

 private:
  struct Slot {
    Handler handler = nullptr;
    void* arg = nullptr;
  };

  shared_info* info_ = nullptr;
  vcpu_info* vcpu_ = nullptr;
  xen_ulong_t words_ = 0;   // words that may still hold pending, unmasked ports
  unsigned next_ = 0;       // the port the next scan starts at
  std::vector<Slot> slots_;
};

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_EVTCHN_2L_H_
