/* SPDX-License-Identifier: MIT */
/*
 * Frame allocator unit tests: set-up from memory maps, zones, NUMA fallback, alignment,
 * error paths (counted, nothing corrupted), exhaustion and recovery, coalescing back to
 * full buddy blocks, boot reservations, and 64 GiB of unbacked fake RAM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mm_test.h"

#define MiB (1024ULL * 1024)
#define GiB (1024 * MiB)

static void assert_consistent(void) {
    assert_int_equal(frame_check(), KEEL_OK);
    struct memory_statistics st;
    memory_stats(&st);
    assert_int_equal(st.total_frames, st.free_frames + st.allocated_frames + st.reserved_frames);
}

static void init_simple(uint64_t base, uint64_t bytes) {
    struct boot_info *bi = mmt_boot_info();
    mmt_add(bi, base, bytes, MEM_USABLE, 0);
    mmt_frame_init(bi);
    free(bi);
}

static void test_metadata_sizing(void **state) {
    (void)state;
    struct boot_info *bi = mmt_boot_info();
    assert_int_equal(frame_metadata_bytes(bi), 0);
    static uint64_t buf[16];
    assert_int_equal(frame_init(bi, buf, sizeof(buf)), KEEL_EINVAL);
    mmt_add(bi, 0x40000000, 1 * GiB, MEM_USABLE, 0);
    size_t bytes = frame_metadata_bytes(bi);
    /* 512 chunks x (16 + 1) bytes + 3 bitmaps of 262144 bits. */
    assert_int_equal(bytes, 512 * 16 + 512 + 3 * (262144 / 8));
    void *m = malloc(bytes);
    assert_int_equal(frame_init(bi, m, bytes - 8), KEEL_ERANGE);
    assert_int_equal(frame_init(bi, (char *)m + 1, bytes), KEEL_EINVAL);
    assert_int_equal(frame_init(NULL, m, bytes), KEEL_EINVAL);
    assert_int_equal(frame_init(bi, m, bytes), KEEL_OK);
    struct memory_statistics st;
    memory_stats(&st);
    assert_int_equal(st.total_frames, 262144);
    assert_int_equal(st.free_frames, 262144);
    assert_int_equal(frame_debug_free_blocks(0, ZONE_DMA32, 9), 1);
    assert_consistent();
    free(m);
    free(bi);
}

static void test_init_map_types(void **state) {
    (void)state;
    struct boot_info *bi = mmt_boot_info();
    mmt_add(bi, 0x1000, 0x9e000, MEM_USABLE, 0);     /* 158 frames */
    mmt_add(bi, 0x9f000, 0x1000, MEM_ACPI_NVS, 0);   /* 1 reserved */
    mmt_add(bi, 0xa0000, 0x60000, MEM_MMIO, 0);      /* not counted */
    mmt_add(bi, 0x100000, 0x700000, MEM_USABLE, 0);  /* 1792 frames */
    mmt_add(bi, 0x800000, 0x200800, MEM_KERNEL, 0);  /* 513 reserved (rounded up) */
    mmt_add(bi, 0xa00800, 0x1000, MEM_FIRMWARE, 0);  /* shares a page: +1 reserved */
    mmt_add(bi, 0xa02000, 0x5ffe000, MEM_USABLE, 0); /* to 0x6a00000 */
    mmt_frame_init(bi);
    struct memory_statistics st;
    memory_stats(&st);
    uint64_t usable = 158 + 1792 + (0x6a00000 - 0xa02000) / 4096;
    assert_int_equal(st.free_frames, usable);
    assert_int_equal(st.reserved_frames, 1 + 513 + 1);
    assert_int_equal(st.allocated_frames, 0);
    assert_int_equal(st.zone_stats[ZONE_DMA].total + st.zone_stats[ZONE_DMA32].total,
                     st.total_frames);
    assert_int_equal(st.zone_stats[ZONE_DMA].free, 158 + 1792 + (0x1000000 - 0xa02000) / 4096);
    assert_int_equal(st.node_count, 1);
    assert_int_equal(st.node_stats[0].free, usable);
    assert_consistent();
    /* Nothing usable is ever handed out twice and nothing reserved at all. */
    phys_frame_t f;
    uint64_t n = 0;
    while (allocate_frames(1, ZONE_NORMAL, &f) == KEEL_OK) {
        uint64_t pa = frame_to_paddr(f).pa;
        assert_false(pa == 0 || (pa >= 0x9f000 && pa < 0x100000) ||
                     (pa >= 0x800000 && pa < 0xa02000));
        n++;
    }
    assert_int_equal(n, usable);
    assert_consistent();
    free(bi);
}

