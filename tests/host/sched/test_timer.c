/* SPDX-License-Identifier: MIT */
/*
 * Host tests of src/time/ and the pairing heap: ns<->tick conversions against a 128-bit
 * reference at 10 MHz, 62.5 MHz, 1 GHz and 2.5 GHz; monotonic time on the fake counter;
 * timers firing in order and exactly once; del/mod semantics; a randomised timer model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arch/timer.h>
#include <kernel/pheap.h>
#include <kernel/sched.h>
#include <kernel/timer.h>

#include "fake_timer.h"
#include "sched_test.h"

static const uint64_t freqs[] = {10000000ull, 62500000ull, 1000000000ull, 2500000000ull};

static uint64_t ref_to_ns(uint64_t t, uint64_t f) {
    unsigned __int128 v = (unsigned __int128)t * NSEC_PER_SEC / f;
    return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static uint64_t ref_to_ticks(uint64_t ns, uint64_t f, bool ceil) {
    unsigned __int128 p = (unsigned __int128)ns * f;
    unsigned __int128 v = p / NSEC_PER_SEC + (ceil && p % NSEC_PER_SEC != 0);
    return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static void check_one(uint64_t v, uint64_t f) {
    assert_int_equal(clock_ticks_to_ns(v, f), ref_to_ns(v, f));
    assert_int_equal(clock_ns_to_ticks(v, f), ref_to_ticks(v, f, false));
    assert_int_equal(clock_ns_to_ticks_ceil(v, f), ref_to_ticks(v, f, true));
}

static void test_conversions_exact(void **state) {
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(freqs); i++) {
        uint64_t f = freqs[i];
        const uint64_t edges[] = {0, 1, f - 1, f, f + 1, NSEC_PER_SEC - 1, NSEC_PER_SEC, UINT32_MAX,
                                  (uint64_t)1 << 40, (uint64_t)1 << 53, (uint64_t)1 << 62,
                                  /* 100 years of uptime in ticks and in ns */
                                  f * 3600ull * 24 * 365 * 100,
                                  NSEC_PER_SEC * 3600ull * 24 * 365 * 100, UINT64_MAX / f,
                                  UINT64_MAX / NSEC_PER_SEC, UINT64_MAX - 1, UINT64_MAX};
        for (size_t k = 0; k < ARRAY_SIZE(edges); k++) {
            check_one(edges[k], f);
        }
        for (int k = 0; k < 200000; k++) {
            uint64_t v = st_rand() >> st_below(64);
            check_one(v, f);
        }
    }
}

static void test_conversions_round_trip(void **state) {
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(freqs); i++) {
        uint64_t f = freqs[i];
        for (int k = 0; k < 100000; k++) {
            uint64_t ns = st_rand() >> 8; /* ~2 years */
            /* a deadline converted up never fires early */
            assert_true(clock_ticks_to_ns(clock_ns_to_ticks_ceil(ns, f), f) >= ns);
            /* and converting down never overshoots */
            assert_true(clock_ticks_to_ns(clock_ns_to_ticks(ns, f), f) <= ns);
        }
        /* monotone in the input */
        uint64_t prev = 0;
        for (uint64_t t = 0; t < 5000; t++) {
            uint64_t ns = clock_ticks_to_ns(t * 7 + 123456789, f);
            assert_true(ns >= prev);
            prev = ns;
        }
    }
    assert_int_equal(clock_ticks_to_ns(5, 0), 0);
    assert_int_equal(clock_ns_to_ticks(5, CLOCK_FREQ_MAX_HZ + 1), 0);
}

static void test_monotonic_time(void **state) {
    (void)state;
    fake_timer_reset(62500000ull);
    fake_timer_set_ticks(1000);
    assert_int_equal(clock_register(62500000ull, NULL), KEEL_EINVAL);
    assert_int_equal(clock_register(0, arch_timer_now_ticks), KEEL_ERANGE);
    assert_int_equal(clock_register(arch_timer_freq_hz(), arch_timer_now_ticks), KEEL_OK);
    assert_int_equal(get_monotonic_time(), 0);
    fake_timer_advance_ticks(62500000ull); /* one second */
    assert_int_equal(get_monotonic_time(), NSEC_PER_SEC);
    fake_timer_advance_ticks(1); /* 16 ns at 62.5 MHz */
    assert_int_equal(get_monotonic_time(), NSEC_PER_SEC + 16);
    /* a deadline converts back to an absolute counter value, rounded up */
    assert_int_equal(clock_deadline_to_ticks(NSEC_PER_SEC + 17), 1000 + 62500000ull + 2);
    clock_set_system_time(1700000000ull * NSEC_PER_SEC);
    fake_timer_advance_ticks(625);
    assert_int_equal(get_system_time(), 1700000000ull * NSEC_PER_SEC + 10000);
    /* ~100 years of uptime at 2.5 GHz: no overflow */
    fake_timer_reset(2500000000ull);
    assert_int_equal(clock_register(arch_timer_freq_hz(), arch_timer_now_ticks), KEEL_OK);
    uint64_t century = 2500000000ull * 3600ull * 24 * 365 * 100;
    fake_timer_set_ticks(century);
    assert_int_equal(get_monotonic_time(), NSEC_PER_SEC * 3600ull * 24 * 365 * 100);
}

