/* SPDX-License-Identifier: MIT */
/*
 * Kernel heap tests on fake physical memory backed by a host arena: slab caches,
 * kmalloc size classes and page runs, flags, kcalloc/krealloc, refusal (and counting) of
 * bad and double frees without damage, balanced statistics, and a randomised run of a
 * million kmalloc/kfree/krealloc operations checked against a shadow of every object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kernel/heap.h>
#include <kernel/slab.h>
#include <kernel/vm.h>

#include "mm_test.h"

#define ARENA_BASE 0x40000000ULL
#define ARENA_SIZE (64ULL * 1024 * 1024)

static int setup(void **state) {
    (void)state;
    mmt_backed_init(ARENA_BASE, ARENA_SIZE);
    return heap_init() == KEEL_OK ? 0 : -1;
}

static void assert_balanced(void) {
    struct heap_stats hs;
    heap_stats(&hs);
    assert_int_equal(hs.total_allocated - hs.total_freed, hs.current_allocated);
    assert_true(hs.peak_allocated >= hs.current_allocated);
    assert_int_equal(frame_check(), KEEL_OK);
}

static void test_kmalloc_classes(void **state) {
    (void)state;
    static const size_t sizes[] = {1,   8,   15,  16,  17,   32,   33,   48,   100,  128,  200,
                                   256, 300, 512, 700, 1000, 1024, 1025, 4096, 5000, 70000};
    void *p[ARRAY_SIZE(sizes)];
    for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
        p[i] = kmalloc(sizes[i], 0);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % KMALLOC_ALIGN, 0);
        assert_true(ksize(p[i]) >= sizes[i]);
        if (sizes[i] > KMALLOC_MAX_CLASS) {
            assert_int_equal((uintptr_t)p[i] % 4096, 0);
            assert_int_equal(ksize(p[i]), ALIGN_UP(sizes[i], (size_t)4096));
        } else {
            assert_true(ksize(p[i]) < 2 * sizes[i] + 16);
        }
        /* Inside the fake RAM, and the pages are the frame allocator's. */
        paddr_t pa = virt_to_phys(p[i]);
        assert_true(pa.pa >= ARENA_BASE && pa.pa + sizes[i] <= ARENA_BASE + ARENA_SIZE);
        assert_true(frame_is_allocated(paddr_to_frame(pa)));
        memset(p[i], 0xa0 + (int)i, sizes[i]);
    }
    for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
        for (size_t k = 0; k < sizes[i]; k++) {
            assert_int_equal(((uint8_t *)p[i])[k], 0xa0 + i);
        }
        kfree(p[i]);
    }
    struct heap_stats hs;
    heap_stats(&hs);
    assert_int_equal(hs.current_allocated, 0);
    assert_int_equal(hs.allocation_count, ARRAY_SIZE(sizes));
    assert_int_equal(hs.free_count, ARRAY_SIZE(sizes));
    assert_true(hs.peak_allocated >= 70000 + 8192);
    assert_null(kmalloc(0, 0));
    assert_null(kmalloc(16, 0x80));
    kfree(NULL);
    assert_balanced();
}

static void test_flags_calloc_realloc(void **state) {
    (void)state;
    uint8_t *p = kmalloc(200, KMALLOC_ATOMIC);
    memset(p, 0xff, 200);
    kfree(p);
    uint8_t *z = kmalloc(200, KMALLOC_ZERO | KMALLOC_ATOMIC);
    assert_ptr_equal(z, p); /* same slot, now zeroed */
    for (int i = 0; i < 256; i++) {
        assert_int_equal(z[i], 0);
    }
    kfree(z);
    uint32_t *c = kcalloc(1000, sizeof(uint32_t));
    assert_non_null(c);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(c[i], 0);
        c[i] = (uint32_t)i * 7;
    }
    assert_null(kcalloc(SIZE_MAX / 2, 4));
    c = krealloc(c, 100000);
    assert_non_null(c);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(c[i], (uint32_t)i * 7);
    }
    c = krealloc(c, 40);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(c[i], (uint32_t)i * 7);
    }
    void *same = krealloc(c, 48);
    assert_ptr_equal(same, c); /* fits the 48-byte class it already has */
    assert_null(krealloc(same, 0));
    void *fresh = krealloc(NULL, 64);
    assert_non_null(fresh);
    kfree(fresh);
    struct heap_stats hs;
    heap_stats(&hs);
    assert_int_equal(hs.current_allocated, 0);
    assert_int_equal(hs.failed_allocations, 1);
    assert_balanced();
}

