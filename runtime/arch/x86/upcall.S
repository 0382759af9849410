// The event channel upcall. Interrupts are enabled only while the event loop halts
// (runtime/xen/loop.cc), so all this does is wake it: clear vcpu_info's upcall flag (the
// callback vector is asserted for as long as it is set), EOI the local APIC when the event
// came through the per-vCPU vector, and return. The loop scans the bitmaps itself.
        .text
        .globl skiff_upcall_entry
skiff_upcall_entry:
        pushq %rax
        pushq %rcx
        pushq %rdx
        movq skiff_upcall_pending(%rip), %rax
        movb $0, (%rax)
        cmpb $0, skiff_upcall_eoi(%rip)
        je 1f
        movl $0x80b, %ecx               // x2APIC EOI
        xorl %eax, %eax
        xorl %edx, %edx
        wrmsr
1:      popq %rdx
        popq %rcx
        popq %rax
        iretq

        .globl skiff_spurious_entry
skiff_spurious_entry:
        iretq

        .data
        .globl skiff_upcall_pending
        .p2align 3
skiff_upcall_pending:
        .quad 0
        .globl skiff_upcall_eoi
skiff_upcall_eoi:
        .byte 0

        .section .note.GNU-stack, "", @progbits