/* ---- pairing heap ---- */

static void test_pheap_random(void **state) {
    (void)state;
    enum { N = 2000 };
    static struct pheap_node nodes[N];
    static bool in[N];
    struct pheap h;
    pheap_init(&h);
    memset(in, 0, sizeof(in));
    size_t count = 0;
    for (int step = 0; step < 200000; step++) {
        unsigned i = (unsigned)st_below(N);
        if (!in[i]) {
            pheap_insert(&h, &nodes[i], st_below(1000));
            in[i] = true;
            count++;
        } else if (st_below(2) == 0) {
            pheap_remove(&h, &nodes[i]);
            in[i] = false;
            count--;
        } else {
            /* the min is no larger than any queued key */
            struct pheap_node *m = pheap_min(&h);
            assert_non_null(m);
            assert_true(m->key <= nodes[i].key);
            struct pheap_node *p = pheap_pop(&h);
            assert_ptr_equal(p, m);
            in[p - nodes] = false;
            count--;
        }
        assert_int_equal(h.count, count);
    }
    uint64_t last_key = 0, last_seq = 0;
    bool first = true;
    while (h.count > 0) {
        struct pheap_node *p = pheap_pop(&h);
        assert_false(pheap_node_queued(p));
        if (!first) {
            assert_true(p->key > last_key || (p->key == last_key && p->seq > last_seq));
        }
        first = false;
        last_key = p->key;
        last_seq = p->seq;
    }
    assert_null(pheap_pop(&h));
}

/* ---- timers ---- */

#define NT 64
static struct ktimer timers[NT];
static int fire_log[4 * NT];
static uint64_t fire_at[4 * NT];
static int nfired;

static void record(void *data, uint64_t now) {
    int id = (int)(intptr_t)data;
    fire_log[nfired] = id;
    fire_at[nfired] = now;
    nfired++;
}

static int setup_timers(void **state) {
    (void)state;
    timer_subsystem_init(2);
    nfired = 0;
    for (int i = 0; i < NT; i++) {
        timer_init(&timers[i], record, (void *)(intptr_t)i);
    }
    return 0;
}

static void test_timer_order_once(void **state) {
    (void)state;
    /* expiries 1000 - 10*i in reverse, plus equal expiries that must keep arming order */
    for (int i = 0; i < 32; i++) {
        assert_int_equal(add_timer(&timers[i], 1000 - 10 * (uint64_t)i), KEEL_OK);
    }
    for (int i = 32; i < 40; i++) {
        assert_int_equal(add_timer(&timers[i], 500), KEEL_OK);
    }
    assert_int_equal(add_timer(&timers[3], 5), KEEL_EEXIST);
    assert_int_equal(timer_pending_count(0), 40);
    assert_int_equal(timer_next_expiry(0), 500);
    assert_int_equal(timer_run_expired(0, 499), 0);
    size_t n = timer_run_expired(0, 500);
    /* the others expire at 690..1000: only the 500s fire, in arming order */
    assert_int_equal(n, 8);
    for (int k = 0; k < 8; k++) {
        assert_int_equal(fire_log[k], 32 + k);
    }
    n = timer_run_expired(0, 2000);
    assert_int_equal(n, 32);
    for (int k = 0; k < 32; k++) {
        assert_int_equal(fire_log[8 + k], 31 - k); /* earliest expiry first */
        assert_int_equal(fire_at[8 + k], 2000);
    }
    /* exactly once */
    assert_int_equal(timer_run_expired(0, UINT64_MAX), 0);
    assert_int_equal(nfired, 40);
    for (int i = 0; i < 40; i++) {
        assert_false(timer_pending(&timers[i]));
    }
    assert_int_equal(timer_next_expiry(0), TIME_NEVER);
}

