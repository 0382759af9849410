// The event channel upcall. Interrupts are enabled only while the event loop halts
// (skiff_halt, below), so all this does is wake it: clear vcpu_info's upcall flag (the
// callback vector is asserted for as long as it is set), EOI the local APIC when the event
// came through the per-vCPU vector, and return. The loop scans the bitmaps itself.
//
// An interrupt taken at skiff_halt's hlt itself returns past it. sti's one-instruction
// shadow should keep interrupts out until the hlt has begun, but under nested virtualization
// the shadow can be lost: the upcall then runs between sti and hlt, clears the upcall flag
// and, were it to return to the hlt, would leave the vCPU halted for good, since Xen raises
// no new upcall while the selector still has bits set.
        .text
        .globl skiff_upcall_entry
skiff_upcall_entry:
        pushq %rax
        pushq %rcx
        pushq %rdx
        leaq skiff_halt_hlt(%rip), %rax
        cmpq %rax, 24(%rsp)             // the interrupted rip, above the three pushes
        jne 2f
        leaq skiff_halt_woken(%rip), %rax
        movq %rax, 24(%rsp)
        incq skiff_halt_interrupted(%rip)
2:      movq skiff_upcall_pending(%rip), %rax
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

// void skiff_halt(): called with interrupts off; returns, with them off again, once an
// interrupt has come.
        .globl skiff_halt
skiff_halt:
        sti
        .globl skiff_halt_hlt
skiff_halt_hlt:
        hlt
skiff_halt_woken:
        cli
        ret

        .data
        .globl skiff_upcall_pending
        .p2align 3
skiff_upcall_pending:
        .quad 0
        .globl skiff_halt_interrupted
skiff_halt_interrupted:                 // interrupts taken at the hlt, not during it
        .quad 0
        .globl skiff_upcall_eoi
skiff_upcall_eoi:
        .byte 0

        .section .note.GNU-stack, "", @progbits
