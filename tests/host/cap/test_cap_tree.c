/* SPDX-License-Identifier: MIT */
/*
 * CMocka unit tests for the derivation tree of src/cap/: transfer by copy and move,
 * delete (children move up), revoke across spaces in bounded steps, space destruction
 * and the audit that catches a broken link.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <kernel/cap.h>

#include "../../../src/cap/cap_internal.h"
#include "heap_shim.h"

static int obj_a;
#define OBJ_A ((void *)&obj_a)
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

static void test_transfer_copy(void **state) {
    (void)state;
    struct cap_space *a = mk_space(16, 16);
    struct cap_space *b = mk_space(16, 16);
    keel_handle_t nogrant = mk_cap(a, KEEL_OBJ_FILE, RW);
    keel_handle_t h = mk_cap(a, KEEL_OBJ_FILE, RW | KEEL_RIGHT_GRANT);
    keel_handle_t x = 0;
    assert_int_equal(cap_transfer(a, nogrant, b, KEEL_CAP_COPY, &x), KEEL_EPERM);
    assert_int_equal(cap_transfer(a, nogrant, b, KEEL_CAP_MOVE, &x), KEEL_EPERM);
    assert_int_equal(cap_transfer(a, h, b, 2, &x), KEEL_EINVAL);
    assert_int_equal(cap_transfer(a, h, NULL, KEEL_CAP_COPY, &x), KEEL_EINVAL);
    assert_int_equal(cap_transfer(a, h, b, KEEL_CAP_COPY, NULL), KEEL_EINVAL);
    assert_int_equal(cap_transfer(b, h, a, KEEL_CAP_COPY, &x), KEEL_EBADCAP);
    assert_int_equal(cap_space_count(b), 0);
    assert_int_equal(cap_transfer(a, h, b, KEEL_CAP_COPY, &x), KEEL_OK);
    assert_int_equal(cap_validate(a, h, KEEL_OBJ_FILE, RW), KEEL_OK);
    assert_int_equal(cap_validate(b, x, KEEL_OBJ_FILE, RW | KEEL_RIGHT_GRANT), KEEL_OK);
    /* The copy is derived from the source: revoking the source removes it. */
    assert_int_equal(cap_revoke(a, h), KEEL_OK);
    assert_int_equal(cap_validate(b, x, KEEL_OBJ_FILE, 0), KEEL_EBADCAP);
    assert_int_equal(cap_validate(a, h, KEEL_OBJ_FILE, 0), KEEL_OK);
    assert_int_equal(cap_space_count(b), 0);
    assert_int_equal(cap_space_audit(a), KEEL_OK);
    assert_int_equal(cap_space_audit(b), KEEL_OK);
    cap_space_destroy(a);
    cap_space_destroy(b);
}

static void test_transfer_move(void **state) {
    (void)state;
    struct cap_space *a = mk_space(16, 16);
    struct cap_space *b = mk_space(16, 16);
    keel_handle_t root = mk_cap(a, KEEL_OBJ_DEVICE, ALL);
    keel_handle_t mid = mk_child(a, root, ALL);
    keel_handle_t leaf = mk_child(a, mid, KEEL_RIGHT_READ);
    keel_handle_t moved = 0, back = 0;
    assert_int_equal(cap_transfer(a, mid, b, KEEL_CAP_MOVE, &moved), KEEL_OK);
    assert_int_equal(cap_validate(a, mid, KEEL_OBJ_DEVICE, 0), KEEL_EBADCAP);
    assert_int_equal(cap_validate(b, moved, KEEL_OBJ_DEVICE, ALL), KEEL_OK);
    assert_int_equal(cap_space_count(a), 2);
    assert_int_equal(cap_space_count(b), 1);
    /* The moved capability kept its place: its child is still below it. */
    assert_int_equal(cap_revoke(b, moved), KEEL_OK);
    assert_int_equal(cap_validate(a, leaf, KEEL_OBJ_DEVICE, 0), KEEL_EBADCAP);
    /* ...and it is still below root. Move within one space too. */
    assert_int_equal(cap_transfer(b, moved, b, KEEL_CAP_MOVE, &back), KEEL_OK);
    assert_int_equal(cap_validate(b, moved, KEEL_OBJ_DEVICE, 0), KEEL_EBADCAP);
    assert_int_equal(cap_validate(b, back, KEEL_OBJ_DEVICE, 0), KEEL_OK);
    assert_int_equal(cap_revoke(a, root), KEEL_OK);
    assert_int_equal(cap_validate(b, back, KEEL_OBJ_DEVICE, 0), KEEL_EBADCAP);
    assert_int_equal(cap_space_count(b), 0);
    assert_int_equal(cap_space_audit(a), KEEL_OK);
    assert_int_equal(cap_space_audit(b), KEEL_OK);
    cap_space_destroy(a);
    cap_space_destroy(b);
}

