/* SPDX-License-Identifier: MIT */
/*
 * Portable KTESTs of threads, the scheduler, interrupts and SMP on the real machine (run
 * with -smp 1 and -smp 4): timer preemption, wait-queue ping-pong, affinity, load
 * spreading, lock stress with exact counts, no lost wake-ups, cross-CPU calls and TLB
 * shootdown observed on every CPU. Every wait is bounded, so a bug fails, never hangs.
 */
#include <arch/cpu.h>
#include <kernel/frame.h>
#include <kernel/irq.h>
#include <kernel/ktest.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/sync.h>
#include <kernel/thread.h>
#include <kernel/timer.h>
#include <kernel/vm_fault.h>
#include <kernel/vmm.h>

#define JOIN_TIMEOUT_NS                                                                            \
    (200 * NSEC_PER_SEC) /* a hang detector: TCG with more vCPUs than host cores is slow */

static unsigned cpu_count_online(void) {
    return (unsigned)__builtin_popcountll(smp_online_mask());
}

/* The n-th online CPU (wrapping). */
static unsigned nth_cpu(unsigned n) {
    cpumask_t m = smp_online_mask();
    n %= (unsigned)__builtin_popcountll(m);
    while (n-- > 0) {
        m &= m - 1;
    }
    return (unsigned)__builtin_ctzll(m);
}

static unsigned nap_errors;

/* Sleep; a failure is counted (threads cannot report through the KTEST context). */
static void nap(uint64_t ns) {
    if (thread_sleep_ns(ns) != KEEL_OK) {
        __atomic_fetch_add(&nap_errors, 1, __ATOMIC_RELAXED);
    }
}

/* Wait for n threads to up(done); false if they did not within the time limit. */
static bool join(semaphore_t *done, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        if (down_timeout(done, JOIN_TIMEOUT_NS) != KEEL_OK) {
            return false;
        }
    }
    return true;
}

/* Reap exited threads until the vmalloc areas are back to s0 (bounded: the last threads
 * may still be finishing their switch-out on a slow virtual CPU); the final stats in s1. */
static void reap_until_back(const struct vmalloc_stats *s0, struct vmalloc_stats *s1) {
    uint64_t deadline = get_monotonic_time() + 5 * NSEC_PER_SEC;
    do {
        nap(5 * NSEC_PER_MSEC);
        thread_reap();
        vmalloc_get_stats(s1);
    } while (s1->areas > s0->areas && get_monotonic_time() < deadline);
}

/* ---- timer preemption ---- */

static volatile bool spin_stop;
static volatile uint64_t spin_counts[2];
static semaphore_t spin_done;

static void spin_thread(void *arg) {
    unsigned i = (unsigned)(uintptr_t)arg;
    while (!spin_stop) {
        spin_counts[i] = spin_counts[i] + 1;
    }
    up(&spin_done);
}

KTEST(sched_timer_preemption) {
    unsigned cpu = nth_cpu(cpu_count_online() - 1);
    struct percpu *pc = percpu_get(cpu);
    uint64_t ticks0 = pc->timer_count;
    spin_stop = false;
    spin_counts[0] = spin_counts[1] = 0;
    sema_init(&spin_done, 0);
    /* Two Low threads that never yield, on one CPU: only the tick can switch them. */
    for (unsigned i = 0; i < 2; i++) {
        KTEST_EXPECT_EQ(thread_create("spin", spin_thread, (void *)(uintptr_t)i, SCHED_PRIO_LOW,
                                      CPUMASK_CPU(cpu), NULL),
                        KEEL_OK);
    }
    KTEST_EXPECT_EQ(thread_sleep_ns(300 * NSEC_PER_MSEC), KEEL_OK);
    /* Both must have run; a loaded host may not run this vCPU for a while: wait (bounded). */
    uint64_t until = get_monotonic_time() + 5 * NSEC_PER_SEC;
    while ((spin_counts[0] == 0 || spin_counts[1] == 0) && get_monotonic_time() < until) {
        nap(10 * NSEC_PER_MSEC);
    }
    uint64_t a = spin_counts[0], b = spin_counts[1];
    spin_stop = true;
    KTEST_EXPECT(join(&spin_done, 2));
    KTEST_EXPECT(a > 0);
    KTEST_EXPECT(b > 0);
    KTEST_EXPECT(pc->timer_count > ticks0);
}

