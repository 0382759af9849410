// Xen's public headers, included the one way the runtime uses them.
#ifndef SKIFF_RUNTIME_XEN_XEN_H_
#define SKIFF_RUNTIME_XEN_XEN_H_

#include <stdint.h>

extern "C" {
#include <xen/xen.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/arch-x86/hvm/start_info.h>
#include <xen/event_channel.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/io/console.h>
#include <xen/io/xs_wire.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>
}

#include <stddef.h>

// The layouts shared with Xen and the backends, as their headers define them; a wrong
// __XEN_INTERFACE_VERSION__ or packing would move these.
static_assert(sizeof(vcpu_time_info) == 32 && sizeof(vcpu_info) == 64);
static_assert(offsetof(shared_info, evtchn_pending) == 64 * XEN_LEGACY_MAX_VCPUS);
static_assert(sizeof(xsd_sockmsg) == 16);
static_assert(offsetof(xenstore_domain_interface, req_cons) == 2 * XENSTORE_RING_SIZE &&
              offsetof(xenstore_domain_interface, rsp_prod) == 2 * XENSTORE_RING_SIZE + 12);
static_assert(offsetof(xencons_interface, in_cons) == 1024 + 2048);

#endif  // SKIFF_RUNTIME_XEN_XEN_H_
