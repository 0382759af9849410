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

#endif  // SKIFF_RUNTIME_XEN_XEN_H_
