// The 2-level event channel ABI's bitmaps: per-port pending and mask bits in shared_info, and
// the per-vCPU selector of words with pending bits. [xen/xen.h struct shared_info, vcpu_info]
// Portable: the guest points it at the real shared_info, the unit tests at a fake one.
#ifndef SKIFF_RUNTIME_XEN_EVTCHN_2L_H_
#define SKIFF_RUNTIME_XEN_EVTCHN_2L_H_

#include <stdint.h>

#include <functional>
#include <vector>

#include "runtime/xen/xen.h"
#include "skiff/xen_types.h"

namespace skiff::xen {

class EventPorts {
 public:
  static constexpr unsigned kWordBits = sizeof(xen_ulong_t) * 8;
  static constexpr unsigned kPorts = kWordBits * kWordBits;   // 4096 on x86-64
  using Handler = std::function<void()>;

  void Attach(shared_info* info, vcpu_info* vcpu) {
    info_ = info;
    vcpu_ = vcpu;
  }

  // The one registry of port handlers: |handler| runs, in the event loop, for each event on
  // |port|. Events on ports without one are consumed and dropped. A handler may set or clear
  // its own port's handler (close its channel) while it runs: the running one is destroyed
  // only after it returns.
  void SetHandler(EvtchnPort port, Handler handler);
  void ClearHandler(EvtchnPort port) { SetHandler(port, nullptr); }

  // Runs the handler of every pending, unmasked port once, clearing its pending bit first
  // (so an event during the handler is kept for the next call). The scan starts after the
  // last port it dispatched, so a busy port cannot starve the others. Returns how many ran.
  int Dispatch();

  // Anything for Dispatch(): the upcall flag, the selector or words left from an earlier scan.
  bool Pending() const {
    return __atomic_load_n(&vcpu_->evtchn_upcall_pending, __ATOMIC_ACQUIRE) != 0 ||
           __atomic_load_n(&vcpu_->evtchn_pending_sel, __ATOMIC_ACQUIRE) != 0 || words_ != 0;
  }

  void Mask(EvtchnPort port);
  // Clears the mask; an event that came while masked is dispatched on the next call.
  void Unmask(EvtchnPort port);
  bool IsMasked(EvtchnPort port) const;

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  void Run(evtchn_port_t port);

  shared_info* info_ = nullptr;
  vcpu_info* vcpu_ = nullptr;
  xen_ulong_t words_ = 0;   // words that may still hold pending, unmasked ports
  unsigned next_ = 0;       // the port the next scan starts at
  std::vector<Handler> handlers_;            // by port
  uint32_t running_ = kNone;                 // the port whose handler runs now
  bool running_replaced_ = false;            // ... and that handler was set or cleared
};

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_EVTCHN_2L_H_
