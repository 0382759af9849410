// Exception entry stubs: each pushes a zero error code where the CPU pushes none, then its
// vector, saves every general register and calls SkiffException(frame). That returns only
// from a page fault it resolved (a stack growing on demand), and the faulting instruction
// runs again; every other exception ends in a crash report.
// Every exception runs on IST1 (runtime/arch/x86/idt.cc), so a stack overflow into a guard
// page still gets its report.
        .section .text.exceptions, "ax"

.macro stub vector, has_error
        .globl exception_stub_\vector
exception_stub_\vector:
        .if \has_error == 0
        pushq $0
        .endif
        pushq $\vector
        jmp exception_common
.endm

        stub 0, 0
        stub 1, 0
        stub 2, 0
        stub 3, 0
        stub 4, 0
        stub 5, 0
        stub 6, 0
        stub 7, 0
        stub 8, 1
        stub 9, 0
        stub 10, 1
        stub 11, 1
        stub 12, 1
        stub 13, 1
        stub 14, 1
        stub 15, 0
        stub 16, 0
        stub 17, 1
        stub 18, 0
        stub 19, 0
        stub 20, 0
        stub 21, 1
        stub 22, 0
        stub 23, 0
        stub 24, 0
        stub 25, 0
        stub 26, 0
        stub 27, 0
        stub 28, 0
        stub 29, 1
        stub 30, 1
        stub 31, 0

exception_common:
        pushq %rax
        pushq %rbx
        pushq %rcx
        pushq %rdx
        pushq %rsi
        pushq %rdi
        pushq %rbp
        pushq %r8
        pushq %r9
        pushq %r10
        pushq %r11
        pushq %r12
        pushq %r13
        pushq %r14
        pushq %r15
        movq %rsp, %rdi
        movq %rsp, %rbx                     // callee-saved: the frame, after the call
        andq $-16, %rsp
        call SkiffException                 // returns only from a fault it resolved
        movq %rbx, %rsp
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %r11
        popq %r10
        popq %r9
        popq %r8
        popq %rbp
        popq %rdi
        popq %rsi
        popq %rdx
        popq %rcx
        popq %rbx
        popq %rax
        addq $16, %rsp                      // the vector and the error code
        iretq

        .section .rodata
        .p2align 3
        .globl exception_stubs
exception_stubs:
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .quad exception_stub_\v
        .endr

        .section .note.GNU-stack, "", @progbits
