/* SPDX-License-Identifier: MIT */
/*
 * vmalloc_aligned(): areas start at the asked alignment, keep their guard page, never
 * overlap, reuse freed holes, and refuse a non-power-of-two alignment. AArch64 kernel
 * stacks depend on it (16 KiB stacks at 32 KiB boundaries for the vectors' overflow
 * check). vmalloc_stack(): the page below is reserved, never mapped and a registered
 * guard exactly while the area lives. The VAs are fake (host), so only mappings are
 * checked. A seeded random run checks the invariants against a model of live areas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kernel/heap.h>
#include <kernel/vm.h>
#include <kernel/vm_fault.h>
#include <kernel/vmm.h>

#include "mm_test.h"

#define KIB4   4096ULL
#define WINDOW (64ULL << 20)
#define BASE   0xffffc90000001000ULL /* deliberately not 32 KiB aligned */

static void nop_flush(struct vm_space *as, vaddr_t va, uint64_t size) {
    (void)as;
    (void)va;
    (void)size;
}
static void nop_sync(struct vm_space *as) {
    (void)as;
}
static const struct vm_tlb_ops nop_tlb = {nop_flush, nop_sync};

static struct vm_space *ks;

static int setup(void **state) {
    (void)state;
    mmt_backed_init(0x40000000, 64ULL << 20);
    if (heap_init() != KEEL_OK ||
        vm_space_create(&pt_format_aarch64, &nop_tlb, true, NULL, &ks) != KEEL_OK) {
        return -1;
    }
    vmm_kernel_space = ks;
    return vmalloc_init(VADDR(BASE), WINDOW) == KEEL_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    vm_space_destroy(ks);
    vmm_kernel_space = NULL;
    return 0;
}

static bool mapped(uintptr_t va) {
    return vmm_query(ks, VADDR(va), NULL, NULL, NULL) == KEEL_OK;
}

static void test_alignment_and_guards(void **state) {
    (void)state;
    uint8_t *small = vmalloc(KIB4); /* at BASE: leaves the window unaligned for the next */
    assert_ptr_equal(small, (void *)(uintptr_t)BASE);
    uint8_t *s[4];
    for (int i = 0; i < 4; i++) {
        s[i] = vmalloc_aligned(16 * 1024, 32 * 1024);
        assert_non_null(s[i]);
        assert_int_equal((uintptr_t)s[i] % (32 * 1024), 0);
        for (int p = 0; p < 4; p++) {
            assert_true(mapped((uintptr_t)s[i] + p * KIB4));
        }
        assert_false(mapped((uintptr_t)s[i] + 16 * 1024)); /* guard above */
        assert_false(mapped((uintptr_t)s[i] - KIB4));      /* gap or guard below */
    }
    for (int i = 1; i < 4; i++) {
        assert_int_equal((uintptr_t)s[i] - (uintptr_t)s[i - 1], 32 * 1024);
    }
    /* A plain vmalloc fills the gap between the first page and the first stack. */
    uint8_t *gap = vmalloc(KIB4);
    assert_ptr_equal(gap, (void *)(uintptr_t)(BASE + 2 * KIB4));
    /* A freed aligned hole is reused at the same address. */
    vfree(s[1]);
    uint8_t *again = vmalloc_aligned(16 * 1024, 32 * 1024);
    assert_ptr_equal(again, s[1]);
    /* Bad alignments; tiny ones mean a page. */
    assert_null(vmalloc_aligned(KIB4, 3 * KIB4));
    assert_null(vmalloc_aligned(KIB4, 48 * 1024));
    uint8_t *tiny = vmalloc_aligned(KIB4, 16);
    assert_non_null(tiny);
    assert_int_equal((uintptr_t)tiny % KIB4, 0);
    /* An alignment larger than the window cannot be met. */
    assert_null(vmalloc_aligned(KIB4, 1ULL << 40));
    vfree(tiny);
    vfree(again);
    vfree(gap);
    vfree(small);
    vfree(s[0]);
    vfree(s[2]);
    vfree(s[3]);
    struct vmalloc_stats vs;
    vmalloc_get_stats(&vs);
    assert_int_equal(vs.areas, 0);
    assert_int_equal(vs.pages, 0);
    assert_int_equal(vs.bad_frees, 0);
}

/* Does vm_fault() name va a guard page? */
static bool is_guard(uintptr_t va) {
    const char *why = NULL;
    assert_int_equal(vm_fault(ks, VADDR(va), VM_FAULT_WRITE, &why), KEEL_EFAULT);
    return strcmp(why, "in a guard page (kernel stack overflow?)") == 0;
}

