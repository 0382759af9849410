// The task switch, for the guest and the host alike (System V x86-64).
//
// void skiff_context_switch(void** save_sp, void* load_sp)
//   Saves the callee-saved registers, MXCSR and the x87 control word on the current stack,
//   stores the stack pointer in *save_sp, and resumes the context saved at load_sp.
// A new task's stack is laid out as if it had switched out just before skiff_task_start,
// with its argument in r12 and its entry function in r13 (runtime/sched/scheduler.cc).
        .text
        .globl skiff_context_switch
        .type skiff_context_switch, @function
skiff_context_switch:
        pushq %rbp
        pushq %rbx
        pushq %r12
        pushq %r13
        pushq %r14
        pushq %r15
        subq $8, %rsp
        stmxcsr (%rsp)
        fnstcw 4(%rsp)
        movq %rsp, (%rdi)
        movq %rsi, %rsp
        ldmxcsr (%rsp)
        fldcw 4(%rsp)
        addq $8, %rsp
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %rbx
        popq %rbp
        ret
        .size skiff_context_switch, . - skiff_context_switch

        .globl skiff_task_start
        .type skiff_task_start, @function
skiff_task_start:
        movq %r12, %rdi
        callq *%r13
        ud2                     // the entry function never returns
        .size skiff_task_start, . - skiff_task_start

        .section .note.GNU-stack, "", @progbits
