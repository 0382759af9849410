// What every guest test case prints: "ok: WHAT" or "FAIL: WHAT"; the system tests read the
// lines, and a case returns |failures| as its exit status.
#ifndef SKIFF_TESTS_GUEST_CHECK_H_
#define SKIFF_TESTS_GUEST_CHECK_H_

#include <stdio.h>

namespace {

int failures = 0;

bool Check(bool ok, const char* what) {
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  if (!ok) failures++;
  return ok;
}

// For a case that cannot go on: says why and gives the case's failing status.
[[maybe_unused]] int Fail(const char* what) {
  Check(false, what);
  return 1;
}

}  // namespace

#endif  // SKIFF_TESTS_GUEST_CHECK_H_
