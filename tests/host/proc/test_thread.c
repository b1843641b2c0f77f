/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the thread layer (src/proc/thread.c) and the interrupt glue (src/irq/)
 * on one simulated CPU: threads are ucontexts on real stacks, time is the fake clock,
 * and "timer interrupts" are delivered when a thread passes a tick point or the CPU
 * idles, through the real irq_enter / irq_handle_timer / irq_exit path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arch/fpu.h>
#include <arch/timer.h>
#include <kernel/fpu.h>
#include <kernel/irq.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/sync.h>
#include <kernel/thread.h>
#include <kernel/timer.h>
#include <kernel/waitqueue.h>

#include "fake_smp.h"
#include "fake_timer.h"
#include "proc_test.h"

static struct boot_info bi;

/* Deliver the timer interrupt if its deadline has passed (as the hardware would). */
static void tick_point(void) {
    if (fake_irq_disabled) {
        return;
    }
    if (arch_timer_now_ticks() >= fake_timer_oneshot_deadline()) {
        arch_irq_disable();
        irq_enter();
        irq_handle_timer();
        irq_exit();
        arch_irq_enable();
    }
}

/* The idle CPU: jump the clock to the programmed deadline and take the interrupt. */
static void idle_hook(void) {
    uint64_t d = fake_timer_oneshot_deadline();
    if (d != UINT64_MAX) {
        fake_timer_set_ticks(d);
    }
    irq_enter();
    irq_handle_timer();
    irq_exit();
}

static int group_setup(void **state) {
    (void)state;
    fake_smp_reset();
    fake_timer_reset(1000000000ull); /* 1 tick = 1 ns */
    fake_idle_hook = idle_hook;
    bi.cpu_count = 1;
    bi.boot_cpu = 0;
    bi.cpus[0].hwid = 7;
    bi.cpus[0].enabled = 1;
    fake_irq_disabled = 1;
    fake_fpu_trap_hook = fpu_trap;
    percpu_init_boot(&bi);
    if (arch_irq_init(&bi) != KEEL_OK || thread_init(&bi) != KEEL_OK) {
        return -1;
    }
    return 0;
}

/* Let every other thread finish: sleep (the idle hook moves time) until count is met. */
static void wait_count(volatile int *count, int want) {
    for (int i = 0; i < 10000 && __atomic_load_n(count, __ATOMIC_ACQUIRE) < want; i++) {
        assert_int_equal(thread_sleep_ns(NSEC_PER_MSEC), KEEL_OK);
    }
    assert_int_equal(*count, want);
}

static void test_init_state(void **state) {
    (void)state;
    struct percpu *pc = arch_this_cpu();
    assert_non_null(pc);
    assert_ptr_equal(pc, percpu_get(0));
    assert_int_equal(pc->hwid, 7);
    assert_int_equal(smp_online_count(), 1);
    assert_int_equal(smp_online_mask(), 1);
    assert_non_null(thread_current());
    assert_string_equal(thread_current()->name, "boot");
    assert_non_null(pc->idle);
    assert_int_equal(fake_irq_disabled, 0); /* thread_init unmasks interrupts */
    assert_true(fake_irq_init_cpu_calls >= 1);
    assert_true(fake_timer_oneshot_deadline() != UINT64_MAX); /* the tick is armed */
    assert_int_equal(thread_init(&bi), KEEL_EINVAL);          /* only once */
}

static void test_create_bad_args(void **state) {
    (void)state;
    struct thread *t = (struct thread *)1;
    assert_int_equal(thread_create("x", NULL, NULL, SCHED_PRIO_NORMAL, CPUMASK_ALL, &t),
                     KEEL_EINVAL);
    assert_int_equal(thread_create("x", (void (*)(void *))abort, NULL, 25, CPUMASK_ALL, &t),
                     KEEL_EINVAL);
    assert_int_equal(thread_create("x", (void (*)(void *))abort, NULL, 50, CPUMASK_ALL, &t),
                     KEEL_EINVAL);
    /* an affinity with no online CPU */
    assert_int_equal(
        thread_create("x", (void (*)(void *))abort, NULL, SCHED_PRIO_NORMAL, CPUMASK_CPU(3), &t),
        KEEL_EINVAL);
    fake_vmalloc_fail = true;
    assert_int_equal(
        thread_create("x", (void (*)(void *))abort, NULL, SCHED_PRIO_NORMAL, CPUMASK_ALL, &t),
        KEEL_ENOMEM);
    fake_vmalloc_fail = false;
}

