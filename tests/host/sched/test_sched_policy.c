/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the MLFQ side of the scheduler policy: the quanta table, feedback moves
 * (demotion on a used quantum, promotion on an early block), priority order and
 * preemption, yield, block/wake with timeouts and the prepare/block protocol, and the
 * no-starvation bound over 10^6 simulated ticks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <kernel/sched.h>
#include <kernel/timer.h>

#include "sched_test.h"

#define NE 16
static struct sched_entity ents[NE];

static int setup(void **state) {
    (void)state;
    assert_int_equal(sched_init(1), KEEL_OK);
    for (int i = 0; i < NE; i++) {
        sched_entity_init(&ents[i], (uint64_t)i);
    }
    return 0;
}

static void test_quanta_table(void **state) {
    (void)state;
    assert_int_equal(sched_quantum_ns(0), 100 * MS); /* Idle */
    assert_int_equal(sched_quantum_ns(1), 50 * MS);  /* Low */
    assert_int_equal(sched_quantum_ns(2), 20 * MS);  /* Normal */
    assert_int_equal(sched_quantum_ns(3), 5 * MS);   /* High */
    assert_int_equal(sched_quantum_ns(4), 1 * MS);   /* RealTime */
    assert_int_equal(sched_quantum_ns(5), 0);
}

static void test_feedback_rule(void **state) {
    (void)state;
    /* demote one level, never below base - 1, never below Low unless the base is Idle */
    assert_int_equal(sched_feedback_level(4, 4, true), 3);
    assert_int_equal(sched_feedback_level(4, 3, true), 3);
    assert_int_equal(sched_feedback_level(3, 3, true), 2);
    assert_int_equal(sched_feedback_level(2, 2, true), 1);
    assert_int_equal(sched_feedback_level(1, 1, true), 1);
    assert_int_equal(sched_feedback_level(0, 0, true), 0);
    /* promote one level on an early block, never above the base */
    assert_int_equal(sched_feedback_level(3, 2, false), 3);
    assert_int_equal(sched_feedback_level(3, 3, false), 3);
    assert_int_equal(sched_feedback_level(0, 0, false), 0);
}

static void test_bad_input(void **state) {
    (void)state;
    assert_int_equal(sched_add(&ents[0], 25, 0), KEEL_EINVAL);
    assert_int_equal(sched_add(&ents[0], 50, 0), KEEL_EINVAL);
    ents[0].affinity = CPUMASK_CPU(3); /* offline */
    assert_int_equal(sched_add(&ents[0], SCHED_PRIO_NORMAL, 0), KEEL_EINVAL);
    ents[0].affinity = CPUMASK_ALL;
    assert_int_equal(sched_add(&ents[0], SCHED_PRIO_NORMAL, 0), KEEL_OK);
    assert_int_equal(sched_add(&ents[0], SCHED_PRIO_NORMAL, 0), KEEL_EINVAL); /* twice */
    assert_int_equal(sched_set_priority(&ents[0], 7), KEEL_EINVAL);
    assert_int_equal(sched_set_affinity(&ents[0], CPUMASK_CPU(5), 0), KEEL_EINVAL);
    bool blocked;
    /* not running */
    assert_int_equal(sched_block(0, &ents[0], SCHED_BLOCK_IO, TIME_NEVER, 0, &blocked),
                     KEEL_EINVAL);
    assert_ptr_equal(sched_pick_next(0, 0), &ents[0]);
    assert_int_equal(sched_block(0, &ents[0], SCHED_BLOCK_REASONS, TIME_NEVER, 0, &blocked),
                     KEEL_EINVAL);
    assert_int_equal(sched_block(1, &ents[0], SCHED_BLOCK_IO, TIME_NEVER, 0, &blocked),
                     KEEL_EINVAL);
    assert_int_equal(sched_wake(&ents[0], KEEL_OK, 0, NULL), KEEL_EEXIST); /* running */
    assert_int_equal(sched_remove(&ents[0]), KEEL_EBUSY);
    assert_int_equal(sched_remove(&ents[1]), KEEL_EINVAL); /* detached */
    assert_null(sched_pick_next(7, 0));
    assert_false(sched_tick(7, 0));
    assert_int_equal(sched_init(0), KEEL_EINVAL);
    assert_int_equal(sched_init(SCHED_MAX_CPUS + 1), KEEL_EINVAL);
}

