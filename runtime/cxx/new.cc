// operator new and delete over newlib's malloc. Throwing forms cannot throw
// (-fno-exceptions): when memory runs out they end the guest with a clear message.
#include <malloc.h>
#include <stdlib.h>

#include <new>

#include "runtime/arch/x86/idt.h"

namespace {

[[noreturn]] void OutOfMemory() { skiff::x86::Crash("out of memory in operator new"); }

void* Aligned(size_t size, std::align_val_t align) {
  size_t a = static_cast<size_t>(align);
  return memalign(a < sizeof(void*) ? sizeof(void*) : a, size ? size : 1);
}

}  // namespace

namespace std {
const nothrow_t nothrow{};
}

void* operator new(size_t size) {
  void* p = malloc(size ? size : 1);
  if (p == nullptr) OutOfMemory();
  return p;
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return malloc(size ? size : 1); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  return malloc(size ? size : 1);
}
void* operator new(size_t size, std::align_val_t align) {
  void* p = Aligned(size, align);
  if (p == nullptr) OutOfMemory();
  return p;
}
void* operator new[](size_t size, std::align_val_t align) { return operator new(size, align); }
void* operator new(size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return Aligned(size, align);
}
void* operator new[](size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return Aligned(size, align);
}

void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { free(p); }
void operator delete(void* p, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { free(p); }
