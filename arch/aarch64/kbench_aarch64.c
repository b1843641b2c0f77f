/* SPDX-License-Identifier: MIT */
/*
 * AArch64 KBENCH of the bare HAL context switch (context.S), below the scheduler: two
 * contexts on one CPU switch to each other; one sample is a round trip, reported per
 * switch. It is the floor under the portable context_switch benchmark on this arch.
 */
#include <arch/cpu.h>
#include <arch/thread.h>
#include <kernel/kbench.h>
#include <kernel/kprintf.h>
#include <kernel/thread.h>
#include <kernel/vmm.h>

#define ROUNDS 512

static struct arch_context bench_main, bench_other;

static void bench_partner(void *arg) {
    (void)arg;
    for (;;) {
        arch_context_switch(&bench_other, &bench_main);
    }
}

KBENCH(aarch64_arch_context_switch) {
    static uint64_t samples[ROUNDS];
    char *stack = vmalloc_aligned(THREAD_STACK_SIZE, ARCH_THREAD_STACK_ALIGN);

    if (stack == NULL) {
        kprintf("kbench: aarch64_arch_context_switch: no memory\n");
        return;
    }
    unsigned long flags = arch_irq_save();
    arch_context_init(&bench_other, (uintptr_t)stack + THREAD_STACK_SIZE, bench_partner, NULL);
    arch_context_switch(&bench_main, &bench_other); /* warm up: the partner's first run */
    for (unsigned i = 0; i < ROUNDS; i++) {
        uint64_t t0 = arch_cycle_counter();
        arch_context_switch(&bench_main, &bench_other);
        uint64_t t1 = arch_cycle_counter();
        samples[i] = (t1 - t0) / 2; /* two switches per round trip */
    }
    arch_irq_restore(flags);
    vfree(stack);
    kbench_report("aarch64_arch_context_switch", samples, ROUNDS);
}
