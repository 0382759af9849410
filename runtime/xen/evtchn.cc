#include "skiff/evtchn.h"

#include <errno.h>

#include <new>

#include "runtime/xen/hypercall.h"
#include "runtime/xen/loop.h"
#include "runtime/xen/xen_error.h"

namespace skiff {

// What the port's handler in the registry (xen::Ports()) points at.
struct EventChannel::State {
  EvtchnPort port;
  Event event;

  // The handler a channel has unless SetHandler gives it another: it signals the Event.
  std::function<void()> SignalEvent() {
    return [this] { event.Signal(); };
  }
};

EventChannel::EventChannel(std::unique_ptr<State> state) : state_(std::move(state)) {
  xen::Ports().SetHandler(state_->port, state_->SignalEvent());
}

EventChannel::EventChannel(EventChannel&& other) noexcept = default;

EventChannel::~EventChannel() { Close(); }

EventChannel& EventChannel::operator=(EventChannel&& other) noexcept {
  if (this != &other) {
    Close();
    state_ = std::move(other.state_);
  }
  return *this;
}

Result<EventChannel> EventChannel::Adopt(EvtchnPort port) {
  auto state = std::unique_ptr<State>(new (std::nothrow) State{port, {}});
  if (state == nullptr) {
    evtchn_close_t close = {port.value};
    xen::EventChannelOp(EVTCHNOP_close, &close);
    return MakeError(ENOMEM, "event channel: out of memory for port %u", port.value);
  }
  xen::Ports().Unmask(port);
  return EventChannel(std::move(state));
}

Result<EventChannel> EventChannel::BindVirq(uint32_t virq) {
  evtchn_bind_virq_t bind = {};
  bind.virq = virq;
  bind.vcpu = 0;
  if (long rc = xen::EventChannelOp(EVTCHNOP_bind_virq, &bind); rc != 0) {
    Error error = xen::XenError(rc, "event channel: binding VIRQ %u failed", virq);
    if (error.code == EINVAL) error.message += " (no such VIRQ, or one that is not per-vCPU)";
    return error;
  }
  return Adopt(EvtchnPort{bind.port});
}

Result<EventChannel> EventChannel::AllocUnbound(DomId remote) {
  evtchn_alloc_unbound_t alloc = {};
  alloc.dom = DOMID_SELF;
  alloc.remote_dom = remote.value;
  if (long rc = xen::EventChannelOp(EVTCHNOP_alloc_unbound, &alloc); rc != 0) {
    return xen::XenError(rc, "event channel: allocating a port for domain %u failed",
                         remote.value);
  }
  return Adopt(EvtchnPort{alloc.port});
}

Result<EventChannel> EventChannel::BindInterdomain(DomId remote, EvtchnPort remote_port) {
  evtchn_bind_interdomain_t bind = {};
  bind.remote_dom = remote.value;
  bind.remote_port = remote_port.value;
  if (long rc = xen::EventChannelOp(EVTCHNOP_bind_interdomain, &bind); rc != 0) {
    return xen::XenError(rc, "event channel: binding port %u of domain %u failed",
                         remote_port.value, remote.value);
  }
  return Adopt(EvtchnPort{bind.local_port});
}

EvtchnPort EventChannel::port() const { return state_ != nullptr ? state_->port : EvtchnPort{}; }

Result<void> EventChannel::Send() const {
  if (state_ == nullptr) return MakeError(EBADF, "event channel: send on a closed channel");
  evtchn_send_t send = {state_->port.value};
  if (long rc = xen::EventChannelOp(EVTCHNOP_send, &send); rc != 0) {
    return xen::XenError(rc, "event channel: send on port %u failed", state_->port.value);
  }
  return {};
}

void EventChannel::Mask() {
  if (state_ != nullptr) xen::Ports().Mask(state_->port);
}

void EventChannel::Unmask() {
  if (state_ != nullptr) xen::Ports().Unmask(state_->port);
}

void EventChannel::Close() {
  if (state_ == nullptr) return;
  xen::Ports().ClearHandler(state_->port);
  evtchn_close_t close = {state_->port.value};
  xen::EventChannelOp(EVTCHNOP_close, &close);
  state_->event.Signal();   // never strand a waiter: it sees the channel closed
  state_.reset();
}

void EventChannel::SetHandler(std::function<void()> handler) {
  if (state_ == nullptr) return;
  xen::Ports().SetHandler(state_->port, handler ? std::move(handler) : state_->SignalEvent());
}

Event& EventChannel::event() {
  if (state_ == nullptr) sched::Fatal("event channel: waiting on a closed channel");
  return state_->event;
}

}  // namespace skiff
