/* newlib's <limits.h>, and the limits newlib does not know: Skiff's threads', SSIZE_MAX. */
#include_next <limits.h>

#ifndef _SKIFF_POSIX_LIMITS_H
#define _SKIFF_POSIX_LIMITS_H

#ifndef PTHREAD_STACK_MIN
#define PTHREAD_STACK_MIN 16384
#endif
#define PTHREAD_KEYS_MAX 128
/* POSIX's limit of ssize_t, which newlib 3.3.0 types as long but leaves undefined (lwIP's
 * arch.h would then typedef ssize_t as int). */
#ifndef SSIZE_MAX
#define SSIZE_MAX __LONG_MAX__
#endif
#define PTHREAD_DESTRUCTOR_ITERATIONS 4
#ifndef SEM_VALUE_MAX
#define SEM_VALUE_MAX 0x7fffffff
#endif

#endif /* _SKIFF_POSIX_LIMITS_H */
