#include "skiff/evtchn.h"

#include <errno.h>

#include "runtime/xen/hypercall.h"
#include "runtime/xen/loop.h"

namespace skiff {

struct EventChannel::State {
  evtchn_port_t port;
  Event event;
  std::function<void()> handler;

  static void OnEvent(void* arg) {
    auto* state = static_cast<State*>(arg);
    if (state->handler) {
      state->handler();
    } else {
      state->event.Signal();
    }
  }
};

EventChannel::EventChannel(std::unique_ptr<State> state) : state_(std::move(state)) {
  xen::Ports().SetHandler(state_->port, State::OnEvent, state_.get());
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

Result<EventChannel> EventChannel::Adopt(uint32_t port) {
  auto state = std::unique_ptr<State>(new (std::nothrow) State{port, {}, {}});
  if (state == nullptr) {
    evtchn_close_t close = {port};
    xen::EventChannelOp(EVTCHNOP_close, &close);
    return MakeError(ENOMEM, "event channel: out of memory for port %u", port);
  }
  xen::Ports().Unmask(port);
  return EventChannel(std::move(state));
}

Result<EventChannel> EventChannel::BindVirq(uint32_t virq) {
  evtchn_bind_virq_t bind = {};
  bind.virq = virq;
  bind.vcpu = 0;
  long rc = xen::EventChannelOp(EVTCHNOP_bind_virq, &bind);
  if (rc != 0) {
    return MakeError(rc == -22 ? EINVAL : EIO, "event channel: binding VIRQ %u failed: Xen says %s%s",
                     virq, xen::ErrorName(rc),
                     rc == -22 ? " (no such VIRQ, or one that is not per-vCPU)" : "");
  }
  return Adopt(bind.port);
}

Result<EventChannel> EventChannel::AllocUnbound(uint16_t remote) {
  evtchn_alloc_unbound_t alloc = {};
  alloc.dom = DOMID_SELF;
  alloc.remote_dom = remote;
  long rc = xen::EventChannelOp(EVTCHNOP_alloc_unbound, &alloc);
  if (rc != 0) {
    return MakeError(rc == -28 ? ENOSPC : EIO,
                     "event channel: allocating a port for domain %u failed: Xen says %s",
                     remote, xen::ErrorName(rc));
  }
  return Adopt(alloc.port);
}

Result<EventChannel> EventChannel::BindInterdomain(uint16_t remote, uint32_t remote_port) {
  evtchn_bind_interdomain_t bind = {};
  bind.remote_dom = remote;
  bind.remote_port = remote_port;
  long rc = xen::EventChannelOp(EVTCHNOP_bind_interdomain, &bind);
  if (rc != 0) {
    return MakeError(EIO, "event channel: binding port %u of domain %u failed: Xen says %s",
                     remote_port, remote, xen::ErrorName(rc));
  }
  return Adopt(bind.local_port);
}

uint32_t EventChannel::port() const { return state_ != nullptr ? state_->port : 0; }

Result<void> EventChannel::Send() const {
  if (state_ == nullptr) return MakeError(EBADF, "event channel: send on a closed channel");
  evtchn_send_t send = {state_->port};
  long rc = xen::EventChannelOp(EVTCHNOP_send, &send);
  if (rc != 0) {
    return MakeError(EIO, "event channel: send on port %u failed: Xen says %s", state_->port,
                     xen::ErrorName(rc));
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
  evtchn_close_t close = {state_->port};
  xen::EventChannelOp(EVTCHNOP_close, &close);
  state_->event.Signal();   // never strand a waiter: it sees the channel closed
  state_.reset();
}

void EventChannel::SetHandler(std::function<void()> handler) {
  if (state_ != nullptr) state_->handler = std::move(handler);
}

Event& EventChannel::event() {
  if (state_ == nullptr) sched::Fatal("event channel: waiting on a closed channel");
  return state_->event;
}

}  // namespace skiff
