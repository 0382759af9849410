#include "runtime/xen/shared_info.h"

#include "runtime/arch/x86/cpu.h"
#include "runtime/xen/hypercall.h"
#include "runtime/xen/pvclock.h"
#include "runtime/xen/xen_error.h"

namespace skiff::xen {
namespace {

// Xen replaces this frame with the shared_info page.
alignas(4096) uint8_t shared_info_page[4096];

}  // namespace

Result<void> MapSharedInfo() {
  xen_add_to_physmap_t add = {};
  add.domid = DOMID_SELF;
  add.space = XENMAPSPACE_shared_info;
  add.idx = 0;
  add.gpfn = reinterpret_cast<uint64_t>(shared_info_page) >> 12;
  if (long rc = MemoryOp(XENMEM_add_to_physmap, &add); rc != 0) {
    return XenError(rc, "mapping shared_info failed");
  }
  return {};
}

shared_info* SharedInfo() { return reinterpret_cast<shared_info*>(shared_info_page); }

namespace {

// A consistent copy of vCPU 0's time record, with a TSC reading that belongs to it. Xen bumps
// |version| around each update, and updates the record when the vCPU moves to another
// physical CPU, whose TSC may differ: reading the TSC inside the version check pairs it with
// the record of the CPU it was read on.
PvclockRecord ReadTime(uint64_t* tsc) {
  const volatile vcpu_time_info& t = SharedInfo()->vcpu_info[0].time;
  PvclockRecord r;
  uint32_t version;
  do {
    version = t.version;
    x86::Barrier();
    r = {t.tsc_timestamp, t.system_time, t.tsc_to_system_mul, t.tsc_shift};
    if (tsc) *tsc = x86::ReadTscOrdered();
    x86::Barrier();
  } while ((version & 1) || version != t.version);
  return r;
}

}  // namespace

uint64_t TscToNanoseconds(uint64_t ticks) { return PvclockScale(ticks, ReadTime(nullptr)); }

// The records of different physical CPUs can disagree slightly: never let the clock run
// backwards.
uint64_t SystemTimeNanoseconds() {
  static uint64_t last;
  uint64_t tsc;
  PvclockRecord r = ReadTime(&tsc);
  uint64_t now = PvclockTime(r, tsc);
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
