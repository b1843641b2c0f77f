/* SPDX-License-Identifier: MIT */
/*
 * x86_64 kernel thread contexts: the initial stack of a new thread, laid out exactly as
 * arch_context_switch (context.S) leaves a switched-out one, so the first switch to it
 * "returns" into x86_thread_start, which calls fn(arg).
 */
#include <arch/thread.h>

/* context.S */
void x86_thread_start(void);

/* What arch_context_switch pops, lowest address first. */
struct initial_frame {
    uint64_t r15, r14, r13, r12, rbx, rbp;
    uint64_t rip;      /* x86_thread_start */
    uint64_t ret_slot; /* 0: fn's "return address", ends backtraces */
};

void arch_context_init(struct arch_context *ctx, uintptr_t stack_top, void (*fn)(void *arg),
                       void *arg) {
    /* fn is entered with rsp = stack_top - 8 pointing at ret_slot, as after a call. */
    struct initial_frame *f = (struct initial_frame *)(stack_top - sizeof(*f));
    *f = (struct initial_frame){
        .r12 = (uint64_t)(uintptr_t)arg,
        .r13 = (uint64_t)(uintptr_t)fn,
        .rbp = 0,
        .rip = (uint64_t)(uintptr_t)x86_thread_start,
        .ret_slot = 0,
    };
    ctx->rsp = (uint64_t)(uintptr_t)f;
}
