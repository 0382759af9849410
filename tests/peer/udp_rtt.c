/* UDP round trips against an echo service (RFC 862), for `scripts/bench net`: run in dom0,
 * where neither the toolstack nor Debian's clients time a UDP ping-pong.
 *
 *   udp_rtt ADDRESS PORT COUNT SIZE
 *
 * Sends COUNT datagrams of SIZE bytes (at least 8) to ADDRESS:PORT one at a time, each after
 * the last one's echo came back, and times each round trip with CLOCK_MONOTONIC; ten round
 * trips before them are not counted (the first one waits for ARP). Each datagram carries its
 * sequence number; an echo of another one, or of other bytes, is not an answer. A datagram
 * that has no answer within 500 ms is lost; after 20 lost the run stops. Prints
 *
 *   udp rtt: min N us, median N us, p99 N us, max N us (N of N answered, SIZE-byte datagrams)
 *
 * and exits 0 when every datagram was answered. A round trip through Xen takes far more than
 * 10 us; one timed under that means the clock stood still (in the sandbox's dom0, the clock is
 * kept monotonic across vCPUs whose clocks disagree by up to milliseconds): such round trips
 * are left out of the figures, and the line says how many there were. Plain C and POSIX; scripts/bench builds it
 * static with the host's gcc (into build/peer/udp_rtt/) and hands it to dom0 with the
 * sandbox's --file. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 10
#define TIMEOUT_MS 500
#define MAX_LOST 20
#define IMPLAUSIBLE_NS 10000

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int by_value(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

/* One round trip of datagram |seq|: its time in ns, or 0 when lost. */
static uint64_t round_trip(int fd, unsigned char* out, unsigned char* in, size_t size,
                           uint32_t seq) {
  memcpy(out, &seq, sizeof(seq));
  uint64_t start = now_ns();
  if (send(fd, out, size, 0) != (ssize_t)size) return 0;
  uint64_t deadline = start + TIMEOUT_MS * 1000000ull;
  for (;;) {
    uint64_t t = now_ns();
    if (t >= deadline) return 0;
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, (int)((deadline - t + 999999) / 1000000)) <= 0) continue;
    ssize_t n = recv(fd, in, size + 1, 0);
    uint64_t end = now_ns();
    if (n == (ssize_t)size && memcmp(in, out, size) == 0) return end - start > 0 ? end - start : 1;
  }
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: udp_rtt ADDRESS PORT COUNT SIZE\n");
    return 2;
  }
  struct sockaddr_in to;
  memset(&to, 0, sizeof(to));
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)atoi(argv[2]));
  long count = atol(argv[3]), size = atol(argv[4]);
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || count < 1 || size < 8 || size > 65507) {
    fprintf(stderr, "udp_rtt: bad ADDRESS, COUNT or SIZE (8 to 65507 bytes)\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr*)&to, sizeof(to)) != 0) {
    perror("udp_rtt: socket");
    return 1;
  }
  unsigned char* out = malloc((size_t)size);
  unsigned char* in = malloc((size_t)size + 1);
  uint64_t* times = malloc(sizeof(uint64_t) * (size_t)count);
  if (!out || !in || !times) return 1;
  for (long i = 0; i < size; i++) out[i] = (unsigned char)(i * 7 + 1);

  long answered = 0, lost = 0;
  uint32_t seq = 0;
  for (long i = 0; i < WARMUP + count && lost < MAX_LOST; i++) {
    uint64_t t = round_trip(fd, out, in, (size_t)size, seq++);
    if (t == 0) {
      lost++;
    } else if (i >= WARMUP) {
      times[answered++] = t;
    }
  }
  if (answered == 0) {
    printf("udp rtt: no answer from %s port %s (%ld lost)\n", argv[1], argv[2], lost);
    return 1;
  }
  qsort(times, (size_t)answered, sizeof(uint64_t), by_value);
  long implausible = 0;
  while (implausible < answered && times[implausible] < IMPLAUSIBLE_NS) implausible++;
  uint64_t* kept = times + implausible;
  long n = answered - implausible;
  if (n == 0) {
    printf("udp rtt: every round trip timed under %d us: the clock stood still\n",
           IMPLAUSIBLE_NS / 1000);
    return 1;
  }
  printf("udp rtt: min %.1f us, median %.1f us, p99 %.1f us, max %.1f us "
         "(%ld of %ld answered, %ld-byte datagrams",
         kept[0] / 1e3, kept[n / 2] / 1e3, kept[(n * 99 + 99) / 100 - 1] / 1e3, kept[n - 1] / 1e3,
         answered, count, size);
  if (implausible) printf("; %ld timed under %d us left out: the clock stood still",
                          implausible, IMPLAUSIBLE_NS / 1000);
  printf(")\n");
  return answered == count ? 0 : 1;
}
