// The console behind stdout and stderr: the PV console ring in a domU
// (HVM_PARAM_CONSOLE_PFN/EVTCHN, [xen/io/console.h]), HYPERVISOR_console_io in dom0.
#ifndef SKIFF_RUNTIME_XEN_CONSOLE_H_
#define SKIFF_RUNTIME_XEN_CONSOLE_H_

#include <stddef.h>

#include "runtime/xen/start_info.h"

namespace skiff::xen {

// Uses console_io in a dom0, else the PV console ring of |info| (if there is one).
void ConsoleInit(const StartInfo& info);

// Writes |len| bytes. Never fails: when the ring stays full for a second (nobody
// reads it), the output is dropped and later writes do not wait again.
void ConsoleWrite(const char* data, size_t len);

// Takes up to |len| bytes typed into the console (the ring's input half); 0 when none came,
// and always in a dom0, whose console input stays with Xen.
size_t ConsoleRead(char* out, size_t len);

// The console ring's event channel, which fires when input comes; {0} without a ring.
EvtchnPort ConsolePort();

// Waits (bounded) until the backend has read everything written so far.
void ConsoleFlush();

// printf-style output straight to the console, usable before and without newlib's stdio
// (crash reports, boot errors).
void ConsolePrint(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_CONSOLE_H_
