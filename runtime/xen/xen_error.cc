#include "runtime/xen/xen_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

namespace skiff::xen {
namespace {

struct Code {
  long xen;
  const char* name;
  int local;
};

// Xen's errno.h, each with the C library's value of the same name. newlib lacks ERESTART,
// Xen's internal "try again" (EINTR to a caller), and the alias EDEADLOCK.
#ifndef ERESTART
#define ERESTART EINTR
#endif
#ifndef EDEADLOCK
#define EDEADLOCK EDEADLK
#endif
constexpr Code kCodes[] = {
#define XEN_ERRNO(name, value) {value, #name, name},
#include <xen/errno.h>
};

const Code* Find(long result) {
  for (const Code& code : kCodes) {
    if (code.xen == -result) return &code;
  }
  return nullptr;
}

}  // namespace

const char* ErrorName(long result) {
  const Code* code = Find(result);
  return code != nullptr ? code->name : "an unknown error";
}

int ErrnoFromXen(long result) {
  const Code* code = Find(result);
  return code != nullptr ? code->local : EIO;
}

Error XenError(long result, const char* format, ...) {
  va_list args;
  va_start(args, format);
  Error error = MakeErrorV(ErrnoFromXen(result), format, args);
  va_end(args);
  error.message += std::string(": Xen says ") + ErrorName(result);
  if (Find(result) == nullptr) error.message += " (" + std::to_string(result) + ")";
  return error;
}

}  // namespace skiff::xen
