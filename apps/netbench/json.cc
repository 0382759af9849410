// The JSON reader: recursive descent over the text, one function per RFC 8259 production.
#include "apps/netbench/json.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <utility>

namespace netbench::json {

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  skiff::Result<Value> Document() {
    Value value;
    SkipSpace();
    if (!ParseValue(value, 0)) return Failure();
    SkipSpace();
    if (pos_ != text_.size()) {
      Fail("text after the value");
      return Failure();
    }
    return value;
  }

 private:
  bool ParseValue(Value& value, int depth) {
    if (depth >= kMaxDepth) return Fail("nested too deep");
    if (pos_ == text_.size()) return Fail("a value is missing");
    switch (text_[pos_]) {
      case '{':
        return ParseObject(value, depth);
      case '[':
        return ParseArray(value, depth);
      case '"':
        value.kind = Value::Kind::kString;
        return ParseString(value.string);
      case 't':
        value.kind = Value::Kind::kBool;
        value.boolean = true;
        return Word("true");
      case 'f':
        value.kind = Value::Kind::kBool;
        return Word("false");
      case 'n':
        return Word("null");
      default:
        return ParseNumber(value);
    }
  }

  bool ParseObject(Value& value, int depth) {
    value.kind = Value::Kind::kObject;
    pos_++;
    SkipSpace();
    if (Take('}')) return true;
    while (true) {
      SkipSpace();
      if (pos_ == text_.size() || text_[pos_] != '"') return Fail("a member name is missing");
      value.keys.emplace_back();
      if (!ParseString(value.keys.back())) return false;
      SkipSpace();
      if (!Take(':')) return Fail("':' is missing");
      SkipSpace();
      value.items.emplace_back();
      if (!ParseValue(value.items.back(), depth + 1)) return false;
      SkipSpace();
      if (Take('}')) return true;
      if (!Take(',')) return Fail("',' or '}' is missing");
    }
  }

  bool ParseArray(Value& value, int depth) {
    value.kind = Value::Kind::kArray;
    pos_++;
    SkipSpace();
    if (Take(']')) return true;
    while (true) {
      SkipSpace();
      value.items.emplace_back();
      if (!ParseValue(value.items.back(), depth + 1)) return false;
      SkipSpace();
      if (Take(']')) return true;
      if (!Take(',')) return Fail("',' or ']' is missing");
    }
  }

  bool ParseString(std::string& out) {
    pos_++;   // the opening quote
    while (true) {
      if (pos_ == text_.size()) return Fail("a string is not closed");
      char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return Fail("a control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ == text_.size()) return Fail("a string is not closed");
      char escape = text_[pos_++];
      switch (escape) {
        case '"': case '\\': case '/': out += escape; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u':
          if (!ParseCodePoint(out)) return false;
          break;
        default:
          return Fail("an unknown escape in a string");
      }
    }
  }

  // After "\u": four hex digits, and a second \uXXXX for a surrogate pair; appends UTF-8.
  bool ParseCodePoint(std::string& out) {
    uint32_t unit = 0;
    if (!Hex4(unit)) return false;
    uint32_t code = unit;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      uint32_t low = 0;
      if (!Take('\\') || !Take('u') || !Hex4(low) || low < 0xdc00 || low > 0xdfff) {
        return Fail("a lone UTF-16 surrogate in a string");
      }
      code = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return Fail("a lone UTF-16 surrogate in a string");
    }
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xc0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xe0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    }
    return true;
  }

  bool Hex4(uint32_t& unit) {
    for (int i = 0; i < 4; i++) {
      if (pos_ == text_.size()) return Fail("a \\u escape is cut short");
      char c = text_[pos_++];
      int digit = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (digit < 0) return Fail("a \\u escape that is not hex");
      unit = unit << 4 | static_cast<uint32_t>(digit);
    }
    return true;
  }

  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, checked here and converted by strtod.
  bool ParseNumber(Value& value) {
    size_t start = pos_;
    Take('-');
    if (Take('0')) {
    } else if (!Digits()) {
      return Fail("an unexpected character");
    }
    if (Take('.') && !Digits()) return Fail("a number without digits after '.'");
    if (Take('e') || Take('E')) {
      if (!Take('+')) Take('-');
      if (!Digits()) return Fail("a number without digits in its exponent");
    }
    std::string token(text_.substr(start, pos_ - start));   // strtod needs a terminator
    value.kind = Value::Kind::kNumber;
    value.number = strtod(token.c_str(), nullptr);
    return true;
  }

  bool Digits() {
    size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') pos_++;
    return pos_ > start;
  }

  bool Word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return Fail("an unexpected character");
    pos_ += word.size();
    return true;
  }

  bool Take(char c) {
    if (pos_ == text_.size() || text_[pos_] != c) return false;
    pos_++;
    return true;
  }

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      pos_++;
    }
  }

  bool Fail(const char* what) {
    if (what_ == nullptr) {
      what_ = what;
      where_ = pos_;
    }
    return false;
  }

  skiff::Error Failure() const {
    return skiff::MakeError(EINVAL, "bad JSON at byte %zu of %zu: %s", where_, text_.size(),
                            what_ != nullptr ? what_ : "?");
  }

  std::string_view text_;
  size_t pos_ = 0;
  const char* what_ = nullptr;
  size_t where_ = 0;
};

}  // namespace

const Value* Value::Find(std::string_view key) const {
  for (size_t i = 0; i < keys.size(); i++) {
    if (keys[i] == key) return &items[i];
  }
  return nullptr;
}

skiff::Result<Value> Parse(std::string_view text) { return Parser(text).Document(); }

std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escape[8];
          snprintf(escape, sizeof(escape), "\\u%04x", static_cast<unsigned>(c));
          out += escape;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace netbench::json
