/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the EDF class: bandwidth in fixed point, admission up to and exactly at
 * the bound and refusal beyond, deadline order, preemption of MLFQ, budget enforcement
 * and replenishment, deadline misses counted, and the sporadic wake-up rule.
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

#define NE 40
static struct sched_entity ents[NE];

static int setup1(void **state) {
    (void)state;
    assert_int_equal(sched_init(1), KEEL_OK);
    for (int i = 0; i < NE; i++) {
        sched_entity_init(&ents[i], (uint64_t)i);
    }
    return 0;
}

static int setup2(void **state) {
    (void)state;
    assert_int_equal(sched_init(2), KEEL_OK);
    for (int i = 0; i < NE; i++) {
        sched_entity_init(&ents[i], (uint64_t)i);
    }
    return 0;
}

static struct sched_edf_params P(uint64_t c, uint64_t d, uint64_t t) {
    return (struct sched_edf_params){.runtime_ns = c, .deadline_ns = d, .period_ns = t};
}

static void
test_bandwidth(void **state) {
    (void)state;
    uint64_t bw;
    struct sched_edf_params p = P(1 * MS, 4 * MS, 4 * MS);
    assert_int_equal(sched_edf_bandwidth(&p, &bw), KEEL_OK);
    assert_int_equal(bw, SCHED_BW_ONE / 4);
    p = P(1 * MS, 3 * MS, 10 * MS); /* density uses the deadline; 1/3 rounds up */
    assert_int_equal(sched_edf_bandwidth(&p, &bw), KEEL_OK);
    assert_int_equal(bw, SCHED_BW_ONE / 3 + 1);
    p = P(SCHED_EDF_MAX_PERIOD_NS, SCHED_EDF_MAX_PERIOD_NS, SCHED_EDF_MAX_PERIOD_NS);
    assert_int_equal(sched_edf_bandwidth(&p, &bw), KEEL_OK);
    assert_int_equal(bw, SCHED_BW_ONE);
    const struct sched_edf_params bad[] = {
        P(SCHED_EDF_MIN_RUNTIME_NS - 1, MS, MS), P(2 * MS, MS, MS), P(MS, 3 * MS, 2 * MS),
        P(MS, MS, SCHED_EDF_MAX_PERIOD_NS + 1),  P(MS, 0, MS),
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(sched_edf_bandwidth(&bad[i], &bw), KEEL_EINVAL);
        assert_int_equal(sched_add_edf(&ents[0], &bad[i], 0), KEEL_EINVAL);
    }
    assert_int_equal(sched_edf_bandwidth(NULL, &bw), KEEL_EINVAL);
}

static void test_admission_bound(void **state) {
    (void)state;
    /* 1 ms every 16 ms is exactly 1/16: fifteen fit under 15/16, the sixteenth does not */
    struct sched_edf_params p = P(1 * MS, 16 * MS, 16 * MS);
    for (int i = 0; i < 15; i++) {
        assert_int_equal(sched_add_edf(&ents[i], &p, 0), KEEL_OK);
    }
    assert_int_equal(sched_cpu_get(0)->edf_bw, SCHED_EDF_BW_MAX);
    assert_int_equal(sched_add_edf(&ents[15], &p, 0), KEEL_EBUSY);
    assert_int_equal(ents[15].state, SCHED_DETACHED);
    /* even the smallest reservation is refused at the bound */
    struct sched_edf_params tiny =
        P(SCHED_EDF_MIN_RUNTIME_NS, SCHED_EDF_MAX_PERIOD_NS, SCHED_EDF_MAX_PERIOD_NS);
    assert_int_equal(sched_add_edf(&ents[16], &tiny, 0), KEEL_EBUSY);
    /* removing one frees exactly its share */
    assert_int_equal(sched_remove(&ents[3]), KEEL_OK);
    assert_int_equal(sched_cpu_get(0)->edf_bw, SCHED_EDF_BW_MAX - SCHED_BW_ONE / 16);
    assert_int_equal(sched_add_edf(&ents[15], &p, 0), KEEL_OK);
    assert_int_equal(sched_add_edf(&ents[3], &p, 0), KEEL_EBUSY);
}

