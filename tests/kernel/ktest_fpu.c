/* SPDX-License-Identifier: MIT */
/*
 * KTESTs of lazy FP/SIMD switching on the real machine (include/kernel/fpu.h): every
 * FP/SIMD data register survives switches between threads that use the unit, threads
 * that never touch it cause no trap and no save, a thread's registers follow it to
 * another CPU, and an interrupt handler is refused the unit.
 */
#include <arch/cpu.h>
#include <arch/fpu.h>
#include <kernel/fpu.h>
#include <kernel/kprintf.h>
#include <kernel/ktest.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/sync.h>
#include <kernel/thread.h>
#include <kernel/timer.h>

#define FPU_ROUNDS     200
#define FPU_JOIN_NS    (200 * NSEC_PER_SEC) /* a hang detector only */
#define FPU_NR_THREADS 3

static semaphore_t fpu_done;
static unsigned fpu_bad[FPU_NR_THREADS + 1];
static unsigned fpu_ran[FPU_NR_THREADS + 1];

/*
 * The multi-level feedback scheduler may let one thread run several rounds alone (a
 * yield with no peer at its level is no switch, so no trap), so the counters are checked
 * against the switches the threads saw: last_runner is who last finished a round on the
 * CPU (FP threads 0..FPU_NR_THREADS-1 write it right after using the unit, with
 * preemption off in between). Finding another index there means we were switched out
 * since our last FP use (a trap is due), and another FP thread's index means the unit was
 * loaded with its registers meanwhile (a restore is due).
 */
#define PLAIN_RUNNER FPU_NR_THREADS
static volatile unsigned last_runner;
static unsigned fpu_switched[FPU_NR_THREADS];
static unsigned fpu_clobbered[FPU_NR_THREADS];

static bool fpu_join(unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        if (down_timeout(&fpu_done, FPU_JOIN_NS) != KEEL_OK) {
            return false;
        }
    }
    return true;
}

/* Fill every FP/SIMD register with this thread's pattern; yield and check, many times. */
static void fpu_user(void *arg) {
    unsigned i = (unsigned)(uintptr_t)arg;
    uint64_t seed = 0x5eed0000u + i;
    preempt_disable();
    arch_fpu_test_fill(seed);
    last_runner = i;
    preempt_enable();
    for (unsigned r = 0; r < FPU_ROUNDS; r++) {
        thread_yield();
        preempt_disable();
        unsigned prev = last_runner;
        if (!arch_fpu_test_check(seed)) {
            fpu_bad[i]++;
            arch_fpu_test_fill(seed); /* count each corruption once */
        }
        last_runner = i;
        preempt_enable();
        fpu_switched[i] += prev != i;
        fpu_clobbered[i] += prev != i && prev < FPU_NR_THREADS;
        fpu_ran[i]++;
    }
    up(&fpu_done);
}

static void plain_user(void *arg) {
    unsigned i = (unsigned)(uintptr_t)arg;
    for (unsigned r = 0; r < FPU_ROUNDS; r++) {
        thread_yield();
        last_runner = PLAIN_RUNNER;
        fpu_ran[i]++;
    }
    up(&fpu_done);
}

/*
 * fpu_done is initialised once, never between tests: the last up() of a test may still
 * be inside the semaphore (holding its lock, on another CPU) when the waiter has already
 * returned, and re-initialising it then corrupts the lock. Each test downs what it ups.
 */
static void reset_counts(void) {
    static bool fpu_done_ready;
    for (unsigned i = 0; i <= FPU_NR_THREADS; i++) {
        fpu_bad[i] = fpu_ran[i] = 0;
    }
    for (unsigned i = 0; i < FPU_NR_THREADS; i++) {
        fpu_switched[i] = fpu_clobbered[i] = 0;
    }
    last_runner = PLAIN_RUNNER;
    if (!fpu_done_ready) {
        sema_init(&fpu_done, 0);
        fpu_done_ready = true;
    }
}

/* Three FP threads on one CPU (with a plain one between them): no register corrupted. */
KTEST(fpu_registers_survive_switches) {
    unsigned cpu = this_cpu_index();
    struct fpu_stats s0, s1;
    reset_counts();
    fpu_stats_get(cpu, &s0);
    /* All four become runnable together: with preemption on, a tick between two creations
     * would let the first (High, above us) run its rounds alone before the others exist. */
    preempt_disable();
    for (unsigned i = 0; i < FPU_NR_THREADS; i++) {
        KTEST_EXPECT_EQ(thread_create("fpu", fpu_user, (void *)(uintptr_t)i, SCHED_PRIO_HIGH,
                                      CPUMASK_CPU(cpu), NULL),
                        KEEL_OK);
    }
    KTEST_EXPECT_EQ(thread_create("plain", plain_user, (void *)(uintptr_t)FPU_NR_THREADS,
                                  SCHED_PRIO_HIGH, CPUMASK_CPU(cpu), NULL),
                    KEEL_OK);
    preempt_enable();
    KTEST_EXPECT(fpu_join(FPU_NR_THREADS + 1));
    fpu_stats_get(cpu, &s1);
    for (unsigned i = 0; i <= FPU_NR_THREADS; i++) {
        KTEST_EXPECT_EQ(fpu_bad[i], 0);
        KTEST_EXPECT_EQ(fpu_ran[i], FPU_ROUNDS);
    }
    unsigned switched = 0, clobbered = 0;
    for (unsigned i = 0; i < FPU_NR_THREADS; i++) {
        switched += fpu_switched[i];
        clobbered += fpu_clobbered[i];
    }
    /* The threads did take turns (most rounds, unless the scheduler serialised them). */
    KTEST_EXPECT(clobbered >= FPU_ROUNDS);
    /* A trap (and a first-use restore) per thread for the first fill, then one trap per
     * round after a switch and one restore per round after another FP thread ran; every
     * trap enabled the unit for one run, which ended in exactly one save. */
    KTEST_EXPECT(s1.traps - s0.traps >= FPU_NR_THREADS + switched);
    KTEST_EXPECT(s1.restores - s0.restores >= FPU_NR_THREADS + clobbered);
    KTEST_EXPECT_EQ(s1.saves - s0.saves, s1.traps - s0.traps);
    kprintf("ktest: fpu: %s: %llu traps, %llu restores, %llu saves on CPU %u (%u rounds "
            "after a switch, %u after another FP thread)\n",
            arch_fpu_describe(), (unsigned long long)(s1.traps - s0.traps),
            (unsigned long long)(s1.restores - s0.restores),
            (unsigned long long)(s1.saves - s0.saves), cpu, switched, clobbered);
}