/* Tick CPU 0 every `step` ns from *now until the tick asks for a reschedule. */
static uint64_t run_until_resched(uint64_t *now, uint64_t step, uint64_t limit) {
    uint64_t start = *now;
    while (*now - start < limit) {
        *now += step;
        (void)timer_run_expired(0, *now);
        if (sched_tick(0, *now)) {
            return *now - start;
        }
    }
    return UINT64_MAX;
}

static void test_demotion_on_quantum_use(void **state) {
    (void)state;
    struct sched_entity *a = &ents[0];
    uint64_t now = 0;
    assert_int_equal(sched_add(a, SCHED_PRIO_HIGH, now), KEEL_OK);
    assert_ptr_equal(sched_pick_next(0, now), a);
    assert_int_equal(a->level, 3);
    /* the High quantum is 5 ms: the tick at 5 ms asks for a switch, not before */
    assert_int_equal(run_until_resched(&now, 100 * US, SCHED_AGING_NS), 5 * MS);
    assert_ptr_equal(sched_pick_next(0, now), a);
    assert_int_equal(a->level, 2); /* demoted to Normal */
    assert_int_equal(a->nr_demotions, 1);
    assert_int_equal(a->slice_left_ns, 20 * MS);
    /* Normal quantum 20 ms; then the floor (base - 1) holds */
    assert_int_equal(run_until_resched(&now, 100 * US, SCHED_AGING_NS), 20 * MS);
    assert_ptr_equal(sched_pick_next(0, now), a);
    assert_int_equal(a->level, 2);
    assert_int_equal(run_until_resched(&now, 100 * US, SCHED_AGING_NS), 20 * MS);
    assert_ptr_equal(sched_pick_next(0, now), a);
    assert_int_equal(a->level, 2);
    assert_int_equal(a->nr_demotions, 1);
    assert_int_equal(a->sum_exec_ns, 45 * MS);
}

static void test_quanta_per_level(void **state) {
    (void)state;
    const unsigned prios[] = {SCHED_PRIO_IDLE, SCHED_PRIO_LOW, SCHED_PRIO_NORMAL, SCHED_PRIO_HIGH,
                              SCHED_PRIO_REALTIME};
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(sched_init(1), KEEL_OK);
        struct sched_entity *a = &ents[i];
        sched_entity_init(a, i);
        uint64_t now = 1000;
        assert_int_equal(sched_add(a, prios[i], now), KEEL_OK);
        assert_ptr_equal(sched_pick_next(0, now), a);
        assert_int_equal(run_until_resched(&now, 50 * US, SCHED_AGING_NS), sched_quantum_ns(i));
        assert_int_equal(sched_next_event(0), now); /* slice over: due now */
    }
}

static void test_promotion_on_block(void **state) {
    (void)state;
    struct sched_entity *a = &ents[0];
    uint64_t now = 0;
    bool blocked;
    assert_int_equal(sched_add(a, SCHED_PRIO_HIGH, now), KEEL_OK);
    assert_ptr_equal(sched_pick_next(0, now), a);
    (void)run_until_resched(&now, 100 * US, SCHED_AGING_NS);
    assert_ptr_equal(sched_pick_next(0, now), a);
    assert_int_equal(a->level, 2);
    now += 3 * MS; /* blocks before its 20 ms are used */
    assert_int_equal(sched_block(0, a, SCHED_BLOCK_IPC, TIME_NEVER, now, &blocked), KEEL_OK);
    assert_true(blocked);
    assert_int_equal(a->state, SCHED_BLOCKED);
    assert_int_equal(a->block_reason, SCHED_BLOCK_IPC);
    assert_int_equal(a->level, 3); /* promoted back to High */
    assert_int_equal(a->nr_promotions, 1);
    assert_null(sched_pick_next(0, now));
    now += MS;
    unsigned cpu = 99;
    assert_int_equal(sched_wake(a, KEEL_OK, now, &cpu), KEEL_OK);
    assert_int_equal(cpu, 0);
    assert_int_equal(a->state, SCHED_QUEUED);
    assert_ptr_equal(sched_pick_next(0, now), a);
    assert_int_equal(a->slice_left_ns, 5 * MS); /* fresh High quantum */
    assert_int_equal(a->wake_status, KEEL_OK);
}

