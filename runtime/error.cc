#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "skiff/result.h"

namespace skiff {

Error MakeErrorV(int code, const char* format, va_list args) {
  char text[256];
  vsnprintf(text, sizeof(text), format, args);
  return Error{code, text};
}

Error MakeError(int code, const char* format, ...) {
  va_list args;
  va_start(args, format);
  Error error = MakeErrorV(code, format, args);
  va_end(args);
  return error;
}

// Where there is no scheduler (the fuzzers); runtime/sched/scheduler.cc has the one that
// ends the guest with a crash report.
__attribute__((weak)) void DieOnError(const Error& error) {
  fprintf(stderr, "fatal: value() of a failed Result: %s\n", error.message.c_str());
  abort();
}

}  // namespace skiff
