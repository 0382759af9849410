/* Prints doubles with %.17g and %a and long doubles with %.21Lg: the guest's output must be
 * the host's, byte for byte. newlib's printf converts through x87 long double, so a wrong x87
 * control word (24-bit precision) shows here. Built for the guest (floats.elf) and, by the
 * test, for the host.
 * Only correctly rounded operations (arithmetic, sqrt) and normal numbers: newlib's exp and
 * sqrtl differ from glibc's in the last bits, it writes subnormals in %a another way, and its
 * %La prints a long double rounded to a double (and faults on one beyond a double's range). */
#include <math.h>
#include <stdio.h>

int main(void) {
  volatile double one = 1.0, three = 3.0, ten = 10.0;
  const double doubles[] = {one / three, 2.0 / three, one / ten, sqrt(2.0), M_PI,
                            1e300 * ten, 2.2250738585072014e-308, -0.0, 123456789.123456789};
  const long double longs[] = {(long double)one / three, 1.0L / 10, 2.0L / three,
                               3.14159265358979323846264338327950288L, 1e4000L};
  for (unsigned i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++) {
    printf("double %u: %.17g %a\n", i, doubles[i], doubles[i]);
  }
  for (unsigned i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
    printf("long double %u: %.21Lg\n", i, longs[i]);
  }
  printf("sum: %.17g\n", one / three + 2.0 / three * ten);
  return 0;
}
