// What a frontend driver (blkfront, netfront) needs of the machine, behind an interface so
// that the drivers are portable: Xen's in the guest (XenDriverMachine), a fake in the host
// tests (tests/unit/fake_machine.h).
#ifndef SKIFF_RUNTIME_XEN_DRIVER_MACHINE_H_
#define SKIFF_RUNTIME_XEN_DRIVER_MACHINE_H_

#include <stddef.h>
#include <stdint.h>

#include <functional>

#include "runtime/xen/grant_table.h"
#include "skiff/result.h"
#include "skiff/xen_types.h"

namespace skiff::xen {

// What a frontend driver needs of the machine: pages, grants, event channels, a console.
class DriverMachine {
 public:
  virtual ~DriverMachine() = default;
  // |count| zeroed, contiguous pages; ENOMEM.
  virtual Result<void*> AllocPages(size_t count) = 0;
  // Frees one page of an AllocPages that no grant reaches.
  virtual void FreePage(void* page) = 0;
  virtual Gfn GfnOf(void* page) = 0;
  virtual GrantTable& grants() = 0;
  // Ends |ref|'s grant and frees |page| (one of AllocPages's) with it; while the backend still
  // maps it, both wait, and go when it lets go.
  virtual void EndGrant(GrantRef ref, void* page) = 0;
  // An unbound port for |remote|, whose events run |handler| in the event loop.
  virtual Result<EvtchnPort> OpenChannel(DomId remote, std::function<void()> handler) = 0;
  virtual void CloseChannel(EvtchnPort port) = 0;
  virtual void Notify(EvtchnPort port) = 0;
  // A message for the console: a device broke, went away, came back.
  virtual void Report(const char* message) = 0;
  // The guest's memory, which sizes a driver's pools.
  virtual uint64_t RamBytes() = 0;
};

// The guest's: pages of the allocator (identity mapped), the grant table, event channels.
DriverMachine& XenDriverMachine();

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_DRIVER_MACHINE_H_