static void test_alloc_free_sizes(void **state) {
    (void)state;
    init_simple(0x40000000, 1 * GiB);
    struct memory_statistics before, after;
    memory_stats(&before);
    static const size_t sizes[] = {1,   2,   7,   8,    63,   64,   65,   300,
                                   511, 512, 513, 1000, 1024, 1536, 4096, 70000};
    phys_frame_t got[ARRAY_SIZE(sizes)];
    for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
        assert_int_equal(allocate_frames(sizes[i], ZONE_NORMAL, &got[i]), KEEL_OK);
        for (size_t k = 0; k < sizes[i]; k += 97) {
            assert_true(frame_is_allocated((phys_frame_t){got[i].number + k}));
        }
        assert_true(frame_is_allocated((phys_frame_t){got[i].number + sizes[i] - 1}));
        if (sizes[i] >= 512) {
            assert_int_equal(got[i].number % 512, 0); /* buddy runs are 2 MiB aligned */
        }
        assert_consistent();
    }
    /* Runs do not overlap. */
    for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
        for (unsigned j = i + 1; j < ARRAY_SIZE(sizes); j++) {
            assert_true(got[i].number + sizes[i] <= got[j].number ||
                        got[j].number + sizes[j] <= got[i].number);
        }
    }
    memory_stats(&after);
    size_t sum = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
        sum += sizes[i];
    }
    assert_int_equal(after.allocated_frames, sum);
    assert_int_equal(after.free_frames, before.free_frames - sum);
    for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
        assert_int_equal(free_frames(got[i], sizes[i]), KEEL_OK);
        assert_consistent();
    }
    memory_stats(&after);
    assert_int_equal(after.free_frames, before.free_frames);
    assert_int_equal(after.allocated_frames, 0);
    /* Partial frees of one run are fine. */
    phys_frame_t f;
    assert_int_equal(allocate_frames(2000, ZONE_NORMAL, &f), KEEL_OK);
    assert_int_equal(free_frames((phys_frame_t){f.number + 100}, 1000), KEEL_OK);
    assert_int_equal(free_frames(f, 100), KEEL_OK);
    assert_int_equal(free_frames((phys_frame_t){f.number + 1100}, 900), KEEL_OK);
    assert_consistent();
    frame_drain_caches();
    assert_int_equal(frame_debug_free_blocks(0, ZONE_DMA32, 9), 1);
}

static void test_aligned(void **state) {
    (void)state;
    init_simple(0x40000000, 256 * MiB);
    phys_frame_t pad, f;
    assert_int_equal(allocate_frames(3, ZONE_NORMAL, &pad), KEEL_OK);
    static const size_t aligns[] = {1, 2, 4, 16, 64, 256, 512, 1024, 4096, 16384};
    for (unsigned i = 0; i < ARRAY_SIZE(aligns); i++) {
        for (size_t count = 1; count < 3000; count = count * 3 + 1) {
            assert_int_equal(
                allocate_frames_aligned(count, aligns[i], ZONE_NORMAL, FRAME_NODE_DEFAULT, 0, &f),
                KEEL_OK);
            assert_int_equal(f.number % aligns[i], 0);
            assert_int_equal(free_frames(f, count), KEEL_OK);
        }
    }
    assert_int_equal(allocate_frames_aligned(1, 3, ZONE_NORMAL, 0, 0, &f), KEEL_EINVAL);
    assert_int_equal(allocate_frames_aligned(1, 0, ZONE_NORMAL, 0, 0, &f), KEEL_EINVAL);
    assert_int_equal(allocate_frames_aligned(1, 1, ZONE_NORMAL, 0, 0x80, &f), KEEL_EINVAL);
    assert_int_equal(allocate_frames_aligned(1, 1, ZONE_NORMAL, 1, 0, &f), KEEL_EINVAL);
    assert_int_equal(allocate_frames(0, ZONE_NORMAL, &f), KEEL_EINVAL);
    assert_int_equal(allocate_frames(1, (enum mem_zone)3, &f), KEEL_EINVAL);
    assert_int_equal(allocate_frames(1, ZONE_NORMAL, NULL), KEEL_EINVAL);
    struct memory_statistics st;
    memory_stats(&st);
    assert_int_equal(st.bad_requests, 7);
    assert_int_equal(st.allocated_frames, 3);
    assert_consistent();
}

