/*
 * entry.S: PVH entry of the probe test guest.
 *
 * Contract [xen/arch-x86/hvm/start_info.h, Xen docs/misc/pvh.pandoc]: the loader
 * (Xen, or QEMU's -kernel) starts us at the XEN_ELFNOTE_PHYS32_ENTRY address in
 * 32-bit protected mode with paging off, flat 4 GiB CS/DS/ES/SS, %ebx holding the
 * physical address of struct hvm_start_info, and no usable stack.
 *
 * We clear .bss, identity-map the first 4 GiB with 2 MiB pages (Xen puts the
 * console and xenstore pages just below 4 GiB), enter long mode and call
 * ProbeMain(start_info_paddr), which never returns.
 */
#include <xen/elfnote.h>

#define CR0_PE      (1 << 0)
#define CR0_PG      (1 << 31)
#define CR4_PAE     (1 << 5)
#define MSR_EFER    0xc0000080
#define EFER_LME    (1 << 8)
#define PTE_PRESENT (1 << 0)
#define PTE_WRITE   (1 << 1)
#define PTE_LARGE   (1 << 7)          /* a 2 MiB page in a page directory */
#define CODE64_SEL  0x08
#define DATA_SEL    0x10
#define STACK_SIZE  16384

/*
 * The note the loaders look for. QEMU reads the descriptor as a size_t for
 * ELF64 images and aligns the name by the PT_NOTE's p_align: 8-byte
 * descriptor, 4-byte alignment (probe.ld keeps the section at ALIGN(4)).
 */
        .section .note.Xen, "a", @note
        .balign 4
        .long   name_end - name_start     /* namesz */
        .long   desc_end - desc_start     /* descsz */
        .long   XEN_ELFNOTE_PHYS32_ENTRY  /* type */
name_start:
        .asciz  "Xen"
name_end:
        .balign 4
desc_start:
        .quad   ProbeEntry32
desc_end:

        .section .text.entry, "ax", @progbits
        .code32
        .globl  ProbeEntry32
ProbeEntry32:
        cli
        cld
        mov     %ebx, %esi                /* hvm_start_info paddr, kept until the call */

        mov     $__bss_start, %edi        /* loaders zero .bss; do not rely on it */
        mov     $__bss_end, %ecx
        sub     %edi, %ecx
        xor     %eax, %eax
        rep stosb

        mov     $(pdpt + PTE_PRESENT + PTE_WRITE), %eax
        mov     %eax, pml4                /* pml4[0] covers 512 GiB */

        mov     $(page_dirs + PTE_PRESENT + PTE_WRITE), %eax
        mov     $pdpt, %edi
        mov     $4, %ecx                  /* pdpt[0..3]: one directory per GiB */
1:      mov     %eax, (%edi)
        add     $4096, %eax
        add     $8, %edi
        loop    1b

        mov     $(PTE_PRESENT + PTE_WRITE + PTE_LARGE), %eax
        mov     $page_dirs, %edi
        mov     $(4 * 512), %ecx          /* 2048 x 2 MiB = 4 GiB, VA == PA */
2:      mov     %eax, (%edi)              /* the upper half stays 0 (below 4 GiB) */
        add     $0x200000, %eax
        add     $8, %edi
        loop    2b

        mov     %cr4, %eax
        or      $CR4_PAE, %eax
        mov     %eax, %cr4
        mov     $pml4, %eax
        mov     %eax, %cr3
        mov     $MSR_EFER, %ecx
        rdmsr
        or      $EFER_LME, %eax
        wrmsr
        mov     %cr0, %eax
        or      $(CR0_PG | CR0_PE), %eax  /* paging on with LME set: long mode */
        mov     %eax, %cr0

        lgdt    gdt_desc
        ljmp    $CODE64_SEL, $entry64

        .code64
entry64:
        mov     $DATA_SEL, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        xor     %eax, %eax
        mov     %eax, %fs
        mov     %eax, %gs
        mov     $stack_top, %rsp          /* 16-byte aligned before the call */
        xor     %ebp, %ebp                /* ends frame-pointer walks */
        mov     %esi, %edi                /* zero-extends: ProbeMain(start_info_paddr) */
        call    ProbeMain
3:      cli                               /* not reached: ProbeMain is noreturn */
        hlt
        jmp     3b

/* Xen fills this page with one 32-byte stub per hypercall when we write its
 * address to the MSR from CPUID leaf base+2 [xen/arch-x86/cpuid.h]. */
        .section .hypercall_page, "ax", @progbits
        .balign 4096
        .globl  hypercall_page
hypercall_page:
        .fill   4096, 1, 0xcc             /* int3 until Xen overwrites it */

        .section .rodata.gdt, "a", @progbits
        .balign 8
gdt:
        .quad   0                         /* null */
        .quad   0x00af9a000000ffff        /* CODE64_SEL: 64-bit code, DPL 0 */
        .quad   0x00cf92000000ffff        /* DATA_SEL: flat data */
gdt_desc:
        .word   gdt_desc - gdt - 1
        .long   gdt

        .section .bss.entry, "aw", @nobits
        .balign 4096
pml4:   .skip   4096
pdpt:   .skip   4096
page_dirs:
        .skip   4 * 4096
        .balign 16
stack:  .skip   STACK_SIZE
stack_top:

        .section .note.GNU-stack, "", @progbits
