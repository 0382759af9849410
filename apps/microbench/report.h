// What apps/microbench and its Linux peer (tests/peer/microbench_linux.cc) share, so that
// scripts/bench reads both alike: the sample vectors, the clock-read figure, and the report
// line "NAME: median N ns, p99 N ns (N samples)".
#ifndef SKIFF_APPS_MICROBENCH_REPORT_H_
#define SKIFF_APPS_MICROBENCH_REPORT_H_

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace microbench {

// Multiplies every figure's sample count: the programs' SCALE argument, 1 to 100.
inline int scale = 1;

// An empty vector with room for |count| * scale samples; a figure fills it to capacity.
inline std::vector<uint64_t> Samples(int count) {
  std::vector<uint64_t> samples;
  samples.reserve(count * scale);
  return samples;
}

inline void Report(const char* name, std::vector<uint64_t>& samples) {
  std::sort(samples.begin(), samples.end());
  size_t n = samples.size();
  printf("%s: median %lu ns, p99 %lu ns (%zu samples)\n", name, samples[n / 2],
         samples[std::min(n - 1, n * 99 / 100)], n);
}

// Two back-to-back reads of |now| (nanoseconds): every other figure's samples hold one.
template <typename Clock>
void ClockRead(Clock now) {
  auto samples = Samples(10000);
  for (size_t i = 0; i < samples.capacity(); i++) {
    uint64_t start = now();
    samples.push_back(now() - start);
  }
  Report("clock read", samples);
}

// The file calls ported code makes most, on /tmp (Skiff's in-memory filesystem; in the
// Linux peer, the initramfs's tmpfs-like rootfs): the same code in both.
template <typename Clock>
void FileCalls(Clock now) {
  mkdir("/tmp", 01777);
  const char* path = "/tmp/microbench";
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  static char page[4096];
  for (int i = 0; i < 256; i++) pwrite(fd, page, sizeof(page), i * 4096);   // 1 MiB
  auto figure = [&](const char* name, int count, auto call) {
    auto samples = Samples(count);
    for (size_t i = 0; i < samples.capacity(); i++) {
      uint64_t start = now();
      call(i);
      samples.push_back(now() - start);
    }
    Report(name, samples);
  };
  figure("file open+close", 10000, [&](size_t) { close(open(path, O_RDONLY)); });
  figure("file stat", 10000, [&](size_t) {
    struct stat st;
    stat(path, &st);
  });
  figure("file pwrite 4 KiB", 10000,
         [&](size_t i) { pwrite(fd, page, sizeof(page), static_cast<off_t>(i % 256) * 4096); });
  figure("file pread 4 KiB", 10000,
         [&](size_t i) { pread(fd, page, sizeof(page), static_cast<off_t>(i % 256) * 4096); });
  int fds[2];
  pipe(fds);
  figure("pipe write+read 64 B", 10000, [&](size_t) {
    write(fds[1], page, 64);
    read(fds[0], page, 64);
  });
  close(fds[0]);
  close(fds[1]);
  close(fd);
  unlink(path);
}

}  // namespace microbench

#endif  // SKIFF_APPS_MICROBENCH_REPORT_H_