/* ---- yield order ---- */

static char order_log[64];
static int order_len;
static int order_done;

static void order_thread(void *arg) {
    char c = (char)(uintptr_t)arg;
    for (int i = 0; i < 3; i++) {
        order_log[order_len++] = c;
        thread_yield();
    }
    __atomic_fetch_add(&order_done, 1, __ATOMIC_RELEASE);
}

static void test_yield_round_robin(void **state) {
    (void)state;
    struct thread *a, *b;
    order_len = 0;
    order_done = 0;
    assert_int_equal(
        thread_create("a", order_thread, (void *)'a', SCHED_PRIO_NORMAL, CPUMASK_ALL, &a), KEEL_OK);
    assert_int_equal(
        thread_create("b", order_thread, (void *)'b', SCHED_PRIO_NORMAL, CPUMASK_ALL, &b), KEEL_OK);
    assert_int_equal(order_len, 0); /* created, not yet run */
    while (order_done < 2) {
        thread_yield();
    }
    order_log[order_len] = '\0';
    assert_string_equal(order_log, "ababab");
}

/* ---- exit, reap, no leaks ---- */

static int exit_count;

static void exit_thread(void *arg) {
    __atomic_fetch_add(&exit_count, 1, __ATOMIC_RELEASE);
    if (arg != NULL) {
        thread_exit(42);
    }
}

static void test_exit_and_reap(void **state) {
    (void)state;
    thread_reap();
    long k0 = fake_kmalloc_live, v0 = fake_vmalloc_live;
    exit_count = 0;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(thread_create("e", exit_thread, (i & 1) ? (void *)1 : NULL,
                                       SCHED_PRIO_HIGH, CPUMASK_ALL, NULL),
                         KEEL_OK);
    }
    /* They run (High before the boot thread) once the boot thread sleeps. */
    wait_count(&exit_count, 100);
    thread_reap();
    assert_int_equal(fake_kmalloc_live, k0);
    assert_int_equal(fake_vmalloc_live, v0);
}

/* ---- sleeping ---- */

static void test_sleep(void **state) {
    (void)state;
    uint64_t t0 = get_monotonic_time();
    assert_int_equal(thread_sleep_ns(5 * NSEC_PER_MSEC), KEEL_OK);
    uint64_t t1 = get_monotonic_time();
    assert_true(t1 - t0 >= 5 * NSEC_PER_MSEC);
    assert_true(t1 - t0 < 5 * NSEC_PER_MSEC + IRQ_TICK_MAX_NS);
}

/* ---- timer preemption ---- */

static volatile int spin_stop;
static uint64_t spin_count[2];
static int spin_done;

static void spinner(void *arg) {
    unsigned i = (unsigned)(uintptr_t)arg;
    while (!spin_stop) {
        spin_count[i]++;
        fake_timer_advance_ticks(10 * NSEC_PER_USEC);
        tick_point();
    }
    __atomic_fetch_add(&spin_done, 1, __ATOMIC_RELEASE);
}

static void stopper(void *arg) {
    (void)arg;
    spin_stop = 1;
}

