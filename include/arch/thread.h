/* SPDX-License-Identifier: MIT */
/*
 * HAL contract: kernel thread contexts. A context is the callee-saved registers and the
 * stack pointer of a thread that is not running; switching saves the current thread's
 * and loads the next one's. Kernel code is built without FPU/SIMD registers, so a switch
 * between kernel threads saves none (user FPU state will be switched lazily).
 */
#ifndef ARCH_THREAD_H
#define ARCH_THREAD_H

#include <kernel/types.h>

struct arch_context; /* body in <arch/arch_thread.h> */

/*
 * Prepare ctx so that the first arch_context_switch() to it runs fn(arg) on the stack
 * ending at stack_top (16-byte aligned), with a zero frame pointer so backtraces stop
 * there, and interrupts masked. fn never returns. Any context.
 */
void arch_context_init(struct arch_context *ctx, uintptr_t stack_top, void (*fn)(void *arg),
                       void *arg);

/*
 * Save the running thread's context into from and continue in to; returns (in from's
 * thread) when something switches back to from. Interrupts masked, no spinlock held
 * except the ones the scheduler hands over.
 */
void arch_context_switch(struct arch_context *from, struct arch_context *to);

#include <arch/arch_thread.h>

/*
 * Alignment a kernel thread stack needs (a power of two): allocate stacks with
 * vmalloc_stack(THREAD_STACK_SIZE, ARCH_THREAD_STACK_ALIGN). An arch_thread.h may raise
 * it (AArch64: 32 KiB, for the vectors' overflow check); the default is a page.
 */
#ifndef ARCH_THREAD_STACK_ALIGN
#define ARCH_THREAD_STACK_ALIGN PAGE_SIZE
#endif

#endif /* ARCH_THREAD_H */
