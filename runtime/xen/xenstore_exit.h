// The exit status's writer: one XS_WRITE over the store ring, polled, so that it gets out
// even from a crash or from the event loop, where the client of xenstore.h cannot wait. It
// takes the ring over at exit, frames with the client's codec (xenstore_wire.h), and uses
// request ids of its own.
#ifndef SKIFF_RUNTIME_XEN_XENSTORE_EXIT_H_
#define SKIFF_RUNTIME_XEN_XENSTORE_EXIT_H_

#include <string_view>

#include "runtime/xen/start_info.h"
#include "skiff/result.h"

namespace skiff::xen {

// Remembers the store ring of |info|. Returns false where there is none (a PVH dom0).
bool XenstoreExitInit(const StartInfo& info);

// Writes |value| at |path| (relative paths are under the domain's home). Fails with ENODEV
// without xenstore, ETIMEDOUT when xenstored does not answer within 5 s, EIO for an error
// or malformed reply.
Result<void> XenstoreExitWrite(std::string_view path, std::string_view value);

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_XENSTORE_EXIT_H_