static void test_transfer_full_destination(void **state) {
    (void)state;
    struct cap_space *a = mk_space(16, 16);
    struct cap_space *b = mk_space(2, 2);
    keel_handle_t h = mk_cap(a, KEEL_OBJ_RING, ALL);
    keel_handle_t x = 0;
    (void)mk_cap(b, KEEL_OBJ_RING, ALL);
    (void)mk_cap(b, KEEL_OBJ_RING, ALL);
    assert_int_equal(cap_transfer(a, h, b, KEEL_CAP_COPY, &x), KEEL_EEXHAUSTED);
    assert_int_equal(cap_transfer(a, h, b, KEEL_CAP_MOVE, &x), KEEL_EEXHAUSTED);
    /* A failed move leaves the source untouched. */
    assert_int_equal(cap_validate(a, h, KEEL_OBJ_RING, ALL), KEEL_OK);
    assert_int_equal(cap_space_count(a), 1);
    assert_int_equal(cap_space_audit(a), KEEL_OK);
    assert_int_equal(cap_space_audit(b), KEEL_OK);
    cap_space_destroy(a);
    cap_space_destroy(b);
}

static void test_delete_reparents(void **state) {
    (void)state;
    struct cap_space *a = mk_space(16, 16);
    struct cap_space *b = mk_space(16, 16);
    keel_handle_t root = mk_cap(a, KEEL_OBJ_MEMORY, ALL);
    keel_handle_t mid = mk_child(a, root, ALL);
    keel_handle_t c1 = mk_child(a, mid, KEEL_RIGHT_READ);
    keel_handle_t c2 = 0;
    assert_int_equal(cap_transfer(a, mid, b, KEEL_CAP_COPY, &c2), KEEL_OK);
    assert_int_equal(cap_delete(a, mid), KEEL_OK);
    /* Children survive the delete of their parent... */
    assert_int_equal(cap_validate(a, c1, KEEL_OBJ_MEMORY, KEEL_RIGHT_READ), KEEL_OK);
    assert_int_equal(cap_validate(b, c2, KEEL_OBJ_MEMORY, ALL), KEEL_OK);
    assert_int_equal(cap_space_audit(a), KEEL_OK);
    /* ...and remain revocable from the grandparent. */
    assert_int_equal(cap_revoke(a, root), KEEL_OK);
    assert_int_equal(cap_validate(a, c1, KEEL_OBJ_MEMORY, 0), KEEL_EBADCAP);
    assert_int_equal(cap_validate(b, c2, KEEL_OBJ_MEMORY, 0), KEEL_EBADCAP);
    assert_int_equal(cap_space_count(a), 1);
    assert_int_equal(cap_space_count(b), 0);
    /* Deleting a root with children makes them independent roots. */
    keel_handle_t k1 = mk_child(a, root, ALL);
    keel_handle_t k2 = mk_child(a, k1, ALL);
    assert_int_equal(cap_delete(a, root), KEEL_OK);
    assert_int_equal(cap_validate(a, k1, KEEL_OBJ_MEMORY, 0), KEEL_OK);
    assert_int_equal(cap_revoke(a, k1), KEEL_OK);
    assert_int_equal(cap_validate(a, k2, KEEL_OBJ_MEMORY, 0), KEEL_EBADCAP);
    assert_int_equal(cap_space_audit(a), KEEL_OK);
    cap_space_destroy(a);
    cap_space_destroy(b);
}

