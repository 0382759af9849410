// Result, TRY and value() on an error.
#include "skiff/result.h"

#include <errno.h>

#include <gtest/gtest.h>

#include <string>

namespace skiff {
namespace {

Result<int> Half(int n) {
  if (n % 2 != 0) return MakeError(EINVAL, "%d is odd", n);
  return n / 2;
}

Result<void> Check(int n) {
  if (n < 0) return MakeError(ERANGE, "%d is negative", n);
  return {};
}

// TRY passes an error up, across Result types, and yields the value otherwise.
Result<std::string> Quarter(int n) {
  TRY(Check(n));
  int half = TRY(Half(n));
  return std::to_string(TRY(Half(half)));
}

TEST(Result, TryYieldsValuesAndPassesErrorsUp) {
  EXPECT_EQ(*Quarter(12), "3");
  Result<std::string> odd = Quarter(6);
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.error().code, EINVAL);
  EXPECT_EQ(odd.error().message, "3 is odd");
  EXPECT_EQ(Quarter(-4).error().message, "-4 is negative");
}

TEST(ResultDeathTest, ValueOfAnErrorEndsWithItsMessage) {
  EXPECT_DEATH((void)Half(3).value(), "value\\(\\) of a failed Result: 3 is odd");
  EXPECT_DEATH(Check(-1).value(), "value\\(\\) of a failed Result: -1 is negative");
}

}  // namespace
}  // namespace skiff
