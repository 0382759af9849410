// newlib's <sys/stat.h>, with lstat, which it declares only for other targets
// (runtime/libc/posix.cc; there are no symbolic links, so it is stat).
#ifndef SKIFF_SYS_STAT_H_
#define SKIFF_SYS_STAT_H_

#include_next <sys/stat.h>

#ifdef __cplusplus
extern "C" {
#endif

int lstat(const char* __restrict path, struct stat* __restrict buf);

#ifdef __cplusplus
}
#endif

#endif  // SKIFF_SYS_STAT_H_
