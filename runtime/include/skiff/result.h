// Results of calls that can fail: a value, or an Error that says what failed and where.
//
//   Result<Grant> Offer(...);
//   Result<void> Setup() {
//     Grant grant = TRY(Offer(...));   // returns the Error from Setup if Offer failed
//     ...
//   }
//
// value() (and * and ->) on an error ends the guest with a crash report that carries the
// error's message: test ok() first, or use TRY, where failure is possible.
#ifndef SKIFF_RESULT_H_
#define SKIFF_RESULT_H_

#include <stdarg.h>

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
Error MakeErrorV(int code, const char* format, va_list args)
    __attribute__((format(printf, 2, 0)));

// Ends the guest (the host tests: the process) with a report headed by |error|'s message:
// value() was called on a Result that holds an error.
[[noreturn]] void DieOnError(const Error& error);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Error error) : error_(std::move(error)) {}

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() & {
    if (!ok()) DieOnError(error_);
    return *value_;
  }
  T&& value() && { return std::move(value()); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
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
  void value() const {
    if (!ok_) DieOnError(error_);
  }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace skiff

// Evaluates |expr|, a Result; on an error returns it from the enclosing function (whose
// Result type may differ), else yields the value. A GNU statement expression, as clang and
// gcc take it.
#define TRY(expr)                                          \
  ({                                                       \
    auto&& skiff_try_result_ = (expr);                     \
    if (!skiff_try_result_.ok()) return skiff_try_result_.error(); \
    std::move(skiff_try_result_).value();                  \
  })

#endif  // SKIFF_RESULT_H_
