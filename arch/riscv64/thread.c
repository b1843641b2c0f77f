/* SPDX-License-Identifier: MIT */
/*
 * riscv64 thread contexts (include/arch/thread.h): a fresh context starts in
 * riscv_thread_start (context.S) with fn and arg in callee-saved registers, so the first
 * arch_context_switch() to it "returns" there. The switch itself is in context.S.
 */
#include <arch/thread.h>
#include <kernel/thread.h>

/* context.S */
void riscv_thread_start(void);

void arch_context_init(struct arch_context *ctx, uintptr_t stack_top, void (*fn)(void *arg),
                       void *arg) {
    *ctx = (struct arch_context){0};
    ctx->ra = (uintptr_t)riscv_thread_start;
    ctx->sp = stack_top & ~(uintptr_t)15;
    ctx->s[0] = 0; /* fp: backtraces stop here */
    ctx->s[1] = (uintptr_t)fn;
    ctx->s[2] = (uintptr_t)arg;
    /* Kernel thread stacks are THREAD_STACK_SIZE bytes below stack_top (thread.h). */
    ctx->stack_limit = stack_top - THREAD_STACK_SIZE;
}