static void test_error_paths(void **state) {
    (void)state;
    struct boot_info *bi = mmt_boot_info();
    mmt_add(bi, 0x40000000, 64 * MiB, MEM_USABLE, 0);
    mmt_add(bi, 0x44000000, 2 * MiB, MEM_KERNEL, 0);
    mmt_add(bi, 0x44200000, 62 * MiB, MEM_USABLE, 0);
    mmt_frame_init(bi);
    free(bi);
    phys_frame_t f, g;
    assert_int_equal(allocate_frames(10, ZONE_NORMAL, &f), KEEL_OK);
    assert_int_equal(allocate_frames(600, ZONE_NORMAL, &g), KEEL_OK);
    struct memory_statistics before, after;
    memory_stats(&before);
    /* Never handed out. */
    assert_int_equal(free_frames((phys_frame_t){f.number + 10}, 1), KEEL_EINVAL);
    /* Outside managed RAM, count 0, wrap-around. */
    assert_int_equal(free_frames((phys_frame_t){0x10}, 1), KEEL_EINVAL);
    assert_int_equal(free_frames((phys_frame_t){0x48000000 >> 12}, 1), KEEL_EINVAL);
    assert_int_equal(free_frames(f, 0), KEEL_EINVAL);
    assert_int_equal(free_frames(f, SIZE_MAX), KEEL_EINVAL);
    /* Reserved (kernel image), also when mixed with allocated frames. */
    assert_int_equal(free_frames((phys_frame_t){0x44000000 >> 12}, 1), KEEL_EPERM);
    assert_int_equal(free_frames((phys_frame_t){(0x44000000 >> 12) - 1}, 2), KEEL_EPERM);
    /* Nothing changed by the refusals. */
    memory_stats(&after);
    assert_int_equal(after.free_frames, before.free_frames);
    assert_int_equal(after.allocated_frames, before.allocated_frames);
    assert_int_equal(after.invalid_frees, before.invalid_frees + 5);
    assert_int_equal(after.reserved_frees, before.reserved_frees + 2);
    assert_consistent();
    /* Double free, whole and partial, and a range mixing freed and live frames. */
    assert_int_equal(free_frames(f, 5), KEEL_OK);
    assert_int_equal(free_frames(f, 5), KEEL_EEXIST);
    assert_int_equal(free_frames(f, 10), KEEL_EEXIST);
    assert_true(frame_is_allocated((phys_frame_t){f.number + 5}));
    assert_int_equal(free_frames((phys_frame_t){f.number + 5}, 5), KEEL_OK);
    assert_int_equal(free_frames(g, 600), KEEL_OK);
    assert_int_equal(free_frames(g, 600), KEEL_EEXIST);
    assert_int_equal(free_frames((phys_frame_t){g.number + 512}, 1), KEEL_EEXIST);
    memory_stats(&after);
    assert_int_equal(after.double_frees, before.double_frees + 4);
    assert_int_equal(after.allocated_frames, 0);
    assert_consistent();
    /* The seed's page wrappers share the checks. */
    page_t *p = page_alloc();
    assert_non_null(p);
    assert_true(frame_is_allocated(paddr_to_frame(page_to_phys(p))));
    page_free(p);
    assert_false(frame_is_allocated(paddr_to_frame(page_to_phys(p))));
    page_free(p);
    free_pages((page_t *)((char *)p + 8), 0);
    page_t *big = alloc_pages(10);
    assert_non_null(big);
    assert_int_equal(page_to_phys(big).pa % (1024 * 4096), 0);
    free_pages(big, 10);
    memory_stats(&after);
    assert_int_equal(after.double_frees, before.double_frees + 5);
    assert_int_equal(after.invalid_frees, before.invalid_frees + 6);
    assert_int_equal(after.allocated_frames, 0);
    assert_consistent();
}

static void zone_map(uint32_t nodes) {
    struct boot_info *bi = mmt_boot_info();
    mmt_add(bi, 0x100000, 15 * MiB, MEM_USABLE, 0);       /* DMA */
    mmt_add(bi, 0x1000000, 48 * MiB, MEM_USABLE, 0);      /* DMA32 */
    mmt_add(bi, 0x100000000ULL, 64 * MiB, MEM_USABLE, 0); /* Normal, node 0 */
    if (nodes > 1) {
        mmt_add(bi, 0x200000000ULL, 64 * MiB, MEM_USABLE, 1); /* Normal, node 1 */
        mmt_add(bi, 0x300000000ULL, 32 * MiB, MEM_USABLE, 2); /* Normal, node 2 */
        bi->numa.node_count = 3;
        uint8_t d[3][3] = {{10, 30, 15}, {30, 10, 20}, {15, 20, 10}};
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                bi->numa.distance[i][j] = d[i][j];
            }
        }
    }
    mmt_frame_init(bi);
    free(bi);
}

