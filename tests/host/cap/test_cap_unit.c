/* SPDX-License-Identifier: MIT */
/*
 * CMocka unit tests for src/cap/: each capability operation and each error it can
 * return, quotas, growth, generations, and out-of-memory paths via the heap shim.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <kernel/cap.h>

#include "../../../src/cap/cap_internal.h"
#include "heap_shim.h"

static int obj_a, obj_b;
#define OBJ_A ((void *)&obj_a)
#define OBJ_B ((void *)&obj_b)
#define ALL   KEEL_RIGHTS_ALL
#define RW    (KEEL_RIGHT_READ | KEEL_RIGHT_WRITE)

static struct cap_space *mk_space(uint32_t capacity, uint32_t quota) {
    struct cap_space *s = NULL;
    assert_int_equal(cap_space_create(capacity, quota, &s), KEEL_OK);
    assert_non_null(s);
    return s;
}

static keel_handle_t mk_cap(struct cap_space *s, uint32_t type, uint32_t rights) {
    keel_handle_t h = 0;
    assert_int_equal(cap_create(s, type, OBJ_A, rights, &h), KEEL_OK);
    assert_int_not_equal(h, KEEL_HANDLE_NULL);
    return h;
}

static keel_handle_t mk_child(struct cap_space *s, keel_handle_t parent, uint32_t rights) {
    keel_handle_t h = 0;
    assert_int_equal(cap_derive(s, parent, rights, 0, &h), KEEL_OK);
    return h;
}

static int setup(void **state) {
    (void)state;
    heap_shim_fail_after(-1);
    return 0;
}

static int teardown_leaks(void **state) {
    (void)state;
    heap_shim_fail_after(-1);
    assert_int_equal(heap_shim_live(), 0);
    return 0;
}

static void test_space_create_errors(void **state) {
    (void)state;
    struct cap_space *s = NULL;
    assert_int_equal(cap_space_create(0, 1, &s), KEEL_EINVAL);
    assert_int_equal(cap_space_create(CAP_SPACE_MAX_CAPACITY + 1, 1, &s), KEEL_EINVAL);
    assert_int_equal(cap_space_create(8, 0, &s), KEEL_EINVAL);
    assert_int_equal(cap_space_create(8, 9, &s), KEEL_EINVAL);
    assert_int_equal(cap_space_create(8, 8, NULL), KEEL_EINVAL);
    assert_null(s);
    heap_shim_fail_after(0);
    assert_int_equal(cap_space_create(8, 8, &s), KEEL_ENOMEM);
    heap_shim_fail_after(1);
    assert_int_equal(cap_space_create(8, 8, &s), KEEL_ENOMEM);
    heap_shim_fail_after(-1);
    assert_null(s);
    assert_int_equal(heap_shim_live(), 0);
}

static void test_create_and_validate(void **state) {
    (void)state;
    struct cap_space *s = mk_space(16, 16);
    keel_handle_t h = mk_cap(s, KEEL_OBJ_MEMORY, RW);
    assert_int_equal(cap_validate(s, h, KEEL_OBJ_MEMORY, KEEL_RIGHT_READ), KEEL_OK);
    assert_int_equal(cap_validate(s, h, KEEL_OBJ_MEMORY, RW), KEEL_OK);
    assert_int_equal(cap_validate(s, h, KEEL_OBJ_MEMORY, 0), KEEL_OK);
    assert_int_equal(cap_space_count(s), 1);
    assert_int_not_equal(KEEL_HANDLE_INDEX(h), 0);
    assert_int_not_equal(KEEL_HANDLE_GEN(h), 0);
    assert_int_equal(cap_space_audit(s), KEEL_OK);
    cap_space_destroy(s);
}

static void test_create_errors(void **state) {
    (void)state;
    struct cap_space *s = mk_space(16, 16);
    keel_handle_t h = 0;
    assert_int_equal(cap_create(s, KEEL_OBJ_NONE, OBJ_A, RW, &h), KEEL_EINVAL);
    assert_int_equal(cap_create(s, KEEL_OBJ_TYPE_COUNT, OBJ_A, RW, &h), KEEL_EINVAL);
    assert_int_equal(cap_create(s, 0x104, OBJ_A, RW, &h), KEEL_EINVAL);
    assert_int_equal(cap_create(s, KEEL_OBJ_FILE, NULL, RW, &h), KEEL_EINVAL);
    assert_int_equal(cap_create(s, KEEL_OBJ_FILE, OBJ_A, KEEL_RIGHTS_ALL + 1, &h), KEEL_EINVAL);
    assert_int_equal(cap_create(s, KEEL_OBJ_FILE, OBJ_A, RW, NULL), KEEL_EINVAL);
    assert_int_equal(cap_create(NULL, KEEL_OBJ_FILE, OBJ_A, RW, &h), KEEL_EINVAL);
    assert_int_equal(h, 0);
    assert_int_equal(cap_space_count(s), 0);
    cap_space_destroy(s);
}

static void test_validate_errors(void **state) {
    (void)state;
    struct cap_space *s = mk_space(300, 300);
    keel_handle_t h = mk_cap(s, KEEL_OBJ_IPC_ENDPOINT, KEEL_RIGHT_READ | KEEL_RIGHT_GRANT);
    uint32_t idx = KEEL_HANDLE_INDEX(h);
    uint32_t gen = KEEL_HANDLE_GEN(h);
    /* Missing rights: EPERM; unknown rights bits can never be held. */
    assert_int_equal(cap_validate(s, h, KEEL_OBJ_IPC_ENDPOINT, KEEL_RIGHT_WRITE), KEEL_EPERM);
    assert_int_equal(cap_validate(s, h, KEEL_OBJ_IPC_ENDPOINT, 1u << 6), KEEL_EPERM);
    assert_int_equal(cap_validate(s, h, KEEL_OBJ_IPC_ENDPOINT, 1u << 31), KEEL_EPERM);
    /* Wrong type: EBADCAP (even if the rights are also missing). */
    assert_int_equal(cap_validate(s, h, KEEL_OBJ_MEMORY, KEEL_RIGHT_READ), KEEL_EBADCAP);
    assert_int_equal(cap_validate(s, h, KEEL_OBJ_MEMORY, KEEL_RIGHT_WRITE), KEEL_EBADCAP);
    assert_int_equal(cap_validate(s, h, KEEL_OBJ_NONE, 0), KEEL_EBADCAP);
    assert_int_equal(cap_validate(s, h, KEEL_OBJ_IPC_ENDPOINT | 0x100, 0), KEEL_EBADCAP);
    /* Forged handles. */
    assert_int_equal(cap_validate(s, KEEL_HANDLE_NULL, KEEL_OBJ_IPC_ENDPOINT, 0), KEEL_EBADCAP);
    assert_int_equal(cap_validate(s, KEEL_HANDLE_MAKE(idx, gen + 1), KEEL_OBJ_IPC_ENDPOINT, 0),
                     KEEL_EBADCAP);
    assert_int_equal(cap_validate(s, KEEL_HANDLE_MAKE(idx, 0), KEEL_OBJ_IPC_ENDPOINT, 0),
                     KEEL_EBADCAP);
    assert_int_equal(cap_validate(s, KEEL_HANDLE_MAKE(idx + 1, gen), KEEL_OBJ_IPC_ENDPOINT, 0),
                     KEEL_EBADCAP);
    assert_int_equal(cap_validate(s, KEEL_HANDLE_MAKE(0, gen), KEEL_OBJ_IPC_ENDPOINT, 0),
                     KEEL_EBADCAP);
    assert_int_equal(cap_validate(s, KEEL_HANDLE_MAKE(299, 1), KEEL_OBJ_IPC_ENDPOINT, 0),
                     KEEL_EBADCAP);
    assert_int_equal(cap_validate(s, KEEL_HANDLE_MAKE(301, 1), KEEL_OBJ_IPC_ENDPOINT, 0),
                     KEEL_EBADCAP);
    assert_int_equal(cap_validate(s, KEEL_HANDLE_MAKE(0xffffffffu, gen), KEEL_OBJ_IPC_ENDPOINT, 0),
                     KEEL_EBADCAP);
    /* Stale after delete. */
    assert_int_equal(cap_delete(s, h), KEEL_OK);
    assert_int_equal(cap_validate(s, h, KEEL_OBJ_IPC_ENDPOINT, 0), KEEL_EBADCAP);
    /* The dead slot's next generation is not live either. */
    assert_int_equal(cap_validate(s, KEEL_HANDLE_MAKE(idx, gen + 1), KEEL_OBJ_NONE, 0),
                     KEEL_EBADCAP);
    cap_space_destroy(s);
}