/* ---- wait-queue ping-pong ---- */

#define PING_ROUNDS 500
static wait_queue_head_t ping_wq[2];
static volatile unsigned ping_turn;
static unsigned ping_hits[2];
static semaphore_t ping_done;

static bool ping_my_turn(void *arg) {
    return ping_turn == (unsigned)(uintptr_t)arg;
}

static void ping_thread(void *arg) {
    unsigned me = (unsigned)(uintptr_t)arg;
    for (unsigned i = 0; i < PING_ROUNDS; i++) {
        if (sleep_on_condition_timeout(&ping_wq[me], ping_my_turn, arg, 10 * NSEC_PER_SEC) !=
            KEEL_OK) {
            break;
        }
        ping_hits[me]++;
        __atomic_store_n(&ping_turn, 1 - me, __ATOMIC_RELEASE);
        wake_up(&ping_wq[1 - me]);
    }
    up(&ping_done);
}

KTEST(sched_waitqueue_ping_pong) {
    init_waitqueue_head(&ping_wq[0]);
    init_waitqueue_head(&ping_wq[1]);
    ping_turn = 0;
    ping_hits[0] = ping_hits[1] = 0;
    sema_init(&ping_done, 0);
    for (unsigned i = 0; i < 2; i++) {
        /* on two different CPUs when there are two or more */
        KTEST_EXPECT_EQ(thread_create("ping", ping_thread, (void *)(uintptr_t)i, SCHED_PRIO_NORMAL,
                                      CPUMASK_CPU(nth_cpu(i + 1)), NULL),
                        KEEL_OK);
    }
    KTEST_EXPECT(join(&ping_done, 2));
    KTEST_EXPECT_EQ(ping_hits[0], PING_ROUNDS);
    KTEST_EXPECT_EQ(ping_hits[1], PING_ROUNDS);
}

/* ---- affinity ---- */

struct aff_arg {
    cpumask_t allowed;
    unsigned bad;   /* times it found itself outside allowed */
    cpumask_t seen; /* CPUs it ran on */
};

static struct aff_arg aff_args[PERCPU_MAX + 1];
static semaphore_t aff_done;

static void aff_thread(void *arg) {
    struct aff_arg *a = arg;
    for (unsigned i = 0; i < 300; i++) {
        unsigned long f = arch_irq_save();
        unsigned cpu = this_cpu_index();
        arch_irq_restore(f);
        a->seen |= CPUMASK_CPU(cpu);
        a->bad += (a->allowed & CPUMASK_CPU(cpu)) == 0;
        if (i % 50 == 49) {
            nap(NSEC_PER_MSEC);
        } else {
            thread_yield();
        }
    }
    up(&aff_done);
}

KTEST(sched_affinity_respected) {
    unsigned n = cpu_count_online();
    sema_init(&aff_done, 0);
    for (unsigned i = 0; i < n; i++) {
        aff_args[i] = (struct aff_arg){.allowed = CPUMASK_CPU(nth_cpu(i))};
    }
    /* one more, allowed on two CPUs (one when there is one) */
    aff_args[n] = (struct aff_arg){.allowed = CPUMASK_CPU(nth_cpu(1)) | CPUMASK_CPU(nth_cpu(2))};
    for (unsigned i = 0; i <= n; i++) {
        KTEST_EXPECT_EQ(thread_create("aff", aff_thread, &aff_args[i], SCHED_PRIO_NORMAL,
                                      aff_args[i].allowed, NULL),
                        KEEL_OK);
    }
    KTEST_EXPECT(join(&aff_done, n + 1));
    for (unsigned i = 0; i <= n; i++) {
        KTEST_EXPECT_EQ(aff_args[i].bad, 0);
        KTEST_EXPECT(aff_args[i].seen != 0);
        KTEST_EXPECT_EQ(aff_args[i].seen & ~aff_args[i].allowed, 0);
    }
    KTEST_EXPECT_EQ(nap_errors, 0);
}

