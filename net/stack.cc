// lwIP on the event loop: timers, interfaces, addresses.
#include "net/stack.h"

#include <errno.h>
#include <string.h>

#include <utility>

#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/ip4_frag.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

namespace skiff::net {
namespace {

// The link's MTU, what an Ethernet frame carries. lwIP's netif is told of the largest IPv4
// packet a frame can hold instead, so that a TCP packet meant for TSO reaches the device
// whole: Interface::OutputIp cuts anything else over the link's MTU into IP fragments.
constexpr u16_t kLinkMtu = 1500;
constexpr u16_t kLargestPacket = 0xffff - SIZEOF_ETH_HDR;
constexpr u16_t kLinkMss = kLinkMtu - IP_HLEN - TCP_HLEN;

// An Ethernet frame's IPv4 TCP headers: where its TCP header starts, 0 when it is something
// else (or a fragment, whose checksum covers other frames too).
u16_t TcpHeaderAt(struct pbuf* p) {
  uint8_t head[SIZEOF_ETH_HDR + IP_HLEN];
  if (pbuf_copy_partial(p, head, sizeof(head), 0) != sizeof(head)) return 0;
  if (head[12] != 0x08 || head[13] != 0x00) return 0;   // IPv4
  const uint8_t* ip = head + SIZEOF_ETH_HDR;
  u16_t ihl = static_cast<u16_t>((ip[0] & 0x0f) * 4);
  bool fragment = ((ip[6] & 0x3f) | ip[7]) != 0;   // MF set, or an offset
  if ((ip[0] >> 4) != 4 || ihl < IP_HLEN || ip[9] != IP_PROTO_TCP || fragment) return 0;
  return static_cast<u16_t>(SIZEOF_ETH_HDR + ihl);
}

// Leaves in |p|'s TCP checksum field the sum of its pseudo-header (addresses, protocol, TCP
// length), folded and not inverted, as the device that completes it expects.
void FillPseudoHeaderSum(struct pbuf* p, u16_t tcp_at) {
  uint8_t ip[IP_HLEN];
  pbuf_copy_partial(p, ip, IP_HLEN, SIZEOF_ETH_HDR);
  uint32_t tcp_bytes = ((uint32_t{ip[2]} << 8 | ip[3])) - (tcp_at - SIZEOF_ETH_HDR);
  uint32_t sum = IP_PROTO_TCP + tcp_bytes;
  for (int i = 12; i < 20; i += 2) sum += uint32_t{ip[i]} << 8 | ip[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  uint8_t field[2] = {static_cast<uint8_t>(sum >> 8), static_cast<uint8_t>(sum)};
  pbuf_take_at(p, field, 2, static_cast<u16_t>(tcp_at + 16));
}

bool started;
Timer* timer;
std::vector<std::unique_ptr<Interface>>* interfaces;

void OnTimer(void*) {
  sys_check_timeouts();
  KickTimers();
}

}  // namespace

void InitStack() {
  if (!started) {
    started = true;
    lwip_init();
    interfaces = new std::vector<std::unique_ptr<Interface>>;
  }
  if (timer == nullptr) {
    timer = new Timer(&OnTimer, nullptr);
    KickTimers();
  }
}

void StopStackTimer() {
  delete timer;
  timer = nullptr;
}

void KickTimers() {
  if (timer == nullptr) return;
  u32_t ms = sys_timeouts_sleeptime();
  if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE) return;
  uint64_t deadline = Now() + uint64_t{ms} * 1'000'000;
  if (!timer->armed() || deadline < timer->deadline()) timer->ArmAt(deadline);
}

int ErrnoOf(err_t err) {
  switch (err) {
    case ERR_OK: return 0;
    case ERR_MEM: return ENOMEM;
    case ERR_BUF: return ENOBUFS;
    case ERR_TIMEOUT: return ETIMEDOUT;
    case ERR_RTE: return ENETUNREACH;
    case ERR_INPROGRESS: return EINPROGRESS;
    case ERR_VAL: return EINVAL;
    case ERR_WOULDBLOCK: return EWOULDBLOCK;
    case ERR_USE: return EADDRINUSE;
    case ERR_ALREADY: return EALREADY;
    case ERR_ISCONN: return EISCONN;
    case ERR_CONN: return ENOTCONN;
    case ERR_IF: return ENETDOWN;
    case ERR_ABRT: return ECONNABORTED;
    case ERR_RST: return ECONNRESET;
    case ERR_CLSD: return ENOTCONN;
    default: return EIO;
  }
}

// ---- Interfaces.

Interface::Interface(Link& link, std::string name) : link_(link), name_(std::move(name)) {
  netif_add_noaddr(&netif_, this, &Interface::Init, ethernet_input);
  link_.SetReceiver([this](std::span<const FramePiece> pieces, size_t bytes, Checksum checksum) {
    Receive(pieces, bytes, checksum);
  });
  link_.SetOnTxSpace([this] { Flush(); });
  link_.SetOnLinkChange([this](bool up) { LinkChanged(up); });
  netif_set_up(&netif_);
  if (link_.up()) LinkChanged(true);
}

Interface::~Interface() {
  link_.SetReceiver(nullptr);
  link_.SetOnTxSpace(nullptr);
  link_.SetOnLinkChange(nullptr);
  if (dhcp_) dhcp_stop(&netif_);
  DropQueue();
  netif_remove(&netif_);
  KickTimers();
}

err_t Interface::Init(struct netif* netif) {
  auto* self = static_cast<Interface*>(netif->state);
  netif->name[0] = self->name_[0];
  netif->name[1] = self->name_[1];
  netif->output = &Interface::OutputIp;
  netif->linkoutput = &Interface::Output;
  netif->mtu = kLargestPacket;
  netif->hwaddr_len = ETH_HWADDR_LEN;
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  netif_set_status_callback(netif, &Interface::StatusChanged);
  return ERR_OK;
}

void Interface::StatusChanged(struct netif* netif) {
  static_cast<Interface*>(netif->state)->changes_.WakeAll();
}

// A received frame, copied out of the device's buffers into pool pbufs (which the device
// never waits for) and handed to lwIP at once. A frame whose checksums the device validated,
// or left blank (it comes from this host: dom0 or another guest, and never crossed a wire),
// goes up without lwIP checking its TCP, UDP and ICMP sums: lwIP 2.1 has no per-packet flag,
// but input runs to its end in this call, so the netif's flags are set for this frame alone.
// The IP header's own sum is always complete, and always checked.
void Interface::Receive(std::span<const FramePiece> pieces, size_t bytes, Checksum checksum) {
  // A frame of one MTU takes a pool pbuf; a GSO packet (up to 64 KiB), or one that finds the
  // pool empty, one piece of the heap: a pool of 1.5 KiB pbufs would run dry after a few.
  auto size = static_cast<u16_t>(bytes);   // <= 0xffff
  struct pbuf* p = bytes <= PBUF_POOL_BUFSIZE ? pbuf_alloc(PBUF_RAW, size, PBUF_POOL) : nullptr;
  if (p == nullptr) p = pbuf_alloc(PBUF_RAW, size, PBUF_RAM);
  if (p == nullptr) {
    rx_no_memory_++;
    return;
  }
  u16_t at = 0;
  for (const FramePiece& piece : pieces) {
    pbuf_take_at(p, piece.data, static_cast<u16_t>(piece.size), at);
    at = static_cast<u16_t>(at + piece.size);
  }
  if (checksum != Checksum::kComplete) {
    NETIF_SET_CHECKSUM_CTRL(&netif_, (ChecksumControl() & 0x00ff /* the GEN_ bits */) |
                                         NETIF_CHECKSUM_CHECK_IP);
  }
  if (netif_.input(p, &netif_) != ERR_OK) pbuf_free(p);
  NETIF_SET_CHECKSUM_CTRL(&netif_, ChecksumControl());
  KickTimers();
}

// Every check and every sum, but TCP's when the device completes it.
u16_t Interface::ChecksumControl() const {
  return link_.offloads().tcp_checksum ? NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP
                                       : NETIF_CHECKSUM_ENABLE_ALL;
}

void OfferTso(struct tcp_pcb* pcb) {
  struct netif* netif = ip_route(&pcb->local_ip, &pcb->remote_ip);
  if (netif == nullptr || netif->linkoutput != &Interface::Output) return;
  Offloads offloads = static_cast<Interface*>(netif->state)->link_.offloads();
  // Only for the link's own MSS (dom0's and other guests' on the bridge): the device cuts
  // every packet into segments of that size, whatever the peer announced.
  if (!offloads.tso || !offloads.tcp_checksum || pcb->mss != kLinkMss) return;
  constexpr u16_t kTsoMss = (kLargestPacket - IP_HLEN - TCP_HLEN) / kLinkMss * kLinkMss;
  pcb->mss = kTsoMss;
  // The window lwIP opened for the smaller MSS would not let one such segment go: two
  // segments, RFC 5681's initial window for an SMSS over 2190 bytes.
  pcb->cwnd = 2 * tcpwnd_size_t{pcb->mss};
}

// A packet over the link's MTU: a TCP one goes whole to a device that segments it; anything
// else (UDP, ICMP, or TCP for a device that cannot) goes as IP fragments, a TCP packet with
// its checksum completed first.
err_t Interface::OutputIp(struct netif* netif, struct pbuf* p, const ip4_addr_t* dest) {
  if (p->tot_len <= kLinkMtu) return etharp_output(netif, p, dest);
  auto* self = static_cast<Interface*>(netif->state);
  Offloads offloads = self->link_.offloads();
  uint8_t ip[IP_HLEN];
  if (pbuf_copy_partial(p, ip, IP_HLEN, 0) != IP_HLEN) return ERR_VAL;
  bool tcp = ip[9] == IP_PROTO_TCP;
  if (tcp && offloads.tso && offloads.tcp_checksum) return etharp_output(netif, p, dest);
  if (tcp && offloads.tcp_checksum) {
    u16_t ihl = static_cast<u16_t>((ip[0] & 0x0f) * 4);
    u16_t sum = 0;
    pbuf_take_at(p, &sum, 2, static_cast<u16_t>(ihl + 16));
    ip4_addr_t src, dst;
    memcpy(&src, ip + 12, 4);
    memcpy(&dst, ip + 16, 4);
    pbuf_remove_header(p, ihl);
    sum = inet_chksum_pseudo(p, IP_PROTO_TCP, p->tot_len, &src, &dst);
    pbuf_add_header(p, ihl);
    pbuf_take_at(p, &sum, 2, static_cast<u16_t>(ihl + 16));
  }
  netif->mtu = kLinkMtu;   // what ip4_frag cuts to; each fragment comes back here
  err_t err = ip4_frag(p, netif, dest);
  netif->mtu = kLargestPacket;
  return err;
}

Result<void> Interface::SendNow(struct pbuf* p) {
  SendOptions options;
  if (link_.offloads().tcp_checksum) {
    if (u16_t tcp_at = TcpHeaderAt(p); tcp_at != 0) {
      FillPseudoHeaderSum(p, tcp_at);
      options.checksum = Checksum::kBlank;
      if (p->tot_len > SIZEOF_ETH_HDR + kLinkMtu) {
        uint8_t offset;
        pbuf_copy_partial(p, &offset, 1, static_cast<u16_t>(tcp_at + 12));
        u16_t headers = static_cast<u16_t>(tcp_at - SIZEOF_ETH_HDR + (offset >> 4) * 4);
        options.gso_size = static_cast<uint16_t>(kLinkMtu - headers);
      }
    }
  }
  FramePiece pieces[32];
  size_t count = 0;
  for (struct pbuf* q = p; q != nullptr; q = q->next) {
    if (q->len == 0) continue;
    if (count == std::size(pieces)) {   // a chain this long is rare: make it one piece
      return MakeError(EINVAL, "%s: a frame in over %zu pieces", name_.c_str(), count);
    }
    pieces[count++] = {q->payload, q->len};
  }
  return link_.Send({pieces, count}, options);
}

// Frames go to the device at once; those it has no room for wait in order, as in Linux's
// device queue, and go when it has. A full queue refuses the frame with ERR_MEM: TCP keeps
// the segment and sends it on its next output (the next ACK), rather than waiting for a
// retransmission timeout, and UDP's sender is told (ENOMEM).
err_t Interface::Output(struct netif* netif, struct pbuf* p) {
  auto* self = static_cast<Interface*>(netif->state);
  if (self->tx_queue_.empty()) {
    Result<void> sent = self->SendNow(p);
    if (sent) return ERR_OK;
    if (sent.error().code != EAGAIN) return ERR_IF;   // the device counted it
  }
  if (self->tx_queue_.size() >= kTxQueue) {
    self->tx_queue_drops_++;
    return ERR_MEM;
  }
  pbuf_ref(p);
  self->tx_queue_.push_back(p);
  self->tx_queued_++;
  return ERR_OK;
}

void Interface::Flush() {
  while (!tx_queue_.empty()) {
    Result<void> sent = SendNow(tx_queue_.front());
    if (!sent && sent.error().code == EAGAIN) return;
    pbuf_free(tx_queue_.front());
    tx_queue_.pop_front();
  }
}

void Interface::DropQueue() {
  for (struct pbuf* p : tx_queue_) pbuf_free(p);
  tx_queue_.clear();
}

// Up: lwIP announces the address with a gratuitous ARP, and DHCP checks its lease again.
void Interface::LinkChanged(bool up) {
  if (up) {
    memcpy(netif_.hwaddr, link_.mac().data(), ETH_HWADDR_LEN);
    NETIF_SET_CHECKSUM_CTRL(&netif_, ChecksumControl());
    netif_set_link_up(&netif_);
  } else {
    DropQueue();
    netif_set_link_down(&netif_);
  }
  changes_.WakeAll();
  KickTimers();
}

bool Interface::ready() const {
  return netif_is_link_up(&netif_) && !ip4_addr_isany_val(*netif_ip4_addr(&netif_));
}

Result<void> Interface::Configure(Ipv4 address, Ipv4 netmask, Ipv4 gateway) {
  ip4_addr_t ip = ToLwip(address), mask = ToLwip(netmask), gw = ToLwip(gateway);
  if (!ip4_addr_netmask_valid(mask.addr)) {
    return MakeError(EINVAL, "%s: %s is not a netmask", name_.c_str(),
                     netmask.ToString().c_str());
  }
  if (dhcp_) {
    dhcp_release_and_stop(&netif_);
    dhcp_ = false;
  }
  netif_set_addr(&netif_, &ip, &mask, &gw);
  changes_.WakeAll();
  KickTimers();
  return {};
}

Result<void> Interface::StartDhcp() {
  err_t err = dhcp_start(&netif_);
  KickTimers();
  if (err != ERR_OK) {
    return MakeError(ErrnoOf(err), "%s: DHCP did not start (lwIP error %d)", name_.c_str(), err);
  }
  dhcp_ = true;
  return {};
}

InterfaceInfo Interface::info() const {
  InterfaceInfo info;
  info.name = name_;
  memcpy(info.mac.data(), netif_.hwaddr, info.mac.size());
  info.address = FromLwip(*netif_ip4_addr(&netif_));
  info.netmask = FromLwip(*netif_ip4_netmask(&netif_));
  info.gateway = FromLwip(*netif_ip4_gw(&netif_));
  info.link_up = netif_is_link_up(&netif_);
  info.dhcp = dhcp_;
  if (link_stats) info.link = link_stats();
  if (link_error) info.error = link_error();
  info.rx_no_memory = rx_no_memory_;
  info.tx_queued = tx_queued_;
  info.tx_queue_drops = tx_queue_drops_;
  return info;
}

Interface* AddInterface(Link& link) {
  InitStack();
  std::string name = "eth" + std::to_string(interfaces->size());
  interfaces->push_back(std::make_unique<Interface>(link, name));
  Interface* added = interfaces->back().get();
  if (interfaces->size() == 1) netif_set_default(added->netif());
  return added;
}

Result<Interface*> FindInterface(std::string_view name) {
  if (interfaces != nullptr) {
    for (auto& interface : *interfaces) {
      if (name.empty() || interface->name() == name) return interface.get();
    }
  }
  std::string names;
  if (interfaces != nullptr) {
    for (auto& interface : *interfaces) names += (names.empty() ? "" : ", ") + interface->name();
  }
  return MakeError(ENODEV, "no network interface %.*s (the guest has %s)",
                   static_cast<int>(name.size()), name.data(),
                   names.empty() ? "none" : names.c_str());
}

// ---- The public calls.

std::vector<InterfaceInfo> ListInterfaces() {
  std::vector<InterfaceInfo> list;
  if (interfaces != nullptr) {
    for (auto& interface : *interfaces) list.push_back(interface->info());
  }
  return list;
}

StackStats GetStackStats() {
  StackStats s;
#if LWIP_STATS
  s.ip_received = lwip_stats.ip.recv;
  s.ip_drops = lwip_stats.ip.drop;
  s.ip_checksum_errors = lwip_stats.ip.chkerr;
  s.ip_length_errors = lwip_stats.ip.lenerr;
  s.tcp_received = lwip_stats.tcp.recv;
  s.tcp_drops = lwip_stats.tcp.drop;
  s.tcp_checksum_errors = lwip_stats.tcp.chkerr;
  s.tcp_length_errors = lwip_stats.tcp.lenerr;
  s.udp_received = lwip_stats.udp.recv;
  s.udp_drops = lwip_stats.udp.drop;
  s.udp_checksum_errors = lwip_stats.udp.chkerr;
  s.udp_length_errors = lwip_stats.udp.lenerr;
  s.icmp_received = lwip_stats.icmp.recv;
  s.icmp_drops = lwip_stats.icmp.drop;
  s.arp_received = lwip_stats.etharp.recv;
  s.arp_drops = lwip_stats.etharp.drop;
#endif
  return s;
}

Result<void> Configure(std::string_view name, Ipv4 address, Ipv4 netmask, Ipv4 gateway) {
  Interface* interface = TRY(FindInterface(name));
  return interface->Configure(address, netmask, gateway);
}

Result<void> StartDhcp(std::string_view name) {
  Interface* interface = TRY(FindInterface(name));
  return interface->StartDhcp();
}

Result<InterfaceInfo> WaitForAddress(std::string_view name, uint64_t deadline) {
  Interface* interface = TRY(FindInterface(name));
  while (!interface->ready()) {
    if (!interface->changes().WaitUntil(deadline)) {
      return MakeError(ETIMEDOUT, "%s has no address yet%s", interface->name().c_str(),
                       netif_is_link_up(interface->netif()) ? "" : " (its link is down)");
    }
  }
  return interface->info();
}

// ---- Addresses.

Result<Ipv4> Ipv4::Parse(std::string_view text) {
  uint32_t value = 0;
  size_t at = 0;
  for (int part = 0; part < 4; part++) {
    if (part > 0) {
      if (at >= text.size() || text[at] != '.') break;
      at++;
    }
    size_t digits = 0;
    uint32_t octet = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9' && digits < 4) {
      octet = octet * 10 + static_cast<uint32_t>(text[at++] - '0');
      digits++;
    }
    if (digits == 0 || digits > 3 || octet > 255) {
      return MakeError(EINVAL, "'%.*s' is not an IPv4 address (a.b.c.d)",
                       static_cast<int>(text.size()), text.data());
    }
    value = value << 8 | octet;
    if (part == 3 && at == text.size()) return FromHostOrder(value);
  }
  return MakeError(EINVAL, "'%.*s' is not an IPv4 address (a.b.c.d)",
                   static_cast<int>(text.size()), text.data());
}