static void test_lookup(void **state) {
    (void)state;
    struct cap_space *s = mk_space(16, 16);
    keel_handle_t h = 0;
    keel_handle_t c = 0;
    struct cap_info info;
    assert_int_equal(cap_create(s, KEEL_OBJ_IPC_ENDPOINT, OBJ_B, ALL, &h), KEEL_OK);
    assert_int_equal(cap_derive(s, h, KEEL_RIGHT_WRITE, 77, &c), KEEL_OK);
    assert_int_equal(cap_lookup(s, c, KEEL_OBJ_IPC_ENDPOINT, KEEL_RIGHT_WRITE, &info), KEEL_OK);
    assert_ptr_equal(info.object, OBJ_B);
    assert_int_equal(info.badge, 77);
    assert_int_equal(info.type, KEEL_OBJ_IPC_ENDPOINT);
    assert_int_equal(info.rights, KEEL_RIGHT_WRITE);
    assert_int_equal(cap_lookup(s, c, KEEL_OBJ_NONE, 0, &info), KEEL_OK);
    assert_int_equal(info.type, KEEL_OBJ_IPC_ENDPOINT);
    assert_int_equal(cap_lookup(s, c, KEEL_OBJ_NONE, KEEL_RIGHT_READ, &info), KEEL_EPERM);
    assert_int_equal(cap_lookup(s, c, KEEL_OBJ_THREAD, 0, &info), KEEL_EBADCAP);
    assert_int_equal(cap_delete(s, c), KEEL_OK);
    assert_int_equal(cap_lookup(s, c, KEEL_OBJ_NONE, 0, &info), KEEL_EBADCAP);
    assert_int_equal(cap_lookup(s, KEEL_HANDLE_MAKE(1000, 1), KEEL_OBJ_NONE, 0, &info),
                     KEEL_EBADCAP);
    cap_space_destroy(s);
}

