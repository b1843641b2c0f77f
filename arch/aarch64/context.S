/* SPDX-License-Identifier: MIT */
/*
 * The AArch64 kernel context switch: save the callee-saved registers (x19-x30) and SP of
 * the running thread into its struct arch_context (arch_thread.h), load the next one's,
 * return into it. Everything else the AAPCS64 lets a call clobber, so nothing else is
 * saved. Also the first frame of a new thread.
 */

    .text
    /* void arch_context_switch(struct arch_context *from, struct arch_context *to) */
    .globl  arch_context_switch
    .type   arch_context_switch, %function
arch_context_switch:
    mov     x9, sp
    stp     x19, x20, [x0, #0]
    stp     x21, x22, [x0, #16]
    stp     x23, x24, [x0, #32]
    stp     x25, x26, [x0, #48]
    stp     x27, x28, [x0, #64]
    stp     x29, x30, [x0, #80]
    str     x9, [x0, #96]
    ldp     x19, x20, [x1, #0]
    ldp     x21, x22, [x1, #16]
    ldp     x23, x24, [x1, #32]
    ldp     x25, x26, [x1, #48]
    ldp     x27, x28, [x1, #64]
    ldp     x29, x30, [x1, #80]
    ldr     x9, [x1, #96]
    mov     sp, x9
    ret
    .size   arch_context_switch, . - arch_context_switch

    /*
     * First code of a thread (arch_context_init put fn in x19, arg in x20, fp = 0): call
     * fn(arg); it must not return. If it does, stop loudly.
     */
    .globl  aarch64_thread_start
    .type   aarch64_thread_start, %function
aarch64_thread_start:
    mov     x0, x20
    blr     x19
    bl      aarch64_thread_returned
1:  b       1b
    .size   aarch64_thread_start, . - aarch64_thread_start

    .section .note.GNU-stack, "", %progbits
