/* newlib's <limits.h>, and the limits of Skiff's threads, which newlib does not know. */
#include_next <limits.h>

#ifndef _SKIFF_POSIX_LIMITS_H
#define _SKIFF_POSIX_LIMITS_H

#ifndef PTHREAD_STACK_MIN
#define PTHREAD_STACK_MIN 16384
#endif
#define PTHREAD_KEYS_MAX 128
#define PTHREAD_DESTRUCTOR_ITERATIONS 4
#ifndef SEM_VALUE_MAX
#define SEM_VALUE_MAX 0x7fffffff
#endif

#endif /* _SKIFF_POSIX_LIMITS_H */