static void test_derive(void **state) {
    (void)state;
    struct cap_space *s = mk_space(16, 16);
    keel_handle_t p = mk_cap(s, KEEL_OBJ_MEMORY, RW | KEEL_RIGHT_MAP);
    keel_handle_t c = 0;
    assert_int_equal(cap_derive(s, p, KEEL_RIGHT_READ | KEEL_RIGHT_EXECUTE, 0, &c), KEEL_EPERM);
    assert_int_equal(cap_derive(s, p, 1u << 7, 0, &c), KEEL_EINVAL);
    assert_int_equal(cap_derive(s, p, KEEL_RIGHT_READ, 0, NULL), KEEL_EINVAL);
    assert_int_equal(cap_derive(NULL, p, KEEL_RIGHT_READ, 0, &c), KEEL_EINVAL);
    assert_int_equal(cap_derive(s, p + (1ull << 32), KEEL_RIGHT_READ, 0, &c), KEEL_EBADCAP);
    assert_int_equal(cap_derive(s, p, KEEL_RIGHT_READ, 5, &c), KEEL_EINVAL); /* not endpoint */
    assert_int_equal(cap_space_count(s), 1);
    c = mk_child(s, p, KEEL_RIGHT_READ | KEEL_RIGHT_MAP);
    assert_int_equal(cap_validate(s, c, KEEL_OBJ_MEMORY, KEEL_RIGHT_MAP), KEEL_OK);
    assert_int_equal(cap_validate(s, c, KEEL_OBJ_MEMORY, KEEL_RIGHT_WRITE), KEEL_EPERM);
    /* Rights never grow back along the chain. */
    keel_handle_t g = 0;
    assert_int_equal(cap_derive(s, c, RW, 0, &g), KEEL_EPERM);
    g = mk_child(s, c, 0);
    assert_int_equal(cap_validate(s, g, KEEL_OBJ_MEMORY, 0), KEEL_OK);
    assert_int_equal(cap_validate(s, g, KEEL_OBJ_MEMORY, KEEL_RIGHT_READ), KEEL_EPERM);
    struct cap_info info;
    assert_int_equal(cap_lookup(s, g, KEEL_OBJ_MEMORY, 0, &info), KEEL_OK);
    assert_ptr_equal(info.object, OBJ_A);
    assert_int_equal(cap_space_count(s), 3);
    assert_int_equal(cap_space_audit(s), KEEL_OK);
    cap_space_destroy(s);
}

