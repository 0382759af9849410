// The PVH entry: Xen starts us in 32-bit protected mode with paging off, %ebx holding the
// physical address of struct hvm_start_info. [xen/arch-x86/hvm/start_info.h]
// We identity-map the first 4 GiB with 2 MiB pages, turn on PAE, long mode, NX and SSE, and
// call SkiffBoot(start_info, entry_tsc) on the boot stack. The runtime replaces these tables.
#include "boot/layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18   // [xen/elfnote.h]
#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_TS (1 << 3)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)
#define PTE_P 0x1
#define PTE_RW 0x2
#define PTE_PS 0x80

// QEMU reads this note's descriptor as a size_t in an ELF64 image, so it is 8 bytes;
// the note is 4-byte aligned, as both Xen's libelf and QEMU expect.
        .section .note.Xen, "a", @note
        .p2align 2
        .long 4, 8, XEN_ELFNOTE_PHYS32_ENTRY
        .asciz "Xen"
        .p2align 2
        .quad pvh_start32

        .section .text.boot, "ax"
        .code32
        .globl pvh_start32
pvh_start32:
        cli
        cld
        rdtsc
        movl %eax, boot_entry_tsc
        movl %edx, boot_entry_tsc + 4
        movl %ebx, boot_start_info

        // PML4[0] -> PDPT; PDPT[i] -> PD[i]; PD entries map 2 MiB each.
        movl $boot_pdpt + (PTE_P | PTE_RW), boot_pml4
        xorl %ecx, %ecx
1:      movl %ecx, %eax                     // PD i lives at boot_pd + i * 4096
        shll $12, %eax
        addl $boot_pd + (PTE_P | PTE_RW), %eax
        movl %eax, boot_pdpt(, %ecx, 8)
        incl %ecx
        cmpl $SKIFF_BOOT_MAP_GIB, %ecx
        jb 1b
        xorl %ecx, %ecx
2:      movl %ecx, %eax
        shll $21, %eax
        orl $(PTE_P | PTE_RW | PTE_PS), %eax
        movl %eax, boot_pd(, %ecx, 8)
        movl %ecx, %eax
        shrl $11, %eax                      // bits 32 and up of the 2 MiB frame
        movl %eax, boot_pd + 4(, %ecx, 8)
        incl %ecx
        cmpl $(SKIFF_BOOT_MAP_GIB * 512), %ecx
        jb 2b

        movl %cr4, %eax
        orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
        movl %eax, %cr4
        movl $boot_pml4, %eax
        movl %eax, %cr3
        movl $MSR_EFER, %ecx
        rdmsr
        orl $(EFER_LME | EFER_NXE), %eax
        wrmsr
        movl %cr0, %eax
        andl $~(CR0_EM | CR0_TS), %eax
        orl $(CR0_PE | CR0_MP | CR0_WP | CR0_PG), %eax
        movl %eax, %cr0
        lgdt boot_gdt_pointer
        ljmp $SKIFF_CODE64, $long_mode

        .code64
long_mode:
        movl $SKIFF_DATA64, %eax
        movl %eax, %ds
        movl %eax, %es
        movl %eax, %ss
        xorl %eax, %eax
        movl %eax, %fs
        movl %eax, %gs
        leaq boot_stack_top(%rip), %rsp
        xorl %ebp, %ebp                     // ends the frame-pointer chain for backtraces
        // The FPU state every task starts with (the scheduler's too): x87 control word 0x37f
        // (64-bit precision, exceptions masked) and MXCSR 0x1f80. A vCPU of a domU starts with
        // 0x40 (24-bit precision), which newlib's printf of a double, done in long double,
        // would show.
        fninit
        ldmxcsr boot_mxcsr(%rip)
        movl boot_start_info(%rip), %edi
        movq boot_entry_tsc(%rip), %rsi
        call SkiffBoot
3:      cli
        hlt
        jmp 3b

        .section .rodata.boot, "a"
        .p2align 2
boot_mxcsr:
        .long 0x1f80
        .p2align 3
boot_gdt:
        .quad 0
        .quad 0x00af9a000000ffff            // SKIFF_CODE64: 64-bit code, DPL 0
        .quad 0x00cf92000000ffff            // SKIFF_DATA64: data, DPL 0
boot_gdt_end:
        .globl boot_gdt_pointer
boot_gdt_pointer:
        .word boot_gdt_end - boot_gdt - 1
        .quad boot_gdt

        .section .data.boot, "aw"
        .p2align 3
        .globl boot_entry_tsc
boot_entry_tsc:
        .quad 0
boot_start_info:
        .long 0

        .section .bss.boot, "aw", @nobits
        .p2align 12
boot_pml4:
        .skip SKIFF_PAGE_SIZE
boot_pdpt:
        .skip SKIFF_PAGE_SIZE
boot_pd:
        .skip SKIFF_PAGE_SIZE * SKIFF_BOOT_MAP_GIB
        .globl boot_stack_guard
boot_stack_guard:                           // unmapped by the runtime's page tables
        .skip SKIFF_PAGE_SIZE
        .globl boot_stack_bottom
boot_stack_bottom:
        .skip SKIFF_BOOT_STACK_SIZE
        .globl boot_stack_top
boot_stack_top:

        .section .note.GNU-stack, "", @progbits
