// The IDT: every CPU exception prints a crash report (what faulted, the registers, the fault
// address, a frame-pointer backtrace) on the console and crashes the domain.
#ifndef SKIFF_RUNTIME_ARCH_X86_IDT_H_
#define SKIFF_RUNTIME_ARCH_X86_IDT_H_

#include <stdint.h>

namespace skiff::x86 {

// What the exception stubs (exceptions.S) leave on the stack, lowest address first.
struct ExceptionFrame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector, error_code;
  uint64_t rip, cs, rflags, rsp, ss;   // pushed by the CPU
};
static_assert(sizeof(ExceptionFrame) == 22 * 8);

// Loads the runtime's GDT (with a TSS whose IST1 is the exception stack) and the IDT.
void InstallIdt();

// Points interrupt vector |vector| (32-255) at |handler|, on the current stack.
void SetInterruptGate(uint8_t vector, void (*handler)());

// Prints a crash report headed by |reason| and crashes the domain (or, in dom0 mode, Xen).
[[noreturn]] void Crash(const char* reason);

}  // namespace skiff::x86

#endif  // SKIFF_RUNTIME_ARCH_X86_IDT_H_
