// The shared_info page, mapped at a frame of the image with XENMEM_add_to_physmap. [xen/xen.h]
#ifndef SKIFF_RUNTIME_XEN_SHARED_INFO_H_
#define SKIFF_RUNTIME_XEN_SHARED_INFO_H_

#include <stdint.h>

#include "runtime/xen/xen.h"
#include "skiff/result.h"

namespace skiff::xen {

// Maps shared_info.
Result<void> MapSharedInfo();

shared_info* SharedInfo();

// Converts a TSC interval to nanoseconds with vCPU 0's pvclock scale (tsc_to_system_mul,
// tsc_shift). [xen/xen.h struct vcpu_time_info]
uint64_t TscToNanoseconds(uint64_t ticks);

// Xen's system time in nanoseconds (since Xen started), from pvclock: monotonic, and the
// time base of VCPUOP_set_singleshot_timer.
uint64_t SystemTimeNanoseconds();

// Nanoseconds since the Unix epoch: the shared_info wallclock plus system time.
uint64_t WallClockNanoseconds();

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_SHARED_INFO_H_
