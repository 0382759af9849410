// The network: interfaces, TCP and UDP, for tasks and coroutines. See docs/net.md.
//
//   auto listener = TRY(skiff::net::TcpListener::Listen({.port = 7}));
//   skiff::net::TcpStream conn = TRY(listener.Accept());          // parks the task
//   size_t n = TRY(conn.Read(buffer));                               // 0: the peer closed
//   TRY(conn.Write(std::span(buffer, n)));
//
// Each blocking call has a coroutine twin (`co_await conn.ReadAsync(buffer)`) and takes a
// deadline (skiff::Now() nanoseconds; ETIMEDOUT when it passes). Errors are errno codes with a
// message: ECONNREFUSED, ECONNRESET, ETIMEDOUT, EADDRINUSE, ENETUNREACH, ENOTCONN...
//
// The stack is lwIP 2.1 on the event loop: received frames go up the stack straight from the
// device's event, and the calls here run lwIP directly, so no call needs a task switch of its
// own. An app that uses the network links skiff_net (docs/net.md).
#ifndef SKIFF_NET_H_
#define SKIFF_NET_H_

#include <stddef.h>
#include <stdint.h>

#include <array>
#include <compare>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "skiff/coro.h"
#include "skiff/result.h"
#include "skiff/sched.h"

namespace skiff::net {

// An IPv4 address.
class Ipv4 {
 public:
  constexpr Ipv4() = default;
  constexpr Ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
      : host_((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d) {}
  static constexpr Ipv4 FromHostOrder(uint32_t value) {
    Ipv4 ip;
    ip.host_ = value;
    return ip;
  }
  // Dotted quad ("169.254.77.2"); EINVAL naming the text otherwise.
  static Result<Ipv4> Parse(std::string_view text);

  constexpr uint32_t host_order() const { return host_; }
  constexpr bool any() const { return host_ == 0; }
  std::string ToString() const;
  constexpr auto operator<=>(const Ipv4&) const = default;

 private:
  uint32_t host_ = 0;
};

// An address and a port. A zero address is any (when binding); port 0 picks one.
struct Endpoint {
  Ipv4 address;
  uint16_t port = 0;
  // "169.254.77.1:7"; Parse takes the same (EINVAL otherwise).
  std::string ToString() const;
  static Result<Endpoint> Parse(std::string_view text);
  constexpr auto operator<=>(const Endpoint&) const = default;
};

// A device's counters since boot, across reconnections.
struct LinkStats {
  uint64_t rx_packets = 0, rx_bytes = 0;
  uint64_t rx_errors = 0;       // frames the device failed
  uint64_t rx_drops = 0;        // frames nobody took
  uint64_t tx_packets = 0, tx_bytes = 0;
  uint64_t tx_errors = 0;       // frames the device failed or dropped
  uint64_t tx_drops = 0;        // frames lost when the device went away
  uint64_t tx_ring_full = 0;    // times a frame had to wait for room on the device
  uint64_t connects = 0;        // times the device (re)connected
};

struct InterfaceInfo {
  std::string name;            // eth0, eth1...: in the order the devices were found
  std::array<uint8_t, 6> mac = {};
  Ipv4 address, netmask, gateway;
  bool link_up = false;        // the device is connected
  bool dhcp = false;           // the address comes (or is to come) from DHCP
  std::string error;           // why the device is broken, if it is
  LinkStats link;
  uint64_t rx_no_memory = 0;   // received frames dropped for want of a buffer
  uint64_t tx_queued = 0;      // frames that waited in the queue for room on the device
  uint64_t tx_queue_drops = 0; // frames refused because that queue was full
};

// The stack's own counters (all interfaces): what it dropped and why.
struct StackStats {
  uint64_t ip_received = 0, ip_drops = 0, ip_checksum_errors = 0, ip_length_errors = 0;
  uint64_t tcp_received = 0, tcp_drops = 0, tcp_checksum_errors = 0, tcp_length_errors = 0;
  uint64_t udp_received = 0, udp_drops = 0, udp_checksum_errors = 0, udp_length_errors = 0;
  uint64_t icmp_received = 0, icmp_drops = 0;
  uint64_t arp_received = 0, arp_drops = 0;
};

std::vector<InterfaceInfo> ListInterfaces();
StackStats GetStackStats();

// Sets a static address (ends DHCP on that interface). ENODEV naming the interfaces there are
// for an unknown name; EINVAL for a netmask that is not a prefix.
Result<void> Configure(std::string_view interface, Ipv4 address, Ipv4 netmask,
                       Ipv4 gateway = {});
// Asks DHCP for an address; WaitForAddress tells when it has one.
Result<void> StartDhcp(std::string_view interface);
// Waits until |interface| ("" for the first) has an address and its link is up.
Result<InterfaceInfo> WaitForAddress(std::string_view interface, uint64_t deadline);

// Sends one ICMP echo request to |target| and waits for its reply: the round trip in
// nanoseconds, or ETIMEDOUT at |deadline|.
Result<uint64_t> Ping(Ipv4 target, uint64_t deadline);

class TcpStream;

// A listening TCP socket.
class TcpListener {
 public:
  // Listens on |local| (address any: every interface) with room for |backlog| connections
  // not yet accepted. EADDRINUSE when the port is taken.
  static Result<TcpListener> Listen(Endpoint local, int backlog = 128);

