// ICMP echo from the app (skiff::net::Ping), on an lwIP raw pcb. lwIP itself answers pings.
#include <errno.h>
#include <string.h>

#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"
#include "net/stack.h"
#include "skiff/net.h"

namespace skiff::net {
namespace {

struct Probe {
  uint16_t id = 0, sequence = 0;
  Ipv4 target;
  bool answered = false;
  WaitQueue done;
};

uint16_t next_id = 0x5300;

// Takes our echo reply (returns 1: eaten); leaves everything else to lwIP.
u8_t Received(void* arg, struct raw_pcb*, struct pbuf* p, const ip_addr_t* from) {
  auto* probe = static_cast<Probe*>(arg);
  if (p->tot_len < IP_HLEN) return 0;
  auto* ip = static_cast<const struct ip_hdr*>(p->payload);
  u16_t header = static_cast<u16_t>(IPH_HL_BYTES(ip));
  struct icmp_echo_hdr echo;
  if (p->tot_len < header + sizeof(echo) ||
      pbuf_copy_partial(p, &echo, sizeof(echo), header) != sizeof(echo)) {
    return 0;
  }
  if (echo.type != ICMP_ER || lwip_ntohs(echo.id) != probe->id ||
      lwip_ntohs(echo.seqno) != probe->sequence || FromLwip(*ip_2_ip4(from)) != probe->target) {
    return 0;
  }
  probe->answered = true;
  probe->done.WakeAll();
  pbuf_free(p);
  return 1;
}

}  // namespace

Result<uint64_t> Ping(Ipv4 target, uint64_t deadline) {
  InitStack();
  struct raw_pcb* pcb = raw_new(IP_PROTO_ICMP);
  if (pcb == nullptr) return MakeError(ENOMEM, "ping %s: no memory", target.ToString().c_str());
  Probe probe;
  probe.id = next_id++;
  probe.sequence = 1;
  probe.target = target;
  raw_recv(pcb, &Received, &probe);
  constexpr u16_t kPayload = 56;   // as ping(8)
  struct pbuf* p = pbuf_alloc(PBUF_IP, sizeof(icmp_echo_hdr) + kPayload, PBUF_RAM);
  if (p == nullptr) {
    raw_remove(pcb);
    return MakeError(ENOMEM, "ping %s: no memory", target.ToString().c_str());
  }
  auto* echo = static_cast<struct icmp_echo_hdr*>(p->payload);
  memset(echo, 0, p->len);
  echo->type = ICMP_ECHO;
  echo->id = lwip_htons(probe.id);
  echo->seqno = lwip_htons(probe.sequence);
  for (u16_t i = 0; i < kPayload; i++) reinterpret_cast<uint8_t*>(echo + 1)[i] = static_cast<uint8_t>(i);
  echo->chksum = inet_chksum(echo, p->len);
  ip_addr_t address = ToLwip(target);
  uint64_t start = Now();
  err_t err = raw_sendto(pcb, p, &address);
  pbuf_free(p);
  KickTimers();
  Result<uint64_t> result = MakeError(ETIMEDOUT, "ping %s: no reply", target.ToString().c_str());
  if (err != ERR_OK) {
    result = MakeError(ErrnoOf(err), "ping %s: %s", target.ToString().c_str(),
                       err == ERR_RTE ? "no route to it" : strerror(ErrnoOf(err)));
  } else {
    while (!probe.answered && probe.done.WaitUntil(deadline)) {
    }
    if (probe.answered) result = Now() - start;
  }
  raw_remove(pcb);
  return result;
}

}  // namespace skiff::net