/* A thread moved by sched_set_affinity ends up on its new CPU. */
static volatile unsigned move_cpu_seen;
static volatile bool move_stop;
static semaphore_t move_done;

static void move_thread(void *arg) {
    (void)arg;
    while (!move_stop) {
        unsigned long f = arch_irq_save();
        move_cpu_seen = this_cpu_index();
        arch_irq_restore(f);
        nap(NSEC_PER_MSEC);
    }
    up(&move_done);
}

/* Wait (bounded) until the mover reports CPU cpu: TCG on a loaded host may not run a
 * vCPU for tens of milliseconds, so a fixed nap is not enough. */
static bool wait_seen(unsigned cpu) {
    uint64_t deadline = get_monotonic_time() + 5 * NSEC_PER_SEC;
    while (move_cpu_seen != cpu && get_monotonic_time() < deadline) {
        nap(NSEC_PER_MSEC);
    }
    return move_cpu_seen == cpu;
}

KTEST(sched_affinity_change_moves) {
    unsigned from = nth_cpu(0), to = nth_cpu(cpu_count_online() - 1);
    struct thread *t;
    move_stop = false;
    move_cpu_seen = PERCPU_MAX;
    sema_init(&move_done, 0);
    KTEST_EXPECT_EQ(
        thread_create("move", move_thread, NULL, SCHED_PRIO_NORMAL, CPUMASK_CPU(from), &t),
        KEEL_OK);
    KTEST_EXPECT(wait_seen(from));
    KTEST_EXPECT_EQ(sched_set_affinity(&t->se, CPUMASK_CPU(to), get_monotonic_time()), KEEL_OK);
    KTEST_EXPECT(wait_seen(to));
    nap(20 * NSEC_PER_MSEC); /* it stays there */
    KTEST_EXPECT_EQ(move_cpu_seen, to);
    move_stop = true;
    KTEST_EXPECT(join(&move_done, 1));
    KTEST_EXPECT_EQ(nap_errors, 0);
}

/* ---- load spreads over the CPUs ---- */

static volatile bool load_stop;
static cpumask_t load_seen;
static semaphore_t load_done;

static void load_thread(void *arg) {
    (void)arg;
    while (!load_stop) {
        unsigned long f = arch_irq_save();
        __atomic_fetch_or(&load_seen, CPUMASK_CPU(this_cpu_index()), __ATOMIC_RELAXED);
        arch_irq_restore(f);
    }
    up(&load_done);
}

KTEST(sched_load_spreads) {
    unsigned n = 2 * cpu_count_online();
    load_stop = false;
    load_seen = 0;
    sema_init(&load_done, 0);
    for (unsigned i = 0; i < n; i++) {
        KTEST_EXPECT_EQ(thread_create("load", load_thread, NULL, SCHED_PRIO_LOW, CPUMASK_ALL, NULL),
                        KEEL_OK);
    }
    nap(300 * NSEC_PER_MSEC);
    /* Bounded wait beyond that for vCPUs a loaded host did not run meanwhile. */
    uint64_t until = get_monotonic_time() + 10 * NSEC_PER_SEC;
    while (__atomic_load_n(&load_seen, __ATOMIC_RELAXED) != smp_online_mask() &&
           get_monotonic_time() < until) {
        nap(10 * NSEC_PER_MSEC);
    }
    load_stop = true;
    KTEST_EXPECT(join(&load_done, n));
    KTEST_EXPECT_EQ(load_seen, smp_online_mask());
}

/* ---- lock stress: exact counts ---- */

#define SPIN_ROUNDS  100000u
#define MUTEX_ROUNDS 2000u
static spinlock_t stress_lock = SPINLOCK_INIT;
static mutex_t stress_mutex;
static uint64_t stress_shared;
static uint64_t stress_mutex_shared;
static uint64_t stress_own[PERCPU_MAX];
static unsigned stress_errors;
static semaphore_t stress_done;