static void test_timer_preemption(void **state) {
    (void)state;
    spin_stop = 0;
    spin_done = 0;
    memset(spin_count, 0, sizeof(spin_count));
    /* Two Low spinners that never yield; the boot thread (Normal) sleeps 200 ms. */
    assert_int_equal(thread_create("s0", spinner, (void *)0, SCHED_PRIO_LOW, CPUMASK_ALL, NULL),
                     KEEL_OK);
    assert_int_equal(thread_create("s1", spinner, (void *)1, SCHED_PRIO_LOW, CPUMASK_ALL, NULL),
                     KEEL_OK);
    assert_int_equal(thread_sleep_ns(200 * NSEC_PER_MSEC), KEEL_OK);
    /* Woken by its timeout from inside a spinner's tick: the boot thread preempted it. */
    uint64_t c0 = spin_count[0], c1 = spin_count[1];
    assert_true(c0 > 0 && c1 > 0);
    /* Low quantum is 50 ms: in 200 ms both must have had at least one full slice. */
    assert_true(c0 >= 50 * NSEC_PER_MSEC / (10 * NSEC_PER_USEC) - 100);
    assert_true(c1 >= 50 * NSEC_PER_MSEC / (10 * NSEC_PER_USEC) - 100);
    assert_int_equal(thread_create("stop", stopper, NULL, SCHED_PRIO_REALTIME, CPUMASK_ALL, NULL),
                     KEEL_OK);
    wait_count(&spin_done, 2);
    assert_true(arch_this_cpu()->timer_count > 0);
}

/* ---- wait-queue ping-pong ---- */

#define PINGS 10000
static wait_queue_head_t ping_wq, pong_wq;
static volatile int ball; /* 0: ping's turn, 1: pong's turn */
static int pp_done;
static int pp_hits[2];

static bool ball_is(void *arg) {
    return ball == (int)(uintptr_t)arg;
}

static void pinger(void *arg) {
    int me = (int)(uintptr_t)arg;
    wait_queue_head_t *mine = me == 0 ? &ping_wq : &pong_wq;
    wait_queue_head_t *other = me == 0 ? &pong_wq : &ping_wq;
    for (int i = 0; i < PINGS; i++) {
        if (sleep_on_condition(mine, ball_is, (void *)(uintptr_t)me) != KEEL_OK) {
            break;
        }
        pp_hits[me]++;
        ball = 1 - me;
        wake_up(other);
    }
    __atomic_fetch_add(&pp_done, 1, __ATOMIC_RELEASE);
}

static void test_waitqueue_ping_pong(void **state) {
    (void)state;
    init_waitqueue_head(&ping_wq);
    init_waitqueue_head(&pong_wq);
    ball = 0;
    pp_done = 0;
    pp_hits[0] = pp_hits[1] = 0;
    assert_int_equal(thread_create("ping", pinger, (void *)0, SCHED_PRIO_NORMAL, CPUMASK_ALL, NULL),
                     KEEL_OK);
    assert_int_equal(thread_create("pong", pinger, (void *)1, SCHED_PRIO_NORMAL, CPUMASK_ALL, NULL),
                     KEEL_OK);
    wait_count(&pp_done, 2);
    assert_int_equal(pp_hits[0], PINGS);
    assert_int_equal(pp_hits[1], PINGS);
}

/* ---- semaphores: no lost wake-ups between producer and consumers ---- */

static semaphore_t items;
static int consumed, cons_done;

static void consumer(void *arg) {
    (void)arg;
    for (int i = 0; i < 500; i++) {
        if (down(&items) != KEEL_OK) {
            break;
        }
        consumed++;
    }
    __atomic_fetch_add(&cons_done, 1, __ATOMIC_RELEASE);
}

static void test_semaphore_handoff(void **state) {
    (void)state;
    sema_init(&items, 0);
    consumed = cons_done = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(thread_create("c", consumer, NULL, SCHED_PRIO_HIGH, CPUMASK_ALL, NULL),
                         KEEL_OK);
    }
    for (int i = 0; i < 2000; i++) {
        up(&items);
        if (i % 7 == 0) {
            thread_yield();
        }
    }
    wait_count(&cons_done, 4);
    assert_int_equal(consumed, 2000);
    assert_int_equal(items.count, 0);
}

/* ---- preemption control ---- */

static int hi_ran;

static void hi_thread(void *arg) {
    (void)arg;
    hi_ran = 1;
}

