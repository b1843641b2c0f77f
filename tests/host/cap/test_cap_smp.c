/* SPDX-License-Identifier: MIT */
/*
 * Concurrency: reader threads hammer the lock-free cap_validate()/cap_lookup() while a
 * writer derives, transfers, deletes, revokes and recreates. Asserts that once a revoke
 * has returned, no reader ever validates a handle it removed, and that a lookup never
 * pairs a handle with another round's object. Built with ThreadSanitizer too.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>

#include <kernel/cap.h>

#include "heap_shim.h"

#define ROUNDS   1500
#define K        100 /* capabilities made per round: more than one revoke step */
#define READERS  2
#define ALL      KEEL_RIGHTS_ALL
#define RECREATE 16 /* the root is deleted and made anew every RECREATE rounds */

struct rec {
    int space;
    keel_handle_t h;
};

static struct cap_space *spaces[2];
static struct rec hist[ROUNDS][K];  /* written before the round is published, then fixed */
static struct rec stale_at[ROUNDS]; /* a moved-away handle: dead from the start */
static char objects[ROUNDS / RECREATE + 1];
static long published = -1; /* last round whose hist is complete */
static long revoked = -1;   /* last round whose revoke has returned */
static int done;
static unsigned long reads; /* reader iterations, for pacing the writer */
static unsigned long phase; /* bumped by the writer after each publish and each revoke */
#define PER_PHASE 512       /* reader iterations per phase, so the run length is bounded */
static uint64_t seed;
static unsigned long checks_dead, hits_live;

static uint64_t rnd(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *reader(void *arg) {
    uint64_t r = seed ^ (uint64_t)(uintptr_t)arg ^ 0x5bd1e995u;
    unsigned long dead = 0, live = 0;
    unsigned long my_phase = 0, in_phase = 0;
    while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
        unsigned long ph = __atomic_load_n(&phase, __ATOMIC_RELAXED);
        if (ph != my_phase) {
            my_phase = ph;
            in_phase = 0;
        } else if (in_phase >= PER_PHASE) {
            sched_yield();
            continue;
        }
        in_phase++;
        __atomic_add_fetch(&reads, 1, __ATOMIC_RELAXED);
        long top = __atomic_load_n(&published, __ATOMIC_ACQUIRE);
        if (top < 0) {
            continue;
        }
        long round = (long)(rnd(&r) % (uint64_t)(top + 1));
        if (rnd(&r) % 4 == 0 && top >= 1) {
            round = top - (long)(rnd(&r) % 2); /* favour the rounds being torn down */
        }
        const struct rec *x = &hist[round][rnd(&r) % K];
        /* Read the revoke mark first: whatever it covers must already be dead. */
        long rv = __atomic_load_n(&revoked, __ATOMIC_ACQUIRE);
        kstatus_t st = cap_validate(spaces[x->space], x->h, KEEL_OBJ_IPC_ENDPOINT, KEEL_RIGHT_READ);
        if (st != KEEL_OK && st != KEEL_EBADCAP) {
            fail_msg("validate returned %d", st);
        }
        if (round <= rv) {
            if (st != KEEL_EBADCAP) {
                fail_msg("round %ld handle validated after its revoke returned", round);
            }
            dead++;
        } else if (st == KEEL_OK) {
            live++;
        }
        struct cap_info info;
        st = cap_lookup(spaces[x->space], x->h, KEEL_OBJ_NONE, 0, &info);
        if (st == KEEL_OK && info.object != &objects[round / RECREATE]) {
            fail_msg("lookup of a round %ld handle gave another round's object", round);
        }
        const struct rec *y = &stale_at[round];
        if (cap_validate(spaces[y->space], y->h, KEEL_OBJ_IPC_ENDPOINT, 0) != KEEL_EBADCAP) {
            fail_msg("a moved-away handle validated");
        }
    }
    __atomic_add_fetch(&checks_dead, dead, __ATOMIC_RELAXED);
    __atomic_add_fetch(&hits_live, live, __ATOMIC_RELAXED);
    return NULL;
}

/*
 * Start a new phase and let the readers run in it: wait until they made PER_PHASE more
 * iterations, with a bound so that a descheduled reader cannot stall the test.
 */
