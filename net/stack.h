// lwIP on the event loop: its timers on a Skiff timer, its interfaces over links, and what the
// socket calls share (waiting, errors). Portable: the host tests run two interfaces wired
// together. One context: tasks and the event loop of one vCPU, so lwIP needs no lock.
#ifndef SKIFF_NET_STACK_H_
#define SKIFF_NET_STACK_H_

#include <errno.h>
#include <stdint.h>

#include <coroutine>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "net/link.h"
#include "skiff/coro.h"
#include "skiff/net.h"
#include "skiff/sched.h"

struct tcp_pcb;

namespace skiff::net {

// Starts lwIP (once) and its timer (again after StopStackTimer).
void InitStack();
// Cancels the timer: the host tests' schedulers come and go, lwIP stays.
void StopStackTimer();

// After Skiff calls into lwIP: arms the stack's timer for lwIP's next timeout, which the call
// may have brought forward.
void KickTimers();

// The errno of an lwIP error.
int ErrnoOf(err_t err);

inline ip4_addr_t ToLwip(Ipv4 ip) { return {lwip_htonl(ip.host_order())}; }
inline Ipv4 FromLwip(const ip4_addr_t& ip) { return Ipv4::FromHostOrder(lwip_ntohl(ip.addr)); }

// Lets a new connection's segments grow to one TSO packet when the interface it leaves by
// has a device that cuts them (net/stack.cc). Call once it is established, before it sends.
void OfferTso(struct tcp_pcb* pcb);

// An lwIP netif over a link: eth0, eth1... in the order they are added.
class Interface {
 public:
  static constexpr size_t kTxQueue = 1024;   // frames waiting for room on the device

  Interface(Link& link, std::string name);
  ~Interface();
  Interface(const Interface&) = delete;
  Interface& operator=(const Interface&) = delete;

  const std::string& name() const { return name_; }
  struct netif* netif() { return &netif_; }
  InterfaceInfo info() const;
  bool ready() const;   // link up, with an address
  Result<void> Configure(Ipv4 address, Ipv4 netmask, Ipv4 gateway);
  Result<void> StartDhcp();
  WaitQueue& changes() { return changes_; }   // the link or the address changed
  // What the device's own counters are, for info(): set by whoever made the link.
  std::function<LinkStats()> link_stats;
  std::function<std::string()> link_error;

 private:
  friend void OfferTso(struct tcp_pcb* pcb);
  static err_t Init(struct netif* netif);
  static err_t OutputIp(struct netif* netif, struct pbuf* p, const ip4_addr_t* dest);
  static err_t Output(struct netif* netif, struct pbuf* p);
  static void StatusChanged(struct netif* netif);
  void Receive(std::span<const FramePiece> pieces, size_t bytes, Checksum checksum);
  Result<void> SendNow(struct pbuf* p);
  void Flush();
  void LinkChanged(bool up);
  void DropQueue();
  u16_t ChecksumControl() const;

  Link& link_;
  std::string name_;
  struct netif netif_ = {};
  std::deque<struct pbuf*> tx_queue_;
  bool dhcp_ = false;
  uint64_t rx_no_memory_ = 0, tx_queued_ = 0, tx_queue_drops_ = 0;
  WaitQueue changes_;
};

// Adds an interface over |link| (named eth<N>); the first is the default route's.
Interface* AddInterface(Link& link);
// The interface named |name| ("" for the first), or ENODEV naming those there are.
Result<Interface*> FindInterface(std::string_view name);

// A call that may have to wait: |step| returns its result, or nothing to wait on |queue| and
// try again. Once |deadline| passed, the call is ETIMEDOUT (naming |what|) unless |step|,
// called with late = true, gives a result. From a task (Block) or a coroutine (Await).
template <typename T, typename Step>
Result<T> Block(WaitQueue& queue, uint64_t deadline, const char* what, Step step) {
  for (bool late = false;; late = !queue.WaitUntil(deadline)) {
    std::optional<Result<T>> result = step(late);
    KickTimers();
    if (result) return std::move(*result);
    if (late) return MakeError(ETIMEDOUT, "%s timed out", what);
  }
}

template <typename T, typename Step>
Co<Result<T>> Await(WaitQueue& queue, uint64_t deadline, const char* what, Step step) {
  for (bool late = false;; late = !co_await WaitAwaiter(queue, deadline)) {
    std::optional<Result<T>> result = step(late);
    KickTimers();
    if (result) co_return std::move(*result);
    if (late) co_return MakeError(ETIMEDOUT, "%s timed out", what);
  }
}

}  // namespace skiff::net

#endif  // SKIFF_NET_STACK_H_