static void test_admission_exact_boundary(void **state) {
    (void)state;
    /* with deadline 2^20 ns, bandwidth == runtime in ns: exact arithmetic at the edge */
    const uint64_t d = (uint64_t)1 << SCHED_BW_SHIFT;
    struct sched_edf_params over = P(SCHED_EDF_BW_MAX + 1, d, d);
    assert_int_equal(sched_add_edf(&ents[0], &over, 0), KEEL_EBUSY);
    struct sched_edf_params at = P(SCHED_EDF_BW_MAX, d, d);
    assert_int_equal(sched_add_edf(&ents[0], &at, 0), KEEL_OK);
    assert_int_equal(sched_remove(&ents[0]), KEEL_OK);
    /* two that sum to the bound exactly, then one more unit is refused */
    struct sched_edf_params a = P(SCHED_EDF_BW_MAX / 2, d, d);
    struct sched_edf_params b = P(SCHED_EDF_BW_MAX - SCHED_EDF_BW_MAX / 2, d, d);
    assert_int_equal(sched_add_edf(&ents[1], &a, 0), KEEL_OK);
    assert_int_equal(sched_add_edf(&ents[2], &b, 0), KEEL_OK);
    struct sched_edf_params unit = P(SCHED_EDF_MIN_RUNTIME_NS, SCHED_EDF_MAX_PERIOD_NS,
                                     SCHED_EDF_MAX_PERIOD_NS); /* bw 10 us * 2^20 / 2^40 -> 1 */
    uint64_t ubw;
    assert_int_equal(sched_edf_bandwidth(&unit, &ubw), KEEL_OK);
    assert_int_equal(ubw, 1);
    assert_int_equal(sched_add_edf(&ents[3], &unit, 0), KEEL_EBUSY);
    /* three thirds never pass: each rounds up, so the sum is above 1.0 */
    assert_int_equal(sched_init(1), KEEL_OK);
    for (int i = 0; i < 4; i++) {
        sched_entity_init(&ents[i], (uint64_t)i);
    }
    struct sched_edf_params third = P(MS, 3 * MS, 3 * MS);
    assert_int_equal(sched_add_edf(&ents[0], &third, 0), KEEL_OK);
    assert_int_equal(sched_add_edf(&ents[1], &third, 0), KEEL_OK);
    assert_int_equal(sched_add_edf(&ents[2], &third, 0), KEEL_EBUSY);
}

static void test_admission_two_cpus(void **state) {
    (void)state;
    struct sched_edf_params half = P(MS, 2 * MS, 2 * MS);
    /* worst fit spreads: CPU 0, CPU 1, then nobody has room for a third half */
    assert_int_equal(sched_add_edf(&ents[0], &half, 0), KEEL_OK);
    assert_int_equal(ents[0].cpu, 0);
    assert_int_equal(sched_add_edf(&ents[1], &half, 0), KEEL_OK);
    assert_int_equal(ents[1].cpu, 1);
    struct sched_edf_params q = P(MS, 4 * MS, 4 * MS);
    ents[2].affinity = CPUMASK_CPU(1);
    assert_int_equal(sched_add_edf(&ents[2], &q, 0), KEEL_OK);
    assert_int_equal(ents[2].cpu, 1);
    ents[3].affinity = CPUMASK_CPU(1); /* CPU 1 is at 3/4: another 1/4 would exceed 15/16 */
    assert_int_equal(sched_add_edf(&ents[3], &q, 0), KEEL_EBUSY);
    ents[3].affinity = CPUMASK_ALL;
    assert_int_equal(sched_add_edf(&ents[3], &q, 0), KEEL_OK);
    assert_int_equal(ents[3].cpu, 0);
    /* partitioned: a reservation cannot be moved by an affinity change */
    assert_int_equal(sched_set_affinity(&ents[3], CPUMASK_CPU(1), 0), KEEL_EINVAL);
    assert_int_equal(sched_set_affinity(&ents[3], CPUMASK_CPU(0), 0), KEEL_OK);
}