static void pace(void) {
    unsigned long start = __atomic_load_n(&reads, __ATOMIC_RELAXED);
    __atomic_add_fetch(&phase, 1, __ATOMIC_RELAXED);
    for (unsigned spin = 1; spin < 100000; spin++) {
        if (__atomic_load_n(&reads, __ATOMIC_RELAXED) - start >= PER_PHASE) {
            return;
        }
        if (spin % 64 == 0) {
            sched_yield();
        }
    }
}

static void writer(void) {
    uint64_t r = seed | 1;
    keel_handle_t root = 0;
    for (long round = 0; round < ROUNDS; round++) {
        if (round % RECREATE == 0) {
            if (round > 0) {
                assert_int_equal(cap_delete(spaces[0], root), KEEL_OK);
            }
            assert_int_equal(cap_create(spaces[0], KEEL_OBJ_IPC_ENDPOINT,
                                        &objects[round / RECREATE], ALL, &root),
                             KEEL_OK);
        }
        keel_handle_t moved_from = 0;
        for (int i = 0; i < K; i++) {
            struct rec *x = &hist[round][i];
            struct rec parent = i == 0 ? (struct rec){0, root} : hist[round][rnd(&r) % (uint64_t)i];
            switch (rnd(&r) % 3) {
            case 0:
                x->space = parent.space;
                assert_int_equal(cap_derive(spaces[parent.space], parent.h, ALL, 0, &x->h),
                                 KEEL_OK);
                break;
            case 1:
                x->space = 1 - parent.space;
                assert_int_equal(cap_transfer(spaces[parent.space], parent.h, spaces[x->space],
                                              KEEL_CAP_COPY, &x->h),
                                 KEEL_OK);
                break;
            default: {
                /* Derive, then move the new capability to the other space. */
                keel_handle_t tmp = 0;
                assert_int_equal(cap_derive(spaces[parent.space], parent.h, ALL, 0, &tmp), KEEL_OK);
                x->space = 1 - parent.space;
                assert_int_equal(
                    cap_transfer(spaces[parent.space], tmp, spaces[x->space], KEEL_CAP_MOVE, &x->h),
                    KEEL_OK);
                stale_at[round] = (struct rec){parent.space, tmp};
                moved_from = tmp;
                break;
            }
            }
        }
        if (moved_from == 0) {
            stale_at[round] = (struct rec){0, KEEL_HANDLE_MAKE(0xfffffff0u, 1)};
        }
        __atomic_store_n(&published, round, __ATOMIC_RELEASE);
        pace();
        /* Some individual deletes, then the revoke that removes the rest. */
        for (int i = 0; i < 3; i++) {
            struct rec *x = &hist[round][rnd(&r) % K];
            kstatus_t st = cap_delete(spaces[x->space], x->h);
            assert_true(st == KEEL_OK || st == KEEL_EBADCAP);
        }
        assert_int_equal(cap_revoke(spaces[0], root), KEEL_OK);
        __atomic_store_n(&revoked, round, __ATOMIC_RELEASE);
        pace();
    }
}

static void test_validate_vs_revoke(void **state) {
    (void)state;
    printf("cap_smp: seed=%llu rounds=%d readers=%d\n", (unsigned long long)seed, ROUNDS, READERS);
    assert_int_equal(cap_space_create(4096, 4096, &spaces[0]), KEEL_OK);
    assert_int_equal(cap_space_create(4096, 4096, &spaces[1]), KEEL_OK);
    pthread_t th[READERS];
    for (uintptr_t i = 0; i < READERS; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, reader, (void *)i), 0);
    }
    writer();
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < READERS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
    }
    printf("cap_smp: %lu checks of revoked handles, %lu live hits\n", checks_dead, hits_live);
    assert_true(checks_dead > 0);
    assert_int_equal(cap_space_count(spaces[0]), 1);
    assert_int_equal(cap_space_count(spaces[1]), 0);
    assert_int_equal(cap_space_audit(spaces[0]), KEEL_OK);
    assert_int_equal(cap_space_audit(spaces[1]), KEEL_OK);
    cap_space_destroy(spaces[0]);
    cap_space_destroy(spaces[1]);
    assert_int_equal(heap_shim_live(), 0);
}

int main(int argc, char **argv) {
    const char *v = argc > 1 ? argv[1] : getenv("KEEL_SEED");
    seed = v != NULL && *v != '\0' ? strtoull(v, NULL, 0) : (uint64_t)time(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_vs_revoke),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
