#include "runtime/arch/x86/idt.h"

#include <stdio.h>

#include "boot/layout.h"
#include "runtime/arch/x86/cpu.h"
#include "runtime/mm/stacks.h"
#include "runtime/sched/scheduler.h"
#include "runtime/xen/console.h"
#include "runtime/xen/hypercall.h"

extern "C" const uint64_t exception_stubs[32];
extern "C" char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern "C" char __image_end[], boot_stack_guard[], boot_stack_bottom[];

namespace skiff::x86 {
namespace {

constexpr uint16_t kTssSelector = 0x18;

struct [[gnu::packed]] Tss {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t iomap_base;
};
static_assert(sizeof(Tss) == 104);

struct [[gnu::packed]] Gate {
  uint16_t offset_low, selector;
  uint8_t ist, type;
  uint16_t offset_mid;
  uint32_t offset_high, reserved;
};
static_assert(sizeof(Gate) == 16);

struct [[gnu::packed]] TablePointer {
  uint16_t limit;
  uint64_t base;
};

alignas(16) uint8_t exception_stack[16384];
Tss tss;
uint64_t gdt[5] = {0, 0x00af9a000000ffff, 0x00cf92000000ffff, 0, 0};   // + the TSS
Gate idt[256];

const char* const kNames[32] = {
    "divide error (#DE)", "debug (#DB)", "NMI", "breakpoint (#BP)", "overflow (#OF)",
    "bound range (#BR)", "invalid opcode (#UD)", "device not available (#NM)",
    "double fault (#DF)", "coprocessor overrun", "invalid TSS (#TS)",
    "segment not present (#NP)", "stack fault (#SS)", "general protection fault (#GP)",
    "page fault (#PF)", "reserved 15", "x87 floating point (#MF)", "alignment check (#AC)",
    "machine check (#MC)", "SIMD floating point (#XM)", "virtualization (#VE)",
    "control protection (#CP)"};

bool Within(uint64_t a, const char* start, const char* end) {
  return a >= reinterpret_cast<uint64_t>(start) && a < reinterpret_cast<uint64_t>(end);
}

// The task whose stack or guard page holds |a|, if any.
const Task* TaskAt(uint64_t a, bool* in_guard) {
  sched::Scheduler* s = sched::Current();
  return s != nullptr ? s->TaskAt(a, in_guard) : nullptr;
}

const char* Area(uint64_t a) {
  static char text[64];
  bool in_guard;
  if (a < SKIFF_PAGE_SIZE) return "the NULL page";
  if (const Task* task = TaskAt(a, &in_guard)) {
    snprintf(text, sizeof(text), "%s of task '%s'",
             in_guard ? "the guard below the stack" : "the stack", TaskName(task));
    return text;
  }
  if (Within(a, boot_stack_guard, boot_stack_bottom)) return "the boot stack's guard page";
  if (Within(a, __text_start, __text_end)) return "text";
  if (Within(a, __rodata_start, __rodata_end)) return "rodata";
  if (Within(a, __rodata_end, __image_end)) return "data or bss";
  return "memory outside the image";
}

void DescribePageFault(uint64_t address, uint64_t error) {
  const char* what;
  if (address < SKIFF_PAGE_SIZE) {
    what = "NULL pointer dereference";
  } else if (error & (1 << 4)) {
    what = "instruction fetch from no-execute memory";
  } else if ((error & 1) && (error & 2)) {
    what = "write to read-only memory";
  } else if (bool in_guard; TaskAt(address, &in_guard) != nullptr && in_guard) {
    what = "stack overflow";
  } else if (Within(address, boot_stack_guard, boot_stack_bottom)) {
    what = "stack overflow";
  } else {
    what = (error & 2) ? "write to unmapped memory" : "read from unmapped memory";
  }
  xen::ConsolePrint("skiff: %s at 0x%lx (%s)\n", what, address, Area(address));
}

void Backtrace(uint64_t rip, uint64_t rbp) {
  xen::ConsolePrint("skiff: backtrace: 0x%lx", rip);
  // Follow saved frame pointers while they stay on a plausible, aligned, mapped stack.
  // Once tasks exist, only within the stack of one of them.
  auto on_a_stack = [](uint64_t a) {
    bool in_guard = false;
    return sched::Current() == nullptr || (TaskAt(a, &in_guard) != nullptr && !in_guard);
  };
  for (int depth = 0; depth < 24 && rbp != 0 && (rbp & 7) == 0 && rbp >= SKIFF_PAGE_SIZE &&
                      !Within(rbp, boot_stack_guard, boot_stack_bottom) && on_a_stack(rbp);
       depth++) {
    const uint64_t* frame = reinterpret_cast<const uint64_t*>(rbp);
    uint64_t ret = frame[1];
    if (!Within(ret, __text_start, __text_end)) break;
    xen::ConsolePrint(" 0x%lx", ret);
    if (frame[0] <= rbp) break;   // frames grow up the stack
    rbp = frame[0];
  }
  xen::ConsolePrint("\n");
}

bool in_crash;

}  // namespace

void InstallIdt() {
  tss.ist[0] = reinterpret_cast<uint64_t>(exception_stack + sizeof(exception_stack));
  tss.iomap_base = sizeof(Tss);
  uint64_t base = reinterpret_cast<uint64_t>(&tss);
  gdt[3] = (sizeof(Tss) - 1) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
           (((base >> 24) & 0xff) << 56);
  gdt[4] = base >> 32;
  TablePointer gdtp = {sizeof(gdt) - 1, reinterpret_cast<uint64_t>(gdt)};
  asm volatile("lgdt %0; ltr %w1" ::"m"(gdtp), "r"(kTssSelector) : "memory");
  for (int v = 0; v < 32; v++) {
    uint64_t a = exception_stubs[v];
    idt[v] = {static_cast<uint16_t>(a), SKIFF_CODE64, 1, 0x8e, static_cast<uint16_t>(a >> 16),
              static_cast<uint32_t>(a >> 32), 0};
  }
  TablePointer idtp = {sizeof(idt) - 1, reinterpret_cast<uint64_t>(idt)};
  asm volatile("lidt %0" ::"m"(idtp));
}

void SetInterruptGate(uint8_t vector, void (*handler)()) {
  auto a = reinterpret_cast<uint64_t>(handler);
  idt[vector] = {static_cast<uint16_t>(a), SKIFF_CODE64, 0, 0x8e, static_cast<uint16_t>(a >> 16),
                 static_cast<uint32_t>(a >> 32), 0};
}

// Names the running task, once the scheduler runs.
void ReportTask() {
  sched::Scheduler* s = sched::Current();
  if (s != nullptr) xen::ConsolePrint("skiff: in task '%s'\n", TaskName(s->current()));
}

void Crash(const char* reason) {
  xen::ConsolePrint("skiff: CRASH: %s\n", reason);
  ReportTask();
  uint64_t rbp;
  asm volatile("mov %%rbp, %0" : "=r"(rbp));
  Backtrace(reinterpret_cast<uint64_t>(__builtin_return_address(0)), rbp);
  xen::ConsoleFlush();
  xen::Shutdown(SHUTDOWN_crash);
}

}  // namespace skiff::x86