static void test_edf_order_and_preemption(void **state) {
    (void)state;
    uint64_t now = 0;
    assert_int_equal(sched_add(&ents[9], SCHED_PRIO_REALTIME, now), KEEL_OK);
    assert_ptr_equal(sched_pick_next(0, now), &ents[9]);
    const uint64_t deadlines[] = {30 * MS, 10 * MS, 20 * MS};
    for (int i = 0; i < 3; i++) {
        struct sched_edf_params p = P(2 * MS, deadlines[i], 100 * MS);
        assert_int_equal(sched_add_edf(&ents[i], &p, now), KEEL_OK);
    }
    /* EDF outranks even the RealTime MLFQ level */
    assert_true(sched_cpu_get(0)->need_resched);
    const int order[] = {1, 2, 0};
    for (int k = 0; k < 3; k++) {
        struct sched_entity *e = sched_pick_next(0, now);
        assert_ptr_equal(e, &ents[order[k]]);
        assert_int_equal(e->edf_abs_deadline, deadlines[order[k]]);
        now += MS;
        assert_int_equal(sched_yield_cpu(0, now), KEEL_OK); /* job done */
    }
    assert_ptr_equal(sched_pick_next(0, now), &ents[9]);
    assert_int_equal(ents[0].state, SCHED_THROTTLED);
    /* next period: all three released at 100 ms, they preempt the MLFQ thread */
    now = 100 * MS;
    assert_true(sched_tick(0, now));
    assert_ptr_equal(sched_pick_next(0, now), &ents[1]);
    assert_int_equal(ents[1].edf_abs_deadline, 110 * MS);
    /* an earlier deadline preempts a later one */
    struct sched_edf_params urgent = P(MS, 5 * MS, 50 * MS);
    assert_int_equal(sched_add_edf(&ents[5], &urgent, now), KEEL_OK);
    assert_true(sched_tick(0, now));
    assert_ptr_equal(sched_pick_next(0, now), &ents[5]);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ents[i].edf_misses, 0);
    }
}

/* An EDF thread that never finishes: it gets exactly its budget each period, misses
 * each deadline, and the MLFQ thread gets the rest. Ticked every 100 us for 1 s. */
static void test_budget_and_misses(void **state) {
    (void)state;
    uint64_t now = 0;
    struct sched_edf_params p = P(2 * MS, 8 * MS, 10 * MS);
    assert_int_equal(sched_add(&ents[1], SCHED_PRIO_NORMAL, now), KEEL_OK);
    assert_int_equal(sched_add_edf(&ents[0], &p, now), KEEL_OK);
    (void)sched_pick_next(0, now);
    while (now < NSEC_PER_SEC) {
        now += 100 * US;
        if (sched_tick(0, now)) {
            (void)sched_pick_next(0, now);
        }
    }
    assert_int_equal(ents[0].sum_exec_ns, 100 * 2 * MS);
    assert_int_equal(ents[1].sum_exec_ns, NSEC_PER_SEC - 100 * 2 * MS);
    /* boundaries at 10, 20, ..., 1000 ms each found the job unfinished */
    assert_int_equal(ents[0].edf_misses, 100);
    assert_int_equal(sched_cpu_get(0)->edf_misses, 100);
    assert_int_equal(ents[0].edf_jobs, 101);
}

/* An admitted set whose jobs need exactly their runtime: driven by sched_next_event
 * (a one-shot timer), every job ends before its deadline and no miss is counted. */
