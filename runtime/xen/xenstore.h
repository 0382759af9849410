// A minimal synchronous xenstore client over the ring (HVM_PARAM_STORE_PFN/EVTCHN,
// [xen/io/xs_wire.h]): one request at a time, polling. Enough for the exit status;
// the full client (watches, transactions, many tasks) replaces it.
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
