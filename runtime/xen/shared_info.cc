#include "runtime/xen/shared_info.h"

#include "runtime/arch/x86/cpu.h"
#include "runtime/xen/hypercall.h"

namespace skiff::xen {
namespace {

// Xen replaces this frame with the shared_info page.
alignas(4096) uint8_t shared_info_page[4096];

}  // namespace

bool MapSharedInfo() {
  xen_add_to_physmap_t add = {};
  add.domid = DOMID_SELF;
  add.space = XENMAPSPACE_shared_info;
  add.idx = 0;
  add.gpfn = reinterpret_cast<uint64_t>(shared_info_page) >> 12;
  return MemoryOp(XENMEM_add_to_physmap, &add) == 0;
}

shared_info* SharedInfo() { return reinterpret_cast<shared_info*>(shared_info_page); }

namespace {

struct TimeSnapshot {
  uint64_t tsc_timestamp, system_time;
  uint32_t mul;
  int8_t shift;
};

// A consistent copy of vCPU 0's time info: Xen bumps |version| around each update.
TimeSnapshot ReadTime() {
  const volatile vcpu_time_info& t = SharedInfo()->vcpu_info[0].time;
  TimeSnapshot s;
  uint32_t version;
  do {
    version = t.version;
    x86::Barrier();
    s = {t.tsc_timestamp, t.system_time, t.tsc_to_system_mul, t.tsc_shift};
    x86::Barrier();
  } while ((version & 1) || version != t.version);
  return s;
}

uint64_t Scale(uint64_t ticks, const TimeSnapshot& s) {
  ticks = s.shift >= 0 ? ticks << s.shift : ticks >> -s.shift;
  return static_cast<uint64_t>((static_cast<unsigned __int128>(ticks) * s.mul) >> 32);
}

}  // namespace

uint64_t TscToNanoseconds(uint64_t ticks) { return Scale(ticks, ReadTime()); }

// Xen keeps a time record per physical CPU; when the vCPU moves between them, a reading can
// come out a little behind the last one. Never let the clock run backwards.
uint64_t SystemTimeNanoseconds() {
  static uint64_t last;
  TimeSnapshot s = ReadTime();
  uint64_t now = s.system_time + Scale(x86::ReadTsc() - s.tsc_timestamp, s);
  if (now < last) return last;
  last = now;
  return now;
}

uint64_t WallClockNanoseconds() {
  const volatile shared_info* info = SharedInfo();
  uint32_t version;
  uint64_t sec, nsec;
  do {
    version = info->wc_version;
    x86::Barrier();
    sec = info->wc_sec | (static_cast<uint64_t>(info->wc_sec_hi) << 32);
    nsec = info->wc_nsec;
    x86::Barrier();
  } while ((version & 1) || version != info->wc_version);
  return sec * 1000000000ull + nsec + SystemTimeNanoseconds();
}

}  // namespace skiff::xen
