// The console behind stdout and stderr: the PV console ring in a domU
// (HVM_PARAM_CONSOLE_PFN/EVTCHN, [xen/io/console.h]), HYPERVISOR_console_io in dom0.
#ifndef SKIFF_RUNTIME_XEN_CONSOLE_H_
#define SKIFF_RUNTIME_XEN_CONSOLE_H_

#include <stddef.h>

namespace skiff::xen {

// Finds the console. Call once, after the hypercall page; |dom0| picks console_io.
void ConsoleInit(bool dom0);

// Writes |len| bytes. Never fails: when the ring stays full for a second (nobody
// reads it), the output is dropped and later writes do not wait again.
void ConsoleWrite(const char* data, size_t len);

// Waits (bounded) until the backend has read everything written so far.
void ConsoleFlush();

// printf-style output straight to the console, usable before and without newlib's stdio
// (crash reports, boot errors).
void ConsolePrint(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_CONSOLE_H_
