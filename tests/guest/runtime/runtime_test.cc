// Guest tests of the runtime core, one per run: runtime_test CASE [ARGS...].
// Each case prints what it checked and returns 0, or prints "FAIL: ..." and returns 1.
// The fault cases never return: they end in the runtime's crash report.
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "skiff/result.h"
#include "skiff/sched.h"
#include "skiff/skiff.h"
#include "tests/guest/check.h"

extern "C" char __text_start[], __image_end[];

// main's stack, chosen at link time: 12 MiB rather than the default 8 (the "recurse" case).
extern "C" const size_t skiff_main_stack_size = 12 << 20;

namespace {

// A global with a constructor: the runtime runs it before main().
struct Constructed {
  Constructed() : value(42) {}
  int value;
};
Constructed constructed;

int Memory() {
  uint64_t total = skiff::TotalMemory(), free = skiff::FreeMemory();
  printf("memory: %lu KiB of RAM, %lu KiB free\n", total >> 10, free >> 10);
  Check(total >= 8ull << 20, "the memory map shows at least 8 MiB of RAM");
  Check(free > 0 && free < total, "some but not all of it is free after boot");
  printf("entry to main: %lu ns\n", skiff::EntryToMainNanoseconds());
  Check(skiff::MainTsc() > skiff::EntryTsc(), "the TSC moved between the entry and main");
  Check(constructed.value == 42, "global constructors ran before main");
  return failures;
}

// Fills blocks of mixed sizes with a pattern derived from their address, frees some,
// reallocates, and checks every surviving byte.
int Heap() {
  constexpr int kBlocks = 2000;
  std::vector<std::pair<uint8_t*, size_t>> blocks(kBlocks);
  uint32_t seed = 12345;
  auto next = [&seed] { return seed = seed * 1103515245 + 12345; };
  auto fill = [](uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = static_cast<uint8_t>((reinterpret_cast<uintptr_t>(p) >> 4) + i);
  };
  auto intact = [](uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; i++) {
      if (p[i] != static_cast<uint8_t>((reinterpret_cast<uintptr_t>(p) >> 4) + i)) return false;
    }
    return true;
  };
  bool ok = true;
  for (int round = 0; round < 4 && ok; round++) {
    for (auto& [p, n] : blocks) {
      if (p != nullptr && (next() & 1)) {
        ok &= intact(p, n);
        free(p);
        p = nullptr;
      }
      if (p == nullptr) {
        n = (next() >> 8) % 3 == 0 ? 16 + (next() >> 8) % 16384 : 1 + (next() >> 8) % 256;
        p = static_cast<uint8_t*>(malloc(n));
        if (p == nullptr) {
          ok = false;
          break;
        }
        fill(p, n);
      }
    }
  }
  for (auto& [p, n] : blocks) {
    if (p != nullptr) ok &= intact(p, n);
    free(p);
  }
  Check(ok, "2000 blocks of mixed sizes kept their pattern over 4 rounds");
  void* aligned = memalign(4096, 100);
  Check(aligned != nullptr && reinterpret_cast<uintptr_t>(aligned) % 4096 == 0,
        "memalign(4096) is aligned");
  free(aligned);
  return failures;
}

int OutOfMemory() {
  size_t too_much = skiff::TotalMemory() * 2;
  // volatile: the compiler may otherwise elide an unused allocation and its failure.
  void* volatile p = malloc(too_much);
  Check(p == nullptr, "malloc of twice the RAM returns NULL");
  char* volatile q = new (std::nothrow) char[too_much];
  Check(q == nullptr, "new (std::nothrow) of twice the RAM returns null");
  void* volatile r = malloc(1 << 20);
  Check(r != nullptr, "a 1 MiB malloc still works afterwards");
  free(r);
  return failures;
}

int Containers() {
  std::vector<int> v;
  for (int i = 0; i < 10000; i++) v.push_back((i * 7919) % 10007);
  std::sort(v.begin(), v.end());
  Check(std::is_sorted(v.begin(), v.end()) && v.size() == 10000, "vector and sort");
  std::unordered_map<std::string, int> m;
  for (int i = 0; i < 1000; i++) m["key" + std::to_string(i)] = i;
  Check(m.size() == 1000 && m["key742"] == 742, "unordered_map with string keys");
  std::map<int, std::string> ordered = {{3, "c"}, {1, "a"}, {2, "b"}};
  std::string s;
  for (const auto& [k, val] : ordered) s += val;
  Check(s == "abc", "map iterates in order");
  std::optional<std::string> o;
  Check(!o && o.value_or("empty") == "empty", "optional");
  auto shared = std::make_shared<std::string>("shared");
  std::weak_ptr<std::string> weak = shared;
  Check(weak.lock() && *weak.lock() == "shared", "shared_ptr and weak_ptr");
  shared.reset();
  Check(weak.expired(), "weak_ptr expires");
  char text[64];
  snprintf(text, sizeof(text), "%.3f %e %lld %zu", 3.14159, 6.02e23, -1234567890123LL,
           sizeof(long));
  Check(std::string_view(text) == "3.142 6.020000e+23 -1234567890123 8", "printf formats");
  return failures;
}

