/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the multi-CPU side of the policy: the pure steal and placement decisions,
 * stealing that honours affinity, and a randomised run over 4 simulated CPUs (seed
 * printed, KEEL_SEED) checking that a thread never runs or queues outside its mask,
 * that every thread is in exactly one place, and that loads spread. A last test drives
 * the run queues from real threads (one per simulated CPU) for the lock paths.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <kernel/sched.h>
#include <kernel/timer.h>

#include "sched_test.h"

#define NE 48
static struct sched_entity ents[NE];

static int setup4(void **state) {
    (void)state;
    assert_int_equal(sched_init(4), KEEL_OK);
    for (int i = 0; i < NE; i++) {
        sched_entity_init(&ents[i], (uint64_t)i);
    }
    return 0;
}

static void test_steal_victim_pure(void **state) {
    (void)state;
    const uint32_t a[] = {0, 3, 1, 5};
    assert_int_equal(sched_steal_victim(a, 4, 0, CPUMASK_ALL), 3);
    assert_int_equal(sched_steal_victim(a, 4, 0, ~CPUMASK_CPU(3)), 1);
    assert_int_equal(sched_steal_victim(a, 4, 2, CPUMASK_ALL), 3); /* 5 >= 1 + 2 */
    assert_int_equal(sched_steal_victim(a, 4, 1, CPUMASK_ALL), 3); /* 5 >= 3 + 2 */
    assert_int_equal(sched_steal_victim(a, 4, 1, ~CPUMASK_CPU(3)), -1);
    assert_int_equal(sched_steal_victim(a, 4, 3, CPUMASK_ALL), -1);
    const uint32_t b[] = {1, 2};
    assert_int_equal(sched_steal_victim(b, 2, 0, CPUMASK_ALL), -1); /* below threshold */
    const uint32_t c[] = {0, 2, 4, 4};
    assert_int_equal(sched_steal_victim(c, 4, 0, CPUMASK_ALL), 2); /* tie: lowest id */
    assert_int_equal(sched_steal_victim(c, 4, 0, CPUMASK_CPU(1)), 1);
    assert_int_equal(sched_steal_victim(c, 4, 0, 0), -1);
    assert_int_equal(sched_steal_victim(c, 4, 4, CPUMASK_ALL), -1); /* bad thief */
    assert_int_equal(sched_steal_victim(c, 2, 0, CPUMASK_ALL), 1);  /* only ncpus looked at */
}

static void test_select_cpu_pure(void **state) {
    (void)state;
    const uint32_t l[] = {3, 1, 2, 0};
    assert_int_equal(sched_select_cpu(l, 4, CPUMASK_ALL, 2), 3); /* 2 > 0 + slack 1 */
    assert_int_equal(sched_select_cpu(l, 4, CPUMASK_ALL, 1), 1); /* 1 <= 0 + 1 */
    assert_int_equal(sched_select_cpu(l, 4, CPUMASK_ALL, 0), 3);
    assert_int_equal(sched_select_cpu(l, 4, CPUMASK_CPU(0) | CPUMASK_CPU(2), 0), 0); /* 3 <= 2+1 */
    assert_int_equal(sched_select_cpu(l, 4, CPUMASK_CPU(0) | CPUMASK_CPU(1), 0), 1); /* 3 > 1+1 */
    assert_int_equal(sched_select_cpu(l, 4, CPUMASK_CPU(0), 3), 0); /* prev not allowed */
    assert_int_equal(sched_select_cpu(l, 4, CPUMASK_CPU(5), 0), -1);
    assert_int_equal(sched_select_cpu(l, 4, 0, 0), -1);
    const uint32_t t[] = {1, 1, 1};
    assert_int_equal(sched_select_cpu(t, 3, CPUMASK_ALL, 9), 0); /* tie: lowest id */
}

static void test_steal_honours_affinity(void **state) {
    (void)state;
    uint64_t now = 0;
    /* four threads pinned to CPU 0, one allowed on 0 and 1 */
    for (int i = 0; i < 4; i++) {
        ents[i].affinity = CPUMASK_CPU(0);
        assert_int_equal(sched_add(&ents[i], SCHED_PRIO_NORMAL, now), KEEL_OK);
    }
    ents[4].affinity = CPUMASK_CPU(0) | CPUMASK_CPU(1);
    ents[4].cpu = 0;
    /* placed on its previous CPU 0 only if not much busier: it is, so CPU 1 gets it */
    assert_int_equal(sched_add(&ents[4], SCHED_PRIO_LOW, now), KEEL_OK);
    assert_int_equal(ents[4].cpu, 1);
    /* move it back to CPU 0's queue by pinning, then let CPU 1 (idle) steal */
    assert_int_equal(sched_set_affinity(&ents[4], CPUMASK_CPU(0), now), KEEL_OK);
    assert_int_equal(ents[4].cpu, 0);
    assert_int_equal(sched_set_affinity(&ents[4], CPUMASK_CPU(0) | CPUMASK_CPU(1), now), KEEL_OK);
    assert_ptr_equal(sched_pick_next(0, now), &ents[0]);
    /* CPU 2 and 3 may steal nothing: everything is pinned to 0 or allowed on 0,1 */
    assert_null(sched_pick_next(2, now));
    assert_null(sched_pick_next(3, now));
    /* CPU 1 takes the Low thread although Normal ones wait: they are pinned */
    assert_ptr_equal(sched_pick_next(1, now), &ents[4]);
    assert_int_equal(ents[4].cpu, 1);
    assert_int_equal(sched_cpu_get(1)->nr_steals, 1);
    assert_null(sched_pick_next(2, now));
    for (int i = 1; i < 4; i++) {
        assert_int_equal(ents[i].cpu, 0);
    }
    /* a running thread whose mask drops its CPU moves at its next pick */
    assert_int_equal(sched_set_affinity(&ents[4], CPUMASK_CPU(3), now), KEEL_OK);
    assert_true(sched_tick(1, now));
    assert_null(sched_pick_next(1, now));
    assert_int_equal(ents[4].cpu, 3);
    assert_ptr_equal(sched_pick_next(3, now), &ents[4]);
}