std::string Ipv4::ToString() const {
  char text[16];
  snprintf(text, sizeof(text), "%u.%u.%u.%u", host_ >> 24, (host_ >> 16) & 0xff,
           (host_ >> 8) & 0xff, host_ & 0xff);
  return text;
}

std::string Endpoint::ToString() const {
  return address.ToString() + ":" + std::to_string(port);
}

Result<Endpoint> Endpoint::Parse(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return MakeError(EINVAL, "'%.*s' is not an address and port (a.b.c.d:port)",
                     static_cast<int>(text.size()), text.data());
  }
  Ipv4 address = TRY(Ipv4::Parse(text.substr(0, colon)));
  std::string_view digits = text.substr(colon + 1);
  uint32_t port = 0;
  for (char c : digits) {
    if (c < '0' || c > '9' || port > 65535) break;
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (digits.empty() || digits.size() > 5 || port > 65535 ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return MakeError(EINVAL, "'%.*s' is not a port (0 to 65535)",
                     static_cast<int>(digits.size()), digits.data());
  }
  return Endpoint{address, static_cast<uint16_t>(port)};
}

}  // namespace skiff::net

// Source routing (LWIP_HOOK_IP4_ROUTE_SRC): a packet from one of our addresses leaves by the
// interface that has it, so that replies go back the way the request came.
extern "C" struct netif* skiff_lwip_route_src(const ip4_addr_t* src, const ip4_addr_t* dest) {
  (void)dest;
  if (src == nullptr || ip4_addr_isany(src)) return nullptr;
  struct netif* netif;
  NETIF_FOREACH(netif) {
    if (netif_is_up(netif) && netif_is_link_up(netif) && ip4_addr_cmp(src, netif_ip4_addr(netif))) {
      return netif;
    }
  }
  return nullptr;
}
