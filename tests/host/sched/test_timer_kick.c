/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the timer queues' kick decision (src/time/timer.c): a timer queued on a
 * CPU's queue kicks that CPU exactly when it becomes the earliest and is due before what
 * the CPU programmed (timer_arm_next), never otherwise; and a randomised model of CPUs
 * that program, fire and take kicks checks that no pending timer is ever left behind a
 * later programmed deadline without a kick on its way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <kernel/timer.h>

#include "sched_test.h"

#define NCPU 3
#define NT   48

static struct ktimer timers[NT];
static unsigned kicks[NCPU];
static bool kick_pending[NCPU];

static void kick_hook(unsigned cpu) {
    assert_true(cpu < NCPU);
    kicks[cpu]++;
    kick_pending[cpu] = true;
}

static void nop(void *data, uint64_t now) {
    (void)data;
    (void)now;
}

static int setup(void **state) {
    (void)state;
    timer_subsystem_init(NCPU);
    timer_set_kick(kick_hook);
    memset(kicks, 0, sizeof(kicks));
    memset(kick_pending, 0, sizeof(kick_pending));
    for (int i = 0; i < NT; i++) {
        timer_init(&timers[i], nop, NULL);
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    timer_set_kick(NULL);
    return 0;
}

static void test_kick_decisions(void **state) {
    (void)state;
    /* a CPU that never programmed its timer (not up yet) is never kicked */
    assert_int_equal(add_timer_on(&timers[0], 100, 1), KEEL_OK);
    assert_int_equal(kicks[1], 0);
    /* CPU 1 programs: the earlier of its own bound and its queue */
    assert_int_equal(timer_arm_next(1, 1000), 100);
    assert_int_equal(timer_arm_next(1, 50), 50);
    assert_int_equal(del_timer(&timers[0]), 1);
    assert_int_equal(timer_arm_next(1, 1000), 1000);
    /* later than the programmed deadline: no kick */
    assert_int_equal(add_timer_on(&timers[1], 1000, 1), KEEL_OK);
    assert_int_equal(add_timer_on(&timers[2], 5000, 1), KEEL_OK);
    assert_int_equal(kicks[1], 0);
    /* earlier and the earliest: one kick, to that CPU only */
    assert_int_equal(add_timer_on(&timers[3], 400, 1), KEEL_OK);
    assert_int_equal(kicks[1], 1);
    assert_int_equal(kicks[0] + kicks[2], 0);
    /* a kick is on its way for 400: a later one before the CPU re-armed sends none */
    assert_int_equal(add_timer_on(&timers[4], 600, 1), KEEL_OK);
    assert_int_equal(kicks[1], 1);
    /* an earlier one does (the kicked CPU may have re-armed already) */
    assert_int_equal(add_timer_on(&timers[5], 300, 1), KEEL_OK);
    assert_int_equal(kicks[1], 2);
    /* the CPU re-arms: it now covers 300 */
    assert_int_equal(timer_arm_next(1, 1000), 300);
    /* not the earliest (300 is): no kick, even though earlier than its own bound */
    assert_int_equal(add_timer_on(&timers[6], 350, 1), KEEL_OK);
    assert_int_equal(kicks[1], 2);
    /* mod_timer pulling a timer in front kicks; pushing it out does not */
    assert_int_equal(mod_timer(&timers[2], 200), 1);
    assert_int_equal(kicks[1], 3);
    assert_int_equal(timer_arm_next(1, 1000), 200);
    assert_int_equal(mod_timer(&timers[2], 9000), 1);
    assert_int_equal(kicks[1], 3);
    /* the quiet variant never kicks */
    assert_int_equal(add_timer_on_quiet(&timers[7], 10, 1), KEEL_OK);
    assert_int_equal(kicks[1], 3);
    assert_int_equal(timer_arm_next(1, 1000), 10);
    /* while the CPU fires its queue, nothing queued there kicks (it re-arms after) */
    assert_int_equal(timer_run_expired(1, 10), 1);
    assert_int_equal(add_timer_on(&timers[7], 5, 1), KEEL_OK);
    assert_int_equal(kicks[1], 3);
    /* CPU 0 is independent */
    assert_int_equal(timer_arm_next(0, 800), 800);
    assert_int_equal(add_timer_on(&timers[8], 700, 0), KEEL_OK);
    assert_int_equal(kicks[0], 1);
    assert_int_equal(kicks[1], 3);
    /* re-initialising forgets what was programmed */
    timer_subsystem_init(NCPU);
    for (int i = 0; i < NT; i++) {
        timer_init(&timers[i], nop, NULL);
    }
    assert_int_equal(add_timer_on(&timers[0], 1, 0), KEEL_OK);
    assert_int_equal(kicks[0], 1);
}

/* ---- the randomised model ---- */

#define M_TICK_MAX 1000 /* like IRQ_TICK_MAX_NS */
#define M_TICK_MIN 20   /* like IRQ_TICK_MIN_NS */

static bool m_armed[NT];
static uint64_t m_exp[NT];
static unsigned m_cpu[NT];
static uint64_t hw[NCPU];         /* what each CPU's one-shot is programmed for */
static uint64_t rearmed_at[NCPU]; /* when it was programmed */
static uint64_t now;
static uint64_t needless;

static void model_fire(void *data, uint64_t at) {
    int i = (int)(intptr_t)data;
    assert_true(m_armed[i]);
    assert_true(m_exp[i] <= at);
    m_armed[i] = false;
}

/* irq_timer_rearm on cpu: its own next event (random), capped, then the queue, clamped. */
static void rearm(unsigned cpu) {
    uint64_t next = now + 1 + st_below(2 * M_TICK_MAX);
    if (next > now + M_TICK_MAX) {
        next = now + M_TICK_MAX;
    }
    next = timer_arm_next(cpu, next);
    if (next < now + M_TICK_MIN) {
        next = now + M_TICK_MIN;
    }
    hw[cpu] = next;
    rearmed_at[cpu] = now;
}

/* A kick is needed only if some pending timer there is due before the programmed tick. */
static void check_kick_was_needed(unsigned cpu, unsigned before) {
    if (kicks[cpu] == before) {
        return;
    }
    bool needed = false;
    for (int k = 0; k < NT; k++) {
        needed |= m_armed[k] && m_cpu[k] == cpu && m_exp[k] < hw[cpu];
    }
    needless += !needed;
}

static void check_invariant(void) {
    for (int k = 0; k < NT; k++) {
        if (!m_armed[k] || kick_pending[m_cpu[k]]) {
            continue;
        }
        unsigned c = m_cpu[k];
        uint64_t allowed =
            m_exp[k] > rearmed_at[c] + M_TICK_MIN ? m_exp[k] : rearmed_at[c] + M_TICK_MIN;
        if (hw[c] > allowed) {
            fail_msg("timer %d on cpu %u due %llu, tick at %llu, no kick", k, c,
                     (unsigned long long)m_exp[k], (unsigned long long)hw[c]);
        }
    }
}

static void test_kick_model(void **state) {
    (void)state;
    for (int i = 0; i < NT; i++) {
        timer_init(&timers[i], model_fire, (void *)(intptr_t)i);
        m_armed[i] = false;
        m_cpu[i] = 0;
    }
    now = 1;
    needless = 0;
    for (unsigned c = 0; c < NCPU; c++) {
        rearm(c);
    }
    unsigned long total_kicks = 0;
    for (int step = 0; step < 1000000; step++) {
        int i = (int)st_below(NT);
        unsigned c = (unsigned)st_below(NCPU);
        unsigned before[NCPU];
        memcpy(before, kicks, sizeof(before));
        switch (st_below(8)) {
        case 0:
        case 1: {
            uint64_t e = now + st_below(3 * M_TICK_MAX);
            kstatus_t st = add_timer_on(&timers[i], e, c);
            assert_int_equal(st, m_armed[i] ? KEEL_EEXIST : KEEL_OK);
            if (!m_armed[i]) {
                m_armed[i] = true;
                m_exp[i] = e;
                m_cpu[i] = c;
                check_kick_was_needed(c, before[c]);
            }
            break;
        }
        case 2: {
            uint64_t e = now + st_below(3 * M_TICK_MAX);
            unsigned tc = timers[i].cpu;
            assert_int_equal(mod_timer(&timers[i], e), m_armed[i] ? 1 : 0);
            m_armed[i] = true;
            m_exp[i] = e;
            m_cpu[i] = tc;
            check_kick_was_needed(tc, before[tc]);
            break;
        }
        case 3:
            assert_int_equal(del_timer(&timers[i]), m_armed[i] ? 1 : 0);
            m_armed[i] = false;
            break;
        case 4:
            /* the blocking path: queued quietly by the CPU itself, which re-arms at once */
            if (!m_armed[i]) {
                uint64_t e = now + st_below(3 * M_TICK_MAX);
                assert_int_equal(add_timer_on_quiet(&timers[i], e, c), KEEL_OK);
                m_armed[i] = true;
                m_exp[i] = e;
                m_cpu[i] = c;
                rearm(c);
            }
            break;
        case 5:
            /* a kick arrives: the IPI handler re-arms */
            if (kick_pending[c]) {
                kick_pending[c] = false;
                rearm(c);
            }
            break;
        default: {
            /* time passes to the earliest programmed tick (or less); due CPUs fire */
            uint64_t next = UINT64_MAX;
            for (unsigned k = 0; k < NCPU; k++) {
                next = hw[k] < next ? hw[k] : next;
            }
            uint64_t to = now + st_below(M_TICK_MAX / 4);
            now = to < next ? to : next;
            for (unsigned k = 0; k < NCPU; k++) {
                if (hw[k] <= now) {
                    (void)timer_run_expired(k, now);
                    rearm(k);
                }
            }
            break;
        }
        }
        for (unsigned k = 0; k < NCPU; k++) {
            total_kicks += kicks[k] - before[k];
        }
        check_invariant();
    }
    printf("sched_timer_kick model: %lu kicks, %llu with no timer due before the tick\n",
           total_kicks, (unsigned long long)needless);
    assert_true(total_kicks > 1000); /* the model exercises kicks */
    assert_int_equal(needless, 0);
}

int main(int argc, char **argv) {
    st_seed_init(argc, argv, "sched_timer_kick");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kick_decisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kick_model, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
