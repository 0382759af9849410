// A minimal synchronous xenstore writer over the ring (HVM_PARAM_STORE_PFN/EVTCHN,
// [xen/io/xs_wire.h]): one request, polling, for the exit status, which must get out even
// from a crash or from the event loop. The client of runtime/xen/store.h does everything
// else; this one takes the ring over at exit, with request ids of its own.
#ifndef SKIFF_RUNTIME_XEN_XENSTORE_H_
#define SKIFF_RUNTIME_XEN_XENSTORE_H_

namespace skiff::xen {

// Finds the xenstore ring. Returns false where there is none (a PVH dom0).
bool XenstoreInit();

// Writes |value| at |path| (relative paths are under the domain's home). Returns 0, or a
// negative errno: -ENODEV without xenstore, -ETIMEDOUT when xenstored does not answer,
// -EIO for a malformed or error reply.
int XenstoreWrite(const char* path, const char* value);

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_XENSTORE_H_
