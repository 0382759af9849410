// echo: TCP and UDP echo servers (RFC 862) on the coroutine network API, one coroutine per
// connection, so any number of clients at once. Port 7 by default (echo [PORT]); one port up
// (8 by default), a TCP connection gets the interfaces' and the stack's counters as text.
#include <stdio.h>
#include <stdlib.h>

#include <string>

#include "skiff/coro.h"
#include "skiff/net.h"

namespace net = skiff::net;

namespace {

uint64_t connections;

skiff::Co<> Echo(net::TcpStream stream) {
  stream.SetNoDelay(true);
  uint8_t buffer[16384];
  while (true) {
    skiff::Result<size_t> n = co_await stream.ReadAsync(buffer);
    if (!n || *n == 0) break;
    skiff::Result<size_t> written = co_await stream.WriteAsync({buffer, *n});
    if (!written) break;
  }
}

skiff::Co<> ServeTcp(net::TcpListener listener) {
  while (true) {
    skiff::Result<net::TcpStream> stream = co_await listener.AcceptAsync();
    if (!stream) {
      printf("echo: accept: %s\n", stream.error().message.c_str());
      continue;
    }
    connections++;
    skiff::Start(Echo(std::move(*stream)));
  }
}

skiff::Co<> ServeUdp(net::UdpSocket socket) {
  uint8_t buffer[65536];
  while (true) {
    net::Endpoint from;
    skiff::Result<size_t> n = co_await socket.ReceiveFromAsync(buffer, &from);
    if (!n) continue;
    // A datagram larger than the buffer cannot come: 65,507 bytes is UDP's limit.
    (void)socket.SendTo(from, {buffer, *n});
  }
}

std::string Counters() {
  std::string text;
  char line[512];
  for (const net::InterfaceInfo& i : net::ListInterfaces()) {
    snprintf(line, sizeof(line),
             "%s %s link %s rx-packets %llu rx-bytes %llu rx-errors %llu rx-drops %llu "
             "rx-no-memory %llu tx-packets %llu tx-bytes %llu tx-errors %llu tx-drops %llu "
             "tx-ring-full %llu tx-queue-drops %llu connects %llu%s%s\n",
             i.name.c_str(), i.address.ToString().c_str(), i.link_up ? "up" : "down",
             (unsigned long long)i.link.rx_packets, (unsigned long long)i.link.rx_bytes,
             (unsigned long long)i.link.rx_errors, (unsigned long long)i.link.rx_drops,
             (unsigned long long)i.rx_no_memory, (unsigned long long)i.link.tx_packets,
             (unsigned long long)i.link.tx_bytes, (unsigned long long)i.link.tx_errors,
             (unsigned long long)i.link.tx_drops, (unsigned long long)i.link.tx_ring_full,
             (unsigned long long)i.tx_queue_drops, (unsigned long long)i.link.connects,
             i.error.empty() ? "" : " broken: ", i.error.c_str());
    text += line;
  }
  net::StackStats s = net::GetStackStats();
  snprintf(line, sizeof(line),
           "ip received %llu drops %llu checksum-errors %llu length-errors %llu\n"
           "tcp received %llu drops %llu checksum-errors %llu length-errors %llu\n"
           "udp received %llu drops %llu checksum-errors %llu length-errors %llu\n"
           "icmp received %llu drops %llu\narp received %llu drops %llu\n"
           "echo connections %llu\n",
           (unsigned long long)s.ip_received, (unsigned long long)s.ip_drops,
           (unsigned long long)s.ip_checksum_errors, (unsigned long long)s.ip_length_errors,
           (unsigned long long)s.tcp_received, (unsigned long long)s.tcp_drops,
           (unsigned long long)s.tcp_checksum_errors, (unsigned long long)s.tcp_length_errors,
           (unsigned long long)s.udp_received, (unsigned long long)s.udp_drops,
           (unsigned long long)s.udp_checksum_errors, (unsigned long long)s.udp_length_errors,
           (unsigned long long)s.icmp_received, (unsigned long long)s.icmp_drops,
           (unsigned long long)s.arp_received, (unsigned long long)s.arp_drops,
           (unsigned long long)connections);
  text += line;
  return text;
}

skiff::Co<> ServeCounters(net::TcpListener listener) {
  while (true) {
    skiff::Result<net::TcpStream> stream = co_await listener.AcceptAsync();
    if (!stream) continue;
    std::string text = Counters();
    (void)co_await stream->WriteAsync({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  }
}

}  // namespace

int main(int argc, char** argv) {
  long port = argc > 1 ? strtol(argv[1], nullptr, 10) : 7;
  if (argc > 2 || port < 1 || port > 65534) {
    fprintf(stderr, "usage: echo [PORT]   (1 to 65534; counters on PORT+1)\n");
    return 2;
  }
  auto p = static_cast<uint16_t>(port);
  skiff::Result<net::TcpListener> tcp = net::TcpListener::Listen({.port = p});
  skiff::Result<net::UdpSocket> udp = net::UdpSocket::Bind({.port = p});
  skiff::Result<net::TcpListener> counters =
      net::TcpListener::Listen({.port = static_cast<uint16_t>(p + 1)});
  for (const skiff::Error* e : {tcp ? nullptr : &tcp.error(), udp ? nullptr : &udp.error(),
                                counters ? nullptr : &counters.error()}) {
    if (e != nullptr) {
      fprintf(stderr, "echo: %s\n", e->message.c_str());
      return 1;
    }
  }
  std::vector<net::InterfaceInfo> interfaces = net::ListInterfaces();
  printf("echo: serving TCP and UDP on %s port %u (counters on TCP port %u)\n",
         interfaces.empty() ? "no interface" : interfaces[0].address.ToString().c_str(), p,
         p + 1);
  skiff::Start(ServeTcp(std::move(*tcp)));
  skiff::Start(ServeUdp(std::move(*udp)));
  skiff::Start(ServeCounters(std::move(*counters)));
  skiff::Event never;
  never.Wait();
}
