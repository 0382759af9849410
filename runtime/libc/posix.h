// The POSIX layer of the guest: the process's descriptor table and filesystem behind
// newlib's system calls (posix.cc), the console as stdin/stdout/stderr (console_file.cc), and
// the process (process.cc: the environment, signals, the system's names and limits).
#ifndef SKIFF_RUNTIME_LIBC_POSIX_H_
#define SKIFF_RUNTIME_LIBC_POSIX_H_

#include "runtime/libc/file.h"
#include "runtime/libc/memfs.h"
#include "runtime/xen/start_info.h"

namespace skiff::posix {

// Makes the filesystem (/, /tmp, /dev, then the image's files and the ramdisk's), opens the
// console as descriptors 0, 1 and 2, and sets the environment from |env| (KEY=VALUE words
// from the command line) over the app's link-time one. Ends the guest with a message when a
// seed is bad. Runs in main's task before the global constructors.
void InitPosix(const xen::StartInfo& info, char** env, int env_count);

// A device number as Linux makes it for small numbers.
constexpr dev_t Dev(int major, int minor) { return static_cast<dev_t>(major << 8 | minor); }

FdTable& Descriptors();
Filesystem& Files();

// The console as an open file, for /dev/console and descriptors 0, 1, 2.
int OpenConsole(int flags, File** out);

// The environment (process.cc).
void InitEnvironment(char** env, int env_count);

// The guest's CPU time since main began, in nanoseconds (process.cc).
uint64_t CpuTimeNanoseconds();

// Delivers |sig| as raise() does (process.cc).
int DeliverSignal(int sig);

}  // namespace skiff::posix

#endif  // SKIFF_RUNTIME_LIBC_POSIX_H_
