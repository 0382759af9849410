// The out-of-line parts of libc++ 16 that its headers declare and a compiled libc++ would
// define; we use the headers alone (with runtime/include/cxx/__config_site).
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/arch/x86/idt.h"
#include "runtime/xen/shared_info.h"

_LIBCPP_BEGIN_NAMESPACE_STD

// Assertions, and every __throw_* under -fno-exceptions, end here.
void __libcpp_verbose_abort(const char* format, ...) {
  char message[256];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof(message), format, args);
  va_end(args);
  skiff::x86::Crash(message);
}

// basic_string members that <string> declares `extern template` (as src/string.cpp does).
#define SKIFF_INSTANTIATE(...) template __VA_ARGS__;
_LIBCPP_STRING_V1_EXTERN_TEMPLATE_LIST(SKIFF_INSTANTIATE, char)
_LIBCPP_STRING_V1_EXTERN_TEMPLATE_LIST(SKIFF_INSTANTIATE, wchar_t)
#undef SKIFF_INSTANTIATE
template string operator+ <char, char_traits<char>, allocator<char>>(const char*, const string&);

// std::sort on arithmetic types (as src/algorithm.cpp does).
#define SKIFF_SORT(T)                                     \
  template void __sort<__less<T>&, T*>(T*, T*, __less<T>&); \
  template bool __insertion_sort_incomplete<__less<T>&, T*>(T*, T*, __less<T>&);
SKIFF_SORT(char)
SKIFF_SORT(wchar_t)
SKIFF_SORT(signed char)
SKIFF_SORT(unsigned char)
SKIFF_SORT(short)
SKIFF_SORT(unsigned short)
SKIFF_SORT(int)
SKIFF_SORT(unsigned)
SKIFF_SORT(long)
SKIFF_SORT(unsigned long)
SKIFF_SORT(long long)
SKIFF_SORT(unsigned long long)
SKIFF_SORT(float)
SKIFF_SORT(double)
SKIFF_SORT(long double)
#undef SKIFF_SORT
template unsigned __sort5<__less<long double>&, long double*>(long double*, long double*,
                                                              long double*, long double*,
                                                              long double*, __less<long double>&);

// Hash table sizes: the smallest prime >= n.
size_t __next_prime(size_t n) {
  if (n <= 2) return 2;
  for (n |= 1;; n += 2) {
    bool prime = true;
    for (size_t d = 3; d <= n / d && prime; d += 2) prime = n % d != 0;
    if (prime) return n;
  }
}

// shared_ptr and weak_ptr control blocks.
__shared_count::~__shared_count() {}
__shared_weak_count::~__shared_weak_count() {}

void __shared_weak_count::__release_weak() noexcept {
  if (__atomic_load_n(&__shared_weak_owners_, __ATOMIC_ACQUIRE) == 0 ||
      __atomic_sub_fetch(&__shared_weak_owners_, 1, __ATOMIC_ACQ_REL) == -1) {
    __on_zero_shared_weak();
  }
}

__shared_weak_count* __shared_weak_count::lock() noexcept {
  long owners = __atomic_load_n(&__shared_owners_, __ATOMIC_SEQ_CST);
  while (owners != -1) {
    if (__atomic_compare_exchange_n(&__shared_owners_, &owners, owners + 1, false,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      return this;
    }
  }
  return nullptr;
}

const void* __shared_weak_count::__get_deleter(const type_info&) const noexcept {
  return nullptr;
}

void __call_once(volatile once_flag::_State_type& flag, void* arg, void (*func)(void*)) {
  if (flag == 0) {
    flag = 1;
    func(arg);
    flag = ~once_flag::_State_type(0);
  }
}

void* align(size_t alignment, size_t size, void*& ptr, size_t& space) {
  auto p = reinterpret_cast<uintptr_t>(ptr);
  uintptr_t aligned = (p + alignment - 1) & ~(alignment - 1);
  if (size > space || aligned - p > space - size) return nullptr;
  space -= aligned - p;
  ptr = reinterpret_cast<void*>(aligned);
  return ptr;
}

#define SKIFF_TO_STRING(T, FORMAT)                         \
  string to_string(T value) {                              \
    char text[64];                                         \
    int n = snprintf(text, sizeof(text), FORMAT, value);   \
    return string(text, n > 0 ? static_cast<size_t>(n) : 0); \
  }
SKIFF_TO_STRING(int, "%d")
SKIFF_TO_STRING(unsigned, "%u")
SKIFF_TO_STRING(long, "%ld")
SKIFF_TO_STRING(unsigned long, "%lu")
SKIFF_TO_STRING(long long, "%lld")
SKIFF_TO_STRING(unsigned long long, "%llu")
SKIFF_TO_STRING(float, "%f")
SKIFF_TO_STRING(double, "%f")
SKIFF_TO_STRING(long double, "%Lf")
#undef SKIFF_TO_STRING

namespace chrono {

steady_clock::time_point steady_clock::now() noexcept {
  return time_point(nanoseconds(skiff::xen::SystemTimeNanoseconds()));
}

system_clock::time_point system_clock::now() noexcept {
  return time_point(duration_cast<duration>(nanoseconds(skiff::xen::WallClockNanoseconds())));
}

time_t system_clock::to_time_t(const time_point& t) noexcept {
  return static_cast<time_t>(duration_cast<seconds>(t.time_since_epoch()).count());
}

system_clock::time_point system_clock::from_time_t(time_t t) noexcept {
  return time_point(seconds(t));
}

}  // namespace chrono

_LIBCPP_END_NAMESPACE_STD
