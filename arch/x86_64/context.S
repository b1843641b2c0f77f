/* SPDX-License-Identifier: MIT */
/*
 * Kernel thread switch (include/arch/thread.h). The switch pushes the System V
 * callee-saved registers on the old stack, stores rsp in from->rsp, loads to->rsp and
 * pops the same set: whatever the compiler kept in caller-saved registers is already
 * spilled by the call. FP/SIMD registers move lazily (fpu.c; the portable layer saves them
 * before this switch only if the thread used them), and kernel C code never touches them.
 * A new thread's stack (thread.c) holds a frame shaped like a switched-out one whose
 * return address is x86_thread_start.
 */
    .text

/* void arch_context_switch(struct arch_context *from, struct arch_context *to) */
    .globl arch_context_switch
    .type arch_context_switch, @function
    .balign 16
arch_context_switch:
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    movq    %rsp, (%rdi)
    movq    (%rsi), %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret
    .size arch_context_switch, . - arch_context_switch

/*
 * First code of a new thread: r12 = arg, r13 = fn, rbp = 0, and rsp points at a zero
 * slot that stands in for the return address, as if fn had been called.
 */
    .globl x86_thread_start
    .type x86_thread_start, @function
x86_thread_start:
    movq    %r12, %rdi
    jmp     *%r13
    .size x86_thread_start, . - x86_thread_start

    .section .note.GNU-stack, "", @progbits
