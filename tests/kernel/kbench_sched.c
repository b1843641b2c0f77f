/* SPDX-License-Identifier: MIT */
/*
 * Scheduler benchmarks on the target (issue 5), in cycle-counter units (instructions
 * under -icount): context_switch = two threads yielding to each other on one CPU, per
 * switch; wakeup_cross_cpu = waking a thread asleep on another CPU until it runs (half a
 * semaphore ping-pong); ipi_round_trip = an IPI_CALL to another CPU and its completion.
 */
#include <arch/cpu.h>
#include <kernel/kbench.h>
#include <kernel/kprintf.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/sync.h>
#include <kernel/thread.h>

#define ROUNDS 512
#define WARMUP 16

static uint64_t samples[ROUNDS];
static volatile bool bench_stop;
/* One semaphore per benchmark, initialised by it once: re-initialising one that a thread
 * of an earlier benchmark may still be inside (its last up() on another CPU) would break
 * the semaphore's lock. */
static semaphore_t cs_done, wake_done;

/* A CPU other than the caller's, or -1 with one CPU online. */
static int other_cpu(void) {
    cpumask_t m = smp_online_mask() & ~CPUMASK_CPU(this_cpu_index());
    return m != 0 ? __builtin_ctzll(m) : -1;
}

/* ---- context_switch ---- */

static void yield_measure(void *arg) {
    (void)arg;
    for (unsigned i = 0; i < ROUNDS + WARMUP; i++) {
        uint64_t t0 = arch_cycle_counter();
        thread_yield(); /* to the partner, which yields straight back */
        uint64_t t1 = arch_cycle_counter();
        if (i >= WARMUP) {
            samples[i - WARMUP] = (t1 - t0) / 2;
        }
    }
    bench_stop = true;
    up(&cs_done);
}

static void yield_partner(void *arg) {
    (void)arg;
    while (!bench_stop) {
        thread_yield();
    }
    up(&cs_done);
}

KBENCH(context_switch) {
    unsigned cpu = this_cpu_index();
    bench_stop = false;
    sema_init(&cs_done, 0);
    /* High: above the boot thread (Normal), which waits on cs_done meanwhile. */
    if (thread_create("ymeas", yield_measure, NULL, SCHED_PRIO_HIGH, CPUMASK_CPU(cpu), NULL) !=
            KEEL_OK ||
        thread_create("ypart", yield_partner, NULL, SCHED_PRIO_HIGH, CPUMASK_CPU(cpu), NULL) !=
            KEEL_OK) {
        kprintf("kbench: context_switch: cannot create threads\n");
        return;
    }
    for (unsigned i = 0; i < 2; i++) {
        if (down(&cs_done) != KEEL_OK) {
            kprintf("kbench: context_switch: cannot wait\n");
            return;
        }
    }
    kbench_report("context_switch", samples, ROUNDS);
}

/* ---- wakeup_cross_cpu ---- */

static semaphore_t ping_sem, pong_sem;

static void wake_measure(void *arg) {
    (void)arg;
    unsigned n = 0;
    for (unsigned i = 0; i < ROUNDS + WARMUP; i++) {
        uint64_t t0 = arch_cycle_counter();
        up(&ping_sem);
        if (down(&pong_sem) != KEEL_OK) {
            break;
        }
        uint64_t t1 = arch_cycle_counter();
        if (i >= WARMUP) {
            samples[n++] = (t1 - t0) / 2;
        }
    }
    bench_stop = true;
    up(&ping_sem);
    kbench_report("wakeup_cross_cpu", samples, n);
    up(&wake_done);
}

static void wake_partner(void *arg) {
    (void)arg;
    for (;;) {
        if (down(&ping_sem) != KEEL_OK || bench_stop) {
            break;
        }
        up(&pong_sem);
    }
    up(&wake_done);
}

KBENCH(wakeup_cross_cpu) {
    unsigned cpu = this_cpu_index();
    int other = other_cpu();
    if (other < 0) {
        kprintf("kbench: wakeup_cross_cpu: needs 2 CPUs online (-smp 2)\n");
        return;
    }
    bench_stop = false;
    sema_init(&wake_done, 0);
    sema_init(&ping_sem, 0);
    sema_init(&pong_sem, 0);
    if (thread_create("wmeas", wake_measure, NULL, SCHED_PRIO_HIGH, CPUMASK_CPU(cpu), NULL) !=
            KEEL_OK ||
        thread_create("wpart", wake_partner, NULL, SCHED_PRIO_HIGH, CPUMASK_CPU((unsigned)other),
                      NULL) != KEEL_OK) {
        kprintf("kbench: wakeup_cross_cpu: cannot create threads\n");
        return;
    }
    for (unsigned i = 0; i < 2; i++) {
        if (down(&wake_done) != KEEL_OK) {
            kprintf("kbench: wakeup_cross_cpu: cannot wait\n");
            return;
        }
    }
}

/* ---- ipi_round_trip ---- */

static void ipi_nop(void *arg) {
    (void)arg;
}

KBENCH(ipi_round_trip) {
    unsigned long f = arch_irq_save();
    int other = other_cpu();
    if (other < 0) {
        arch_irq_restore(f);
        kprintf("kbench: ipi_round_trip: needs 2 CPUs online (-smp 2)\n");
        return;
    }
    for (unsigned i = 0; i < ROUNDS + WARMUP; i++) {
        uint64_t t0 = arch_cycle_counter();
        smp_call_function(CPUMASK_CPU((unsigned)other), ipi_nop, NULL, true);
        uint64_t t1 = arch_cycle_counter();
        if (i >= WARMUP) {
            samples[i - WARMUP] = t1 - t0;
        }
    }
    arch_irq_restore(f);
    kbench_report("ipi_round_trip", samples, ROUNDS);
}