static enum mem_zone zone_of(phys_frame_t f) {
    uint64_t pa = frame_to_paddr(f).pa;
    return pa < ZONE_DMA_LIMIT ? ZONE_DMA : pa < ZONE_DMA32_LIMIT ? ZONE_DMA32 : ZONE_NORMAL;
}

static void test_zones(void **state) {
    (void)state;
    zone_map(1);
    phys_frame_t f;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(allocate_frames(1 + i * 7, ZONE_DMA, &f), KEEL_OK);
        assert_int_equal(zone_of(f), ZONE_DMA);
        assert_true(frame_to_paddr(f).pa + (1 + i * 7) * 4096 <= ZONE_DMA_LIMIT);
        assert_int_equal(allocate_frames(1 + i * 7, ZONE_DMA32, &f), KEEL_OK);
        assert_int_equal(zone_of(f), ZONE_DMA32);
        assert_int_equal(allocate_frames(1 + i * 7, ZONE_NORMAL, &f), KEEL_OK);
        assert_int_equal(zone_of(f), ZONE_NORMAL);
    }
    /* Exhaust Normal: Normal requests fall back to DMA32, then DMA, then fail. */
    struct memory_statistics st;
    memory_stats(&st);
    uint64_t normal_free = st.zone_stats[ZONE_NORMAL].free;
    for (uint64_t i = 0; i < normal_free; i++) {
        assert_int_equal(allocate_frames(1, ZONE_NORMAL, &f), KEEL_OK);
        assert_int_equal(zone_of(f), ZONE_NORMAL);
    }
    assert_int_equal(allocate_frames(1, ZONE_NORMAL, &f), KEEL_OK);
    assert_int_equal(zone_of(f), ZONE_DMA32);
    while (allocate_frames(1, ZONE_DMA32, &f) == KEEL_OK) {
        assert_int_not_equal(zone_of(f), ZONE_NORMAL);
        if (zone_of(f) == ZONE_DMA) {
            break;
        }
    }
    assert_int_equal(zone_of(f), ZONE_DMA);
    memory_stats(&st);
    assert_int_equal(st.zone_stats[ZONE_DMA32].free, 0);
    /* DMA requests never take DMA32 or Normal memory. */
    while (allocate_frames(1, ZONE_DMA, &f) == KEEL_OK) {
        assert_int_equal(zone_of(f), ZONE_DMA);
    }
    memory_stats(&st);
    assert_int_equal(st.free_frames, 0);
    assert_int_equal(allocate_frames(1, ZONE_NORMAL, &f), KEEL_ENOMEM);
    assert_true(st.alloc_failures >= 1);
    assert_consistent();
}

static uint32_t node_of(phys_frame_t f) {
    uint64_t pa = frame_to_paddr(f).pa;
    return pa >= 0x300000000ULL ? 2 : pa >= 0x200000000ULL ? 1 : 0;
}

static void test_numa(void **state) {
    (void)state;
    zone_map(3);
    struct memory_statistics st;
    memory_stats(&st);
    assert_int_equal(st.node_count, 3);
    assert_int_equal(st.node_stats[1].total, 64 * MiB / 4096);
    assert_int_equal(st.node_stats[2].total, 32 * MiB / 4096);
    phys_frame_t f;
    for (uint32_t n = 0; n < 3; n++) {
        assert_int_equal(allocate_frames_node(5, ZONE_NORMAL, n, &f), KEEL_OK);
        assert_int_equal(node_of(f), n);
        assert_int_equal(allocate_frames_node(700, ZONE_NORMAL, n, &f), KEEL_OK);
        assert_int_equal(node_of(f), n);
    }
    assert_int_equal(allocate_frames_node(1, ZONE_NORMAL, 3, &f), KEEL_EINVAL);
    /* Node 1 exhausted: strict fails, otherwise the nearest node (2 at 20, not 0 at 30). */
    memory_stats(&st);
    uint64_t left = st.node_stats[1].free;
    assert_int_equal(allocate_frames_node(left, ZONE_NORMAL, 1, &f), KEEL_ENOMEM); /* chunks */
    while (allocate_frames_aligned(1, 1, ZONE_NORMAL, 1, FRAME_STRICT_NODE, &f) == KEEL_OK) {
        assert_int_equal(node_of(f), 1);
    }
    memory_stats(&st);
    assert_int_equal(st.node_stats[1].free, 0);
    assert_int_equal(allocate_frames_node(1, ZONE_NORMAL, 1, &f), KEEL_OK);
    assert_int_equal(node_of(f), 2);
    /* Node 0 prefers node 2 (15) over node 1 (30) once its own memory is gone. */
    while (allocate_frames_aligned(8, 1, ZONE_NORMAL, 0, FRAME_STRICT_NODE, &f) == KEEL_OK) {
        assert_int_equal(node_of(f), 0);
    }
    while (allocate_frames_aligned(1, 1, ZONE_NORMAL, 0, FRAME_STRICT_NODE, &f) == KEEL_OK) {
        assert_int_equal(node_of(f), 0);
    }
    memory_stats(&st);
    assert_int_equal(st.node_stats[0].free, 0);
    assert_int_equal(allocate_frames_node(1, ZONE_NORMAL, 0, &f), KEEL_OK);
    assert_int_equal(node_of(f), 2);
    assert_consistent();
}