static void test_bad_frees(void **state) {
    (void)state;
    uint8_t *a = kmalloc(64, 0);
    uint8_t *b = kmalloc(64, 0);
    uint8_t *big = kmalloc(3 * 4096, 0);
    memset(a, 1, 64);
    memset(b, 2, 64);
    struct heap_stats before, after;
    heap_stats(&before);
    kfree(a + 8);      /* inside an object */
    kfree(big + 4096); /* inside a page run */
    kfree(big + 16);   /* not page aligned */
    static uint64_t not_heap[4];
    kfree(not_heap);                                            /* outside the fake RAM entirely */
    kfree(phys_to_virt(PADDR(ARENA_BASE + ARENA_SIZE - 4096))); /* free frame, not heap */
    kfree(a);
    kfree(a); /* double */
    kfree(big);
    kfree(big); /* double of a page run: no longer a heap page */
    heap_stats(&after);
    assert_int_equal(after.double_frees, before.double_frees + 1);
    assert_int_equal(after.bad_frees, before.bad_frees + 6);
    assert_int_equal(after.free_count, before.free_count + 2);
    /* b is intact and the heap still works. */
    for (int i = 0; i < 64; i++) {
        assert_int_equal(b[i], 2);
    }
    void *c = kmalloc(64, 0);
    assert_ptr_equal(c, a);
    kfree(c);
    kfree(b);
    assert_int_equal(ksize(b), 0);
    heap_stats(&after);
    assert_int_equal(after.current_allocated, 0);
    assert_balanced();
}

struct obj {
    uint64_t a, b, c;
    char name[48]; /* 72 bytes: rounds up to 128 at 64-byte alignment */
};

static void test_slab_cache(void **state) {
    (void)state;
    struct slab_cache *c;
    assert_int_equal(slab_cache_create("obj", sizeof(struct obj), 64, &c), KEEL_OK);
    assert_int_equal(slab_cache_object_size(c), 128);
    assert_int_equal(slab_cache_create("bad", 0, 0, &c), KEEL_EINVAL);
    assert_int_equal(slab_cache_create("bad", 8, 3, &c), KEEL_EINVAL);
    assert_int_equal(slab_cache_create("bad", SLAB_MAX_OBJ + 1, 0, &c), KEEL_EINVAL);
    assert_int_equal(slab_cache_create("obj", sizeof(struct obj), 64, &c), KEEL_OK);
    enum { N = 5000 };
    static struct obj *o[N];
    for (int i = 0; i < N; i++) {
        o[i] = slab_cache_alloc(c, i % 2 ? KMALLOC_ZERO : 0);
        assert_non_null(o[i]);
        assert_int_equal((uintptr_t)o[i] % 64, 0);
        o[i]->a = (uint64_t)i;
        snprintf(o[i]->name, sizeof(o[i]->name), "obj%d", i);
    }
    struct slab_cache_stats ss;
    slab_cache_get_stats(c, &ss);
    assert_int_equal(ss.objects_in_use, N);
    for (int i = 0; i < N; i += 2) {
        assert_int_equal(o[i]->a, (uint64_t)i);
        assert_int_equal(slab_cache_free(c, o[i]), KEEL_OK);
    }
    assert_int_equal(slab_cache_free(c, o[0]), KEEL_EEXIST);
    assert_int_equal(slab_cache_free(c, (char *)o[1] + 8), KEEL_EINVAL);
    void *km = kmalloc(128, 0);
    assert_int_equal(slab_cache_free(c, km), KEEL_EINVAL); /* another cache's object */
    kfree(km);
    assert_int_equal(slab_cache_destroy(c), KEEL_EBUSY);
    for (int i = 1; i < N; i += 2) {
        assert_int_equal(o[i]->a, (uint64_t)i);
        kfree(o[i]); /* kfree accepts slab-cache objects too */
    }
    slab_cache_get_stats(c, &ss);
    assert_int_equal(ss.objects_in_use, 0);
    assert_int_equal(ss.double_frees, 1);
    assert_int_equal(ss.bad_frees, 2);
    assert_true(ss.slabs <= 1);
    /* A cache of large objects uses multi-page slabs. */
    struct slab_cache *big;
    assert_int_equal(slab_cache_create("big", 10000, 0, &big), KEEL_OK);
    void *x = slab_cache_alloc(big, 0), *y = slab_cache_alloc(big, 0);
    assert_non_null(x);
    assert_non_null(y);
    memset(x, 1, 10000);
    memset(y, 2, 10000);
    assert_int_equal(slab_cache_free(big, x), KEEL_OK);
    assert_int_equal(slab_cache_free(big, y), KEEL_OK);
    assert_int_equal(slab_cache_destroy(big), KEEL_OK);
    assert_int_equal(slab_cache_destroy(c), KEEL_OK);
    assert_balanced();
}

