/* SPDX-License-Identifier: MIT */
/*
 * Revocation at scale: 100,000-capability trees (a chain, a fan, and a random tree spread
 * over four spaces) are revoked iteratively; afterwards no descendant handle validates,
 * counts are back where they started and every space passes its audit. A recursive
 * revoke would overflow the stack on the chain. Seed: KEEL_SEED or argv[1].
 */
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

#define N       100000u
#define NSPACES 4
#define ALL     KEEL_RIGHTS_ALL

static int object;
static uint64_t seed;
static keel_handle_t handles[N];
static int owner[N];

static uint64_t rnd(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static struct cap_space *mk_space(void) {
    struct cap_space *s = NULL;
    assert_int_equal(cap_space_create(N + 16, N + 16, &s), KEEL_OK);
    return s;
}

static void expect_all_dead(struct cap_space **spaces, uint32_t from) {
    for (uint32_t i = from; i < N; i++) {
        if (cap_validate(spaces[owner[i]], handles[i], KEEL_OBJ_MEMORY, 0) != KEEL_EBADCAP) {
            fail_msg("capability %u survived the revoke", i);
        }
    }
}

static void test_chain(void **state) {
    (void)state;
    struct cap_space *s = mk_space();
    keel_handle_t root = 0;
    assert_int_equal(cap_create(s, KEEL_OBJ_MEMORY, &object, ALL, &root), KEEL_OK);
    keel_handle_t prev = root;
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(cap_derive(s, prev, ALL, 0, &handles[i]), KEEL_OK);
        owner[i] = 0;
        prev = handles[i];
    }
    assert_int_equal(cap_space_count(s), N + 1);
    /* Delete one link in the middle: its subtree moves up and is still revoked. */
    assert_int_equal(cap_delete(s, handles[N / 2]), KEEL_OK);
    assert_int_equal(cap_revoke(s, root), KEEL_OK);
    expect_all_dead(&s, 0);
    assert_int_equal(cap_validate(s, root, KEEL_OBJ_MEMORY, ALL), KEEL_OK);
    assert_int_equal(cap_space_count(s), 1);
    assert_int_equal(cap_space_audit(s), KEEL_OK);
    cap_space_destroy(s);
    assert_int_equal(heap_shim_live(), 0);
}

static void test_fan(void **state) {
    (void)state;
    struct cap_space *s = mk_space();
    keel_handle_t root = 0;
    assert_int_equal(cap_create(s, KEEL_OBJ_MEMORY, &object, ALL, &root), KEEL_OK);
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(cap_derive(s, root, KEEL_RIGHT_READ, 0, &handles[i]), KEEL_OK);
        owner[i] = 0;
    }
    /* Bounded steps: exactly ceil(N / 1000) steps, all but the last KEEL_EBUSY. */
    uint32_t steps = 0;
    kstatus_t st;
    do {
        st = cap_revoke_step(s, root, 1000);
        steps++;
        if (st == KEEL_EBUSY) {
            assert_int_equal(cap_space_count(s), N + 1 - steps * 1000);
        }
    } while (st == KEEL_EBUSY);
    assert_int_equal(st, KEEL_OK);
    assert_int_equal(steps, N / 1000);
    expect_all_dead(&s, 0);
    assert_int_equal(cap_space_count(s), 1);
    assert_int_equal(cap_space_audit(s), KEEL_OK);
    cap_space_destroy(s);
    assert_int_equal(heap_shim_live(), 0);
}

static void test_random_across_spaces(void **state) {
    (void)state;
    uint64_t r = seed | 1;
    struct cap_space *spaces[NSPACES];
    for (int i = 0; i < NSPACES; i++) {
        spaces[i] = mk_space();
    }
    keel_handle_t root = 0;
    keel_handle_t bystander = 0;
    assert_int_equal(cap_create(spaces[0], KEEL_OBJ_MEMORY, &object, ALL, &root), KEEL_OK);
    assert_int_equal(cap_create(spaces[1], KEEL_OBJ_MEMORY, &object, ALL, &bystander), KEEL_OK);
    for (uint32_t i = 0; i < N; i++) {
        uint32_t p = i == 0 ? 0 : (uint32_t)(rnd(&r) % i);
        keel_handle_t ph = i == 0 ? root : handles[p];
        int ps = i == 0 ? 0 : owner[p];
        int to = (int)(rnd(&r) % NSPACES);
        if (to == ps) {
            assert_int_equal(cap_derive(spaces[ps], ph, ALL, 0, &handles[i]), KEEL_OK);
        } else {
            assert_int_equal(cap_transfer(spaces[ps], ph, spaces[to], KEEL_CAP_COPY, &handles[i]),
                             KEEL_OK);
        }
        owner[i] = to;
    }
    /* Revoke a subtree first: everything outside it must survive. */
    keel_handle_t mid = handles[N / 3];
    int mid_space = owner[N / 3];
    assert_int_equal(cap_revoke(spaces[mid_space], mid), KEEL_OK);
    assert_int_equal(cap_validate(spaces[mid_space], mid, KEEL_OBJ_MEMORY, ALL), KEEL_OK);
    assert_int_equal(cap_validate(spaces[owner[0]], handles[0], KEEL_OBJ_MEMORY, ALL), KEEL_OK);
    uint32_t live = 0;
    for (int i = 0; i < NSPACES; i++) {
        live += cap_space_count(spaces[i]);
        assert_int_equal(cap_space_audit(spaces[i]), KEEL_OK);
    }
    assert_true(live <= N + 2);
    /* Then the whole tree, in bounded steps. */
    uint32_t steps = 0;
    kstatus_t st;
    while ((st = cap_revoke_step(spaces[0], root, CAP_REVOKE_BUDGET)) == KEEL_EBUSY) {
        steps++;
    }
    assert_int_equal(st, KEEL_OK);
    assert_true(steps + 1 >= (live - 2 + CAP_REVOKE_BUDGET - 1) / CAP_REVOKE_BUDGET);
    expect_all_dead(spaces, 0);
    assert_int_equal(cap_validate(spaces[0], root, KEEL_OBJ_MEMORY, ALL), KEEL_OK);
    assert_int_equal(cap_validate(spaces[1], bystander, KEEL_OBJ_MEMORY, ALL), KEEL_OK);
    assert_int_equal(cap_space_count(spaces[0]), 1);
    assert_int_equal(cap_space_count(spaces[1]), 1);
    assert_int_equal(cap_space_count(spaces[2]), 0);
    assert_int_equal(cap_space_count(spaces[3]), 0);
    for (int i = 0; i < NSPACES; i++) {
        assert_int_equal(cap_space_audit(spaces[i]), KEEL_OK);
        cap_space_destroy(spaces[i]);
    }
    assert_int_equal(heap_shim_live(), 0);
}

int main(int argc, char **argv) {
    const char *v = argc > 1 ? argv[1] : getenv("KEEL_SEED");
    seed = v != NULL && *v != '\0' ? strtoull(v, NULL, 0) : (uint64_t)time(NULL);
    printf("cap_revoke_big: seed=%llu\n", (unsigned long long)seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_fan),
        cmocka_unit_test(test_random_across_spaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
