// newlib's system calls. newlib for x86_64-elf is built with MISSING_SYSCALL_NAMES, so
// these are the plain POSIX names (only _exit keeps its underscore). errno is newlib's.
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/times.h>
#include <unistd.h>

#include "runtime/arch/x86/idt.h"
#include "runtime/exit.h"
#include "runtime/mm/memory.h"
#include "runtime/xen/console.h"
#include "runtime/xen/shared_info.h"

#undef errno
extern "C" int errno;

namespace {

bool IsConsole(int fd) { return fd >= 0 && fd <= 2; }

int Fail(int error) {
  errno = error;
  return -1;
}

}  // namespace

extern "C" {

_READ_WRITE_RETURN_TYPE write(int fd, const void* data, size_t len) {
  if (fd != 1 && fd != 2) return Fail(EBADF);
  skiff::xen::ConsoleWrite(static_cast<const char*>(data), len);
  return static_cast<_READ_WRITE_RETURN_TYPE>(len);
}

// There is no console input yet: stdin is at its end.
_READ_WRITE_RETURN_TYPE read(int fd, void*, size_t) { return fd == 0 ? 0 : Fail(EBADF); }

int close(int fd) { return IsConsole(fd) ? 0 : Fail(EBADF); }

int fstat(int fd, struct stat* st) {
  if (!IsConsole(fd)) return Fail(EBADF);
  *st = {};
  st->st_mode = S_IFCHR;
  return 0;
}

int isatty(int fd) { return IsConsole(fd) ? 1 : Fail(EBADF); }

off_t lseek(int fd, off_t, int) { return Fail(IsConsole(fd) ? ESPIPE : EBADF); }

void* sbrk(ptrdiff_t delta) {
  void* old_end = skiff::mm::GrowHeap(delta);
  if (old_end == nullptr) {
    errno = ENOMEM;
    return reinterpret_cast<void*>(-1);
  }
  return old_end;
}

int getpid() { return 1; }

// abort() raises SIGABRT through kill(getpid(), SIGABRT).
int kill(int pid, int sig) {
  if (pid != getpid()) return Fail(ESRCH);
  if (sig == SIGABRT) skiff::x86::Crash("abort() called");
  skiff::xen::ConsolePrint("skiff: killed by signal %d\n", sig);
  skiff::ExitGuest(128 + sig);
}

void _exit(int status) { skiff::ExitGuest(status); }

int gettimeofday(struct timeval* tv, void*) {
  uint64_t ns = skiff::xen::WallClockNanoseconds();
  tv->tv_sec = static_cast<time_t>(ns / 1000000000);
  tv->tv_usec = static_cast<suseconds_t>(ns % 1000000000 / 1000);
  return 0;
}

clock_t times(struct tms* t) {
  // CLK_TCK is 1000 for newlib on x86-64.
  clock_t ticks = static_cast<clock_t>(skiff::xen::SystemTimeNanoseconds() / 1000000);
  *t = {ticks, 0, 0, 0};
  return ticks;
}

// newlib 3.3.0's aligned_alloc calls this but does not define it.
int posix_memalign(void** out, size_t alignment, size_t size) {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

// __libc_init_array calls _init and __libc_fini_array _fini (there is no crti.o).
void _init() {}
void _fini() {}

}  // extern "C"