static void test_badge(void **state) {
    (void)state;
    struct cap_space *s = mk_space(16, 16);
    keel_handle_t ep = mk_cap(s, KEEL_OBJ_IPC_ENDPOINT, ALL);
    keel_handle_t b1 = 0, b2 = 0, b3 = 0, x = 0;
    struct cap_info info;
    assert_int_equal(cap_derive(s, ep, ALL, 1, &b1), KEEL_OK);
    assert_int_equal(cap_derive(s, ep, ALL, 2, &b2), KEEL_OK);
    assert_int_equal(cap_lookup(s, b1, KEEL_OBJ_IPC_ENDPOINT, 0, &info), KEEL_OK);
    assert_int_equal(info.badge, 1);
    assert_int_equal(cap_lookup(s, b2, KEEL_OBJ_IPC_ENDPOINT, 0, &info), KEEL_OK);
    assert_int_equal(info.badge, 2);
    /* Set once: a badged capability cannot be re-badged, but inherits into children. */
    assert_int_equal(cap_derive(s, b1, ALL, 3, &x), KEEL_EPERM);
    assert_int_equal(cap_derive(s, b1, KEEL_RIGHT_WRITE, 0, &b3), KEEL_OK);
    assert_int_equal(cap_lookup(s, b3, KEEL_OBJ_IPC_ENDPOINT, 0, &info), KEEL_OK);
    assert_int_equal(info.badge, 1);
    assert_int_equal(cap_lookup(s, ep, KEEL_OBJ_IPC_ENDPOINT, 0, &info), KEEL_OK);
    assert_int_equal(info.badge, 0);
    /* Transfer keeps the badge. */
    assert_int_equal(cap_transfer(s, b1, s, KEEL_CAP_COPY, &x), KEEL_OK);
    assert_int_equal(cap_lookup(s, x, KEEL_OBJ_IPC_ENDPOINT, 0, &info), KEEL_OK);
    assert_int_equal(info.badge, 1);
    cap_space_destroy(s);
}