static void test_exhaustion_recovery(void **state) {
    (void)state;
    init_simple(0x80000000, 64 * MiB);
    const uint64_t total = 64 * MiB / 4096;
    phys_frame_t *fr = malloc(total * sizeof(*fr));
    size_t *cnt = malloc(total * sizeof(*cnt));
    for (int round = 0; round < 3; round++) {
        uint64_t n = 0;
        kstatus_t st;
        for (;;) {
            cnt[n] = 1 + (n % 3 == 0);
            if ((st = allocate_frames(cnt[n], ZONE_NORMAL, &fr[n])) != KEEL_OK) {
                break;
            }
            n++;
        }
        assert_int_equal(st, KEEL_ENOMEM);
        cnt[n] = 1;
        while (allocate_frames(1, ZONE_NORMAL, &fr[n]) == KEEL_OK) {
            cnt[++n] = 1;
        }
        struct memory_statistics ms;
        memory_stats(&ms);
        assert_int_equal(ms.free_frames, 0);
        assert_int_equal(allocate_frames(512, ZONE_NORMAL, &fr[n]), KEEL_ENOMEM);
        assert_consistent();
        for (uint64_t i = 0; i < n; i++) {
            uint64_t j = i + mmt_rand_below(n - i);
            phys_frame_t t = fr[i];
            size_t tc = cnt[i];
            fr[i] = fr[j];
            cnt[i] = cnt[j];
            fr[j] = t;
            cnt[j] = tc;
        }
        for (uint64_t i = 0; i < n; i++) {
            assert_int_equal(free_frames(fr[i], cnt[i]), KEEL_OK);
        }
        memory_stats(&ms);
        assert_int_equal(ms.free_frames, total);
        assert_int_equal(ms.allocated_frames, 0);
        assert_consistent();
        /* Recovered fully: the whole 64 MiB comes back as one run. */
        phys_frame_t all;
        assert_int_equal(allocate_frames(total, ZONE_NORMAL, &all), KEEL_OK);
        assert_int_equal(free_frames(all, total), KEEL_OK);
    }
    free(cnt);
    free(fr);
}

static void test_coalesce(void **state) {
    (void)state;
    init_simple(0x80000000, 2 * GiB);
    enum { N = 3000 };
    static phys_frame_t f[N];
    static size_t c[N];
    for (int i = 0; i < N; i++) {
        size_t r = mmt_rand_below(100);
        c[i] = r < 60   ? 1 + mmt_rand_below(8)
               : r < 90 ? 9 + mmt_rand_below(500)
                        : 512 + mmt_rand_below(1500);
        kstatus_t st = allocate_frames(c[i], ZONE_NORMAL, &f[i]);
        if (st != KEEL_OK) {
            /* Fragmented on purpose: a long run may not fit any more. */
            assert_int_equal(st, KEEL_ENOMEM);
            c[i] = 0;
        }
        if (i % 3 == 0) { /* free some early to fragment */
            int j = (int)mmt_rand_below((uint64_t)i + 1);
            if (c[j] != 0) {
                assert_int_equal(free_frames(f[j], c[j]), KEEL_OK);
                c[j] = 0;
            }
        }
    }
    assert_consistent();
    for (int i = N - 1; i > 0; i--) {
        int j = (int)mmt_rand_below((uint64_t)i + 1);
        phys_frame_t tf = f[i];
        size_t tc = c[i];
        f[i] = f[j];
        c[i] = c[j];
        f[j] = tf;
        c[j] = tc;
    }
    for (int i = 0; i < N; i++) {
        if (c[i] != 0) {
            assert_int_equal(free_frames(f[i], c[i]), KEEL_OK);
        }
    }
    frame_drain_caches();
    assert_consistent();
    /* One order-10 block (2 GiB = 1024 chunks) and nothing smaller. */
    assert_int_equal(frame_debug_free_blocks(0, ZONE_DMA32, 10), 1);
    for (unsigned o = 0; o < 10; o++) {
        assert_int_equal(frame_debug_free_blocks(0, ZONE_DMA32, o), 0);
    }
    phys_frame_t all;
    assert_int_equal(allocate_frames(524288, ZONE_NORMAL, &all), KEEL_OK);
    assert_int_equal(all.number, 0x80000000 >> 12);
    assert_int_equal(free_frames(all, 524288), KEEL_OK);
}