static void test_stack_guards(void **state) {
    (void)state;
    /* At the bottom of the window: the guard is the window's first page, the stack the
     * first aligned address above it. */
    uint8_t *s0 = vmalloc_stack(16 * 1024, 32 * 1024);
    assert_non_null(s0);
    assert_int_equal((uintptr_t)s0 % (32 * 1024), 0);
    assert_true((uintptr_t)s0 - KIB4 >= BASE);
    assert_false(mapped((uintptr_t)s0 - KIB4));
    assert_true(is_guard((uintptr_t)s0 - KIB4));
    assert_true(is_guard((uintptr_t)s0 - 8));
    assert_false(is_guard((uintptr_t)s0 - KIB4 - 1));
    assert_false(is_guard((uintptr_t)s0));
    assert_false(is_guard((uintptr_t)s0 + 16 * 1024)); /* the trailing guard is not one */
    assert_true(mapped((uintptr_t)s0) && mapped((uintptr_t)s0 + 16 * 1024 - 1));

    /* Page-aligned stacks pack: each one's own guard sits between it and the area below,
     * and plain areas never take a stack's guard page. */
    uint8_t *a = vmalloc(KIB4);
    uint8_t *s1 = vmalloc_stack(16 * 1024, KIB4);
    uint8_t *s2 = vmalloc_stack(16 * 1024, KIB4);
    assert_non_null(a);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_ptr_equal(s2, s1 + 16 * 1024 + 2 * KIB4); /* s1's trailing guard, s2's leading */
    assert_true(is_guard((uintptr_t)s1 - KIB4) && is_guard((uintptr_t)s2 - KIB4));
    assert_false(mapped((uintptr_t)s2 - KIB4) || mapped((uintptr_t)s2 - 2 * KIB4));
    vfree(s1);
    assert_false(is_guard((uintptr_t)s1 - KIB4)); /* gone with its area */
    assert_true(is_guard((uintptr_t)s2 - KIB4));
    /* The hole s1 left: plain areas fill it up to, never into, s2's guard. */
    uint8_t *fill[8];
    unsigned n = 0;
    for (; n < 8; n++) {
        fill[n] = vmalloc(KIB4);
        assert_non_null(fill[n]);
        if ((uintptr_t)fill[n] > (uintptr_t)s2) {
            break;
        }
        assert_true((uintptr_t)fill[n] + 2 * KIB4 <= (uintptr_t)s2 - KIB4);
    }
    assert_true(n < 8);
    assert_true(is_guard((uintptr_t)s2 - KIB4));
    assert_false(mapped((uintptr_t)s2 - KIB4));
    for (unsigned i = 0; i <= n; i++) {
        vfree(fill[i]);
    }
    vfree(s2);
    vfree(a);
    vfree(s0);
    assert_false(is_guard((uintptr_t)s0 - KIB4));

    /* Thousands of stack lifetimes (thread create/exit): no guard or VA is left behind. */
    for (unsigned i = 0; i < 5000; i++) {
        uint8_t *s = vmalloc_stack(16 * 1024, 32 * 1024);
        assert_non_null(s);
        assert_true(is_guard((uintptr_t)s - 1));
        vfree(s);
        assert_false(is_guard((uintptr_t)s - 1));
    }
    struct vmalloc_stats vs;
    vmalloc_get_stats(&vs);
    assert_int_equal(vs.areas, 0);
    assert_int_equal(vs.pages, 0);
    assert_int_equal(vs.failures, 0);
    assert_int_equal(vs.bad_frees, 0);
}

/*
 * Random aligned, unaligned and stack allocations and frees against a list of live areas:
 * no two areas' reserved spans (leading guard, pages, trailing guard) overlap, every live
 * stack's guard is a registered guard and unmapped.
 */
static void test_random(void **state) {
    (void)state;
    enum { SLOTS = 64, STEPS = 20000 };
    struct {
        uintptr_t va;
        uint64_t size;
        bool stack;
    } live[SLOTS] = {{0}};
    for (int step = 0; step < STEPS; step++) {
        unsigned i = (unsigned)mmt_rand_below(SLOTS);
        if (live[i].va != 0) {
            vfree((void *)live[i].va);
            if (live[i].stack) {
                assert_false(is_guard(live[i].va - KIB4));
            }
            live[i].va = 0;
            continue;
        }
        uint64_t size = (1 + mmt_rand_below(6)) * KIB4 - mmt_rand_below(100);
        uint64_t align = 1ULL << (12 + mmt_rand_below(5)); /* 4 KiB .. 64 KiB */
        bool stack = mmt_rand_below(3) == 0;
        uint8_t *p = stack ? vmalloc_stack(size, align) : vmalloc_aligned(size, align);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % align, 0);
        uint64_t lead = stack ? KIB4 : 0;
        uint64_t span = ALIGN_UP(size, KIB4) + KIB4; /* with the guard page */
        assert_false(mapped((uintptr_t)p + ALIGN_UP(size, KIB4)));
        if (stack) {
            assert_false(mapped((uintptr_t)p - KIB4));
            assert_true(is_guard((uintptr_t)p - KIB4));
        }
        for (unsigned j = 0; j < SLOTS; j++) {
            if (live[j].va == 0) {
                continue;
            }
            uint64_t olead = live[j].stack ? KIB4 : 0;
            uint64_t other = ALIGN_UP(live[j].size, KIB4) + KIB4;
            bool apart = (uintptr_t)p + span <= live[j].va - olead ||
                         live[j].va + other <= (uintptr_t)p - lead;
            assert_true(apart);
        }
        assert_true(mapped((uintptr_t)p) && mapped((uintptr_t)p + size - 1));
        live[i].va = (uintptr_t)p;
        live[i].size = size;
        live[i].stack = stack;
    }
    for (unsigned j = 0; j < SLOTS; j++) {
        vfree((void *)live[j].va);
    }
    struct vmalloc_stats vs;
    vmalloc_get_stats(&vs);
    assert_int_equal(vs.areas, 0);
    assert_int_equal(vs.failures, 0);
}

int main(int argc, char **argv) {
    mmt_seed(argc, argv, "test_vmalloc_aligned");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alignment_and_guards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stack_guards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
