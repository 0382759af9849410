/* lwIP 2.1.x options for Skiff guests (lwIP's src/include/lwip/opt.h documents each one).
 *
 * NO_SYS=1: the raw API only, called from tasks and the event loop of one vCPU (never from
 * the upcall, which only marks ports pending), so lwIP needs no locks and no tcpip thread:
 * skiff/net.h (net/tcp.cc, net/udp.cc) is built on it. */
#ifndef SKIFF_LWIPOPTS_H
#define SKIFF_LWIPOPTS_H

/* ---- system ---- */
#define NO_SYS                          1
#define SYS_LIGHTWEIGHT_PROT            0   /* one vCPU, no lwIP calls from interrupts */
#define LWIP_TIMERS                     1   /* sys_check_timeouts(); sys_now() from sys_arch.cc */
#define LWIP_SOCKET                     0
#define LWIP_NETCONN                    0
#define LWIP_ERRNO_STDINCLUDE           1   /* newlib's <errno.h>, never lwIP's own numbers */
#define LWIP_TIMEVAL_PRIVATE            0   /* newlib's struct timeval (<sys/time.h>) */

/* ---- memory ----
 * The heap (PBUF_RAM pbufs, mem_malloc) is the runtime's malloc, so there is no MEM_SIZE
 * array to size. The fixed-size objects stay in pools (MEMP_MEM_MALLOC=0): when the TCP PCB
 * pool is empty, tcp_alloc() reclaims the oldest TIME_WAIT PCB, which never happens when the
 * pools come from malloc (Unikraft's nginx fell from 5,303 to 193 req/s: lib-lwip#74). */
#define MEM_LIBC_MALLOC                 1
#define MEMP_MEM_MALLOC                 0
#define MEM_ALIGNMENT                   8
#define MEMP_NUM_TCP_PCB                256
#define MEMP_NUM_TCP_PCB_LISTEN         16
#define MEMP_NUM_UDP_PCB                16
#define MEMP_NUM_TCP_SEG                4096  /* >= TCP_SND_QUEUELEN (lwIP's sanity check) */
#define MEMP_NUM_PBUF                   1024  /* PBUF_REF/ROM: non-copying tcp_write, RX refs */
#define MEMP_NUM_SYS_TIMEOUT            (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)
#define PBUF_POOL_SIZE                  256   /* about 390 KiB of .bss */
#define ARP_TABLE_SIZE                  32

/* ---- protocols ---- */
#define LWIP_IPV4                       1
#define LWIP_IPV6                       0
#define LWIP_ETHERNET                   1
#define LWIP_ARP                        1
#define LWIP_ICMP                       1
#define LWIP_RAW                        1   /* skiff::net::Ping */
#define LWIP_UDP                        1
#define LWIP_TCP                        1
#define LWIP_DHCP                       1
#define DHCP_DOES_ARP_CHECK             0   /* would hold the address back about a second */
#define LWIP_AUTOIP                     0
#define LWIP_IGMP                       0
#define LWIP_DNS                        1
#define IP_REASSEMBLY                   1
#define IP_REASS_MAX_PBUFS              64  /* a 64 KiB datagram: 45 fragments (default 10) */
#define MEMP_NUM_FRAG_PBUF              128 /* fragments sent and not yet copied to the device */
#define IP_FRAG                         1

/* ---- TCP: sized for throughput (Unikraft's lib-lwip uses the same window and buffer) ---- */
#define TCP_MSS                         1460
#define LWIP_WND_SCALE                  1
#define TCP_RCV_SCALE                   2
#define TCP_WND                         262140      /* 0xffff << TCP_RCV_SCALE at most */
#define TCP_SND_BUF                     (1024 * 1024)
#define TCP_SND_QUEUELEN                ((4 * (TCP_SND_BUF) + (TCP_MSS - 1)) / (TCP_MSS))
/* tcp_sndbuf() reports at most 0xffff even with a larger buffer, so the low-water mark, when
 * a sender may write again, must stay below it (lwIP's sanity check: 4 * MSS below). */
