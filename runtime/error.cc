#include <stdarg.h>
#include <stdio.h>

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

}  // namespace skiff
