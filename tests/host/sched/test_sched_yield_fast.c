/* SPDX-License-Identifier: MIT */
/*
 * The yield fast path (sched_yield_pick done in place) must decide exactly as the general
 * path (put_prev + rq_choose): the same random workload of yields, ticks, blocks, wakes,
 * priority changes and EDF entities runs twice, fast path on and off, and every field of
 * every entity and of the run queue is compared after each step.
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

#define NE    12
#define STEPS 200000

static struct sched_entity ents[NE];

/* What is compared after each step (pointers as entity ids). */
struct ent_snap {
    uint8_t state, klass, level, queue, block_reason;
    bool boosted, yield_pending;
    int64_t next, prev;
    uint64_t slice_left, exec_start, wait_since, sum_exec, nr_runs, edf_budget, edf_deadline;
};
struct rq_snap {
    uint32_t bitmap, nr_queued, load;
    int64_t curr, head[SCHED_NR_QUEUES], tail[SCHED_NR_QUEUES];
    uint64_t now, nr_picks, aging_at;
    bool need_resched;
    struct ent_snap e[NE];
};

static int64_t id_of(const struct sched_entity *e) {
    return e != NULL ? (int64_t)e->id : -1;
}

static void snap(struct rq_snap *s) {
    memset(s, 0, sizeof(*s));
    const struct sched_cpu *rq = sched_cpu_get(0);
    s->bitmap = rq->bitmap;
    s->nr_queued = rq->nr_queued;
    s->load = rq->load;
    s->curr = id_of(rq->curr);
    for (unsigned q = 0; q < SCHED_NR_QUEUES; q++) {
        s->head[q] = id_of(rq->q[q].head);
        s->tail[q] = id_of(rq->q[q].tail);
    }
    s->now = rq->now_ns;
    s->nr_picks = rq->nr_picks;
    s->aging_at = rq->aging_at;
    s->need_resched = rq->need_resched;
    for (unsigned i = 0; i < NE; i++) {
        const struct sched_entity *e = &ents[i];
        s->e[i] = (struct ent_snap){
            .state = e->state,
            .klass = e->klass,
            .level = e->level,
            .queue = e->state == SCHED_QUEUED ? e->queue : 0,
            .block_reason = e->block_reason,
            .boosted = e->boosted,
            .yield_pending = e->yield_pending,
            .next = id_of(e->rq_next),
            .prev = id_of(e->rq_prev),
            .slice_left = e->slice_left_ns,
            .exec_start = e->exec_start_ns,
            .wait_since = e->wait_since_ns,
            .sum_exec = e->sum_exec_ns,
            .nr_runs = e->nr_runs,
            .edf_budget = e->edf_budget_ns,
            .edf_deadline = e->edf_abs_deadline,
        };
    }
}

static const unsigned prios[] = {SCHED_PRIO_IDLE, SCHED_PRIO_LOW, SCHED_PRIO_NORMAL,
                                 SCHED_PRIO_HIGH, SCHED_PRIO_REALTIME};