static void stress_thread(void *arg) {
    unsigned me = (unsigned)(uintptr_t)arg;
    for (unsigned i = 0; i < SPIN_ROUNDS; i++) {
        unsigned long f;
        spin_lock_irqsave(&stress_lock, &f);
        stress_shared++;
        spin_unlock_irqrestore(&stress_lock, f);
        stress_own[me]++;
    }
    for (unsigned i = 0; i < MUTEX_ROUNDS; i++) {
        if (mutex_lock(&stress_mutex) != KEEL_OK) {
            __atomic_fetch_add(&stress_errors, 1, __ATOMIC_RELAXED);
            continue;
        }
        uint64_t v = stress_mutex_shared;
        if ((i & 63) == 0) {
            thread_yield(); /* hold it across a switch now and then */
        }
        stress_mutex_shared = v + 1;
        if (mutex_unlock(&stress_mutex) != KEEL_OK) {
            __atomic_fetch_add(&stress_errors, 1, __ATOMIC_RELAXED);
        }
    }
    up(&stress_done);
}

KTEST(sched_lock_stress) {
    unsigned n = cpu_count_online();
    stress_shared = stress_mutex_shared = 0;
    stress_errors = 0;
    mutex_init(&stress_mutex);
    sema_init(&stress_done, 0);
    for (unsigned i = 0; i < n; i++) {
        stress_own[i] = 0;
        KTEST_EXPECT_EQ(thread_create("stress", stress_thread, (void *)(uintptr_t)i,
                                      SCHED_PRIO_NORMAL, CPUMASK_CPU(nth_cpu(i)), NULL),
                        KEEL_OK);
    }
    KTEST_EXPECT(join(&stress_done, n));
    KTEST_EXPECT_EQ(stress_shared, (uint64_t)n * SPIN_ROUNDS);
    KTEST_EXPECT_EQ(stress_mutex_shared, (uint64_t)n * MUTEX_ROUNDS);
    KTEST_EXPECT_EQ(stress_errors, 0);
    for (unsigned i = 0; i < n; i++) {
        KTEST_EXPECT_EQ(stress_own[i], SPIN_ROUNDS);
    }
}

/* ---- no lost wake-ups ---- */

#define WAKE_ROUNDS 1000u
static semaphore_t wake_sem[PERCPU_MAX];
static unsigned wake_got[PERCPU_MAX];
static unsigned wake_timeouts;
static semaphore_t wake_done;

static void wake_consumer(void *arg) {
    unsigned me = (unsigned)(uintptr_t)arg;
    for (unsigned i = 0; i < WAKE_ROUNDS; i++) {
        /* A lost wake-up shows as a 5 s timeout, which counts as a failure. */
        if (down_timeout(&wake_sem[me], 5 * NSEC_PER_SEC) != KEEL_OK) {
            __atomic_fetch_add(&wake_timeouts, 1, __ATOMIC_RELAXED);
            continue;
        }
        wake_got[me]++;
    }
    up(&wake_done);
}

static void wake_producer(void *arg) {
    unsigned me = (unsigned)(uintptr_t)arg;
    for (unsigned i = 0; i < WAKE_ROUNDS; i++) {
        up(&wake_sem[me]);
        if ((i & 7) == 0) {
            thread_yield();
        }
    }
    up(&wake_done);
}

KTEST(sched_no_lost_wakeups) {
    unsigned n = cpu_count_online();
    wake_timeouts = 0;
    sema_init(&wake_done, 0);
    for (unsigned i = 0; i < n; i++) {
        sema_init(&wake_sem[i], 0);
        wake_got[i] = 0;
        /* consumer on CPU i, its producer on the next CPU: every wake-up crosses CPUs */
        KTEST_EXPECT_EQ(thread_create("cons", wake_consumer, (void *)(uintptr_t)i,
                                      SCHED_PRIO_NORMAL, CPUMASK_CPU(nth_cpu(i)), NULL),
                        KEEL_OK);
        KTEST_EXPECT_EQ(thread_create("prod", wake_producer, (void *)(uintptr_t)i,
                                      SCHED_PRIO_NORMAL, CPUMASK_CPU(nth_cpu(i + 1)), NULL),
                        KEEL_OK);
    }
    KTEST_EXPECT(join(&wake_done, 2 * n));
    KTEST_EXPECT_EQ(wake_timeouts, 0);
    for (unsigned i = 0; i < n; i++) {
        KTEST_EXPECT_EQ(wake_got[i], WAKE_ROUNDS);
        KTEST_EXPECT_EQ(wake_sem[i].count, 0);
    }
}