/* Check the bookkeeping: each attached entity in exactly one place, allowed there. */
static void check_invariants(int n) {
    int seen[NE] = {0};
    for (unsigned c = 0; c < 4; c++) {
        struct sched_cpu *rq = sched_cpu_get(c);
        uint32_t queued = 0;
        for (unsigned q = 0; q < SCHED_NR_QUEUES; q++) {
            assert_int_equal((rq->bitmap >> q) & 1, rq->q[q].head != NULL);
            for (struct sched_entity *e = rq->q[q].head; e != NULL; e = e->rq_next) {
                assert_int_equal(e->state, SCHED_QUEUED);
                assert_int_equal(e->cpu, c);
                assert_true((e->affinity & CPUMASK_CPU(c)) != 0);
                seen[e->id]++;
                queued++;
            }
        }
        assert_int_equal(queued, rq->nr_queued);
        if (rq->curr != NULL && rq->curr->state == SCHED_RUNNING) {
            assert_int_equal(rq->curr->cpu, c);
            seen[rq->curr->id]++;
        }
    }
    for (int i = 0; i < n; i++) {
        if (ents[i].state == SCHED_QUEUED || ents[i].state == SCHED_RUNNING) {
            assert_int_equal(seen[i], 1);
        } else {
            assert_int_equal(seen[i], 0);
        }
    }
}

static void test_random_affinity_and_spread(void **state) {
    (void)state;
    enum { N = 32, STEPS = 400000 };
    struct sched_entity *cur[4] = {NULL, NULL, NULL, NULL};
    uint64_t now = 0;
    for (int i = 0; i < N; i++) {
        cpumask_t m = st_rand() & 0xf;
        ents[i].affinity = m != 0 ? m : CPUMASK_ALL;
        assert_int_equal(sched_add(&ents[i], 10 * (unsigned)st_below(5), now), KEEL_OK);
    }
    uint64_t busy[4] = {0};
    for (long step = 0; step < STEPS; step++) {
        unsigned c = (unsigned)st_below(4);
        now += st_below(200 * US);
        for (unsigned k = 0; k < 4; k++) {
            (void)timer_run_expired(k, now);
        }
        struct sched_entity *e = cur[c];
        switch (st_below(8)) {
        case 0: /* the running thread blocks, maybe with a timeout */
            if (e != NULL && e->state == SCHED_RUNNING) {
                bool blocked;
                uint64_t to = st_below(2) ? TIME_NEVER : st_below(5 * MS);
                assert_int_equal(
                    sched_block(c, e, (unsigned)st_below(SCHED_BLOCK_REASONS), to, now, &blocked),
                    KEEL_OK);
            }
            break;
        case 1: { /* wake a random thread */
            unsigned target = 0;
            kstatus_t st = sched_wake(&ents[st_below(N)], KEEL_OK, now, &target);
            assert_true(st == KEEL_OK || st == KEEL_EEXIST);
            break;
        }
        case 2: { /* new mask for a random thread */
            cpumask_t m = st_rand() & 0xf;
            struct sched_entity *t = &ents[st_below(N)];
            assert_int_equal(sched_set_affinity(t, m, now), m != 0 ? KEEL_OK : KEEL_EINVAL);
            break;
        }
        case 3:
            if (e != NULL && e->state == SCHED_RUNNING) {
                assert_int_equal(sched_yield_cpu(c, now), KEEL_OK);
            }
            break;
        default:
            (void)sched_tick(c, now);
            break;
        }
        if (sched_cpu_get(c)->need_resched || cur[c] == NULL || st_below(4) == 0) {
            cur[c] = sched_pick_next(c, now);
            if (cur[c] != NULL) {
                /* never picked outside its mask */
                assert_true((cur[c]->affinity & CPUMASK_CPU(c)) != 0);
                assert_int_equal(cur[c]->cpu, c);
            }
        }
        busy[c] += cur[c] != NULL;
        if (step % 64 == 0) {
            check_invariants(N);
        }
    }
    /* wake everyone, unpin, and let the CPUs pick: load spreads across all four */
    for (int i = 0; i < N; i++) {
        kstatus_t st = sched_wake(&ents[i], KEEL_OK, now, NULL);
        (void)st;
        assert_int_equal(sched_set_affinity(&ents[i], CPUMASK_ALL, now), KEEL_OK);
    }
    for (int round = 0; round < 50; round++) {
        now += 4 * MS;
        for (unsigned c = 0; c < 4; c++) {
            if (sched_tick(c, now) || cur[c] == NULL) {
                cur[c] = sched_pick_next(c, now);
            }
        }
    }
    check_invariants(N);
    uint32_t lo = UINT32_MAX, hi = 0;
    for (unsigned c = 0; c < 4; c++) {
        uint32_t l = sched_cpu_get(c)->nr_queued + (cur[c] != NULL);
        lo = l < lo ? l : lo;
        hi = l > hi ? l : hi;
    }
    printf("  loads after balancing: min %u max %u; steals %" PRIu64 " %" PRIu64 " %" PRIu64
           " %" PRIu64 "\n",
           lo, hi, sched_cpu_get(0)->nr_steals, sched_cpu_get(1)->nr_steals,
           sched_cpu_get(2)->nr_steals, sched_cpu_get(3)->nr_steals);
    assert_true(hi - lo < SCHED_STEAL_THRESHOLD);
    for (unsigned c = 0; c < 4; c++) {
        assert_true(busy[c] > 0);
    }
}

