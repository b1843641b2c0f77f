/* SPDX-License-Identifier: MIT */
/*
 * x86_64 KBENCH of lazy FP/SIMD ("bench"): what a switch costs between two threads that
 * both use the unit in every run (switch, XSAVE and CR0.TS on the way out, #NM, CLTS and
 * XRSTOR on the way in), next to the portable context_switch of threads that never do.
 */
#include <arch/cpu.h>
#include <kernel/kbench.h>
#include <kernel/kprintf.h>
#include <kernel/percpu.h>
#include <kernel/sync.h>
#include <kernel/thread.h>

#include "x86.h"

#define ROUNDS 512
#define WARMUP 16

static uint64_t samples[ROUNDS];
static volatile bool fpu_bench_stop;
static semaphore_t fpu_bench_done;

static void fpu_measure(void *arg) {
    (void)arg;
    x86_fpu_touch();
    for (unsigned i = 0; i < ROUNDS + WARMUP; i++) {
        uint64_t t0 = arch_cycle_counter();
        thread_yield(); /* to the partner, which touches the unit and yields back */
        x86_fpu_touch();
        uint64_t t1 = arch_cycle_counter();
        if (i >= WARMUP) {
            samples[i - WARMUP] = (t1 - t0) / 2;
        }
    }
    fpu_bench_stop = true;
    up(&fpu_bench_done);
}

static void fpu_partner(void *arg) {
    (void)arg;
    while (!fpu_bench_stop) {
        thread_yield();
        x86_fpu_touch();
    }
    up(&fpu_bench_done);
}

KBENCH(x86_fpu_context_switch) {
    unsigned cpu = this_cpu_index();
    fpu_bench_stop = false;
    sema_init(&fpu_bench_done, 0);
    if (thread_create("fmeas", fpu_measure, NULL, SCHED_PRIO_HIGH, CPUMASK_CPU(cpu), NULL) !=
            KEEL_OK ||
        thread_create("fpart", fpu_partner, NULL, SCHED_PRIO_HIGH, CPUMASK_CPU(cpu), NULL) !=
            KEEL_OK) {
        kprintf("kbench: x86_fpu_context_switch: cannot create threads\n");
        return;
    }
    for (unsigned i = 0; i < 2; i++) {
        if (down(&fpu_bench_done) != KEEL_OK) {
            kprintf("kbench: x86_fpu_context_switch: cannot wait\n");
            return;
        }
    }
    kbench_report("x86_fpu_context_switch", samples, ROUNDS);
}
