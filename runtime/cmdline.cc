#include "runtime/cmdline.h"

namespace skiff {

ParsedCmdline SplitCmdline(char* line, char** argv, int first, int max_args) {
  ParsedCmdline result;
  int argc = first;
  char* in = line;
  char* out = line;   // words are rewritten in place, never longer than the input
  for (;;) {
    while (*in == ' ' || *in == '\t') in++;
    if (*in == '\0') break;
    if (argc >= max_args) {
      result.error = "too many words on the command line";
      return result;
    }
    argv[argc++] = out;
    char quote = 0;
    for (; *in != '\0'; in++) {
      char c = *in;
      if (quote == 0 && (c == ' ' || c == '\t')) break;
      if (quote == 0 && (c == '\'' || c == '"')) {
        quote = c;
      } else if (quote == c) {
        quote = 0;
      } else if (c == '\\' && quote != '\'' && in[1] != '\0') {
        *out++ = *++in;
      } else {
        *out++ = c;
      }
    }
    if (quote != 0) {
      result.error = quote == '"' ? "unterminated \" on the command line"
                                  : "unterminated ' on the command line";
      return result;
    }
    bool end = *in == '\0';
    *out++ = '\0';
    if (end) break;
    in++;
  }
  argv[argc] = nullptr;
  result.argc = argc;
  return result;
}

}  // namespace skiff