int Argv(int argc, char** argv) {
  for (int i = 0; i < argc; i++) printf("argv[%d] = [%s]\n", i, argv[i]);
  return 0;
}

using Fn = void (*)();

[[gnu::noinline]] void WriteText() {
  volatile uint8_t* text = reinterpret_cast<uint8_t*>(__text_start) + 16;
  *text = 0x90;
}

uint8_t data_code[16] = {0xc3};   // a `ret`, in writable, no-execute data

[[gnu::noinline]] void JumpToData() {
  Fn volatile f = reinterpret_cast<Fn>(data_code);
  f();
}

[[gnu::noinline]] void NullDereference() {
  volatile int* volatile p = nullptr;
  *p = 1;
}

uint32_t FpuState() {
  uint16_t control;
  uint32_t mxcsr;
  asm volatile("fnstcw %0; stmxcsr %1" : "=m"(control), "=m"(mxcsr));
  return uint32_t{control} << 16 | mxcsr;
}

// main and every task start with the x87 control word 0x37f (64-bit precision) and MXCSR
// 0x1f80, as on Linux; a domU's vCPU itself starts with 0x40 (24-bit precision).
int Fpu() {
  uint32_t in_main = FpuState();
  uint32_t in_task = 0;
  auto task = skiff::Spawn([&] { in_task = FpuState(); });
  if (!task) return Fail(task.error().message.c_str());
  skiff::Join(*task);
  printf("main: x87 0x%x, MXCSR 0x%x; task: x87 0x%x, MXCSR 0x%x\n", in_main >> 16,
         in_main & 0xffff, in_task >> 16, in_task & 0xffff);
  Check(in_main == (0x37fu << 16 | 0x1f80) && in_task == in_main,
        "main and a task start with x87 control word 0x37f and MXCSR 0x1f80");
  return failures;
}

// |depth| frames of a little over 1 KiB each.
[[gnu::noinline]] int Recurse(int depth) {
  char frame[1024];
  frame[0] = static_cast<char>(depth & 1);
  asm volatile("" : : "r"(frame) : "memory");   // the whole frame escapes: it must exist
  if (depth == 0) return 0;
  return Recurse(depth - 1) + frame[0];
}

// Recursion |kib| KiB deep in main: its stack (12 MiB here, by skiff_main_stack_size, unless
// skiff.main-stack= says otherwise) is mapped as it grows, and past its end is the crash
// report.
int DeepRecursion(int kib) {
  uint64_t free_before = skiff::FreeMemory();
  int odd = Recurse(kib);
  uint64_t grown = free_before - skiff::FreeMemory();
  printf("%d KiB deep in main: %d odd frames; %llu KiB of stack mapped on the way\n", kib, odd,
         static_cast<unsigned long long>(grown >> 10));
  Check(odd == kib / 2 && grown >= uint64_t(kib) * 1024,
        "deep recursion in main works, its stack mapped as it grows");
  return failures;
}

// value() on a Result that holds an error ends the guest with the error's message.
[[gnu::noinline]] void ValueOfError() {
  skiff::Result<int> missing = skiff::MakeError(ENOENT, "no such thing as '/data/x'");
  printf("value %d\n", missing.value());
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view test = argc > 1 ? argv[1] : "";
  if (test == "memory") return Memory();
  if (test == "heap") return Heap();
  if (test == "oom") return OutOfMemory();
  if (test == "containers") return Containers();
  if (test == "fpu") return Fpu();
  if (test == "recurse") return DeepRecursion(argc > 2 ? atoi(argv[2]) : 0);
  if (test == "argv") return Argv(argc, argv);
  if (test == "write-text") WriteText();
  if (test == "jump-to-data") JumpToData();
  if (test == "null") NullDereference();
  if (test == "value-of-error") ValueOfError();
  if (test == "exit") return atoi(argc > 2 ? argv[2] : "0");
  printf("FAIL: unknown test '%.*s'\n", static_cast<int>(test.size()), test.data());
  return 1;
}
