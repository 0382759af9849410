// Xen event channels (the 2-level ABI). [xen/event_channel.h]
//
// An EventChannel owns one port of this domain and closes it when destroyed. Each event on
// the port signals its Event (wait on it from a task, or co_await it), unless SetHandler()
// gave it a handler, which then runs in the event loop and must not block. A handler may
// close (or destroy) its own channel.
#ifndef SKIFF_EVTCHN_H_
#define SKIFF_EVTCHN_H_

#include <stdint.h>

#include <functional>
#include <memory>

#include "skiff/result.h"
#include "skiff/sched.h"
#include "skiff/xen_types.h"

namespace skiff {

class EventChannel {
 public:
  // A virtual IRQ of this vCPU (VIRQ_TIMER, VIRQ_DEBUG...). An unknown one is EINVAL.
  static Result<EventChannel> BindVirq(uint32_t virq);
  // A new port that domain |remote| may bind to.
  static Result<EventChannel> AllocUnbound(DomId remote);
  // The other end of |remote|'s unbound port |remote_port|.
  static Result<EventChannel> BindInterdomain(DomId remote, EvtchnPort remote_port);
  // A port Xen bound when it made the domain (the console's, xenstore's).
  static Result<EventChannel> Adopt(EvtchnPort port);

  EventChannel() = default;
  EventChannel(EventChannel&& other) noexcept;
  EventChannel& operator=(EventChannel&& other) noexcept;
  ~EventChannel();

  bool open() const { return state_ != nullptr; }
  EvtchnPort port() const;   // {0} when closed

  // Notifies the other end. Fails on a closed channel or when Xen refuses.
  Result<void> Send() const;
  void Mask();
  void Unmask();   // an event that came while masked is delivered now
  void Close();

  void SetHandler(std::function<void()> handler);
  Event& event();
  void Wait() { event().Wait(); }
  bool WaitUntil(uint64_t deadline) { return event().WaitUntil(deadline); }
  Event::Awaiter operator co_await() { return event().operator co_await(); }

 private:
  struct State;
  explicit EventChannel(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

}  // namespace skiff

#endif  // SKIFF_EVTCHN_H_
