/* SPDX-License-Identifier: MIT */
/*
 * riscv64 kernel thread switch (include/arch/thread.h): save ra, sp and s0-s11 of the
 * running thread, load the next one's. The hart's stack limit (percpu.arch_scratch, read
 * by trap_entry.S) is saved and loaded with them, since it belongs to the stack.
 * Interrupts are masked throughout, so no trap sees a half-switched hart.
 */
#include <arch/arch_thread.h>

#define PERCPU_STACK_LIMIT 8 /* struct percpu.arch_scratch */

    .section .text.context_switch, "ax"
    .balign 4
    .globl arch_context_switch
/* void arch_context_switch(struct arch_context *from (a0), struct arch_context *to (a1)) */
arch_context_switch:
    sd      ra, ARCH_CONTEXT_RA(a0)
    sd      sp, ARCH_CONTEXT_SP(a0)
    sd      s0, ARCH_CONTEXT_S0 + 0*8(a0)
    sd      s1, ARCH_CONTEXT_S0 + 1*8(a0)
    sd      s2, ARCH_CONTEXT_S0 + 2*8(a0)
    sd      s3, ARCH_CONTEXT_S0 + 3*8(a0)
    sd      s4, ARCH_CONTEXT_S0 + 4*8(a0)
    sd      s5, ARCH_CONTEXT_S0 + 5*8(a0)
    sd      s6, ARCH_CONTEXT_S0 + 6*8(a0)
    sd      s7, ARCH_CONTEXT_S0 + 7*8(a0)
    sd      s8, ARCH_CONTEXT_S0 + 8*8(a0)
    sd      s9, ARCH_CONTEXT_S0 + 9*8(a0)
    sd      s10, ARCH_CONTEXT_S0 + 10*8(a0)
    sd      s11, ARCH_CONTEXT_S0 + 11*8(a0)
    ld      t0, PERCPU_STACK_LIMIT(tp)
    sd      t0, ARCH_CONTEXT_STACK_LIMIT(a0)

    ld      t0, ARCH_CONTEXT_STACK_LIMIT(a1)
    sd      t0, PERCPU_STACK_LIMIT(tp)
    ld      ra, ARCH_CONTEXT_RA(a1)
    ld      sp, ARCH_CONTEXT_SP(a1)
    ld      s0, ARCH_CONTEXT_S0 + 0*8(a1)
    ld      s1, ARCH_CONTEXT_S0 + 1*8(a1)
    ld      s2, ARCH_CONTEXT_S0 + 2*8(a1)
    ld      s3, ARCH_CONTEXT_S0 + 3*8(a1)
    ld      s4, ARCH_CONTEXT_S0 + 4*8(a1)
    ld      s5, ARCH_CONTEXT_S0 + 5*8(a1)
    ld      s6, ARCH_CONTEXT_S0 + 6*8(a1)
    ld      s7, ARCH_CONTEXT_S0 + 7*8(a1)
    ld      s8, ARCH_CONTEXT_S0 + 8*8(a1)
    ld      s9, ARCH_CONTEXT_S0 + 9*8(a1)
    ld      s10, ARCH_CONTEXT_S0 + 10*8(a1)
    ld      s11, ARCH_CONTEXT_S0 + 11*8(a1)
    ret

/*
 * First code of a new thread (ra of a fresh context): s1 = fn, s2 = arg, s0 = 0 (the
 * frame chain ends here). fn never returns; if it did, the hart would stop here.
 */
    .globl riscv_thread_start
riscv_thread_start:
    mv      a0, s2
    li      ra, 0
    jalr    s1
1:  wfi
    j       1b
