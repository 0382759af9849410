// The Linux peer's half of `scripts/bench net`: what apps/netbench serves, with Linux's own
// network stack, for dom0 to measure. Run as the peer's /init program:
//
//   netbench_linux ADDRESS/PREFIX IPERF3
//
//   ADDRESS/PREFIX  eth0's address, e.g. 169.254.77.3/24 (the peer's /init has loaded
//                   xen-netfront.ko; eth0 appears once netfront has probed the vif)
//   IPERF3          the iperf3 program, run as `IPERF3 -s -p 5201` (Debian's own, with its
//                   shared objects, carried by the initramfs)
//
// Once eth0 is up, iperf3 listens on TCP 5201 and this program echoes UDP datagrams on port 7
// (RFC 862), it prints "netbench: ready ...", which dom0 waits for. It echoes until a line
// arrives on stdin (dom0 types one on the console when it has measured), then stops iperf3,
// prints what it echoed and eth0's counters, and exits 0.
//
// Built statically by scripts/bench with the host's g++ (g++ -O2 -static -pthread -I REPO)
// into build/peer/netbench_linux/, and packed into the peer's initramfs by
// scripts/lib/sandbox/peer.py.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr const char* kInterface = "eth0";
constexpr int kIperfPort = 5201;
constexpr int kEchoPort = 7;

bool SetAddress(int fd, unsigned long request, in_addr_t address) {
  ifreq ifr = {};
  strncpy(ifr.ifr_name, kInterface, IFNAMSIZ - 1);
  sockaddr_in* sin = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = address;
  return ioctl(fd, request, &ifr) == 0;
}

bool Up(int fd, const char* name) {
  ifreq ifr = {};
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) return false;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  return ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
}

// eth0 up with ADDRESS/PREFIX, and lo up; waits up to 20 s for netfront to create eth0.
bool Configure(const char* spec) {
  char address[32];
  int prefix = 0;
  if (sscanf(spec, "%31[0-9.]/%d", address, &prefix) != 2 || prefix < 1 || prefix > 32) {
    fprintf(stderr, "netbench: '%s' is not ADDRESS/PREFIX\n", spec);
    return false;
  }
  in_addr ip;
  if (inet_pton(AF_INET, address, &ip) != 1) {
    fprintf(stderr, "netbench: '%s' is not an IPv4 address\n", address);
    return false;
  }
  int tries = 0;
  struct stat st;
  while (stat("/sys/class/net/eth0", &st) != 0) {
    if (++tries == 200) {
      fprintf(stderr, "netbench: no eth0 after 20 s (is xen-netfront loaded, and a vif given?)\n");
      return false;
    }
    usleep(100000);
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  in_addr_t mask = htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));
  bool ok = fd >= 0 && SetAddress(fd, SIOCSIFADDR, ip.s_addr) &&
            SetAddress(fd, SIOCSIFNETMASK, mask) && Up(fd, kInterface) && Up(fd, "lo");
  if (!ok) fprintf(stderr, "netbench: configuring %s: %s\n", kInterface, strerror(errno));
  if (fd >= 0) close(fd);
  return ok;
}

// True once /proc/net/tcp or tcp6 shows a socket listening (state 0A) on |port|.
bool Listening(int port) {
  char local[16];
  snprintf(local, sizeof(local), ":%04X ", port);
  static const char* const kTables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
  for (const char* path : kTables) {
    FILE* f = fopen(path, "r");
    if (!f) continue;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
      // "  sl  local_address rem_address   st ...": the local address ends with :PORT.
      char* mark = strstr(line, local);
      found = mark && mark < line + 64 && strstr(mark, " 0A ") != nullptr;
    }
    fclose(f);
    if (found) return true;
  }
  return false;
}

pid_t StartIperf(const char* program) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);   // its reports: dom0's client has the figures
    if (null >= 0) dup2(null, STDOUT_FILENO);
    char port[8];
    snprintf(port, sizeof(port), "%d", kIperfPort);
    execl(program, program, "-s", "-p", port, static_cast<char*>(nullptr));
    fprintf(stderr, "netbench: cannot run %s: %s\n", program, strerror(errno));
    _exit(127);
  }
  return pid;
}

unsigned long long Counter(const char* name) {
  char path[96];
  snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", kInterface, name);
  FILE* f = fopen(path, "r");
  unsigned long long value = 0;
  if (f) {
    if (fscanf(f, "%llu", &value) != 1) value = 0;
    fclose(f);
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc != 3) {
    fprintf(stderr, "usage: netbench_linux ADDRESS/PREFIX IPERF3\n");
    return 2;
  }
  if (!Configure(argv[1])) return 1;
  pid_t iperf = StartIperf(argv[2]);
  if (iperf < 0) {
    perror("netbench: fork");
    return 1;
  }
  for (int tries = 0; !Listening(kIperfPort); tries++) {
    int status;
    if (tries == 300 || waitpid(iperf, &status, WNOHANG) == iperf) {
      fprintf(stderr, "netbench: iperf3 is not listening on %d\n", kIperfPort);
      return 1;
    }
    usleep(100000);
  }

  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in any = {};
  any.sin_family = AF_INET;
  any.sin_port = htons(kEchoPort);
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  if (udp < 0 || bind(udp, reinterpret_cast<sockaddr*>(&any), sizeof(any)) != 0) {
    perror("netbench: udp socket on port 7");
    return 1;
  }
  printf("netbench: ready: %s %s, iperf3 -s on tcp %d, udp echo on %d\n", kInterface, argv[1],
         kIperfPort, kEchoPort);

  static char buffer[65536];
  unsigned long long echoed = 0, failed = 0;
  pollfd fds[2] = {{udp, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      perror("netbench: poll");
      return 1;
    }
    if (fds[0].revents & POLLIN) {
      sockaddr_in from;
      socklen_t length = sizeof(from);
      ssize_t n = recvfrom(udp, buffer, sizeof(buffer), 0, reinterpret_cast<sockaddr*>(&from),
                           &length);
      if (n >= 0 && sendto(udp, buffer, size_t(n), 0, reinterpret_cast<sockaddr*>(&from),
                           length) == n) {
        echoed++;
      } else {
        failed++;
      }
    }
    if (fds[1].revents) break;   // a line typed by dom0 (or the console gone): the end
  }
  kill(iperf, SIGTERM);
  waitpid(iperf, nullptr, 0);
  printf("netbench: udp echo: %llu datagrams echoed, %llu failed\n", echoed, failed);
  printf("netbench: %s: %llu packets (%llu bytes) received, %llu (%llu bytes) sent, "
         "%llu receive errors, %llu dropped\n", kInterface, Counter("rx_packets"),
         Counter("rx_bytes"), Counter("tx_packets"), Counter("tx_bytes"), Counter("rx_errors"),
         Counter("rx_dropped"));
  return 0;
}