static void test_priority_order_and_preemption(void **state) {
    (void)state;
    const unsigned prios[] = {SCHED_PRIO_NORMAL, SCHED_PRIO_IDLE, SCHED_PRIO_REALTIME,
                              SCHED_PRIO_LOW, SCHED_PRIO_HIGH};
    uint64_t now = 0;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(sched_add(&ents[i], prios[i], now), KEEL_OK);
    }
    /* highest level first; each blocks so the next one shows */
    const int order[] = {2, 4, 0, 3, 1};
    for (int k = 0; k < 5; k++) {
        struct sched_entity *e = sched_pick_next(0, now);
        assert_ptr_equal(e, &ents[order[k]]);
        bool blocked;
        assert_int_equal(sched_block(0, e, SCHED_BLOCK_IO, TIME_NEVER, now, &blocked), KEEL_OK);
        now += 10 * US;
    }
    assert_null(sched_pick_next(0, now));
    /* Low runs; a High wake-up preempts it without costing it its level or slice */
    assert_int_equal(sched_wake(&ents[3], KEEL_OK, now, NULL), KEEL_OK);
    assert_ptr_equal(sched_pick_next(0, now), &ents[3]);
    now += 2 * MS;
    assert_false(sched_tick(0, now));
    assert_int_equal(sched_wake(&ents[4], KEEL_OK, now, NULL), KEEL_OK);
    assert_true(sched_cpu_get(0)->need_resched);
    assert_true(sched_tick(0, now));
    assert_ptr_equal(sched_pick_next(0, now), &ents[4]);
    assert_int_equal(ents[3].state, SCHED_QUEUED);
    assert_int_equal(ents[3].level, 1);
    assert_int_equal(ents[3].slice_left_ns, 48 * MS);
    assert_int_equal(ents[3].nr_demotions, 0);
    /* an equal-level wake-up does not preempt */
    assert_int_equal(sched_wake(&ents[0], KEEL_OK, now, NULL), KEEL_OK);
    assert_int_equal(sched_set_priority(&ents[0], SCHED_PRIO_HIGH), KEEL_OK);
    assert_false(sched_tick(0, now));
    /* raising a queued thread above the running one does */
    assert_int_equal(sched_set_priority(&ents[0], SCHED_PRIO_REALTIME), KEEL_OK);
    assert_true(sched_tick(0, now));
    assert_ptr_equal(sched_pick_next(0, now), &ents[0]);
}

static void test_yield(void **state) {
    (void)state;
    uint64_t now = 0;
    assert_int_equal(sched_add(&ents[0], SCHED_PRIO_NORMAL, now), KEEL_OK);
    assert_int_equal(sched_add(&ents[1], SCHED_PRIO_NORMAL, now), KEEL_OK);
    assert_ptr_equal(sched_pick_next(0, now), &ents[0]);
    now += 4 * MS;
    assert_int_equal(sched_yield_cpu(0, now), KEEL_OK);
    assert_ptr_equal(sched_pick_next(0, now), &ents[1]);
    assert_int_equal(ents[0].state, SCHED_QUEUED);
    assert_int_equal(ents[0].slice_left_ns, 16 * MS); /* a yield keeps what is left */
    assert_int_equal(sched_yield_cpu(0, now), KEEL_OK);
    assert_ptr_equal(sched_pick_next(0, now), &ents[0]);
    /* alone: a yield picks the same thread again */
    assert_int_equal(sched_remove(&ents[1]), KEEL_OK);
    assert_int_equal(sched_yield_cpu(0, now), KEEL_OK);
    assert_ptr_equal(sched_pick_next(0, now), &ents[0]);
    assert_int_equal(sched_exit(0, &ents[0]), KEEL_OK);
    assert_null(sched_pick_next(0, now));
    assert_int_equal(ents[0].state, SCHED_DETACHED);
    assert_int_equal(sched_yield_cpu(0, now), KEEL_EINVAL);
}

