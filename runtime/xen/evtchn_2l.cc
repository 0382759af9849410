#include "runtime/xen/evtchn_2l.h"

namespace skiff::xen {
namespace {

constexpr xen_ulong_t Bit(unsigned n) { return xen_ulong_t{1} << n; }

}  // namespace

void EventPorts::SetHandler(EvtchnPort port, Handler handler) {
  if (port.value >= kPorts) return;
  if (port.value >= handlers_.size()) handlers_.resize(port.value + 1);
  handlers_[port.value] = std::move(handler);
  if (port.value == running_) running_replaced_ = true;
}

// Moves the handler out of the registry while it runs, so that it may close its own channel
// (clearing its slot) or resize the registry without destroying the function it is in.
void EventPorts::Run(evtchn_port_t port) {
  if (port >= handlers_.size() || !handlers_[port]) return;
  Handler handler = std::move(handlers_[port]);
  handlers_[port] = nullptr;
  running_ = port;
  running_replaced_ = false;
  handler();
  if (!running_replaced_) handlers_[port] = std::move(handler);
  running_ = kNone;
}

int EventPorts::Dispatch() {
  __atomic_store_n(&vcpu_->evtchn_upcall_pending, 0, __ATOMIC_RELEASE);
  words_ |= __atomic_exchange_n(&vcpu_->evtchn_pending_sel, 0, __ATOMIC_ACQ_REL);
  int dispatched = 0;
  unsigned start_word = next_ / kWordBits, start_bit = next_ % kWordBits;
  // Word start_word is visited twice: from start_bit up first, below start_bit last.
  for (unsigned i = 0; i <= kWordBits && words_ != 0; i++) {
    unsigned w = (start_word + i) % kWordBits;
    if (!(words_ & Bit(w))) continue;
    xen_ulong_t* pending = &info_->evtchn_pending[w];
    const xen_ulong_t* mask = &info_->evtchn_mask[w];
    xen_ulong_t live = __atomic_load_n(pending, __ATOMIC_ACQUIRE) & ~*mask;
    if (i == 0) live &= ~xen_ulong_t{0} << start_bit;
    if (i == kWordBits) live &= Bit(start_bit) - 1;
    while (live != 0) {
      unsigned b = __builtin_ctzl(live);
      live &= live - 1;
      if (!(__atomic_fetch_and(pending, ~Bit(b), __ATOMIC_ACQ_REL) & Bit(b))) continue;
      evtchn_port_t port = w * kWordBits + b;
      next_ = (port + 1) % kPorts;
      dispatched++;
      Run(port);
    }
    if ((__atomic_load_n(pending, __ATOMIC_ACQUIRE) & ~*mask) == 0) words_ &= ~Bit(w);
  }
  return dispatched;
}

void EventPorts::Mask(EvtchnPort port) {
  if (port.value >= kPorts) return;
  __atomic_fetch_or(&info_->evtchn_mask[port.value / kWordBits], Bit(port.value % kWordBits),
                    __ATOMIC_ACQ_REL);
}

void EventPorts::Unmask(EvtchnPort port) {
  if (port.value >= kPorts) return;
  unsigned w = port.value / kWordBits;
  xen_ulong_t bit = Bit(port.value % kWordBits);
  __atomic_fetch_and(&info_->evtchn_mask[w], ~bit, __ATOMIC_ACQ_REL);
  if (__atomic_load_n(&info_->evtchn_pending[w], __ATOMIC_ACQUIRE) & bit) words_ |= Bit(w);
}

bool EventPorts::IsMasked(EvtchnPort port) const {
  return port.value < kPorts &&
         (__atomic_load_n(&info_->evtchn_mask[port.value / kWordBits], __ATOMIC_ACQUIRE) &
          Bit(port.value % kWordBits));
}

}  // namespace skiff::xen
