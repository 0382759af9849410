// netbench: the guest that network benchmarks measure from dom0 with the stock tools.
//
//   TCP port 5201  an iperf3 server (apps/netbench/iperf_server.h) for the Debian iperf3
//                  client's TCP tests: `iperf3 -c ADDR`, with -R, --bidir, -P N, -t, -O, -l;
//   UDP port 7     an echo (RFC 862): each datagram goes back to its sender, for round trips.
//
// Prints "netbench: ready" once both listen, then a line per iperf3 test. The address is the
// runtime's (skiff.ip=, or DHCP). Exits 0 when a line is typed on its console or when
// xenstore's data/stop (under the guest's own path) is written: how a benchmark ends it.
#include <stdio.h>

#include <span>
#include <string_view>

#include "apps/netbench/iperf_protocol.h"
#include "apps/netbench/iperf_server.h"
#include "runtime/xen/xenstore.h"
#include "skiff/coro.h"
#include "skiff/net.h"
#include "skiff/sched.h"

namespace net = skiff::net;

namespace {

constexpr uint16_t kEchoPort = 7;
constexpr uint64_t kAddressWait = 30'000'000'000;
constexpr const char* kStopKey = "data/stop";

skiff::Co<> EchoUdp(net::UdpSocket socket) {
  uint8_t buffer[65536];   // above UDP's largest datagram, 65,507 bytes: never truncated
  while (true) {
    net::Endpoint from;
    skiff::Result<size_t> n = co_await socket.ReceiveFromAsync(buffer, &from);
    if (!n) continue;
    // A reply that finds no memory is a lost datagram, as on any network.
    (void)socket.SendTo(from, std::span<const uint8_t>(buffer, *n));
  }
}

// Sets |*typed| and signals |stop| at the first line typed on the console. A console without
// input (stdin at its end) never stops the guest.
void StopOnConsoleLine(bool* typed, skiff::Event& stop) {
  auto reader = skiff::Spawn([typed, &stop] {
    char line[128];
    if (fgets(line, sizeof(line), stdin) == nullptr) return;
    *typed = true;
    stop.Signal();
  }, {.name = "stop-on-line"});
  if (reader) {
    skiff::Detach(*reader);
  } else {
    printf("netbench: the console reader: %s\n", reader.error().message.c_str());
  }
}

}  // namespace

int main() {
  skiff::Result<net::InterfaceInfo> eth = net::WaitForAddress("", skiff::Now() + kAddressWait);
  if (!eth) {
    printf("netbench: %s\n", eth.error().message.c_str());
    return 1;
  }
  skiff::Result<net::TcpListener> iperf =
      net::TcpListener::Listen({.port = netbench::iperf::kPort});
  if (!iperf) {
    printf("netbench: iperf3: %s\n", iperf.error().message.c_str());
    return 1;
  }
  skiff::Result<net::UdpSocket> echo = net::UdpSocket::Bind({.port = kEchoPort});
  if (!echo) {
    printf("netbench: echo: %s\n", echo.error().message.c_str());
    return 1;
  }
  skiff::Start(netbench::ServeIperf(std::move(*iperf)));
  skiff::Start(EchoUdp(std::move(*echo)));
  printf("netbench: iperf3 on TCP port %u, UDP echo on port %u, at %s\n",
         netbench::iperf::kPort, kEchoPort, eth->address.ToString().c_str());
  skiff::Event stop;
  bool typed = false;
  StopOnConsoleLine(&typed, stop);
  auto store = skiff::xen::Xenstore();
  bool watching = false;
  if (store) {
    auto watch = (*store)->Watch(kStopKey, [&stop](std::string_view) { stop.Signal(); });
    watching = watch.ok();
    if (!watch) printf("netbench: watching %s: %s\n", kStopKey, watch.error().message.c_str());
  } else {
    printf("netbench: xenstore: %s\n", store.error().message.c_str());
  }
  printf("netbench: ready\n");
  while (!typed && !(watching && (*store)->Read(kStopKey).ok())) stop.Wait();
  printf("netbench: told to stop\n");
  return 0;
}
