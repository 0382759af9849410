// The pieces of the Itanium C++ ABI that libc++abi would provide. One vCPU, and tasks do not
// preempt each other, so guards need no atomics. (__cxa_atexit is newlib's.)
#include <stdint.h>

#include "runtime/arch/x86/idt.h"

extern "C" {

// crtbegin.o's job: the handle that __cxa_atexit registrations of this image carry.
__attribute__((visibility("hidden"))) void* __dso_handle = &__dso_handle;

// Function-local statics. Byte 0: initialised; byte 1: initialisation in progress.
int __cxa_guard_acquire(uint64_t* guard) {
  auto* g = reinterpret_cast<volatile uint8_t*>(guard);
  if (g[0]) return 0;
  if (g[1]) skiff::x86::Crash("a function-local static's initialiser re-entered itself");
  g[1] = 1;
  return 1;
}

void __cxa_guard_release(uint64_t* guard) {
  auto* g = reinterpret_cast<volatile uint8_t*>(guard);
  g[0] = 1;
  g[1] = 0;
}

void __cxa_guard_abort(uint64_t* guard) { reinterpret_cast<volatile uint8_t*>(guard)[1] = 0; }

[[noreturn]] void __cxa_pure_virtual() { skiff::x86::Crash("pure virtual function called"); }
[[noreturn]] void __cxa_deleted_virtual() { skiff::x86::Crash("deleted virtual function called"); }

}  // extern "C"
