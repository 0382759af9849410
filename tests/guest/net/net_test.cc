// The network under Xen, from the guest's side (tests/system/test_net.py):
//   net_test ECHO DOM0 BYTES
// pings dom0 at DOM0; talks to the echo guest at ECHO over the bridge (TCP: a transfer that
// must come back byte for byte; UDP: datagrams of many sizes, some fragmented); then serves
// dom0 one transfer each way with the SHA-256 of each side printed: TCP port 5001 takes what
// dom0 sends to its end, port 5002 sends BYTES of a pattern. Exits with the failures' count.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "skiff/coro.h"
#include "skiff/net.h"
#include "skiff/sched.h"
#include "tests/guest/blk/sha256.h"
#include "tests/guest/check.h"

namespace net = skiff::net;

namespace {

constexpr uint64_t kSecond = 1'000'000'000;

// A reproducible stream of bytes: xorshift64*, eight bytes at a time.
struct Pattern {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  void Fill(uint8_t* out, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
      state ^= state >> 12;
      state ^= state << 25;
      state ^= state >> 27;
      uint64_t v = state * 0x2545f4914f6cdd1dull;
      memcpy(out + i, &v, n - i < 8 ? n - i : 8);
    }
  }
};

void PingDom0(net::Ipv4 dom0) {
  for (int attempt = 0; attempt < 5; attempt++) {
    skiff::Result<uint64_t> rtt = net::Ping(dom0, skiff::Now() + kSecond);
    if (rtt) {
      printf("ping %s: %llu us\n", dom0.ToString().c_str(), (unsigned long long)(*rtt / 1000));
      Check(true, "dom0 answers the guest's ping");
      return;
    }
    printf("ping %s: %s\n", dom0.ToString().c_str(), rtt.error().message.c_str());
  }
  Check(false, "dom0 answers the guest's ping");
}

// 4 MiB to the echo guest and back, the reader a coroutine beside the writing task.
void TcpToEchoGuest(net::Ipv4 echo) {
  constexpr size_t kBytes = 4 << 20;
  uint64_t deadline = skiff::Now() + 120 * kSecond;   // the echo guest may still be booting
  skiff::Result<net::TcpStream> stream = net::TcpStream::Connect({echo, 7}, deadline);
  while (!stream && skiff::Now() < deadline) {
    skiff::SleepFor(kSecond);
    stream = net::TcpStream::Connect({echo, 7}, deadline);
  }
  if (!stream) {
    printf("connect: %s\n", stream.error().message.c_str());
    Check(false, "a TCP connection to the echo guest");
    return;
  }
  std::vector<uint8_t> sent(kBytes), back(kBytes);
  Pattern().Fill(sent.data(), kBytes);
  size_t got = 0;
  bool read_ok = true;
  skiff::Event done;
  skiff::Start([](net::TcpStream& s, std::vector<uint8_t>& back, size_t& got, bool& ok,
                  skiff::Event& done) -> skiff::Co<> {
    while (got < back.size()) {
      skiff::Result<size_t> n = co_await s.ReadAsync(
          std::span(back).subspan(got), skiff::Now() + 60 * kSecond);
      if (!n || *n == 0) {
        printf("read back: %s\n", n ? "the echo guest closed" : n.error().message.c_str());
        ok = false;
        break;
      }
      got += *n;
    }
    done.Signal();
  }(*stream, back, got, read_ok, done));
  skiff::Result<size_t> written = stream->Write(sent, skiff::Now() + 60 * kSecond);
  if (!written) printf("write: %s\n", written.error().message.c_str());
  done.Wait();
  Check(written && *written == kBytes && read_ok && got == kBytes && back == sent,
        "4 MiB through the echo guest come back byte for byte");
}

