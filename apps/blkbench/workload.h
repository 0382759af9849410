// What apps/blkbench and its Linux peer (tests/peer/blkbench_linux.cc) share: the figures,
// the offsets each request goes to, the statistics and the report lines, so that
// scripts/bench reads both alike. Each side supplies a Device that runs a batch of requests
// with its own primitives (Skiff: BlockRequests in flight from one task; Linux: O_DIRECT
// pread/pwrite from one thread per request in flight).
//
// One line per figure:
//   "NAME: N IOPS, N.N MiB/s, median N ns, p99 N ns (N requests, N.NN s)"
// where NAME is "seqread 1m qd1", "randwrite 4k qd32", "flush qd1", ...; latency is from a
// request's start to its completion as the program sees it. Then "blkbench: done".
#ifndef SKIFF_APPS_BLKBENCH_WORKLOAD_H_
#define SKIFF_APPS_BLKBENCH_WORKLOAD_H_

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <functional>
#include <vector>

namespace blkbench {

enum class Op { kRead, kWrite, kFlush, kWriteFlush };   // kWriteFlush: a write, then a flush

inline constexpr uint64_t kMiB = 1 << 20;

// The offset of request |i|: sequential from 0, or a whole 4 KiB block anywhere on the disk
// (a fixed hash of i, so that both sides, and every thread of a side, agree).
using Offsets = std::function<uint64_t(uint64_t i)>;

class Device {
 public:
  virtual ~Device() = default;
  virtual uint64_t Size() = 0;   // bytes
  virtual uint64_t Now() = 0;    // nanoseconds
  // Runs requests 0, 1, 2, ... of |op| with |size| bytes at |offset(i)|, at most |depth| in
  // flight, until |count| have started or |deadline| (Now()) has passed, and waits for all of
  // them. Appends each request's latency to |latencies|. False, with a message printed, on an
  // error.
  virtual bool Run(const char* name, Op op, size_t size, int depth, uint64_t count,
                   uint64_t deadline, const Offsets& offset,
                   std::vector<uint64_t>& latencies) = 0;
  // One request at once, |size| bytes at |offset| from or to |data| (anywhere in memory).
  virtual bool Transfer(Op op, uint64_t offset, void* data, size_t size) = 0;
  // Prints what the side wants to say about itself after figure |name| (Skiff: blkfront's
  // grants and pages, at rest and the most seen under load).
  virtual void Note(const char* name) { (void)name; }
  // Fills |data| with what a write writes: not zeros, and not the same in every block.
  static void Pattern(void* data, size_t size, uint64_t seed) {
    auto* words = static_cast<uint64_t*>(data);
    for (size_t i = 0; i < size / 8; i++) words[i] = Mix(seed * 1000003 + i);
  }
  static uint64_t Mix(uint64_t x) {   // splitmix64's finaliser
    x += 0x9e3779b97f4a7c15;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
    x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
    return x ^ (x >> 31);
  }
};

struct Figure {
  const char* name;
  Op op;
  size_t size;          // bytes per request (0 for a flush alone)
  int depth;            // requests in flight
  bool random;          // 4 KiB-aligned offsets anywhere; else sequential from 0
  uint64_t count;       // at most this many requests
  double seconds;       // and no new one after this long
};

// Each figure is bounded by requests and by time: the sandbox is QEMU TCG and slow.
inline const Figure kFigures[] = {
    {"seqwrite 1m qd1", Op::kWrite, kMiB, 1, false, 256, 3.0},
    {"seqread 1m qd1", Op::kRead, kMiB, 1, false, 256, 3.0},
    {"seqwrite 1m qd4", Op::kWrite, kMiB, 4, false, 256, 3.0},
    {"seqread 1m qd4", Op::kRead, kMiB, 4, false, 256, 3.0},
    {"randread 4k qd1", Op::kRead, 4096, 1, true, 20000, 2.5},
    {"randread 4k qd8", Op::kRead, 4096, 8, true, 20000, 2.5},
    {"randread 4k qd32", Op::kRead, 4096, 32, true, 20000, 2.5},
    {"randwrite 4k qd1", Op::kWrite, 4096, 1, true, 20000, 2.5},
    {"randwrite 4k qd8", Op::kWrite, 4096, 8, true, 20000, 2.5},
    {"randwrite 4k qd32", Op::kWrite, 4096, 32, true, 20000, 2.5},
    {"flush qd1", Op::kFlush, 0, 1, false, 1000, 2.0},
    {"write+flush 4k qd1", Op::kWriteFlush, 4096, 1, true, 1000, 2.0},
};

inline void Report(const char* name, std::vector<uint64_t>& latencies, size_t size,
                   uint64_t elapsed) {
  std::sort(latencies.begin(), latencies.end());
  size_t n = latencies.size();
  double seconds = elapsed / 1e9;
  printf("%s: %.0f IOPS, %.1f MiB/s, median %lu ns, p99 %lu ns (%zu requests, %.2f s)\n",
         name, n / seconds, double(n) * size / kMiB / seconds, latencies[n / 2],
         latencies[std::min(n - 1, n * 99 / 100)], n, seconds);
}

// Runs every figure on |device|; false if one failed (it printed why).
inline bool RunAll(Device& device) {
  uint64_t disk = device.Size();
  uint64_t blocks = disk / 4096;
  if (blocks < 256) {
    printf("blkbench: the disk has %lu bytes; it needs at least 1 MiB\n", disk);
    return false;
  }
  bool ok = true;
  for (const Figure& figure : kFigures) {
    Offsets offset;
    if (figure.random) {
      offset = [blocks](uint64_t i) { return Device::Mix(i) % blocks * 4096; };
    } else {
      uint64_t span = figure.size ? disk / figure.size * figure.size : disk;
      offset = [span, size = figure.size](uint64_t i) { return span ? i * size % span : 0; };
    }
    std::vector<uint64_t> latencies;
    latencies.reserve(figure.count);
    uint64_t start = device.Now();
    uint64_t deadline = start + uint64_t(figure.seconds * 1e9);
    if (!device.Run(figure.name, figure.op, figure.size, figure.depth, figure.count, deadline,
                    offset, latencies)) {
      ok = false;
      continue;
    }
    uint64_t elapsed = device.Now() - start;
    if (latencies.empty()) {
      printf("%s: no request finished\n", figure.name);
      ok = false;
      continue;
    }
    Report(figure.name, latencies, figure.size, elapsed);
    device.Note(figure.name);
  }
  return ok;
}

// Writes 64 KiB of a pattern with one request in the middle of the disk and reads it back
// as 16 requests of 4 KiB: "verify: ok", or where it differs.
inline bool Verify(Device& device) {
  constexpr size_t kSize = 64 * 1024;
  static uint64_t wrote[kSize / 8], read[kSize / 8];
  uint64_t offset = device.Size() / 2 / 4096 * 4096;
  Device::Pattern(wrote, kSize, 77);
  if (!device.Transfer(Op::kWrite, offset, wrote, kSize)) return false;
  for (size_t at = 0; at < kSize; at += 4096) {
    if (!device.Transfer(Op::kRead, offset + at, reinterpret_cast<char*>(read) + at, 4096)) {
      return false;
    }
  }
  for (size_t i = 0; i < kSize / 8; i++) {
    if (read[i] != wrote[i]) {
      printf("verify: the 64 KiB written at %lu read back different at byte %zu\n", offset,
             i * 8);
      return false;
    }
  }
  printf("verify: ok (64 KiB written, read back as 4 KiB reads)\n");
  return true;
}

}  // namespace blkbench

#endif  // SKIFF_APPS_BLKBENCH_WORKLOAD_H_