/* ---- real concurrency: one pthread per simulated CPU ---- */

/* Two threads and few steps: the host has two cores, and a ticket lock whose holder is
 * descheduled stalls everyone behind it. */
#define CONC_CPUS  2
#define CONC_STEPS 20000
static uint64_t sim_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void *cpu_thread(void *arg) {
    unsigned c = (unsigned)(uintptr_t)arg;
    uint64_t r = 0x1234567ull * (c + 1);
    struct sched_entity *cur = NULL;
    for (int i = 0; i < CONC_STEPS; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        uint64_t now = sim_now();
        (void)timer_run_expired(c, now);
        if (cur != NULL && cur->state == SCHED_RUNNING && (r & 7) == 0) {
            bool blocked;
            kstatus_t st =
                sched_block(c, cur, SCHED_BLOCK_IO, (r & 8) ? 100 * US : TIME_NEVER, now, &blocked);
            if (st != KEEL_OK) {
                abort();
            }
        }
        if ((r & 3) == 1) {
            kstatus_t st = sched_wake(&ents[(r >> 8) % 24], KEEL_OK, now, NULL);
            (void)st;
        }
        if ((r & 31) == 2) {
            kstatus_t st = sched_set_affinity(&ents[(r >> 16) % 24], (r >> 24) & 0xf, now);
            (void)st;
        }
        if (sched_tick(c, now) || cur == NULL || (r & 15) == 3) {
            cur = sched_pick_next(c, now);
        }
    }
    return NULL;
}

static void test_concurrent_cpus(void **state) {
    (void)state;
    for (int i = 0; i < 24; i++) {
        assert_int_equal(sched_add(&ents[i], 10 * (unsigned)(i % 5), sim_now()), KEEL_OK);
    }
    pthread_t th[CONC_CPUS];
    for (uintptr_t c = 0; c < CONC_CPUS; c++) {
        assert_int_equal(pthread_create(&th[c], NULL, cpu_thread, (void *)c), 0);
    }
    for (int c = 0; c < CONC_CPUS; c++) {
        pthread_join(th[c], NULL);
    }
    /* quiesce: clear every CPU's current, then the bookkeeping must be exact */
    for (unsigned c = 0; c < 4; c++) {
        struct sched_cpu *rq = sched_cpu_get(c);
        if (rq->curr != NULL && rq->curr->state == SCHED_RUNNING) {
            bool blocked;
            assert_int_equal(
                sched_block(c, rq->curr, SCHED_BLOCK_IO, TIME_NEVER, sim_now(), &blocked), KEEL_OK);
        }
        (void)sched_pick_next(c, sim_now());
    }
    for (unsigned c = 0; c < 4; c++) {
        struct sched_cpu *rq = sched_cpu_get(c);
        if (rq->curr != NULL && rq->curr->state == SCHED_RUNNING) {
            bool blocked;
            assert_int_equal(
                sched_block(c, rq->curr, SCHED_BLOCK_IO, TIME_NEVER, sim_now(), &blocked), KEEL_OK);
            (void)sched_pick_next(c, sim_now());
        }
    }
    check_invariants(24);
}

int main(int argc, char **argv) {
    st_seed_init(argc, argv, "sched_smp");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steal_victim_pure),
        cmocka_unit_test(test_select_cpu_pure),
        cmocka_unit_test_setup(test_steal_honours_affinity, setup4),
        cmocka_unit_test_setup(test_random_affinity_and_spread, setup4),
        cmocka_unit_test_setup(test_concurrent_cpus, setup4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
