#include "runtime/exit.h"

#include <stdio.h>

#include "runtime/arch/x86/cpu.h"
#include "runtime/boot.h"
#include "runtime/xen/console.h"
#include "runtime/xen/hypercall.h"
#include "runtime/xen/xenstore.h"

namespace skiff {

void ExitGuest(int status) {
  status &= 0xff;
  xen::ConsolePrint("skiff: exit status %d\n", status);
  if (IsDom0()) {
    // QEMU's isa-debug-exit: QEMU ends with 2N+1, for N up to 127.
    if (status > 127) xen::ConsolePrint("skiff: exit status %d reported as 127\n", status);
    xen::ConsoleFlush();
    x86::OutL(0xf4, status > 127 ? 127 : status);
  } else {
    char value[8];
    snprintf(value, sizeof(value), "%d", status);
    int err = xen::XenstoreWrite("data/exit-status", value);
    if (err != 0) xen::ConsolePrint("skiff: could not write data/exit-status (error %d)\n", err);
    xen::ConsoleFlush();
  }
  xen::Shutdown(SHUTDOWN_poweroff);
}

}  // namespace skiff
