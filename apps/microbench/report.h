// What apps/microbench and its Linux peer (tests/peer/microbench_linux.cc) share, so that
// scripts/bench reads both alike: the sample vectors, the clock-read figure, and the report
// line "NAME: median N ns, p99 N ns (N samples)".
#ifndef SKIFF_APPS_MICROBENCH_REPORT_H_
#define SKIFF_APPS_MICROBENCH_REPORT_H_

#include <stdint.h>
#include <stdio.h>

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

}  // namespace microbench

#endif  // SKIFF_APPS_MICROBENCH_REPORT_H_
