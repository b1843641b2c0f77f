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

/*
 * Initialised once, never again: a thread of the previous test may still be inside
 * up(&fpu_done) on another CPU (it woke the runner before unlocking), and re-initialising
 * the lock under it breaks the ticket lock for good. Each test takes back every unit its
 * threads give.
 */
static semaphore_t fpu_done;
static semaphore_t fpu_go;
static bool fpu_sems_ready;
static unsigned fpu_bad[FPU_NR_THREADS + 1];
static unsigned fpu_ran[FPU_NR_THREADS + 1];

/*
 * Which test thread, and which FP one, used the CPU last (each sets them after its check).
 * An FP thread that finds another's mark after its yield was switched out since its last
 * FP instruction, so its next one traps and it was saved; if another FP thread ran, its
 * registers are loaded again. The scheduler decides how often that happens (a thread
 * that has used up its quantum drops a level and may run alone), so the counters are
 * checked against what the threads saw, not against a fixed number.
 */
static volatile unsigned fpu_last, fpu_last_fp;
static unsigned fpu_switched[FPU_NR_THREADS], fpu_reloaded[FPU_NR_THREADS];

/*
 * A start gate: the test threads run at a higher priority than the KTEST runner, so one
 * created while the runner was preempted would otherwise run on its own (or spin,
 * starving the runner) before the others exist. Each waits at the gate; the runner
 * opens it for all n at once, with interrupts masked, so they become runnable together.
 */
static void fpu_wait_go(unsigned i) {
    if (down_timeout(&fpu_go, FPU_JOIN_NS) != KEEL_OK) {
        fpu_bad[i]++;
    }
}

static void fpu_open_gate(unsigned n) {
    unsigned long f = arch_irq_save();
    for (unsigned i = 0; i < n; i++) {
        up(&fpu_go);
    }
    arch_irq_restore(f);
}

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
    fpu_wait_go(i);
    arch_fpu_test_fill(seed);
    fpu_last = fpu_last_fp = i;
    for (unsigned r = 0; r < FPU_ROUNDS; r++) {
        thread_yield();
        fpu_switched[i] += fpu_last != i;
        fpu_reloaded[i] += fpu_last_fp != i;
        if (!arch_fpu_test_check(seed)) {
            fpu_bad[i]++;
            arch_fpu_test_fill(seed); /* count each corruption once */
        }
        fpu_last = fpu_last_fp = i;
        fpu_ran[i]++;
    }
    up(&fpu_done);
}

static void plain_user(void *arg) {
    unsigned i = (unsigned)(uintptr_t)arg;
    fpu_wait_go(i);
    for (unsigned r = 0; r < FPU_ROUNDS; r++) {
        thread_yield();
        fpu_last = i;
        fpu_ran[i]++;
    }
    up(&fpu_done);
}

static void reset_counts(void) {
    for (unsigned i = 0; i <= FPU_NR_THREADS; i++) {
        fpu_bad[i] = fpu_ran[i] = 0;
    }
    for (unsigned i = 0; i < FPU_NR_THREADS; i++) {
        fpu_switched[i] = fpu_reloaded[i] = 0;
    }
    fpu_last = fpu_last_fp = FPU_NR_THREADS + 1;
    if (!fpu_sems_ready) {
        sema_init(&fpu_done, 0);
        sema_init(&fpu_go, 0);
        fpu_sems_ready = true;
    }
}

/* Three FP threads on one CPU (with a plain one between them): no register corrupted. */
KTEST(fpu_registers_survive_switches) {
    unsigned cpu = this_cpu_index();
    struct fpu_stats s0, s1;
    reset_counts();
    fpu_stats_get(cpu, &s0);
    for (unsigned i = 0; i < FPU_NR_THREADS; i++) {
        KTEST_EXPECT_EQ(thread_create("fpu", fpu_user, (void *)(uintptr_t)i, SCHED_PRIO_HIGH,
                                      CPUMASK_CPU(cpu), NULL),
                        KEEL_OK);
    }
    KTEST_EXPECT_EQ(thread_create("plain", plain_user, (void *)(uintptr_t)FPU_NR_THREADS,
                                  SCHED_PRIO_HIGH, CPUMASK_CPU(cpu), NULL),
                    KEEL_OK);
    fpu_open_gate(FPU_NR_THREADS + 1);
    KTEST_EXPECT(fpu_join(FPU_NR_THREADS + 1));
    fpu_stats_get(cpu, &s1);
    for (unsigned i = 0; i <= FPU_NR_THREADS; i++) {
        KTEST_EXPECT_EQ(fpu_bad[i], 0);
        KTEST_EXPECT_EQ(fpu_ran[i], FPU_ROUNDS);
    }
    /* Each FP thread traps at least once per run and is saved when switched out. */
    unsigned switched = 0, reloaded = 0;
    for (unsigned i = 0; i < FPU_NR_THREADS; i++) {
        switched += fpu_switched[i];
        reloaded += fpu_reloaded[i];
    }
    KTEST_EXPECT(s1.traps - s0.traps >= switched);
    KTEST_EXPECT(s1.saves - s0.saves >= switched);
    KTEST_EXPECT(s1.restores - s0.restores >= reloaded);
    /* And the threads really took turns: ideally all 3 * FPU_ROUNDS rounds. */
    KTEST_EXPECT(reloaded >= FPU_ROUNDS);
    kprintf("ktest: fpu: %s: %llu traps, %llu restores, %llu saves on CPU %u (seen: %u "
            "switches, %u reloads)\n",
            arch_fpu_describe(), (unsigned long long)(s1.traps - s0.traps),
            (unsigned long long)(s1.restores - s0.restores),
            (unsigned long long)(s1.saves - s0.saves), cpu, switched, reloaded);
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
    fpu_open_gate(2);
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
    fpu_wait_go(0);
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
    fpu_wait_go(1);
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
    fpu_open_gate(2);
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