static void test_delete_and_generation(void **state) {
    (void)state;
    struct cap_space *s = mk_space(4, 4);
    keel_handle_t h = mk_cap(s, KEEL_OBJ_THREAD, ALL);
    assert_int_equal(cap_delete(s, h), KEEL_OK);
    assert_int_equal(cap_delete(s, h), KEEL_EBADCAP);
    assert_int_equal(cap_delete(NULL, h), KEEL_EINVAL);
    assert_int_equal(cap_space_count(s), 0);
    /* The slot is reused with a new generation; the old handle stays dead. */
    keel_handle_t h2 = mk_cap(s, KEEL_OBJ_THREAD, ALL);
    assert_int_equal(KEEL_HANDLE_INDEX(h2), KEEL_HANDLE_INDEX(h));
    assert_int_not_equal(KEEL_HANDLE_GEN(h2), KEEL_HANDLE_GEN(h));
    assert_int_equal(cap_validate(s, h, KEEL_OBJ_THREAD, 0), KEEL_EBADCAP);
    assert_int_equal(cap_delete(s, h), KEEL_EBADCAP);
    assert_int_equal(cap_validate(s, h2, KEEL_OBJ_THREAD, 0), KEEL_OK);
    cap_space_destroy(s);
}

static void test_quota_and_full(void **state) {
    (void)state;
    struct cap_space *s = mk_space(8, 3);
    keel_handle_t h[8];
    keel_handle_t x = 0;
    for (int i = 0; i < 3; i++) {
        h[i] = mk_cap(s, KEEL_OBJ_MEMORY, ALL);
    }
    assert_int_equal(cap_create(s, KEEL_OBJ_MEMORY, OBJ_A, ALL, &x), KEEL_EEXHAUSTED);
    assert_int_equal(cap_derive(s, h[0], ALL, 0, &x), KEEL_EEXHAUSTED);
    assert_int_equal(cap_space_set_quota(s, 0), KEEL_EINVAL);
    assert_int_equal(cap_space_set_quota(s, 9), KEEL_EINVAL);
    assert_int_equal(cap_space_set_quota(NULL, 2), KEEL_EINVAL);
    assert_int_equal(cap_space_set_quota(s, 8), KEEL_OK);
    for (int i = 3; i < 8; i++) {
        h[i] = mk_child(s, h[i - 1], ALL);
    }
    /* Capacity reached. */
    assert_int_equal(cap_create(s, KEEL_OBJ_MEMORY, OBJ_A, ALL, &x), KEEL_EEXHAUSTED);
    assert_int_equal(cap_space_count(s), 8);
    /* Lowering the quota below the live count only blocks new capabilities. */
    assert_int_equal(cap_space_set_quota(s, 2), KEEL_OK);
    assert_int_equal(cap_delete(s, h[7]), KEEL_OK);
    assert_int_equal(cap_create(s, KEEL_OBJ_MEMORY, OBJ_A, ALL, &x), KEEL_EEXHAUSTED);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(cap_validate(s, h[i], KEEL_OBJ_MEMORY, ALL), KEEL_OK);
    }
    assert_int_equal(cap_space_audit(s), KEEL_OK);
    cap_space_destroy(s);
}

static void test_growth_keeps_entries(void **state) {
    (void)state;
    enum { N = 5 * CAP_CHUNK_SLOTS + 17 };
    struct cap_space *s = mk_space(N, N);
    static keel_handle_t h[N];
    static int objs[N];
    const uint64_t *first_word = NULL;
    for (int i = 0; i < N; i++) {
        assert_int_equal(cap_create(s, KEEL_OBJ_FILE, &objs[i], KEEL_RIGHT_READ, &h[i]), KEEL_OK);
        if (i == 0) {
            first_word = cap_word_ptr(s, KEEL_HANDLE_INDEX(h[0]));
        }
    }
    /* Growth allocated chunks but did not move the first slot. */
    assert_ptr_equal(cap_word_ptr(s, KEEL_HANDLE_INDEX(h[0])), first_word);
    for (int i = 0; i < N; i++) {
        struct cap_info info;
        assert_int_equal(cap_lookup(s, h[i], KEEL_OBJ_FILE, KEEL_RIGHT_READ, &info), KEEL_OK);
        assert_ptr_equal(info.object, &objs[i]);
    }
    keel_handle_t x = 0;
    assert_int_equal(cap_create(s, KEEL_OBJ_FILE, OBJ_A, 0, &x), KEEL_EEXHAUSTED);
    assert_int_equal(cap_space_audit(s), KEEL_OK);
    cap_space_destroy(s);
}