/* ---- sleeping and kernel timers ---- */

static volatile uint64_t timer_fired_at;

static void timer_fn(void *data, uint64_t now_ns) {
    (void)data;
    timer_fired_at = now_ns;
}

KTEST(sched_sleep_and_timers) {
    uint64_t t0 = get_monotonic_time();
    KTEST_EXPECT_EQ(thread_sleep_ns(20 * NSEC_PER_MSEC), KEEL_OK);
    uint64_t t1 = get_monotonic_time();
    KTEST_EXPECT(t1 - t0 >= 20 * NSEC_PER_MSEC);
    KTEST_EXPECT(t1 - t0 < 2 * NSEC_PER_SEC);

    struct ktimer t;
    timer_fired_at = 0;
    timer_init(&t, timer_fn, NULL);
    uint64_t due = get_monotonic_time() + 10 * NSEC_PER_MSEC;
    KTEST_EXPECT_EQ(add_timer_on(&t, due, this_cpu_index()), KEEL_OK);
    KTEST_EXPECT_EQ(msleep(100), KEEL_OK);
    KTEST_EXPECT(timer_fired_at >= due);
    KTEST_EXPECT(!timer_pending(&t));
}

/* ---- thread lifetime ---- */

static semaphore_t life_done;

static void life_thread(void *arg) {
    up(&life_done);
    if (arg != NULL) {
        thread_exit(3);
    }
}

KTEST(thread_create_exit_frees) {
    struct vmalloc_stats s0, s1;
    thread_reap();
    vmalloc_get_stats(&s0);
    sema_init(&life_done, 0);
    for (unsigned i = 0; i < 64; i++) {
        KTEST_EXPECT_EQ(thread_create("life", life_thread, (i & 1) ? (void *)1 : NULL,
                                      SCHED_PRIO_HIGH, CPUMASK_ALL, NULL),
                        KEEL_OK);
    }
    KTEST_EXPECT(join(&life_done, 64));
    /* The last ones may still be finishing their switch-out on a slow virtual CPU: reap
     * until all 64 stacks are back (threads of earlier tests may go too, hence <=). */
    reap_until_back(&s0, &s1);
    KTEST_EXPECT(s1.areas <= s0.areas);
    KTEST_EXPECT(s1.pages <= s0.pages);
    KTEST_EXPECT_EQ(thread_create("bad", life_thread, NULL, 25, CPUMASK_ALL, NULL), KEEL_EINVAL);
    KTEST_EXPECT_EQ(thread_create("bad", NULL, NULL, SCHED_PRIO_LOW, CPUMASK_ALL, NULL),
                    KEEL_EINVAL);
}

/* ---- the guard page below a thread's stack ---- */

static semaphore_t guard_hold, guard_done;

static void guard_thread(void *arg) {
    (void)arg;
    if (down(&guard_hold) == KEEL_OK) {
        up(&guard_done);
    }
}

static bool is_stack_guard(uintptr_t va) {
    const char *why = "";
    return vm_fault(vmm_kernel_space, VADDR(va), VM_FAULT_WRITE, &why) == KEEL_EFAULT &&
           strcmp(why, "in a guard page (kernel stack overflow?)") == 0;
}

