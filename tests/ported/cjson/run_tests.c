// Runs cJSON's own test programs in one guest: each is tests/NAME.c of the Debian source,
// built unmodified with its main renamed cjson_test_NAME (meson.build). With no arguments it
// runs them all, else those named. Each prints Unity's report; the exit status is the number
// of programs that failed.
#include <stdio.h>
#include <string.h>

#define X(name) int cjson_test_##name(void);
CJSON_TESTS
#undef X

static const struct {
  const char* name;
  int (*run)(void);
} kTests[] = {
#define X(name) {#name, cjson_test_##name},
    CJSON_TESTS
#undef X
};

static int Selected(const char* name, int argc, char** argv) {
  if (argc < 2) return 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], name) == 0) return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  int ran = 0, failed = 0;
  for (size_t i = 0; i < sizeof(kTests) / sizeof(kTests[0]); i++) {
    if (!Selected(kTests[i].name, argc, argv)) continue;
    printf("== %s\n", kTests[i].name);
    int failures = kTests[i].run();
    printf("== %s: %s\n", kTests[i].name, failures == 0 ? "passed" : "FAILED");
    ran++;
    failed += failures != 0;
  }
  printf("== %d programs, %d failed\n", ran, failed);
  return failed;
}