#define TCP_SNDLOWAT                    (32 * 1024)
#define TCP_QUEUE_OOSEQ                 1
#define LWIP_TCP_SACK_OUT               1
#define LWIP_TCP_KEEPALIVE              1
#define TCP_LISTEN_BACKLOG              1   /* 2.1.3's default 0 lets a listener take any number */
#define SO_REUSE                        1   /* else tcp_bind fails while TIME_WAIT holds the port */
#define LWIP_TCP_TIMESTAMPS             0

/* ---- checksums: in software unless the netif says otherwise (net/stack.cc: TCP's are left
 * to a device that completes them, as netfront's backend does; lwIP 2.1 has no per-packet
 * "already validated" flag, so the netif's flags are set around each received frame) ---- */
#define LWIP_CHECKSUM_CTRL_PER_NETIF    1
#define CHECKSUM_GEN_IP                 1
#define CHECKSUM_GEN_UDP                1
#define CHECKSUM_GEN_TCP                1
#define CHECKSUM_GEN_ICMP               1
#define CHECKSUM_CHECK_IP               1
#define CHECKSUM_CHECK_UDP              1
#define CHECKSUM_CHECK_TCP              1
#define CHECKSUM_CHECK_ICMP             1
#define LWIP_CHECKSUM_ON_COPY           0   /* the device sums TCP: a plain copy is cheaper */

/* ---- netif ---- */
#define LWIP_NETIF_STATUS_CALLBACK      1
#define LWIP_NETIF_LINK_CALLBACK        1
#define LWIP_NETIF_HOSTNAME             1
#define LWIP_NETIF_TX_SINGLE_PBUF       0   /* netfront sends chains as several slots */

/* ---- the socket API (used once LWIP_SOCKET is 1) ----
 * Debian's `port` patch makes api/sockets.c write and read sockaddr lengths through these
 * three macros, which only its own (Linux) port defines; these are upstream 2.1.3's code,
 * for lwIP's own <lwip/sockets.h>, whose sockaddrs have sin_len and sa_len. */
#define IP4ADDR_SOCKADDR_SET_LEN(sin)   ((sin)->sin_len = sizeof(struct sockaddr_in))
#define IP6ADDR_SOCKADDR_SET_LEN(sin6)  ((sin6)->sin6_len = sizeof(struct sockaddr_in6))
#define IPADDR_SOCKADDR_GET_LEN(addr)   ((socklen_t)(addr)->sa.sa_len)

/* ---- routing ----
 * A packet from one of the guest's addresses leaves by the interface that has it
 * (net/stack.cc), so that replies go back the way the request came. */
struct netif;
struct ip4_addr;
#ifdef __cplusplus
extern "C"
#endif
struct netif* skiff_lwip_route_src(const struct ip4_addr* src, const struct ip4_addr* dest);
#define LWIP_HOOK_IP4_ROUTE_SRC(src, dest) skiff_lwip_route_src(src, dest)

/* ---- diagnostics: the protocols' counters, for skiff::net::GetStackStats() ---- */
#define LWIP_STATS                      1
#define LWIP_STATS_DISPLAY              0
#define LINK_STATS                      1
#define ETHARP_STATS                    1
#define IP_STATS                        1
#define IPFRAG_STATS                    1
#define ICMP_STATS                      1
#define UDP_STATS                       1
#define TCP_STATS                       1
#define MEM_STATS                       0
#define MEMP_STATS                      0
#define SYS_STATS                       0
/* LWIP_DEBUG stays undefined: lwIP tests it with #ifdef, so even `#define LWIP_DEBUG 0` would
 * compile every LWIP_DEBUGF in (the toolchain recipe's lwipopts.h does that). */

#endif /* SKIFF_LWIPOPTS_H */