KTEST(thread_stack_guard_registered_while_alive) {
    struct thread *t = NULL;
    struct vmalloc_stats s0, s1;
    thread_reap();
    vmalloc_get_stats(&s0);
    sema_init(&guard_hold, 0);
    sema_init(&guard_done, 0);
    KTEST_EXPECT_EQ(thread_create("guarded", guard_thread, NULL, SCHED_PRIO_HIGH, CPUMASK_ALL, &t),
                    KEEL_OK);
    if (t == NULL) {
        return;
    }
    /* t lives until guard_hold is raised: its stack and the page below are stable. */
    uintptr_t base = (uintptr_t)t->stack;
    KTEST_EXPECT_EQ(base % ARCH_THREAD_STACK_ALIGN, 0);
    KTEST_EXPECT(is_stack_guard(base - 8));
    KTEST_EXPECT(is_stack_guard(base - PAGE_SIZE));
    KTEST_EXPECT(!is_stack_guard(base));
    KTEST_EXPECT(!is_stack_guard(base + t->stack_size - 8));
    KTEST_EXPECT(vmm_query(vmm_kernel_space, VADDR(base - PAGE_SIZE), NULL, NULL, NULL) != KEEL_OK);
    KTEST_EXPECT(vmm_query(vmm_kernel_space, VADDR(base), NULL, NULL, NULL) == KEEL_OK);
    up(&guard_hold);
    KTEST_EXPECT(join(&guard_done, 1));
    reap_until_back(&s0, &s1);
    KTEST_EXPECT(s1.areas <= s0.areas);
    /* Freed with its stack (unless a new stack took the same place meanwhile: none here). */
    KTEST_EXPECT(!is_stack_guard(base - 8));
}

/* ---- every CPU online, ticking, running its idle loop ---- */

KTEST(smp_cpus_online_and_ticking) {
    unsigned enabled = 0;
    for (unsigned i = 0; i < kmain_boot_info->cpu_count; i++) {
        enabled += kmain_boot_info->cpus[i].enabled != 0;
    }
    KTEST_EXPECT_EQ(smp_online_count(), enabled);
    KTEST_EXPECT_EQ(cpu_count_online(), enabled);
    uint64_t ticks[PERCPU_MAX];
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        struct percpu *pc = percpu_get(i);
        ticks[i] = pc != NULL ? pc->timer_count : 0;
        if ((smp_online_mask() & CPUMASK_CPU(i)) != 0) {
            KTEST_EXPECT(pc != NULL && pc->online && pc->idle != NULL);
            KTEST_EXPECT(pc != NULL && pc->current != NULL);
        }
    }
    /* idle CPUs still take their tick (at most IRQ_TICK_MAX_NS apart): wait for every one
     * (at least 100 ms; bounded, as a loaded host may not run a vCPU for a while) */
    nap(100 * NSEC_PER_MSEC);
    uint64_t until = get_monotonic_time() + 5 * NSEC_PER_SEC;
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        if ((smp_online_mask() & CPUMASK_CPU(i)) != 0) {
            while (percpu_get(i)->timer_count <= ticks[i] && get_monotonic_time() < until) {
                nap(10 * NSEC_PER_MSEC);
            }
            KTEST_EXPECT(percpu_get(i)->timer_count > ticks[i]);
        }
    }
}

/* ---- cross-CPU calls ---- */

static uint32_t call_hits[PERCPU_MAX];

static void call_fn(void *arg) {
    (void)arg;
    __atomic_fetch_add(&call_hits[this_cpu_index()], 1, __ATOMIC_RELAXED);
}

KTEST(smp_call_function_every_cpu) {
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        call_hits[i] = 0;
    }
    smp_call_function(CPUMASK_ALL, call_fn, NULL, true);
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        KTEST_EXPECT_EQ(call_hits[i], (smp_online_mask() & CPUMASK_CPU(i)) != 0 ? 1 : 0);
    }
    /* without waiting: every CPU still runs it exactly once */
    smp_call_function(CPUMASK_ALL, call_fn, NULL, false);
    uint64_t deadline = get_monotonic_time() + 5 * NSEC_PER_SEC;
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        if ((smp_online_mask() & CPUMASK_CPU(i)) == 0) {
            continue;
        }
        while (__atomic_load_n(&call_hits[i], __ATOMIC_RELAXED) < 2 &&
               get_monotonic_time() < deadline) {
            arch_cpu_relax();
        }
        KTEST_EXPECT_EQ(call_hits[i], 2);
    }
}

/* ---- TLB shootdown ---- */

static volatile uint32_t *sd_va;
static uint32_t sd_seen[PERCPU_MAX];

static void sd_read(void *arg) {
    (void)arg;
    sd_seen[this_cpu_index()] = *sd_va;
}