static void test_block_timeout(void **state) {
    (void)state;
    struct sched_entity *a = &ents[0];
    uint64_t now = 1000;
    bool blocked;
    assert_int_equal(sched_add(a, SCHED_PRIO_NORMAL, now), KEEL_OK);
    assert_ptr_equal(sched_pick_next(0, now), a);
    assert_int_equal(sched_block(0, a, SCHED_BLOCK_SLEEP, 10 * MS, now, &blocked), KEEL_OK);
    assert_true(blocked);
    assert_null(sched_pick_next(0, now));
    assert_int_equal(timer_next_expiry(0), now + 10 * MS);
    assert_int_equal(sched_next_event(0), TIME_NEVER);
    assert_int_equal(timer_run_expired(0, now + 10 * MS - 1), 0);
    assert_int_equal(a->state, SCHED_BLOCKED);
    assert_int_equal(timer_run_expired(0, now + 10 * MS), 1);
    assert_int_equal(a->state, SCHED_QUEUED);
    assert_int_equal(a->wake_status, KEEL_ETIMEOUT);
    now += 10 * MS;
    assert_ptr_equal(sched_pick_next(0, now), a);

    /* woken before the timeout: status OK, the timer is gone, nothing fires later */
    assert_int_equal(sched_block(0, a, SCHED_BLOCK_IO, 10 * MS, now, &blocked), KEEL_OK);
    assert_null(sched_pick_next(0, now));
    assert_int_equal(sched_wake(a, KEEL_OK, now + 5 * MS, NULL), KEEL_OK);
    assert_false(timer_pending(&a->timeout));
    assert_int_equal(a->wake_status, KEEL_OK);
    now += 5 * MS;
    assert_ptr_equal(sched_pick_next(0, now), a);
    /* block again with a longer timeout: it fires at its own time, once */
    assert_int_equal(sched_block(0, a, SCHED_BLOCK_CHILD, 50 * MS, now, &blocked), KEEL_OK);
    assert_null(sched_pick_next(0, now));
    assert_int_equal(timer_run_expired(0, now + 10 * MS), 0);
    assert_int_equal(a->state, SCHED_BLOCKED);
    assert_int_equal(timer_run_expired(0, now + 50 * MS), 1);
    assert_int_equal(a->wake_status, KEEL_ETIMEOUT);
    /* a late wake finds nothing to do */
    assert_int_equal(sched_wake(a, KEEL_OK, now + 50 * MS, NULL), KEEL_EEXIST);
    assert_int_equal(timer_run_expired(0, UINT64_MAX), 0);
    /* removing a blocked entity disarms its timeout */
    now += 50 * MS;
    assert_ptr_equal(sched_pick_next(0, now), a);
    assert_int_equal(sched_block(0, a, SCHED_BLOCK_MEMORY, 5 * MS, now, &blocked), KEEL_OK);
    assert_null(sched_pick_next(0, now));
    assert_int_equal(sched_remove(a), KEEL_OK);
    assert_int_equal(timer_pending_count(0), 0);
}

static void test_prepare_protocol(void **state) {
    (void)state;
    struct sched_entity *a = &ents[0];
    uint64_t now = 0;
    bool blocked = true;
    assert_int_equal(sched_add(a, SCHED_PRIO_NORMAL, now), KEEL_OK);
    assert_ptr_equal(sched_pick_next(0, now), a);
    /* wake between prepare and block: the block is cancelled */
    assert_int_equal(sched_prepare_block(0, a), KEEL_OK);
    assert_int_equal(sched_wake(a, KEEL_OK, now, NULL), KEEL_OK);
    assert_int_equal(sched_block(0, a, SCHED_BLOCK_IPC, TIME_NEVER, now, &blocked), KEEL_OK);
    assert_false(blocked);
    assert_int_equal(a->state, SCHED_RUNNING);
    /* the cancellation is used up: the next block really blocks */
    assert_int_equal(sched_prepare_block(0, a), KEEL_OK);
    assert_int_equal(sched_block(0, a, SCHED_BLOCK_IPC, TIME_NEVER, now, &blocked), KEEL_OK);
    assert_true(blocked);
    /* a second wake finds it blocked: one wake-up, then nothing */
    assert_int_equal(sched_wake(a, KEEL_OK, now, NULL), KEEL_OK);
    assert_int_equal(sched_wake(a, KEEL_OK, now, NULL), KEEL_EEXIST);
    /* prepared, then preempted (queued), then woken: still cancelled */
    assert_ptr_equal(sched_pick_next(0, now), a);
    assert_int_equal(sched_add(&ents[1], SCHED_PRIO_REALTIME, now), KEEL_OK);
    assert_int_equal(sched_prepare_block(0, a), KEEL_OK);
    assert_ptr_equal(sched_pick_next(0, now), &ents[1]);
    assert_int_equal(a->state, SCHED_QUEUED);
    assert_int_equal(sched_wake(a, KEEL_OK, now, NULL), KEEL_OK);
    bool b2 = true;
    assert_int_equal(sched_block(0, &ents[1], SCHED_BLOCK_IO, TIME_NEVER, now, &b2), KEEL_OK);
    assert_ptr_equal(sched_pick_next(0, now), a);
    assert_int_equal(sched_block(0, a, SCHED_BLOCK_IPC, TIME_NEVER, now, &blocked), KEEL_OK);
    assert_false(blocked);
}

