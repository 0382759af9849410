// UDP for tasks and coroutines, on lwIP's raw API.
#include <errno.h>
#include <string.h>

#include <algorithm>
#include <deque>
#include <utility>

#include "lwip/ip.h"
#include "lwip/udp.h"
#include "net/stack.h"
#include "skiff/net.h"

namespace skiff::net {

struct UdpSocket::State {
  static constexpr size_t kQueue = 256;   // datagrams received, not yet taken

  struct Datagram {
    struct pbuf* p;
    Endpoint from;
  };
  struct udp_pcb* pcb = nullptr;
  std::deque<Datagram> received;
  uint64_t drops = 0;
  WaitQueue readers;

  ~State() {
    for (const Datagram& d : received) pbuf_free(d.p);
  }
};

namespace {

using Socket = UdpSocket::State;

void Received(void* arg, struct udp_pcb*, struct pbuf* p, const ip_addr_t* address, u16_t port) {
  auto* s = static_cast<Socket*>(arg);
  if (s->received.size() >= Socket::kQueue) {
    s->drops++;
    pbuf_free(p);
    return;
  }
  s->received.push_back({p, {FromLwip(*ip_2_ip4(address)), port}});
  s->readers.WakeOne();
}

std::optional<Result<size_t>> ReceiveStep(Socket* s, std::span<uint8_t> buffer, Endpoint* from) {
  if (s->received.empty()) return std::nullopt;
  Socket::Datagram d = s->received.front();
  s->received.pop_front();
  size_t size = d.p->tot_len;
  pbuf_copy_partial(d.p, buffer.data(), static_cast<u16_t>(std::min(size, buffer.size())), 0);
  pbuf_free(d.p);
  if (from != nullptr) *from = d.from;
  return size;
}

}  // namespace

Result<UdpSocket> UdpSocket::Bind(Endpoint local) {
  InitStack();
  auto* s = new Socket;
  s->pcb = udp_new();
  if (s->pcb == nullptr) {
    delete s;
    return MakeError(ENOMEM, "bind %s: no memory for a UDP socket", local.ToString().c_str());
  }
  ip_set_option(s->pcb, SOF_REUSEADDR);
  ip_addr_t address = ToLwip(local.address);
  err_t err = udp_bind(s->pcb, &address, local.port);
  if (err != ERR_OK) {
    udp_remove(s->pcb);
    delete s;
    return MakeError(ErrnoOf(err), "bind %s: %s", local.ToString().c_str(),
                     err == ERR_USE ? "the port is in use" : strerror(ErrnoOf(err)));
  }
  udp_recv(s->pcb, &Received, s);
  return UdpSocket(s);
}

UdpSocket::UdpSocket(UdpSocket&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    Close();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

void UdpSocket::Close() {
  if (state_ == nullptr) return;
  Socket* s = std::exchange(state_, nullptr);
  udp_remove(s->pcb);
  delete s;
}

Result<void> UdpSocket::SendTo(Endpoint to, std::span<const uint8_t> data) {
  if (state_ == nullptr) return MakeError(EBADF, "send: the socket is closed");
  constexpr size_t kMax = 65535 - 20 - 8;
  if (data.size() > kMax) {
    return MakeError(EMSGSIZE, "send to %s: %zu bytes, over the %zu a datagram holds",
                     to.ToString().c_str(), data.size(), kMax);
  }
  struct pbuf* p = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(data.size()), PBUF_RAM);
  if (p == nullptr) return MakeError(ENOBUFS, "send to %s: no memory", to.ToString().c_str());
  if (!data.empty()) memcpy(p->payload, data.data(), data.size());
  ip_addr_t address = ToLwip(to.address);
  err_t err = udp_sendto(state_->pcb, p, &address, to.port);
  pbuf_free(p);
  KickTimers();
  if (err != ERR_OK) {
    return MakeError(ErrnoOf(err), "send to %s: %s", to.ToString().c_str(),
                     err == ERR_RTE ? "no route to it" : strerror(ErrnoOf(err)));
  }
  return {};
}

Result<size_t> UdpSocket::ReceiveFrom(std::span<uint8_t> buffer, Endpoint* from,
                                      uint64_t deadline) {
  if (state_ == nullptr) return MakeError(EBADF, "receive: the socket is closed");
  Socket* s = state_;
  return Block<size_t>(s->readers, deadline, "receive",
                       [s, buffer, from](bool) { return ReceiveStep(s, buffer, from); });
}

Co<Result<size_t>> UdpSocket::ReceiveFromAsync(std::span<uint8_t> buffer, Endpoint* from,
                                               uint64_t deadline) {
  if (state_ == nullptr) co_return MakeError(EBADF, "receive: the socket is closed");
  Socket* s = state_;
  co_return co_await Await<size_t>(s->readers, deadline, "receive",
                                   [s, buffer, from](bool) { return ReceiveStep(s, buffer, from); });
}

Endpoint UdpSocket::local() const {
  if (state_ == nullptr) return {};
  return {FromLwip(*ip_2_ip4(&state_->pcb->local_ip)), state_->pcb->local_port};
}

uint64_t UdpSocket::drops() const { return state_ != nullptr ? state_->drops : 0; }

}  // namespace skiff::net