/* Threads that never touch FP/SIMD: not one trap, save or restore on their CPU. */
KTEST(fpu_untouched_costs_nothing) {
    unsigned cpu = this_cpu_index();
    struct fpu_stats s0, s1;
    reset_counts();
    fpu_stats_get(cpu, &s0);
    for (unsigned i = 0; i < 2; i++) {
        KTEST_EXPECT_EQ(thread_create("plain", plain_user, (void *)(uintptr_t)i, SCHED_PRIO_HIGH,
                                      CPUMASK_CPU(cpu), NULL),
                        KEEL_OK);
    }
    KTEST_EXPECT(fpu_join(2));
    fpu_stats_get(cpu, &s1);
    KTEST_EXPECT_EQ(fpu_ran[0], FPU_ROUNDS);
    KTEST_EXPECT_EQ(s1.traps, s0.traps);
    KTEST_EXPECT_EQ(s1.saves, s0.saves);
    KTEST_EXPECT_EQ(s1.restores, s0.restores);
}

/* A thread fills its registers, moves to another CPU (the last online one), and finds
 * them there; a thread on the first CPU meanwhile overwrites that CPU's registers. */
static volatile unsigned move_phase;
static volatile unsigned move_cpu_after;
static struct thread *mover;

static void fpu_mover(void *arg) {
    unsigned to = (unsigned)(uintptr_t)arg;
    arch_fpu_test_fill(0xabcdef);
    move_phase = 1;
    while (move_phase != 2) { /* the clobberer runs on our old CPU */
        thread_yield();
    }
    if (sched_set_affinity(&mover->se, CPUMASK_CPU(to), get_monotonic_time()) != KEEL_OK) {
        fpu_bad[0]++;
    }
    thread_yield(); /* the move happens at this pick */
    unsigned long f = arch_irq_save();
    move_cpu_after = this_cpu_index();
    arch_irq_restore(f);
    if (!arch_fpu_test_check(0xabcdef)) {
        fpu_bad[0]++;
    }
    up(&fpu_done);
}

static void fpu_clobber(void *arg) {
    (void)arg;
    while (move_phase != 1) {
        thread_yield();
    }
    arch_fpu_test_fill(0x111111);
    move_phase = 2;
    if (!arch_fpu_test_check(0x111111)) {
        fpu_bad[1]++;
    }
    up(&fpu_done);
}

KTEST(fpu_state_follows_migration) {
    cpumask_t online = smp_online_mask();
    unsigned from = (unsigned)__builtin_ctzll(online);
    unsigned to = 63u - (unsigned)__builtin_clzll(online);
    reset_counts();
    move_phase = 0;
    move_cpu_after = PERCPU_MAX;
    KTEST_EXPECT_EQ(thread_create("mover", fpu_mover, (void *)(uintptr_t)to, SCHED_PRIO_HIGH,
                                  CPUMASK_CPU(from), &mover),
                    KEEL_OK);
    KTEST_EXPECT_EQ(
        thread_create("clobber", fpu_clobber, NULL, SCHED_PRIO_HIGH, CPUMASK_CPU(from), NULL),
        KEEL_OK);
    KTEST_EXPECT(fpu_join(2));
    KTEST_EXPECT_EQ(fpu_bad[0], 0);
    KTEST_EXPECT_EQ(fpu_bad[1], 0);
    KTEST_EXPECT_EQ(move_cpu_after, to);
}

/* An interrupt handler (a kernel timer callback) is refused the unit. */
static volatile int irq_trap_result;
static semaphore_t irq_timer_done;

static void fpu_irq_fn(void *data, uint64_t now_ns) {
    (void)data;
    (void)now_ns;
    irq_trap_result = fpu_trap() ? 1 : 0; /* what the arch handler asks on such a trap */
    up(&irq_timer_done);
}

KTEST(fpu_refused_in_interrupt) {
    struct ktimer kt;
    irq_trap_result = -1;
    sema_init(&irq_timer_done, 0);
    timer_init(&kt, fpu_irq_fn, NULL);
    KTEST_EXPECT_EQ(add_timer_on(&kt, get_monotonic_time() + NSEC_PER_MSEC, this_cpu_index()),
                    KEEL_OK);
    KTEST_EXPECT_EQ(down_timeout(&irq_timer_done, FPU_JOIN_NS), KEEL_OK);
    KTEST_EXPECT_EQ(irq_trap_result, 0);
}
