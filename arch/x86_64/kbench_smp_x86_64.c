/* SPDX-License-Identifier: MIT */
/*
 * x86_64 in-kernel benchmark (KTEST builds, run by "bench"): the bare arch_context_switch,
 * two contexts handing the CPU to each other with no scheduler in between. The portable
 * context_switch benchmark (two threads yielding) adds the scheduler to this floor.
 */
#include <arch/cpu.h>
#include <arch/thread.h>
#include <kernel/kbench.h>
#include <kernel/kprintf.h>
#include <kernel/thread.h>
#include <kernel/vmm.h>

#define ROUNDS 512

static struct arch_context bench_main, bench_side;

static void bench_side_fn(void *arg) {
    (void)arg;
    for (;;) {
        arch_context_switch(&bench_side, &bench_main);
    }
}

KBENCH(x86_arch_context_switch) {
    static uint64_t samples[ROUNDS];
    uint8_t *stack = vmalloc(THREAD_STACK_SIZE);
    if (stack == NULL) {
        kprintf("kbench: x86_arch_context_switch: no memory\n");
        return;
    }
    unsigned long flags = arch_irq_save();
    arch_context_init(&bench_side, (uintptr_t)(stack + THREAD_STACK_SIZE), bench_side_fn, NULL);
    arch_context_switch(&bench_main, &bench_side); /* first entry: not timed */
    for (unsigned i = 0; i < ROUNDS; i++) {
        uint64_t t0 = arch_cycle_counter();
        arch_context_switch(&bench_main, &bench_side);
        uint64_t t1 = arch_cycle_counter();
        samples[i] = (t1 - t0) / 2; /* there and back: two switches */
    }
    arch_irq_restore(flags);
    kbench_report("x86_arch_context_switch", samples, ROUNDS);
    vfree(stack);
}
