// pvclock arithmetic: system time from a vcpu_time_info record and a TSC reading. Portable,
// so the host tests check it. [xen/xen.h struct vcpu_time_info]
#ifndef SKIFF_RUNTIME_XEN_PVCLOCK_H_
#define SKIFF_RUNTIME_XEN_PVCLOCK_H_

#include <stdint.h>

namespace skiff::xen {

// The fields of one vcpu_time_info record that the time depends on.
struct PvclockRecord {
  uint64_t tsc_timestamp;  // the TSC when Xen stamped the record
  uint64_t system_time;    // Xen's system time (ns since Xen started) at |tsc_timestamp|
  uint32_t mul;            // tsc_to_system_mul
  int8_t shift;            // tsc_shift
};

// A TSC interval in nanoseconds: (ticks << shift) * mul / 2^32.
inline uint64_t PvclockScale(uint64_t ticks, const PvclockRecord& r) {
  ticks = r.shift >= 0 ? ticks << r.shift : ticks >> -r.shift;
  return static_cast<uint64_t>((static_cast<unsigned __int128>(ticks) * r.mul) >> 32);
}

// System time at TSC |tsc|. TSC values are compared modulo 2^64: a guest's TSC can start
// near zero after Xen stamped the record, so the stamp may look like a huge number. A TSC
// slightly behind the stamp (the vCPU moved to a physical CPU whose TSC lags) gives a time
// slightly before |system_time|, not a difference that wraps to centuries ahead.
inline uint64_t PvclockTime(const PvclockRecord& r, uint64_t tsc) {
  int64_t ticks = static_cast<int64_t>(tsc - r.tsc_timestamp);
  if (ticks >= 0) return r.system_time + PvclockScale(static_cast<uint64_t>(ticks), r);
  uint64_t behind = PvclockScale(0 - static_cast<uint64_t>(ticks), r);
  return behind < r.system_time ? r.system_time - behind : 0;
}

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_PVCLOCK_H_