static void test_preempt_disable(void **state) {
    (void)state;
    hi_ran = 0;
    preempt_disable();
    assert_int_equal(thread_create("hi", hi_thread, NULL, SCHED_PRIO_REALTIME, CPUMASK_ALL, NULL),
                     KEEL_OK);
    /* an interrupt now must not switch */
    arch_irq_disable();
    irq_enter();
    irq_handle_ipi(IPI_RESCHEDULE);
    irq_exit();
    arch_irq_enable();
    assert_int_equal(hi_ran, 0);
    preempt_enable(); /* the pending reschedule happens here */
    assert_int_equal(hi_ran, 1);
    assert_int_equal(arch_this_cpu()->ipi_count[IPI_RESCHEDULE], 1);
}

/* A timer queued due before the armed tick kicks the CPU (here itself: the fake HAL counts
 * the IPI); the IPI re-arms the tick for it and asks for no reschedule. */
static void kick_fn(void *data, uint64_t now_ns) {
    (void)data;
    (void)now_ns;
}

static void test_timer_kick_rearms(void **state) {
    (void)state;
    struct percpu *pc = arch_this_cpu();
    struct ktimer early, late;
    timer_init(&early, kick_fn, NULL);
    timer_init(&late, kick_fn, NULL);
    uint64_t now = get_monotonic_time();
    uint64_t due = now + 100 * NSEC_PER_USEC;
    assert_true(pc->timer_armed_ns > due); /* the tick is further out (a quantum, 10 ms cap) */
    uint64_t ipis = fake_ipis_sent[IPI_RESCHEDULE];
    uint64_t got = pc->ipi_count[IPI_RESCHEDULE];
    assert_int_equal(add_timer_on(&late, pc->timer_armed_ns + 1, 0), KEEL_OK);
    assert_int_equal(fake_ipis_sent[IPI_RESCHEDULE], ipis); /* after the tick: no kick */
    assert_int_equal(add_timer_on(&early, due, 0), KEEL_OK);
    assert_int_equal(fake_ipis_sent[IPI_RESCHEDULE], ipis + 1);
    assert_true(pc->timer_kick);
    arch_irq_disable();
    irq_enter();
    irq_handle_ipi(IPI_RESCHEDULE);
    assert_false(pc->need_resched);
    assert_false(pc->timer_kick);
    assert_int_equal(pc->timer_armed_ns, due);
    assert_int_equal(fake_timer_oneshot_deadline(), clock_deadline_to_ticks(due));
    irq_exit();
    arch_irq_enable();
    assert_int_equal(pc->ipi_count[IPI_RESCHEDULE], got + 1);
    /* a plain reschedule IPI still asks for one */
    arch_irq_disable();
    irq_handle_ipi(IPI_RESCHEDULE);
    assert_true(pc->need_resched);
    pc->need_resched = false;
    arch_irq_enable();
    assert_int_equal(del_timer(&early), 1);
    assert_int_equal(del_timer(&late), 1);
}

/* ---- lazy FP/SIMD ---- */

static int fpu_done;
static int fpu_bad;

/* Fill the FP registers with a per-thread pattern, then yield and check it many times. */
static void fpu_thread(void *arg) {
    uint64_t seed = (uint64_t)(uintptr_t)arg;
    arch_fpu_test_fill(seed);
    for (int i = 0; i < 20; i++) {
        thread_yield();
        if (!arch_fpu_test_check(seed)) {
            fpu_bad++;
        }
    }
    __atomic_fetch_add(&fpu_done, 1, __ATOMIC_RELEASE);
}

static void plain_thread(void *arg) {
    (void)arg;
    for (int i = 0; i < 20; i++) {
        thread_yield();
    }
    __atomic_fetch_add(&fpu_done, 1, __ATOMIC_RELEASE);
}

