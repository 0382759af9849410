// Splits the guest's command line into argv. Portable (host-tested).
// Words are separated by spaces or tabs; 'single quotes' keep everything literally;
// "double quotes" keep spaces, and a backslash in them or outside quotes escapes the next
// character. So `a "b c" 'd"e' f\ g` gives a, b c, d"e and f g.
#ifndef SKIFF_RUNTIME_CMDLINE_H_
#define SKIFF_RUNTIME_CMDLINE_H_

#include <stddef.h>

namespace skiff {

struct ParsedCmdline {
  int argc = 0;
  const char* error = nullptr;   // set when the line cannot be split; argc is then 0
};

// Splits |line| in place (the words are NUL-terminated inside it) and stores pointers in
// argv[first..]; at most |max_args| words in all, argv[argc] is set to nullptr.
ParsedCmdline SplitCmdline(char* line, char** argv, int first, int max_args);

}  // namespace skiff

#endif  // SKIFF_RUNTIME_CMDLINE_H_
