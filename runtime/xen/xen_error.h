// Hypercall results as Errors, in one place. Xen's errno values are Linux's [xen/errno.h];
// newlib's differ for some (ENOSYS is 88 there, 38 in Xen), so a result is translated by
// name, never passed on as a number. Portable: the unit tests check the table.
#ifndef SKIFF_RUNTIME_XEN_XEN_ERROR_H_
#define SKIFF_RUNTIME_XEN_XEN_ERROR_H_

#include "skiff/result.h"

namespace skiff::xen {

// The name of Xen's error -|result| ("EINVAL"), for messages; "an unknown error" otherwise.
const char* ErrorName(long result);

// This C library's errno for Xen's error -|result|; EIO for one it does not know.
int ErrnoFromXen(long result);

// An Error for the failed hypercall result |result| (negative): the errno translated, and
// the message |format| followed by ": Xen says EINVAL".
Error XenError(long result, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace skiff::xen

#endif  // SKIFF_RUNTIME_XEN_XEN_ERROR_H_