// Datagrams of 1 to 8,000 bytes (over the MTU: fragmented and put together again).
void UdpToEchoGuest(net::Ipv4 echo) {
  skiff::Result<net::UdpSocket> socket = net::UdpSocket::Bind();
  if (!Check(socket.ok(), "a UDP socket")) return;
  int answered = 0;
  const int sizes[] = {1, 64, 512, 1472, 1473, 3000, 8000};
  std::vector<uint8_t> out(8000), in(9000);
  for (int round = 0; round < 10; round++) {
    for (int size : sizes) {
      Pattern p;
      p.state += static_cast<uint64_t>(round * 100 + size);
      p.Fill(out.data(), static_cast<size_t>(size));
      for (int attempt = 0; attempt < 3; attempt++) {   // UDP may lose one
        if (!socket->SendTo({echo, 7}, std::span(out).first(static_cast<size_t>(size)))) break;
        net::Endpoint from;
        skiff::Result<size_t> n = socket->ReceiveFrom(in, &from, skiff::Now() + kSecond);
        if (n && *n == static_cast<size_t>(size) && from == net::Endpoint{echo, 7} &&
            memcmp(in.data(), out.data(), *n) == 0) {
          answered++;
          break;
        }
      }
    }
  }
  printf("udp: %d of %zu datagrams echoed\n", answered, std::size(sizes) * 10);
  Check(answered == static_cast<int>(std::size(sizes)) * 10,
        "UDP datagrams of 1 to 8000 bytes through the echo guest");
}

void Sink(net::TcpListener& listener) {
  skiff::Result<net::TcpStream> stream = listener.Accept();
  if (!Check(stream.ok(), "dom0 connects to send")) return;
  Sha256 sha;
  std::vector<uint8_t> buffer(64 << 10);
  uint64_t bytes = 0;
  while (true) {
    skiff::Result<size_t> n = stream->Read(buffer);
    if (!n) {
      printf("sink: %s\n", n.error().message.c_str());
      Check(false, "the transfer from dom0 ends cleanly");
      return;
    }
    if (*n == 0) break;
    sha.Update(buffer.data(), *n);
    bytes += *n;
  }
  char hex[65];
  sha.Finish(hex);
  printf("sink: %llu bytes sha256 %s\n", (unsigned long long)bytes, hex);
}

void Source(net::TcpListener& listener, uint64_t total) {
  skiff::Result<net::TcpStream> stream = listener.Accept();
  if (!Check(stream.ok(), "dom0 connects to receive")) return;
  Sha256 sha;
  Pattern pattern;
  std::vector<uint8_t> buffer(64 << 10);
  for (uint64_t sent = 0; sent < total;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), total - sent));
    pattern.Fill(buffer.data(), n);
    sha.Update(buffer.data(), n);
    skiff::Result<size_t> written = stream->Write(std::span(buffer).first(n));
    if (!written) {
      printf("source: %s\n", written.error().message.c_str());
      Check(false, "the transfer to dom0 ends cleanly");
      return;
    }
    sent += n;
  }
  char hex[65];
  sha.Finish(hex);
  printf("source: %llu bytes sha256 %s\n", (unsigned long long)total, hex);
  // The guest ends with main, so it waits until dom0 has everything: dom0 closes its side
  // once it has read the end of the stream.
  Check(stream->ShutdownWrite().ok(), "the end of the stream goes to dom0");
  uint8_t byte;
  skiff::Result<size_t> end = stream->Read({&byte, 1}, skiff::Now() + 600 * kSecond);
  Check(end && *end == 0, "dom0 read it all and closed");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: net_test ECHO DOM0 BYTES\n");
    return 2;
  }
  skiff::Result<net::Ipv4> echo = net::Ipv4::Parse(argv[1]);
  skiff::Result<net::Ipv4> dom0 = net::Ipv4::Parse(argv[2]);
  uint64_t bytes = strtoull(argv[3], nullptr, 0);
  if (!echo || !dom0 || bytes == 0) {
    fprintf(stderr, "net_test: bad arguments\n");
    return 2;
  }
  skiff::Result<net::InterfaceInfo> eth0 = net::WaitForAddress("", skiff::Now() + 10 * kSecond);
  if (!eth0) return Fail(eth0.error().message.c_str());
  skiff::Result<net::TcpListener> sink = net::TcpListener::Listen({.port = 5001});
  skiff::Result<net::TcpListener> source = net::TcpListener::Listen({.port = 5002});
  if (!sink || !source) return Fail("listen on 5001 and 5002");
  PingDom0(*dom0);
  TcpToEchoGuest(*echo);
  UdpToEchoGuest(*echo);
  printf("net_test: ready for dom0\n");
  skiff::Result<skiff::Task*> sinking = skiff::Spawn([&] { Sink(*sink); });
  if (!sinking) return Fail("spawn");
  Source(*source, bytes);
  skiff::Join(*sinking);
  return failures;
}
