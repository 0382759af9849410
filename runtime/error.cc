#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "skiff/result.h"

namespace skiff {

Error MakeError(int code, const char* format, ...) {
  char text[256];
  va_list args;
  va_start(args, format);
  vsnprintf(text, sizeof(text), format, args);
  va_end(args);
  return Error{code, text};
}

// Where there is no scheduler (the fuzzers); runtime/sched/scheduler.cc has the one that
// ends the guest with a crash report.
__attribute__((weak)) void DieOnError(const Error& error) {
  fprintf(stderr, "fatal: value() of a failed Result: %s\n", error.message.c_str());
  abort();
}

}  // namespace skiff