static void test_out_of_memory(void **state) {
    (void)state;
    struct cap_space *s = mk_space(2 * CAP_CHUNK_SLOTS, 2 * CAP_CHUNK_SLOTS);
    keel_handle_t x = 0;
    heap_shim_fail_after(0); /* first chunk */
    assert_int_equal(cap_create(s, KEEL_OBJ_FILE, OBJ_A, 0, &x), KEEL_ENOMEM);
    assert_int_equal(cap_space_count(s), 0);
    keel_handle_t root = mk_cap(s, KEEL_OBJ_FILE, ALL);
    keel_handle_t last = root;
    for (uint32_t i = 2; i < CAP_CHUNK_SLOTS; i++) { /* slot 0 is reserved */
        last = mk_child(s, last, ALL);
    }
    heap_shim_fail_after(0); /* second chunk, through derive and transfer */
    assert_int_equal(cap_derive(s, last, ALL, 0, &x), KEEL_ENOMEM);
    heap_shim_fail_after(0);
    assert_int_equal(cap_transfer(s, last, s, KEEL_CAP_COPY, &x), KEEL_ENOMEM);
    assert_int_equal(cap_space_count(s), CAP_CHUNK_SLOTS - 1);
    assert_int_equal(cap_space_audit(s), KEEL_OK);
    heap_shim_fail_after(-1);
    assert_int_equal(cap_derive(s, last, ALL, 0, &x), KEEL_OK);
    assert_int_equal(cap_revoke(s, root), KEEL_OK);
    assert_int_equal(cap_space_count(s), 1);
    assert_int_equal(cap_space_audit(s), KEEL_OK);
    cap_space_destroy(s);
}

static void test_generation_retires(void **state) {
    (void)state;
    struct cap_space *s = mk_space(4, 4);
    keel_handle_t h = mk_cap(s, KEEL_OBJ_IRQ, ALL);
    uint32_t idx = KEEL_HANDLE_INDEX(h);
    /* White box: age the live slot to the last generation, as if reused 2^32 - 2 times. */
    uint64_t *wp = cap_word_ptr(s, idx);
    *wp = (*wp & ~CAP_W_GEN_MASK) | ((uint64_t)CAP_GEN_MAX << CAP_W_GEN_SHIFT);
    keel_handle_t old = KEEL_HANDLE_MAKE(idx, CAP_GEN_MAX);
    assert_int_equal(cap_validate(s, old, KEEL_OBJ_IRQ, ALL), KEEL_OK);
    assert_int_equal(cap_delete(s, old), KEEL_OK);
    assert_int_equal(cap_space_audit(s), KEEL_OK);
    /* The slot is never handed out again, so no generation can wrap to an old handle. */
    for (int i = 0; i < 4; i++) {
        keel_handle_t n = 0;
        kstatus_t st = cap_create(s, KEEL_OBJ_IRQ, OBJ_A, ALL, &n);
        if (i < 3) {
            assert_int_equal(st, KEEL_OK);
            assert_int_not_equal(KEEL_HANDLE_INDEX(n), idx);
        } else {
            assert_int_equal(st, KEEL_EEXHAUSTED);
        }
    }
    assert_int_equal(cap_validate(s, old, KEEL_OBJ_IRQ, 0), KEEL_EBADCAP);
    assert_int_equal(cap_validate(s, h, KEEL_OBJ_IRQ, 0), KEEL_EBADCAP);
    assert_int_equal(cap_space_audit(s), KEEL_OK);
    cap_space_destroy(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_space_create_errors, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_create_and_validate, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_validate_errors, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_lookup, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_derive, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_badge, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_delete_and_generation, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_quota_and_full, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_growth_keeps_entries, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_out_of_memory, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_generation_retires, setup, teardown_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