extern "C" void SkiffException(skiff::x86::ExceptionFrame* f) {
  using skiff::xen::ConsolePrint;
  // A stack that grows on demand: map the page and run the instruction again.
  if (f->vector == 14 && !skiff::x86::in_crash) {
    skiff::mm::Growth growth = skiff::mm::GrowStack(skiff::x86::ReadCr2());
    if (growth == skiff::mm::Growth::kGrown) return;
    if (growth == skiff::mm::Growth::kOutOfMemory) {
      ConsolePrint("skiff: out of memory to grow a stack at 0x%lx\n", skiff::x86::ReadCr2());
    }
  }
  if (skiff::x86::in_crash) {
    ConsolePrint("skiff: another exception (vector %lu) inside the crash report\n", f->vector);
    skiff::xen::Shutdown(SHUTDOWN_crash);
  }
  skiff::x86::in_crash = true;
  const char* name = f->vector < 22 ? skiff::x86::kNames[f->vector] : "reserved exception";
  ConsolePrint("skiff: CRASH: %s, vector %lu, error code 0x%lx, at rip 0x%lx (%s)\n", name,
               f->vector, f->error_code, f->rip, skiff::x86::Area(f->rip));
  if (f->vector == 14) skiff::x86::DescribePageFault(skiff::x86::ReadCr2(), f->error_code);
  skiff::x86::ReportTask();
  ConsolePrint("skiff: rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", f->rax, f->rbx, f->rcx,
               f->rdx);
  ConsolePrint("skiff: rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", f->rsi, f->rdi, f->rbp,
               f->rsp);
  ConsolePrint("skiff: r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n", f->r8, f->r9, f->r10,
               f->r11);
  ConsolePrint("skiff: r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n", f->r12, f->r13, f->r14,
               f->r15);
  ConsolePrint("skiff: rflags %016lx cs %04lx ss %04lx\n", f->rflags, f->cs, f->ss);
  skiff::x86::Backtrace(f->rip, f->rbp);
  skiff::xen::ConsoleFlush();
  skiff::xen::Shutdown(SHUTDOWN_crash);
}