/*
 * No starvation: one CPU, CPU-bound RealTime-level and High threads, an interactive
 * Normal thread, and CPU-bound Low and Idle threads, ticked every 1 ms for 10^6 ticks.
 * Without aging the Low and Idle threads would never run (the High ones never drop below
 * Normal). Bound for N runnable threads with tick period tau (docs/scheduling.md):
 *   wait <= SCHED_AGING_NS + (N - 1) * (SCHED_BOOST_SLICE_NS + tau) + 2 * tau.
 */
static void test_no_starvation(void **state) {
    (void)state;
    enum { N = 6, TICKS = 1000000 };
    const uint64_t tau = MS;
    const unsigned prios[N] = {SCHED_PRIO_REALTIME, SCHED_PRIO_HIGH, SCHED_PRIO_HIGH,
                               SCHED_PRIO_NORMAL,   SCHED_PRIO_LOW,  SCHED_PRIO_IDLE};
    const int interactive = 3;
    uint64_t queued_at[N], max_wait[N] = {0}, runs[N] = {0};
    uint64_t now = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(sched_add(&ents[i], prios[i], now), KEEL_OK);
        queued_at[i] = now;
    }
    struct sched_entity *cur = sched_pick_next(0, now);
    const uint64_t bound = SCHED_AGING_NS + (N - 1) * (SCHED_BOOST_SLICE_NS + tau) + 2 * tau;
    for (long t = 0; t < TICKS; t++) {
        now += tau;
        (void)timer_run_expired(0, now);
        bool resched = sched_tick(0, now);
        if (cur == &ents[interactive]) {
            bool blocked;
            assert_int_equal(sched_block(0, cur, SCHED_BLOCK_SLEEP, 2 * MS, now, &blocked),
                             KEEL_OK);
            resched = true;
        }
        if (!resched) {
            continue;
        }
        for (int i = 0; i < N; i++) {
            if (ents[i].state != SCHED_QUEUED) {
                queued_at[i] = now; /* running or blocked now: a wait starts when queued */
            }
        }
        struct sched_entity *next = sched_pick_next(0, now);
        assert_non_null(next);
        int id = (int)next->id;
        if (next != cur) {
            uint64_t w = now - queued_at[id];
            max_wait[id] = w > max_wait[id] ? w : max_wait[id];
        }
        runs[id]++;
        cur = next;
        for (int i = 0; i < N; i++) {
            if (ents[i].state != SCHED_QUEUED) {
                queued_at[i] = now;
            }
        }
    }
    for (int i = 0; i < N; i++) {
        printf("  thread %d prio %u: runs %" PRIu64 ", max wait %" PRIu64 " ms, boosts %" PRIu64
               ", cpu %" PRIu64 " ms\n",
               i, prios[i], runs[i], (uint64_t)(max_wait[i] / MS), ents[i].nr_boosts,
               (uint64_t)(ents[i].sum_exec_ns / MS));
        assert_true(max_wait[i] <= bound);
        assert_true(runs[i] > 0);
    }
    /* the low ones really depended on aging: they waited past the aging threshold */
    assert_true(max_wait[4] >= SCHED_AGING_NS);
    assert_true(ents[4].nr_boosts > 0 && ents[5].nr_boosts > 0);
    /* and still ran at least once per bound */
    assert_true(runs[4] >= (uint64_t)TICKS * tau / bound);
    assert_true(runs[5] >= (uint64_t)TICKS * tau / bound);
}

int main(int argc, char **argv) {
    st_seed_init(argc, argv, "sched_policy");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quanta_table),
        cmocka_unit_test(test_feedback_rule),
        cmocka_unit_test_setup(test_bad_input, setup),
        cmocka_unit_test_setup(test_demotion_on_quantum_use, setup),
        cmocka_unit_test_setup(test_quanta_per_level, setup),
        cmocka_unit_test_setup(test_promotion_on_block, setup),
        cmocka_unit_test_setup(test_priority_order_and_preemption, setup),
        cmocka_unit_test_setup(test_yield, setup),
        cmocka_unit_test_setup(test_block_timeout, setup),
        cmocka_unit_test_setup(test_prepare_protocol, setup),
        cmocka_unit_test_setup(test_no_starvation, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