  TcpListener(TcpListener&& other) noexcept;
  TcpListener& operator=(TcpListener&& other) noexcept;
  ~TcpListener() { Close(); }

  Result<TcpStream> Accept(uint64_t deadline = kNever);
  Co<Result<TcpStream>> AcceptAsync(uint64_t deadline = kNever);
  Endpoint local() const;
  void Close();

  struct State;

 private:
  explicit TcpListener(State* state) : state_(state) {}
  State* state_ = nullptr;
};

// A TCP connection. Closing it (or destroying it) closes the connection gracefully, or resets
// it if data the app never read is left, as Linux does.
class TcpStream {
 public:
  static Result<TcpStream> Connect(Endpoint remote, uint64_t deadline = kNever);
  static Co<Result<TcpStream>> ConnectAsync(Endpoint remote, uint64_t deadline = kNever);

  TcpStream(TcpStream&& other) noexcept;
  TcpStream& operator=(TcpStream&& other) noexcept;
  ~TcpStream() { Close(); }

  // Waits for data, then takes what there is, up to |buffer|'s size; 0 once the peer has
  // closed its side and everything before was read.
  Result<size_t> Read(std::span<uint8_t> buffer, uint64_t deadline = kNever);
  Co<Result<size_t>> ReadAsync(std::span<uint8_t> buffer, uint64_t deadline = kNever);
  // Queues all of |data| to send, waiting while the send buffer is full. Returns the bytes
  // queued: all of them, or fewer only when the deadline passed after some were queued.
  Result<size_t> Write(std::span<const uint8_t> data, uint64_t deadline = kNever);
  Co<Result<size_t>> WriteAsync(std::span<const uint8_t> data, uint64_t deadline = kNever);
  Result<size_t> Write(std::string_view text, uint64_t deadline = kNever) {
    return Write({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, deadline);
  }
  // Sends FIN after what is queued; reading goes on.
  Result<void> ShutdownWrite();
  // Nagle's algorithm off (true) or on (false, the default).
  void SetNoDelay(bool on);
  Endpoint local() const;
  Endpoint peer() const;
  void Close();

  struct State;

 private:
  friend class TcpListener;
  explicit TcpStream(State* state) : state_(state) {}
  State* state_ = nullptr;
};

// A UDP socket.
class UdpSocket {
 public:
  // Binds |local| (port 0: one is picked). EADDRINUSE when the port is taken.
  static Result<UdpSocket> Bind(Endpoint local = {});

  UdpSocket(UdpSocket&& other) noexcept;
  UdpSocket& operator=(UdpSocket&& other) noexcept;
  ~UdpSocket() { Close(); }

  // One datagram of at most 65,507 bytes (EMSGSIZE beyond).
  Result<void> SendTo(Endpoint to, std::span<const uint8_t> data);
  // Waits for a datagram, copies it (truncated to |buffer|) and returns its whole length;
  // |from| gets its sender.
  Result<size_t> ReceiveFrom(std::span<uint8_t> buffer, Endpoint* from,
                             uint64_t deadline = kNever);
  Co<Result<size_t>> ReceiveFromAsync(std::span<uint8_t> buffer, Endpoint* from,
                                      uint64_t deadline = kNever);
  Endpoint local() const;
  // Datagrams dropped because the app did not take them in time (the queue holds 256).
  uint64_t drops() const;
  void Close();

  struct State;

 private:
  explicit UdpSocket(State* state) : state_(state) {}
  State* state_ = nullptr;
};

}  // namespace skiff::net

#endif  // SKIFF_NET_H_
