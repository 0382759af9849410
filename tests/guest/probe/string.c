/*
 * string.c: the string functions the probe uses, and memcpy/memset, which
 * the compiler may call on its own even in freestanding code.
 */
#include "probe.h"

#include <stdarg.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
  char *d = dst;
  const char *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  char *d = dst;
  while (n--) *d++ = (char)c;
  return dst;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (; n > 0; a++, b++, n--) {
    if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
    if (*a == '\0') return 0;
  }
  return 0;
}

int strcmp(const char *a, const char *b) { return strncmp(a, b, SIZE_MAX); }

void FormatUnsigned(char *out, uint64_t value) {
  char digits[20];
  size_t n = 0;
  do {
    digits[n++] = (char)('0' + value % 10);
    value /= 10;
  } while (value);
  while (n) *out++ = digits[--n];
  *out = '\0';
}

bool ParseUnsigned(const char *s, uint64_t max, uint64_t *value) {
  uint64_t v = 0;
  if (*s == '\0') return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return false;
    v = v * 10 + (uint64_t)(*s - '0');
    if (v > max) return false;
  }
  *value = v;
  return true;
}

bool Concat(char *out, size_t cap, ...) {
  va_list parts;
  va_start(parts, cap);
  size_t n = 0;
  bool fits = true;
  for (const char *part; (part = va_arg(parts, const char *)) != NULL;) {
    for (; *part && fits; part++) {
      fits = n + 1 < cap;
      if (fits) out[n++] = *part;
    }
  }
  va_end(parts);
  out[n] = '\0';
  return fits;
}