static void test_exhaustion(void **state) {
    (void)state;
    struct memory_statistics ms0, ms;
    memory_stats(&ms0);
    void **v = malloc(sizeof(void *) * 1000000);
    size_t n = 0;
    while ((v[n] = kmalloc(1 + (n * 37) % 3000, 0)) != NULL) {
        n++;
    }
    memory_stats(&ms);
    assert_true(ms.free_frames < 4);
    for (size_t i = 0; i < n; i++) {
        kfree(v[i]);
    }
    /* Recovered: everything but the page map and a few kept-empty slabs is free again. */
    memory_stats(&ms);
    assert_true(ms.free_frames + 64 >= ms0.free_frames);
    void *p = kmalloc(1024 * 1024, 0);
    assert_non_null(p);
    kfree(p);
    free(v);
    struct heap_stats hs;
    heap_stats(&hs);
    assert_int_equal(hs.current_allocated, 0);
    assert_true(hs.failed_allocations >= 1);
    assert_balanced();
}

struct shadow {
    uint8_t *p;
    size_t n;
    uint8_t fill;
};

static void test_random_heap(void **state) {
    (void)state;
    enum { SLOTS = 4096 };
    static struct shadow s[SLOTS];
    memset(s, 0, sizeof(s));
    const char *env = getenv("KEEL_STEPS");
    uint64_t steps = env != NULL ? strtoull(env, NULL, 0) : 1000000;
    uint64_t live_bytes = 0;
    for (uint64_t step = 0; step < steps; step++) {
        struct shadow *x = &s[mmt_rand_below(SLOTS)];
        uint64_t r = mmt_rand_below(100);
        if (x->p == NULL) {
            size_t n = r < 80   ? 1 + mmt_rand_below(256)
                       : r < 97 ? 1 + mmt_rand_below(1024)
                                : 1025 + mmt_rand_below(20000);
            x->p = kmalloc(n, r & 1 ? KMALLOC_ZERO : 0);
            assert_non_null(x->p);
            if (r & 1) {
                for (size_t i = 0; i < n; i++) {
                    assert_int_equal(x->p[i], 0);
                }
            }
            x->n = n;
            x->fill = (uint8_t)mmt_rand();
            memset(x->p, x->fill, n);
            live_bytes += ksize(x->p);
        } else {
            /* Contents must be untouched by everything else that happened. */
            assert_int_equal(x->p[0], x->fill);
            assert_int_equal(x->p[x->n - 1], x->fill);
            assert_int_equal(x->p[x->n / 2], x->fill);
            live_bytes -= ksize(x->p);
            if (r < 15) {
                size_t n = 1 + mmt_rand_below(2048);
                x->p = krealloc(x->p, n);
                assert_non_null(x->p);
                size_t keep = MIN(n, x->n);
                assert_int_equal(x->p[keep - 1], x->fill);
                memset(x->p, x->fill, n);
                x->n = n;
                live_bytes += ksize(x->p);
            } else {
                kfree(x->p);
                x->p = NULL;
            }
        }
        if (step % 100000 == 0) {
            struct heap_stats hs;
            heap_stats(&hs);
            assert_int_equal(hs.current_allocated, live_bytes);
            assert_balanced();
        }
    }
    for (int i = 0; i < SLOTS; i++) {
        kfree(s[i].p);
    }
    struct heap_stats hs;
    heap_stats(&hs);
    assert_int_equal(hs.current_allocated, 0);
    assert_int_equal(hs.allocation_count, hs.free_count);
    assert_int_equal(hs.bad_frees + hs.double_frees, 0);
    assert_balanced();
}

int main(int argc, char **argv) {
    mmt_seed(argc, argv, "test_heap");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_kmalloc_classes, setup),
        cmocka_unit_test_setup(test_flags_calloc_realloc, setup),
        cmocka_unit_test_setup(test_bad_frees, setup),
        cmocka_unit_test_setup(test_slab_cache, setup),
        cmocka_unit_test_setup(test_exhaustion, setup),
        cmocka_unit_test_setup(test_random_heap, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
