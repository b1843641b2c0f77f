/* SPDX-License-Identifier: MIT */
/*
 * Portable KTESTs of memory management on the real target: frames come back to where
 * they were, the heap's counters balance after a stress run, the direct map reaches
 * allocated frames and error paths are refused and counted.
 */
#include <kernel/frame.h>
#include <kernel/heap.h>
#include <kernel/ktest.h>
#include <kernel/string.h>
#include <kernel/vm.h>

KTEST(mm_frames_balance) {
    struct memory_statistics before, after;
    memory_stats(&before);
    phys_frame_t runs[16];
    for (unsigned i = 0; i < ARRAY_SIZE(runs); i++) {
        KTEST_EXPECT_EQ(allocate_frames(1u + i * 37u, ZONE_NORMAL, &runs[i]), KEEL_OK);
    }
    for (unsigned i = 0; i < ARRAY_SIZE(runs); i++) {
        KTEST_EXPECT_EQ(free_frames(runs[i], 1u + i * 37u), KEEL_OK);
    }
    memory_stats(&after);
    KTEST_EXPECT_EQ(after.free_frames, before.free_frames);
}

KTEST(mm_frame_errors_counted) {
    struct memory_statistics before, after;
    phys_frame_t f;
    KTEST_EXPECT_EQ(allocate_frames(4, ZONE_NORMAL, &f), KEEL_OK);
    KTEST_EXPECT_EQ(free_frames(f, 4), KEEL_OK);
    memory_stats(&before);
    KTEST_EXPECT_EQ(free_frames(f, 4), KEEL_EEXIST); /* double free */
    KTEST_EXPECT_EQ(allocate_frames(0, ZONE_NORMAL, &f), KEEL_EINVAL);
    memory_stats(&after);
    KTEST_EXPECT_EQ(after.double_frees, before.double_frees + 1);
    KTEST_EXPECT_EQ(after.free_frames, before.free_frames);
}

KTEST(mm_direct_map_reaches_frames) {
    phys_frame_t f;
    KTEST_EXPECT_EQ(allocate_frames(2, ZONE_NORMAL, &f), KEEL_OK);
    uint64_t *p = phys_to_virt(frame_to_paddr(f));
    for (unsigned i = 0; i < 2 * PAGE_SIZE / sizeof(uint64_t); i++) {
        p[i] = 0x6b65656c00000000ULL | i;
    }
    bool ok = true;
    for (unsigned i = 0; i < 2 * PAGE_SIZE / sizeof(uint64_t); i++) {
        ok = ok && p[i] == (0x6b65656c00000000ULL | i);
    }
    KTEST_EXPECT(ok);
    KTEST_EXPECT_EQ(virt_to_phys(p).pa, frame_to_paddr(f).pa);
    KTEST_EXPECT_EQ(free_frames(f, 2), KEEL_OK);
}

KTEST(mm_heap_stress_balances) {
    struct heap_stats before, after;
    heap_stats(&before);
    void *ptrs[64] = {0};
    uint32_t x = 12345;
    for (unsigned step = 0; step < 4000; step++) {
        x = x * 1103515245u + 12345u;
        unsigned slot = (x >> 8) % ARRAY_SIZE(ptrs);
        if (ptrs[slot] != NULL) {
            KTEST_EXPECT_EQ(*(uint8_t *)ptrs[slot], (uint8_t)slot);
            kfree(ptrs[slot]);
            ptrs[slot] = NULL;
        } else {
            size_t size = 1 + (x >> 16) % 6000;
            ptrs[slot] = kmalloc(size, KMALLOC_ZERO);
            KTEST_EXPECT(ptrs[slot] != NULL);
            if (ptrs[slot] != NULL) {
                memset(ptrs[slot], (int)slot, size);
            }
        }
    }
    for (unsigned i = 0; i < ARRAY_SIZE(ptrs); i++) {
        kfree(ptrs[i]);
    }
    heap_stats(&after);
    KTEST_EXPECT_EQ(after.current_allocated, before.current_allocated);
    KTEST_EXPECT_EQ(after.allocation_count - before.allocation_count,
                    after.free_count - before.free_count);
}

KTEST(mm_kfree_bad_pointer_refused) {
    struct heap_stats before, after;
    static uint64_t not_from_heap[4];
    heap_stats(&before);
    kfree(&not_from_heap[1]);
    heap_stats(&after);
    KTEST_EXPECT_EQ(after.bad_frees, before.bad_frees + 1);
    KTEST_EXPECT_EQ(after.current_allocated, before.current_allocated);
}