static void test_revoke(void **state) {
    (void)state;
    struct cap_space *a = mk_space(64, 64);
    struct cap_space *b = mk_space(64, 64);
    keel_handle_t root = mk_cap(a, KEEL_OBJ_PROCESS, ALL);
    keel_handle_t sib = mk_cap(a, KEEL_OBJ_PROCESS, ALL); /* separate tree, same object */
    keel_handle_t kids[10];
    for (int i = 0; i < 10; i++) {
        kids[i] = mk_child(a, i == 0 ? root : kids[i / 2], ALL);
    }
    keel_handle_t far = 0;
    assert_int_equal(cap_transfer(a, kids[9], b, KEEL_CAP_COPY, &far), KEEL_OK);
    assert_int_equal(cap_revoke_step(a, root, 0), KEEL_EINVAL);
    assert_int_equal(cap_revoke_step(NULL, root, 1), KEEL_EINVAL);
    assert_int_equal(cap_revoke(a, root + (1ull << 32)), KEEL_EBADCAP);
    /* 11 descendants, 3 per step: EBUSY three times, then OK. */
    assert_int_equal(cap_revoke_step(a, root, 3), KEEL_EBUSY);
    assert_int_equal(cap_space_count(a) + cap_space_count(b), 13 - 3);
    assert_int_equal(cap_revoke_step(a, root, 3), KEEL_EBUSY);
    assert_int_equal(cap_revoke_step(a, root, 3), KEEL_EBUSY);
    assert_int_equal(cap_space_audit(a), KEEL_OK);
    assert_int_equal(cap_revoke_step(a, root, 3), KEEL_OK);
    assert_int_equal(cap_revoke_step(a, root, 3), KEEL_OK);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(cap_validate(a, kids[i], KEEL_OBJ_PROCESS, 0), KEEL_EBADCAP);
    }
    assert_int_equal(cap_validate(b, far, KEEL_OBJ_PROCESS, 0), KEEL_EBADCAP);
    assert_int_equal(cap_validate(a, root, KEEL_OBJ_PROCESS, ALL), KEEL_OK);
    assert_int_equal(cap_validate(a, sib, KEEL_OBJ_PROCESS, ALL), KEEL_OK);
    assert_int_equal(cap_space_count(a), 2);
    assert_int_equal(cap_space_count(b), 0);
    /* Revoke of a leaf is a no-op; revoke of a middle node spares its ancestors. */
    assert_int_equal(cap_revoke(a, sib), KEEL_OK);
    keel_handle_t m = mk_child(a, root, ALL);
    keel_handle_t l = mk_child(a, m, ALL);
    keel_handle_t other = mk_child(a, root, ALL);
    assert_int_equal(cap_revoke(a, m), KEEL_OK);
    assert_int_equal(cap_validate(a, l, KEEL_OBJ_PROCESS, 0), KEEL_EBADCAP);
    assert_int_equal(cap_validate(a, m, KEEL_OBJ_PROCESS, 0), KEEL_OK);
    assert_int_equal(cap_validate(a, other, KEEL_OBJ_PROCESS, 0), KEEL_OK);
    assert_int_equal(cap_space_audit(a), KEEL_OK);
    assert_int_equal(cap_space_audit(b), KEEL_OK);
    cap_space_destroy(a);
    cap_space_destroy(b);
}

static void test_destroy_keeps_others(void **state) {
    (void)state;
    struct cap_space *a = mk_space(16, 16);
    struct cap_space *b = mk_space(16, 16);
    keel_handle_t root = mk_cap(a, KEEL_OBJ_NOTIFICATION, ALL);
    keel_handle_t mid = mk_child(a, root, ALL);
    keel_handle_t inb = 0, deeper = 0;
    assert_int_equal(cap_transfer(a, mid, b, KEEL_CAP_COPY, &inb), KEEL_OK);
    assert_int_equal(cap_derive(b, inb, KEEL_RIGHT_READ, 0, &deeper), KEEL_OK);
    cap_space_destroy(a);
    assert_int_equal(cap_validate(b, inb, KEEL_OBJ_NOTIFICATION, ALL), KEEL_OK);
    assert_int_equal(cap_space_audit(b), KEEL_OK);
    assert_int_equal(cap_revoke(b, inb), KEEL_OK);
    assert_int_equal(cap_validate(b, deeper, KEEL_OBJ_NOTIFICATION, 0), KEEL_EBADCAP);
    assert_int_equal(cap_space_audit(b), KEEL_OK);
    cap_space_destroy(b);
    cap_space_destroy(NULL);
}

static void test_audit_detects_corruption(void **state) {
    (void)state;
    struct cap_space *s = mk_space(8, 8);
    keel_handle_t p = mk_cap(s, KEEL_OBJ_MEMORY, ALL);
    keel_handle_t c = mk_child(s, p, ALL);
    struct cap_entry *e = cap_entry_ptr(s, KEEL_HANDLE_INDEX(c));
    struct cap_link *saved = e->close.next;
    e->close.next = NULL; /* a dangling half-link */
    assert_int_equal(cap_space_audit(s), KEEL_ECORRUPT);
    e->close.next = saved;
    assert_int_equal(cap_space_audit(s), KEEL_OK);
    assert_int_equal(cap_space_audit(NULL), KEEL_EINVAL);
    cap_space_destroy(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_transfer_copy, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_transfer_move, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_transfer_full_destination, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_delete_reparents, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_revoke, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_destroy_keeps_others, setup, teardown_leaks),
        cmocka_unit_test_setup_teardown(test_audit_detects_corruption, setup, teardown_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