static void test_fpu_lazy_switch(void **state) {
    (void)state;
    struct fpu_stats s0, s1;
    fpu_done = fpu_bad = 0;
    fpu_stats_get(0, &s0);
    assert_int_equal(thread_create("f1", fpu_thread, (void *)1, SCHED_PRIO_HIGH, CPUMASK_ALL, NULL),
                     KEEL_OK);
    assert_int_equal(thread_create("f2", fpu_thread, (void *)2, SCHED_PRIO_HIGH, CPUMASK_ALL, NULL),
                     KEEL_OK);
    wait_count(&fpu_done, 2);
    assert_int_equal(fpu_bad, 0);
    fpu_stats_get(0, &s1);
    /* Alternating: every run of each thread traps, loads its registers, and is saved. */
    assert_int_equal(s1.traps - s0.traps, 42);
    assert_int_equal(s1.restores - s0.restores, 42);
    assert_int_equal(s1.saves - s0.saves, 42);
    assert_false(fake_fpu_enabled()); /* the boot thread never used it */
}

static void test_fpu_owner_keeps_registers(void **state) {
    (void)state;
    struct fpu_stats s0, s1;
    fpu_done = fpu_bad = 0;
    fpu_stats_get(0, &s0);
    /* One FP thread between plain ones: its registers stay in the unit, so after the first
     * load every trap only re-enables the unit. */
    assert_int_equal(thread_create("f", fpu_thread, (void *)3, SCHED_PRIO_HIGH, CPUMASK_ALL, NULL),
                     KEEL_OK);
    assert_int_equal(thread_create("p", plain_thread, NULL, SCHED_PRIO_HIGH, CPUMASK_ALL, NULL),
                     KEEL_OK);
    wait_count(&fpu_done, 2);
    assert_int_equal(fpu_bad, 0);
    fpu_stats_get(0, &s1);
    assert_int_equal(s1.traps - s0.traps, 21);
    assert_int_equal(s1.restores - s0.restores, 1);
    assert_int_equal(s1.saves - s0.saves, 21);
}

static void test_fpu_plain_threads_cost_nothing(void **state) {
    (void)state;
    struct fpu_stats s0, s1;
    fpu_done = 0;
    fpu_stats_get(0, &s0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(thread_create("p", plain_thread, NULL, SCHED_PRIO_HIGH, CPUMASK_ALL, NULL),
                         KEEL_OK);
    }
    wait_count(&fpu_done, 3);
    fpu_stats_get(0, &s1);
    assert_int_equal(s1.traps, s0.traps);
    assert_int_equal(s1.saves, s0.saves);
}

static bool fpu_in_irq_result = true;

static void fpu_timer_fn(void *data, uint64_t now_ns) {
    (void)data;
    (void)now_ns;
    fpu_in_irq_result = fpu_trap(); /* as if the handler executed an FP instruction */
}

static void test_fpu_refused_in_interrupt(void **state) {
    (void)state;
    struct ktimer kt;
    fpu_in_irq_result = true;
    timer_init(&kt, fpu_timer_fn, NULL);
    assert_int_equal(add_timer(&kt, get_monotonic_time() + NSEC_PER_MSEC), KEEL_OK);
    assert_int_equal(thread_sleep_ns(5 * NSEC_PER_MSEC), KEEL_OK);
    assert_false(fpu_in_irq_result);
    assert_string_equal(fpu_refusal_reason(), "in an interrupt handler");
    assert_false(fake_fpu_enabled());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_state),
        cmocka_unit_test(test_create_bad_args),
        cmocka_unit_test(test_yield_round_robin),
        cmocka_unit_test(test_exit_and_reap),
        cmocka_unit_test(test_sleep),
        cmocka_unit_test(test_timer_preemption),
        cmocka_unit_test(test_waitqueue_ping_pong),
        cmocka_unit_test(test_semaphore_handoff),
        cmocka_unit_test(test_preempt_disable),
        cmocka_unit_test(test_timer_kick_rearms),
        cmocka_unit_test(test_fpu_lazy_switch),
        cmocka_unit_test(test_fpu_owner_keeps_registers),
        cmocka_unit_test(test_fpu_plain_threads_cost_nothing),
        cmocka_unit_test(test_fpu_refused_in_interrupt),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
