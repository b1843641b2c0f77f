/* SPDX-License-Identifier: MIT */
/*
 * riscv64 kernel thread context for include/arch/thread.h: what context.S saves on a
 * switch (ra, sp and the callee-saved s0-s11 of the psABI) plus the stack limit that the
 * trap vector checks, which follows the thread from hart to hart.
 */
#ifndef ARCH_RISCV64_ARCH_THREAD_H
#define ARCH_RISCV64_ARCH_THREAD_H

#define ARCH_CONTEXT_RA          0
#define ARCH_CONTEXT_SP          8
#define ARCH_CONTEXT_S0          16 /* s0..s11 at 16 + 8 * i */
#define ARCH_CONTEXT_STACK_LIMIT 112
#define ARCH_CONTEXT_SIZE        120

/* Kernel stacks need no alignment beyond a page here (the overflow check is by address). */
#define ARCH_THREAD_STACK_ALIGN 4096

#ifndef __ASSEMBLER__
#include <kernel/compiler.h>
#include <stdint.h>

/*
 * A thread that is not running. stack_limit is the lowest address its stack may hold
 * (just above the guard page); arch_context_switch() moves it into the hart's per-CPU
 * word that trap_entry.S checks before it pushes a trap frame.
 */
struct arch_context {
    uint64_t ra;
    uint64_t sp;
    uint64_t s[12];
    uint64_t stack_limit;
};

STATIC_ASSERT(sizeof(struct arch_context) == ARCH_CONTEXT_SIZE, "context.S layout");
STATIC_ASSERT(__builtin_offsetof(struct arch_context, sp) == ARCH_CONTEXT_SP, "sp");
STATIC_ASSERT(__builtin_offsetof(struct arch_context, s) == ARCH_CONTEXT_S0, "s0");
STATIC_ASSERT(__builtin_offsetof(struct arch_context, stack_limit) == ARCH_CONTEXT_STACK_LIMIT,
              "stack_limit");
#endif

#endif /* ARCH_RISCV64_ARCH_THREAD_H */