/* One run of the workload from seed; snapshots into out[STEPS]. Returns fast yields. */
static uint64_t run(uint64_t seed, bool fast, struct rq_snap *out) {
    sched_yield_fast_enabled = fast;
    st_rng = seed;
    assert_int_equal(sched_init(1), KEEL_OK);
    for (unsigned i = 0; i < NE; i++) {
        sched_entity_init(&ents[i], i);
    }
    uint64_t now = 0;
    /* most threads at one or two levels (the case the fast path serves), some spread */
    for (unsigned i = 0; i < NE - 2; i++) {
        unsigned prio = i < 6 ? SCHED_PRIO_HIGH : prios[st_below(5)];
        assert_int_equal(sched_add(&ents[i], prio, now), KEEL_OK);
    }
    (void)sched_pick_next(0, now);
    for (unsigned step = 0; step < STEPS; step++) {
        now += st_below(4) == 0 ? st_below(3 * MS) : st_below(50 * US);
        struct sched_entity *cur = sched_cpu_get(0)->curr;
        struct sched_entity *next;
        unsigned op = (unsigned)st_below(100);
        if (op < 60) {
            if (sched_yield_pick(0, now, &next) != KEEL_OK) {
                (void)sched_pick_next(0, now);
            }
        } else if (op < 72) {
            if (sched_tick(0, now)) {
                (void)sched_pick_next(0, now);
            }
        } else if (op < 80 && cur != NULL && cur->state == SCHED_RUNNING) {
            bool blocked;
            assert_int_equal(sched_prepare_block(0, cur), KEEL_OK);
            uint64_t to = st_below(2) ? TIME_NEVER : st_below(5 * MS);
            assert_int_equal(sched_block(0, cur, SCHED_BLOCK_IO, to, now, &blocked), KEEL_OK);
            (void)sched_pick_next(0, now);
        } else if (op < 90) {
            unsigned target;
            kstatus_t st = sched_wake(&ents[st_below(NE)], KEEL_OK, now, &target);
            assert_true(st == KEEL_OK || st == KEEL_EEXIST);
        } else if (op < 93) {
            struct sched_entity *e = &ents[st_below(NE - 2)];
            if (e->klass == SCHED_CLASS_MLFQ && e->state != SCHED_DETACHED) {
                assert_int_equal(sched_set_priority(e, prios[st_below(5)]), KEEL_OK);
            }
        } else if (op < 94) {
            /* an EDF entity comes or goes: the fast path must stand aside meanwhile */
            struct sched_entity *e = &ents[NE - 1];
            if (e->state == SCHED_DETACHED) {
                struct sched_edf_params p = {
                    .runtime_ns = 100 * US, .deadline_ns = 2 * MS, .period_ns = 2 * MS};
                assert_int_equal(sched_add_edf(e, &p, now), KEEL_OK);
            } else if (e->state != SCHED_RUNNING && e->state != SCHED_EXITED) {
                assert_int_equal(sched_remove(e), KEEL_OK);
            }
        } else {
            /* the last MLFQ slot joins late or leaves, changing the queues */
            struct sched_entity *e = &ents[NE - 2];
            if (e->state == SCHED_DETACHED) {
                assert_int_equal(sched_add(e, prios[st_below(5)], now), KEEL_OK);
            } else if (e->state != SCHED_RUNNING && e->state != SCHED_EXITED) {
                assert_int_equal(sched_remove(e), KEEL_OK);
            }
        }
        /* fire due timeouts the way the tick glue does */
        timer_run_expired(0, now);
        snap(&out[step]);
    }
    sched_yield_fast_enabled = true;
    return sched_cpu_get(0)->nr_yield_fast;
}

static uint64_t the_seed;

extern const uint8_t sched_highest_queue[1u << SCHED_NR_QUEUES]; /* src/sched internal */

static void test_highest_queue_table(void **state) {
    (void)state;
    for (unsigned i = 1; i < (1u << SCHED_NR_QUEUES); i++) {
        assert_int_equal(sched_highest_queue[i], 31 - __builtin_clz(i));
    }
}

static void test_fast_equals_general(void **state) {
    (void)state;
    static struct rq_snap a[STEPS], b[STEPS];
    uint64_t fast_hits = run(the_seed, true, a);
    uint64_t none = run(the_seed, false, b);
    assert_int_equal(none, 0);
    printf("sched_yield_fast: %llu of the yields took the fast path\n",
           (unsigned long long)fast_hits);
    assert_true(fast_hits > STEPS / 10); /* the workload really exercises it */
    for (unsigned step = 0; step < STEPS; step++) {
        if (memcmp(&a[step].e, &b[step].e, sizeof(a[step].e)) != 0 ||
            a[step].bitmap != b[step].bitmap || a[step].nr_queued != b[step].nr_queued ||
            a[step].load != b[step].load || a[step].curr != b[step].curr ||
            memcmp(a[step].head, b[step].head, sizeof(a[step].head)) != 0 ||
            memcmp(a[step].tail, b[step].tail, sizeof(a[step].tail)) != 0 ||
            a[step].now != b[step].now || a[step].nr_picks != b[step].nr_picks ||
            a[step].aging_at != b[step].aging_at || a[step].need_resched != b[step].need_resched) {
            fail_msg("fast and general yield differ at step %u (seed %llu)", step,
                     (unsigned long long)the_seed);
        }
    }
}

int main(int argc, char **argv) {
    the_seed = st_seed_init(argc, argv, "sched_yield_fast");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_highest_queue_table),
        cmocka_unit_test(test_fast_equals_general),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