static void test_reserve(void **state) {
    (void)state;
    init_simple(0x40000000, 64 * MiB);
    phys_frame_t f;
    assert_int_equal(allocate_frames(4, ZONE_NORMAL, &f), KEEL_OK);
    struct memory_statistics a, b;
    memory_stats(&a);
    /* Overlaps an allocated frame: refused, nothing changed. */
    assert_int_equal(frame_reserve(frame_to_paddr(f), 3 * 4096 * 1024), KEEL_EBUSY);
    assert_int_equal(frame_reserve(PADDR(0x1000), 4096), KEEL_EINVAL);
    memory_stats(&b);
    assert_int_equal(a.free_frames, b.free_frames);
    /* Reserve inside a buddy block and across chunk edges (unaligned byte range). */
    assert_int_equal(frame_reserve(PADDR(0x41000800), 0x300000), KEEL_OK);
    memory_stats(&b);
    assert_int_equal(b.reserved_frames, a.reserved_frames + 0x301);
    assert_int_equal(b.free_frames, a.free_frames - 0x301);
    assert_int_equal(frame_reserve(PADDR(0x41000800), 0x1000), KEEL_OK); /* again: fine */
    assert_int_equal(free_frames((phys_frame_t){0x41001}, 1), KEEL_EPERM);
    assert_consistent();
    /* Everything else can still be allocated, the reserved frames never. */
    phys_frame_t g;
    while (allocate_frames(1, ZONE_NORMAL, &g) == KEEL_OK) {
        assert_false(g.number >= 0x41000 && g.number < 0x41301);
    }
    memory_stats(&b);
    assert_int_equal(b.free_frames, 0);
    assert_consistent();
}

static void test_64g_unbacked(void **state) {
    (void)state;
    struct boot_info *bi = mmt_boot_info();
    mmt_add(bi, 0x80000000ULL, 2 * GiB, MEM_USABLE, 0);
    mmt_add(bi, 0x100000000ULL, 62 * GiB, MEM_USABLE, 0);
    size_t bytes = frame_metadata_bytes(bi);
    assert_true(bytes < 8 * MiB);
    mmt_frame_init(bi);
    free(bi);
    struct memory_statistics st;
    memory_stats(&st);
    assert_int_equal(st.total_frames, 64 * GiB / 4096);
    phys_frame_t f;
    assert_int_equal(allocate_frames(8 * GiB / 4096, ZONE_NORMAL, &f), KEEL_OK);
    assert_int_equal(zone_of(f), ZONE_NORMAL);
    assert_int_equal(f.number % (8 * GiB / 4096), 0);
    phys_frame_t g;
    assert_int_equal(allocate_frames(3, ZONE_DMA32, &g), KEEL_OK);
    assert_int_equal(free_frames(f, 8 * GiB / 4096), KEEL_OK);
    assert_int_equal(free_frames(g, 3), KEEL_OK);
    assert_consistent();
}

int main(int argc, char **argv) {
    mmt_seed(argc, argv, "test_frame");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_sizing),
        cmocka_unit_test(test_init_map_types),
        cmocka_unit_test(test_alloc_free_sizes),
        cmocka_unit_test(test_aligned),
        cmocka_unit_test(test_error_paths),
        cmocka_unit_test(test_zones),
        cmocka_unit_test(test_numa),
        cmocka_unit_test(test_exhaustion_recovery),
        cmocka_unit_test(test_coalesce),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_64g_unbacked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