static void test_admitted_set_meets_deadlines(void **state) {
    (void)state;
    enum { NT = 4 };
    const struct sched_edf_params ps[NT] = {P(1 * MS, 4 * MS, 4 * MS), P(2 * MS, 9 * MS, 10 * MS),
                                            P(3 * MS, 20 * MS, 20 * MS),
                                            P(5 * MS, 25 * MS, 50 * MS)};
    uint64_t work[NT], seen_job[NT];
    uint64_t now = 0;
    for (int i = 0; i < NT; i++) {
        assert_int_equal(sched_add_edf(&ents[i], &ps[i], now), KEEL_OK);
        work[i] = ps[i].runtime_ns;
        seen_job[i] = ents[i].edf_jobs;
    }
    assert_int_equal(sched_add(&ents[10], SCHED_PRIO_LOW, now), KEEL_OK); /* background hog */
    struct sched_entity *cur = sched_pick_next(0, now);
    uint64_t jobs_done = 0;
    while (now < 10 * NSEC_PER_SEC) {
        uint64_t next = sched_next_event(0);
        if (cur != NULL && cur->klass == SCHED_CLASS_EDF) {
            int id = (int)cur->id;
            next = now + work[id] < next ? now + work[id] : next;
        }
        assert_true(next > now);
        uint64_t ran = next - now;
        if (cur != NULL && cur->klass == SCHED_CLASS_EDF) {
            work[cur->id] -= ran;
        }
        now = next;
        bool resched = sched_tick(0, now);
        if (cur != NULL && cur->klass == SCHED_CLASS_EDF && work[cur->id] == 0) {
            assert_true(now <= cur->edf_abs_deadline);
            assert_int_equal(sched_yield_cpu(0, now), KEEL_OK);
            jobs_done++;
            resched = true;
        }
        for (int i = 0; i < NT; i++) {
            if (ents[i].edf_jobs != seen_job[i]) { /* a new job: new work */
                seen_job[i] = ents[i].edf_jobs;
                work[i] = ps[i].runtime_ns;
            }
        }
        if (resched) {
            cur = sched_pick_next(0, now);
        }
    }
    for (int i = 0; i < NT; i++) {
        assert_int_equal(ents[i].edf_misses, 0);
    }
    assert_true(jobs_done >= 2500 + 1000 + 500 + 200 - NT);
    assert_true(ents[10].sum_exec_ns > 0);
}

static void test_sporadic_wake(void **state) {
    (void)state;
    uint64_t now = 0;
    bool blocked;
    struct sched_edf_params p = P(1 * MS, 10 * MS, 10 * MS);
    assert_int_equal(sched_add_edf(&ents[0], &p, now), KEEL_OK);
    assert_ptr_equal(sched_pick_next(0, now), &ents[0]);
    now += 500 * US;
    assert_int_equal(sched_block(0, &ents[0], SCHED_BLOCK_IPC, TIME_NEVER, now, &blocked), KEEL_OK);
    assert_null(sched_pick_next(0, now));
    /* woken at 3 ms: too early for a new job (last release 0 + period 10 ms) */
    now = 3 * MS;
    assert_int_equal(sched_wake(&ents[0], KEEL_OK, now, NULL), KEEL_OK);
    assert_int_equal(ents[0].state, SCHED_THROTTLED);
    assert_null(sched_pick_next(0, now));
    assert_int_equal(sched_next_event(0), 10 * MS);
    now = 10 * MS;
    assert_true(sched_tick(0, now));
    assert_ptr_equal(sched_pick_next(0, now), &ents[0]);
    assert_int_equal(ents[0].edf_abs_deadline, 20 * MS);
    assert_int_equal(ents[0].edf_misses, 0);
    /* blocked past the period: a new job at the wake-up time */
    assert_int_equal(sched_block(0, &ents[0], SCHED_BLOCK_IPC, TIME_NEVER, now, &blocked), KEEL_OK);
    assert_null(sched_pick_next(0, now));
    now = 37 * MS;
    assert_int_equal(sched_wake(&ents[0], KEEL_OK, now, NULL), KEEL_OK);
    assert_int_equal(ents[0].state, SCHED_QUEUED);
    assert_int_equal(ents[0].edf_abs_deadline, 47 * MS);
    assert_int_equal(ents[0].edf_budget_ns, MS);
    /* an exiting EDF thread gives its bandwidth back */
    assert_ptr_equal(sched_pick_next(0, now), &ents[0]);
    assert_int_equal(sched_exit(0, &ents[0]), KEEL_OK);
    assert_null(sched_pick_next(0, now));
    assert_int_equal(sched_cpu_get(0)->edf_bw, 0);
}

int main(int argc, char **argv) {
    st_seed_init(argc, argv, "sched_edf");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_bandwidth, setup1),
        cmocka_unit_test_setup(test_admission_bound, setup1),
        cmocka_unit_test_setup(test_admission_exact_boundary, setup1),
        cmocka_unit_test_setup(test_admission_two_cpus, setup2),
        cmocka_unit_test_setup(test_edf_order_and_preemption, setup1),
        cmocka_unit_test_setup(test_budget_and_misses, setup1),
        cmocka_unit_test_setup(test_admitted_set_meets_deadlines, setup1),
        cmocka_unit_test_setup(test_sporadic_wake, setup1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
