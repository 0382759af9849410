#include "runtime/exit.h"

#include <stdio.h>

#include "runtime/arch/x86/cpu.h"
#include "runtime/boot.h"
#include "runtime/xen/console.h"
#include "runtime/xen/hypercall.h"
#include "runtime/xen/xenstore_exit.h"

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
    Result<void> written = xen::XenstoreExitWrite("data/exit-status", value);
    if (!written) {
      xen::ConsolePrint("skiff: could not write data/exit-status: %s\n",
                        written.error().message.c_str());
    }
    xen::ConsoleFlush();
  }
  xen::Shutdown(SHUTDOWN_poweroff);
}

}  // namespace skiff
