/* SPDX-License-Identifier: MIT */
/*
 * The bare HAL context switch, below the scheduler, on every arch: two contexts on one
 * CPU hand it to each other through arch_context_switch() alone. One sample is a round
 * trip, reported per switch. It is the floor under the context_switch benchmark (two
 * threads yielding through schedule()).
 */
#include <arch/cpu.h>
#include <arch/thread.h>
#include <kernel/kbench.h>
#include <kernel/kprintf.h>
#include <kernel/thread.h>
#include <kernel/vmm.h>

#define ROUNDS 512

static struct arch_context bench_main, bench_partner_ctx;

static void bench_partner(void *arg) {
    (void)arg;
    for (;;) {
        arch_context_switch(&bench_partner_ctx, &bench_main);
    }
}

KBENCH(arch_context_switch) {
    static uint64_t samples[ROUNDS];
    char *stack = vmalloc_stack(THREAD_STACK_SIZE, ARCH_THREAD_STACK_ALIGN);

    if (stack == NULL) {
        kprintf("kbench: arch_context_switch: no memory\n");
        return;
    }
    unsigned long flags = arch_irq_save();
    arch_context_init(&bench_partner_ctx, (uintptr_t)stack + THREAD_STACK_SIZE, bench_partner,
                      NULL);
    arch_context_switch(&bench_main, &bench_partner_ctx); /* the partner's first run: untimed */
    for (unsigned i = 0; i < ROUNDS; i++) {
        uint64_t t0 = arch_cycle_counter();
        arch_context_switch(&bench_main, &bench_partner_ctx);
        uint64_t t1 = arch_cycle_counter();
        samples[i] = (t1 - t0) / 2; /* there and back: two switches */
    }
    arch_irq_restore(flags);
    vfree(stack);
    kbench_report("arch_context_switch", samples, ROUNDS);
}
