// uname(), which newlib does not declare for this target (runtime/libc/process.cc).
#ifndef SKIFF_SYS_UTSNAME_H_
#define SKIFF_SYS_UTSNAME_H_

#ifdef __cplusplus
extern "C" {
#endif

#define _UTSNAME_LENGTH 65

struct utsname {
  char sysname[_UTSNAME_LENGTH];    // "Skiff"
  char nodename[_UTSNAME_LENGTH];   // the domain's name, as gethostname
  char release[_UTSNAME_LENGTH];    // Skiff's version
  char version[_UTSNAME_LENGTH];    // "Xen PVH"
  char machine[_UTSNAME_LENGTH];    // "x86_64"
};

int uname(struct utsname* name);

#ifdef __cplusplus
}
#endif

#endif  // SKIFF_SYS_UTSNAME_H_
