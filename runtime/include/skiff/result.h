// Results of calls that can fail: a value, or an Error that says what failed and where.
#ifndef SKIFF_RESULT_H_
#define SKIFF_RESULT_H_

#include <optional>
#include <string>
#include <utility>

namespace skiff {

struct Error {
  int code = 0;          // an errno value
  std::string message;   // what failed and where, for a person
};

// Makes an Error with a printf-style message.
Error MakeError(int code, const char* format, ...) __attribute__((format(printf, 2, 3)));

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Error error) : error_(std::move(error)) {}

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() { return *value_; }
  T& operator*() { return *value_; }
  T* operator->() { return &*value_; }
  const Error& error() const { return error_; }

 private:
  std::optional<T> value_;
  Error error_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace skiff

#endif  // SKIFF_RESULT_H_