static void test_timer_del_mod(void **state) {
    (void)state;
    assert_int_equal(del_timer(&timers[0]), 0); /* never armed */
    assert_int_equal(add_timer(&timers[0], 100), KEEL_OK);
    assert_int_equal(add_timer(&timers[1], 200), KEEL_OK);
    assert_int_equal(del_timer(&timers[0]), 1);
    assert_int_equal(del_timer(&timers[0]), 0);
    assert_int_equal(mod_timer(&timers[1], 50), 1);  /* earlier */
    assert_int_equal(mod_timer(&timers[2], 60), 0);  /* arms an idle one */
    assert_int_equal(mod_timer(&timers[2], 300), 1); /* later */
    assert_int_equal(timer_run_expired(0, 100), 1);
    assert_int_equal(fire_log[0], 1);
    assert_int_equal(del_timer(&timers[1]), 0); /* already fired */
    assert_int_equal(timer_run_expired(0, 299), 0);
    assert_int_equal(timer_run_expired(0, 300), 1);
    assert_int_equal(fire_log[1], 2);
    /* per-CPU queues */
    assert_int_equal(add_timer_on(&timers[5], 10, 1), KEEL_OK);
    assert_int_equal(add_timer_on(&timers[6], 10, 2), KEEL_EINVAL);
    assert_int_equal(timer_run_expired(0, 100), 0);
    assert_int_equal(timer_run_expired(1, 100), 1);
    assert_int_equal(fire_log[2], 5);
    /* re-armed on CPU 1 by add_timer (it stays on its queue); deleted from anywhere */
    assert_int_equal(add_timer(&timers[5], 20), KEEL_OK);
    assert_int_equal(timer_pending_count(1), 1);
    assert_int_equal(del_timer(&timers[5]), 1);
    assert_int_equal(timer_pending_count(1), 0);
}

/* A callback that re-arms itself (periodic) and one that deletes another timer. */
static int periodic_count;
static void periodic(void *data, uint64_t now) {
    (void)data;
    periodic_count++;
    if (periodic_count < 5) {
        assert_int_equal(add_timer(&timers[10], now + 10), KEEL_OK);
    }
    (void)del_timer(&timers[11]);
}

static void test_timer_rearm_from_callback(void **state) {
    (void)state;
    periodic_count = 0;
    timer_init(&timers[10], periodic, NULL);
    assert_int_equal(add_timer(&timers[10], 10), KEEL_OK);
    assert_int_equal(add_timer(&timers[11], 15), KEEL_OK);
    assert_int_equal(timer_run_expired(0, 10), 1);
    assert_false(timer_pending(&timers[11])); /* deleted by the callback before firing */
    /* re-armed at now + 10 each time; running at 1000 fires them one per pass */
    size_t total = 0;
    for (uint64_t t = 20; t <= 100; t += 10) {
        total += timer_run_expired(0, t);
    }
    assert_int_equal(total, 4);
    assert_int_equal(periodic_count, 5);
    assert_int_equal(nfired, 0);
}

/* Randomised model: arm/del/mod/run against a plain array; every fire checked. */
static uint64_t model_exp[NT];
static bool model_armed[NT];
static uint64_t model_now;

static void model_fire(void *data, uint64_t now) {
    int id = (int)(intptr_t)data;
    assert_true(model_armed[id]);
    assert_true(model_exp[id] <= now);
    /* in order: nothing armed expires before this one */
    for (int i = 0; i < NT; i++) {
        if (model_armed[i] && i != id) {
            assert_true(model_exp[i] >= model_exp[id]);
        }
    }
    model_armed[id] = false;
    nfired++;
}

static void test_timer_model(void **state) {
    (void)state;
    for (int i = 0; i < NT; i++) {
        timer_init(&timers[i], model_fire, (void *)(intptr_t)i);
        model_armed[i] = false;
    }
    model_now = 0;
    for (int step = 0; step < 300000; step++) {
        int i = (int)st_below(NT);
        switch (st_below(5)) {
        case 0:
        case 1: {
            uint64_t e = model_now + st_below(1000);
            kstatus_t st = add_timer(&timers[i], e);
            assert_int_equal(st, model_armed[i] ? KEEL_EEXIST : KEEL_OK);
            if (!model_armed[i]) {
                model_armed[i] = true;
                model_exp[i] = e;
            }
            break;
        }
        case 2:
            assert_int_equal(del_timer(&timers[i]), model_armed[i] ? 1 : 0);
            model_armed[i] = false;
            break;
        case 3: {
            uint64_t e = model_now + st_below(1000);
            assert_int_equal(mod_timer(&timers[i], e), model_armed[i] ? 1 : 0);
            model_armed[i] = true;
            model_exp[i] = e;
            break;
        }
        default: {
            model_now += st_below(300);
            size_t expect = 0;
            for (int k = 0; k < NT; k++) {
                expect += model_armed[k] && model_exp[k] <= model_now;
            }
            assert_int_equal(timer_run_expired(0, model_now), expect);
            break;
        }
        }
        size_t pending = 0;
        for (int k = 0; k < NT; k++) {
            pending += model_armed[k];
            assert_int_equal(timer_pending(&timers[k]), model_armed[k]);
        }
        assert_int_equal(timer_pending_count(0), pending);
    }
}

int main(int argc, char **argv) {
    st_seed_init(argc, argv, "sched_timer");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conversions_exact),
        cmocka_unit_test(test_conversions_round_trip),
        cmocka_unit_test(test_monotonic_time),
        cmocka_unit_test(test_pheap_random),
        cmocka_unit_test_setup(test_timer_order_once, setup_timers),
        cmocka_unit_test_setup(test_timer_del_mod, setup_timers),
        cmocka_unit_test_setup(test_timer_rearm_from_callback, setup_timers),
        cmocka_unit_test_setup(test_timer_model, setup_timers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
