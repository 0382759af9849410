// What lwIP (NO_SYS=1) asks of the system: the time in milliseconds and random numbers.
#include <stdint.h>

#include "lwip/arch.h"
#include "lwip/sys.h"
#include "skiff/sched.h"

namespace {

uint64_t boot_ns;

// splitmix64 over the TSC and the clock: unpredictable enough for ports and ids, not for
// secrets. RDRAND, when CPUID offers it, is mixed in.
uint64_t state;

bool HasRdrand() {
  uint32_t a = 1, b, c = 0, d;
  __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
  return (c >> 30) & 1;
}

uint64_t Rdtsc() {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t{hi} << 32) | lo;
}

}  // namespace

extern "C" u32_t sys_now(void) {
  // Milliseconds from the first call, so the 32-bit count wraps after 49 days of the guest's
  // own uptime rather than of Xen's.
  uint64_t now = skiff::Now();
  if (boot_ns == 0) boot_ns = now;
  return static_cast<u32_t>((now - boot_ns) / 1'000'000);
}

extern "C" unsigned int skiff_lwip_rand(void) {
  static int rdrand = -1;
  if (rdrand < 0) rdrand = HasRdrand();
  uint64_t extra = Rdtsc() ^ skiff::Now();
  if (rdrand) {
    uint64_t r;
    unsigned char ok;
    __asm__ volatile("rdrand %0; setc %1" : "=r"(r), "=qm"(ok));
    if (ok) extra ^= r;
  }
  state += 0x9e3779b97f4a7c15ull ^ extra;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<unsigned int>(z ^ (z >> 31));
}
