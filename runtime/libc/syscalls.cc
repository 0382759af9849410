// newlib's system calls for memory, time and leaving. newlib for x86_64-elf is built with
// MISSING_SYSCALL_NAMES, so these are the plain POSIX names (only _exit keeps its
// underscore). Files and descriptors are in posix.cc, the process in process.cc.
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <sys/time.h>
#include <unistd.h>

#include "runtime/exit.h"
#include "runtime/mm/memory.h"
#include "runtime/xen/shared_info.h"

extern "C" {

void* sbrk(ptrdiff_t delta) {
  void* old_end = skiff::mm::GrowHeap(delta);
  if (old_end == nullptr) {
    errno = ENOMEM;
    return reinterpret_cast<void*>(-1);
  }
  return old_end;
}

void _exit(int status) { skiff::ExitGuest(status); }

int gettimeofday(struct timeval* tv, void*) {
  uint64_t ns = skiff::xen::WallClockNanoseconds();
  tv->tv_sec = static_cast<time_t>(ns / 1000000000);
  tv->tv_usec = static_cast<suseconds_t>(ns % 1000000000 / 1000);
  return 0;
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