KTEST(smp_tlb_shootdown_every_cpu) {
    /* Direct: every other CPU serves the request. */
    uint64_t before[PERCPU_MAX];
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        before[i] = smp_tlb_shootdowns_served(i);
    }
    unsigned long f = arch_irq_save();
    unsigned self = this_cpu_index();
    tlb_shootdown(0, 0);
    arch_irq_restore(f);
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        bool other = (smp_online_mask() & CPUMASK_CPU(i)) != 0 && i != self;
        KTEST_EXPECT_EQ(smp_tlb_shootdowns_served(i) - before[i], other ? 1 : 0);
    }

    /* Real: every CPU caches a translation, the page is remapped, every CPU must see the
     * new frame (a CPU whose TLB was not flushed would still read the old one). */
    uint32_t *a = vmalloc(PAGE_SIZE);
    uint32_t *b = vmalloc(PAGE_SIZE);
    KTEST_EXPECT(a != NULL && b != NULL);
    if (a == NULL || b == NULL) {
        vfree(a);
        vfree(b);
        return;
    }
    *a = 0x1111;
    *b = 0x2222;
    sd_va = a;
    smp_call_function(CPUMASK_ALL, sd_read, NULL, true);
    paddr_t pa_a, pa_b;
    KTEST_EXPECT_EQ(vmm_query(vmm_kernel_space, VADDR((uintptr_t)b), &pa_b, NULL, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(vmm_unmap_page(vmm_kernel_space, VADDR((uintptr_t)a), &pa_a), KEEL_OK);
    KTEST_EXPECT_EQ(vmm_map_page(vmm_kernel_space, VADDR((uintptr_t)a), pa_b, PAGE_SIZE,
                                 VM_READ | VM_WRITE | VM_GLOBAL),
                    KEEL_OK);
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        sd_seen[i] = 0;
    }
    smp_call_function(CPUMASK_ALL, sd_read, NULL, true);
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        if ((smp_online_mask() & CPUMASK_CPU(i)) != 0) {
            KTEST_EXPECT_EQ(sd_seen[i], 0x2222);
        }
    }
    /* put a's own frame back so vfree returns the right frames */
    KTEST_EXPECT_EQ(vmm_unmap_page(vmm_kernel_space, VADDR((uintptr_t)a), NULL), KEEL_OK);
    KTEST_EXPECT_EQ(vmm_map_page(vmm_kernel_space, VADDR((uintptr_t)a), pa_a, PAGE_SIZE,
                                 VM_READ | VM_WRITE | VM_GLOBAL),
                    KEEL_OK);
    vfree(a);
    vfree(b);
}

/* ---- device lines ---- */

static void nop_handler(unsigned irq, void *data) {
    (void)irq;
    (void)data;
}

KTEST(irq_request_free) {
    unsigned n = arch_irq_line_count();
    int x, y;
    KTEST_EXPECT(n > 0);
    KTEST_EXPECT_EQ(request_irq(n, nop_handler, 0, "bad", &x), KEEL_EINVAL);
    KTEST_EXPECT_EQ(request_irq(0, NULL, 0, "bad", &x), KEEL_EINVAL);
    KTEST_EXPECT_EQ(request_irq(0, nop_handler, 0x80, "bad", &x), KEEL_EINVAL);
    if (n == 0) {
        return;
    }
    unsigned line = n - 1; /* the last line: no device of QEMU's machines uses it */
    KTEST_EXPECT_EQ(request_irq(line, nop_handler, 0, "a", &x), KEEL_OK);
    KTEST_EXPECT_EQ(request_irq(line, nop_handler, IRQF_SHARED, "b", &y), KEEL_EBUSY);
    free_irq(line, &x);
    KTEST_EXPECT_EQ(request_irq(line, nop_handler, IRQF_SHARED, "a", &x), KEEL_OK);
    KTEST_EXPECT_EQ(request_irq(line, nop_handler, IRQF_SHARED, "b", &y), KEEL_OK);
    KTEST_EXPECT_EQ(request_irq(line, nop_handler, 0, "c", &x), KEEL_EBUSY);
    disable_irq(line);
    enable_irq(line);
    free_irq(line, &x);
    free_irq(line, &y);
    KTEST_EXPECT_EQ(request_irq(line, nop_handler, 0, "a", &x), KEEL_OK);
    free_irq(line, &x);
}
