#include "runtime/libc/tty.h"

#include <string.h>

namespace skiff::posix {

bool LineDiscipline::Input(std::string_view bytes, std::string* echo) {
  bool interrupt = false;
  for (char c : bytes) {
    switch (c) {
      case '\r':
      case '\n':
        line_ += '\n';
        pieces_.push_back(std::move(line_));
        line_.clear();
        *echo += "\r\n";
        break;
      case 0x7f:   // DEL, what Backspace sends
      case '\b':
        if (!line_.empty()) {
          line_.pop_back();
          *echo += "\b \b";
        }
        break;
      case 0x15:   // Ctrl-U
        for (size_t i = 0; i < line_.size(); i++) *echo += "\b \b";
        line_.clear();
        break;
      case 0x04:   // Ctrl-D
        pieces_.push_back(std::move(line_));   // empty: end of file
        line_.clear();
        break;
      case 0x03:   // Ctrl-C
        line_.clear();
        *echo += "^C\r\n";
        interrupt = true;
        break;
      default:
        if (line_.size() >= kMaxLine) {
          *echo += '\a';   // the line is full, as Linux rings the bell
          break;
        }
        line_ += c;
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
          *echo += '^';
          *echo += static_cast<char>(c + '@');
        } else {
          *echo += c;
        }
    }
  }
  return interrupt;
}

size_t LineDiscipline::Read(char* out, size_t len) {
  if (pieces_.empty()) return 0;
  std::string& piece = pieces_.front();
  if (piece.empty()) {
    pieces_.pop_front();
    return 0;
  }
  size_t n = len < piece.size() ? len : piece.size();
  memcpy(out, piece.data(), n);
  piece.erase(0, n);
  if (piece.empty()) pieces_.pop_front();
  return n;
}

}  // namespace skiff::posix
