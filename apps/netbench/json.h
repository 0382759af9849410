// A small JSON reader (RFC 8259) for iperf3's control messages, which cJSON writes: whole
// values parsed into a tree, strings kept as UTF-8. Portable: the host tests parse with it.
#ifndef APPS_NETBENCH_JSON_H_
#define APPS_NETBENCH_JSON_H_

#include <stddef.h>

#include <string>
#include <string_view>
#include <vector>

#include "skiff/result.h"

namespace netbench::json {

// Nesting deeper than this is refused, so that hostile input cannot exhaust the stack.
inline constexpr int kMaxDepth = 32;

struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> items;         // an array's elements, or an object's member values
  std::vector<std::string> keys;    // an object's member names, parallel to items

  bool is_number() const { return kind == Kind::kNumber; }
  bool is_object() const { return kind == Kind::kObject; }
  bool is_array() const { return kind == Kind::kArray; }
  // An object's member named |key| (the first, if the name repeats), or nullptr.
  const Value* Find(std::string_view key) const;
};

// Parses one value, with whitespace around it and nothing else. EINVAL with the offset and
// what was wrong for bad input.
skiff::Result<Value> Parse(std::string_view text);

// |text| as a JSON string literal, quotes included.
std::string Quote(std::string_view text);

}  // namespace netbench::json

#endif  // APPS_NETBENCH_JSON_H_
