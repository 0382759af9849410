// The guest's xenstore client, on the ring and event channel Xen set up for the domain.
#ifndef SKIFF_RUNTIME_XEN_STORE_H_
#define SKIFF_RUNTIME_XEN_STORE_H_

#include "runtime/xen/xs_client.h"
#include "skiff/result.h"

namespace skiff::xen {

// Starts the client (in the event loop's world: call after StartEventLoop). A PVH dom0 has
// no xenstore.
void StartXenstore(bool dom0);

// The client, or why there is none.
Result<XenstoreClient*> Xenstore();

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_STORE_H_
