// The event loop on Xen: the upcall, event channel dispatch, the singleshot timer on
// VIRQ_TIMER, and halting when idle. Implements the scheduler's Platform.
#ifndef SKIFF_RUNTIME_XEN_LOOP_H_
#define SKIFF_RUNTIME_XEN_LOOP_H_

#include <stddef.h>
#include <stdint.h>

#include "runtime/sched/scheduler.h"
#include "runtime/xen/evtchn_2l.h"

namespace skiff::xen {

// Installs the upcall (the per-vCPU vector, else, or if |callback_upcall|, the domain-wide
// callback vector of HVM_PARAM_CALLBACK_IRQ), binds VIRQ_TIMER and starts the scheduler
// with the calling context, on |main_stack|, as the task "main".
void StartEventLoop(const sched::Stack& main_stack, bool callback_upcall);

EventPorts& Ports();

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_LOOP_H_
