// The console's line discipline for stdin, as Linux's for a terminal in canonical mode with
// echo (ICANON, ECHO, ICRNL): typed bytes are echoed and gathered into a line; Enter (CR or
// LF) hands the line to read(); Backspace (DEL or BS) erases a character, Ctrl-U the line;
// Ctrl-D hands over what is typed without a newline, and on an empty line is end of file;
// Ctrl-C throws the line away and reports an interrupt. Portable (host-tested).
#ifndef SKIFF_RUNTIME_LIBC_TTY_H_
#define SKIFF_RUNTIME_LIBC_TTY_H_

#include <stddef.h>

#include <deque>
#include <string>
#include <string_view>

namespace skiff::posix {

class LineDiscipline {
 public:
  static constexpr size_t kMaxLine = 4095;   // as Linux's N_TTY_BUF_SIZE - 1

  // Takes bytes from the console; appends what to echo to |echo|. Returns true when Ctrl-C
  // came (the caller raises SIGINT).
  bool Input(std::string_view bytes, std::string* echo);

  // True when read() would not wait: a line, or an end of file, is ready.
  bool ready() const { return !pieces_.empty(); }

  // At most one line, or |len| bytes of it; 0 for an end of file (taken once). Only when
  // ready().
  size_t Read(char* out, size_t len);

 private:
  std::string line_;                // being typed
  std::deque<std::string> pieces_;  // handed over, not yet read; an empty one is end of file
};

}  // namespace skiff::posix

#endif  // SKIFF_RUNTIME_LIBC_TTY_H_
