#include "runtime/xen/evtchn_2l.h"

namespace skiff::xen {
namespace {

constexpr xen_ulong_t Bit(unsigned n) { return xen_ulong_t{1} << n; }

}  // namespace

void EventPorts::SetHandler(evtchn_port_t port, Handler handler, void* arg) {
  if (port >= kPorts) return;
  if (port >= slots_.size()) slots_.resize(port + 1);
  slots_[port] = {handler, arg};
}

void EventPorts::ClearHandler(evtchn_port_t port) {
  if (port < slots_.size()) slots_[port] = {};
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
      if (port < slots_.size() && slots_[port].handler != nullptr) {
        slots_[port].handler(slots_[port].arg);
      }
    }
    if ((__atomic_load_n(pending, __ATOMIC_ACQUIRE) & ~*mask) == 0) words_ &= ~Bit(w);
  }
  return dispatched;
}

void EventPorts::Mask(evtchn_port_t port) {
  if (port >= kPorts) return;
  __atomic_fetch_or(&info_->evtchn_mask[port / kWordBits], Bit(port % kWordBits),
                    __ATOMIC_ACQ_REL);
}

void EventPorts::Unmask(evtchn_port_t port) {
  if (port >= kPorts) return;
  unsigned w = port / kWordBits;
  __atomic_fetch_and(&info_->evtchn_mask[w], ~Bit(port % kWordBits), __ATOMIC_ACQ_REL);
  if (__atomic_load_n(&info_->evtchn_pending[w], __ATOMIC_ACQUIRE) & Bit(port % kWordBits)) {
    words_ |= Bit(w);
  }
}

bool EventPorts::IsMasked(evtchn_port_t port) const {
  return port < kPorts &&
         (__atomic_load_n(&info_->evtchn_mask[port / kWordBits], __ATOMIC_ACQUIRE) &
          Bit(port % kWordBits));
}

}  // namespace skiff::xen
