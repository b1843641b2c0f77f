/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the boot memory-map normaliser (src/boot/memmap.c): fixed cases for
 * overlap resolution, merging, sorting, page rounding and exhaustion, and a randomised
 * comparison against a byte-granular reference model on small address spaces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_rng.h"
#include <kernel/memmap.h>

#define KB 1024ull
#define MB (1024ull * KB)

static struct boot_info *new_bi(void) {
    struct boot_info *bi = calloc(1, sizeof(*bi));

    assert_non_null(bi);
    return bi;
}

static void add(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t type, uint32_t node) {
    assert_int_equal(memmap_add(bi, base, size, type, node), KEEL_OK);
}

static void expect(const struct boot_info *bi, uint32_t i, uint64_t base, uint64_t size,
                   uint32_t type, uint32_t node) {
    assert_true(i < bi->mem_count);
    assert_int_equal(bi->mem[i].base, base);
    assert_int_equal(bi->mem[i].size, size);
    assert_int_equal(bi->mem[i].type, type);
    assert_int_equal(bi->mem[i].node, node);
}

static void test_add_rejects(void **state) {
    struct boot_info *bi = new_bi();
    (void)state;

    assert_int_equal(memmap_add(bi, 0x1000, 0, MEM_USABLE, 0), KEEL_EINVAL);
    assert_int_equal(memmap_add(bi, UINT64_MAX, 1, MEM_USABLE, 0), KEEL_EINVAL);
    assert_int_equal(memmap_add(bi, UINT64_MAX - 0xfff, 0x1000, MEM_USABLE, 0), KEEL_EINVAL);
    assert_int_equal(memmap_add(bi, 1ull << 63, 1ull << 63, MEM_USABLE, 0), KEEL_EINVAL);
    assert_int_equal(memmap_add(bi, 0, 0x1000, 0, 0), KEEL_EINVAL);
    assert_int_equal(memmap_add(bi, 0, 0x1000, MEM_KERNEL + 1, 0), KEEL_EINVAL);
    assert_int_equal(bi->mem_count, 0);
    /* The largest legal range ends one byte short of 2^64. */
    assert_int_equal(memmap_add(bi, 0, UINT64_MAX, MEM_RESERVED, 0), KEEL_OK);
    assert_int_equal(bi->mem_count, 1);
    free(bi);
}

static void test_add_exhaustion(void **state) {
    struct boot_info *bi = new_bi();
    (void)state;

    for (uint32_t i = 0; i < BOOT_MAX_MEM_REGIONS; i++) {
        add(bi, (uint64_t)i * 0x10000, 0x1000, MEM_USABLE, 0);
    }
    assert_int_equal(memmap_add(bi, 1ull << 40, 0x1000, MEM_RESERVED, 0), KEEL_EEXHAUSTED);
    assert_int_equal(memmap_add(bi, 1ull << 41, 0x1000, MEM_USABLE, 0), KEEL_EEXHAUSTED);
    assert_int_equal(bi->mem_dropped, 2);
    assert_int_equal(bi->mem_count, BOOT_MAX_MEM_REGIONS);
    free(bi);
}

static void test_sort_and_merge(void **state) {
    struct boot_info *bi = new_bi();
    (void)state;

    add(bi, 0x300000, 0x100000, MEM_USABLE, 0);
    add(bi, 0x100000, 0x100000, MEM_USABLE, 0);
    add(bi, 0x200000, 0x100000, MEM_USABLE, 0); /* touches both: all three merge */
    add(bi, 0x500000, 0x100000, MEM_USABLE, 1); /* touches the next, other node */
    add(bi, 0x400000, 0x100000, MEM_USABLE, 0);
    add(bi, 0x600000, 0x100000, MEM_RESERVED, 1); /* other type */
    assert_int_equal(memmap_normalize(bi), KEEL_OK);
    assert_int_equal(bi->mem_count, 3);
    expect(bi, 0, 0x100000, 0x400000, MEM_USABLE, 0);
    expect(bi, 1, 0x500000, 0x100000, MEM_USABLE, 1);
    expect(bi, 2, 0x600000, 0x100000, MEM_RESERVED, 1);
    assert_int_equal(memmap_usable_bytes(bi), 0x500000);
    free(bi);
}

static void test_overlap_split(void **state) {
    struct boot_info *bi = new_bi();
    (void)state;

    /* RAM with a DTB and a kernel inside, and an overlapping reserved region. */
    add(bi, 0x40000000, 1024 * MB, MEM_USABLE, 0);
    add(bi, 0x48000000, 0x1234, MEM_DTB, 0);
    add(bi, 0x40200000, 2 * MB, MEM_KERNEL, 0);
    add(bi, 0x40300000, 2 * MB, MEM_RESERVED, 0); /* kernel beats reserved where shared */
    add(bi, 0x7ffff800, 0x1000, MEM_FIRMWARE, 0); /* sticks out of RAM's end */
    assert_int_equal(memmap_normalize(bi), KEEL_OK);
    assert_int_equal(bi->mem_count, 7);
    expect(bi, 0, 0x40000000, 2 * MB, MEM_USABLE, 0);
    expect(bi, 1, 0x40200000, 2 * MB, MEM_KERNEL, 0);
    expect(bi, 2, 0x40400000, 1 * MB, MEM_RESERVED, 0);
    expect(bi, 3, 0x40500000, 0x48000000 - 0x40500000, MEM_USABLE, 0);
    expect(bi, 4, 0x48000000, 0x1234, MEM_DTB, 0);
    /* Usable after the DTB starts at the next page; before the firmware, ends a page low. */
    expect(bi, 5, 0x48002000, 0x7ffff000 - 0x48002000, MEM_USABLE, 0);
    expect(bi, 6, 0x7ffff800, 0x1000, MEM_FIRMWARE, 0);
    free(bi);
    bi = NULL;
}

static void test_overlap_cases(void **state) {
    struct boot_info *bi = new_bi();
    (void)state;

    /* Same start, loser longer; winner longer than a same-start loser; equal ranges. */
    add(bi, 0x10000, 0x4000, MEM_USABLE, 0);
    add(bi, 0x10000, 0x1000, MEM_MMIO, 0);
    add(bi, 0x20000, 0x1000, MEM_USABLE, 0);
    add(bi, 0x20000, 0x3000, MEM_BAD, 0);
    add(bi, 0x30000, 0x1000, MEM_ACPI_NVS, 0);
    add(bi, 0x30000, 0x1000, MEM_ACPI_RECLAIM, 0);
    /* Equal type, different node: the higher node wins the shared bytes. */
    add(bi, 0x40000, 0x2000, MEM_USABLE, 1);
    add(bi, 0x41000, 0x2000, MEM_USABLE, 2);
    assert_int_equal(memmap_normalize(bi), KEEL_OK);
    assert_int_equal(bi->mem_count, 6);
    expect(bi, 0, 0x10000, 0x1000, MEM_MMIO, 0);
    expect(bi, 1, 0x11000, 0x3000, MEM_USABLE, 0);
    expect(bi, 2, 0x20000, 0x3000, MEM_BAD, 0);
    expect(bi, 3, 0x30000, 0x1000, MEM_ACPI_NVS, 0);
    expect(bi, 4, 0x40000, 0x1000, MEM_USABLE, 1);
    expect(bi, 5, 0x41000, 0x2000, MEM_USABLE, 2);
    free(bi);
}

static void test_rounding(void **state) {
    struct boot_info *bi = new_bi();
    (void)state;

    add(bi, 0x1234, 0x5678 - 0x1234, MEM_USABLE, 0); /* -> [0x2000, 0x5000) */
    add(bi, 0x10100, 0xe00, MEM_USABLE, 0);          /* inside one page: gone */
    add(bi, 0x20001, 0x1fff, MEM_RESERVED, 0);       /* non-usable keeps its bytes */
    add(bi, UINT64_MAX - 0x2800, 0x2800, MEM_USABLE, 0);
    assert_int_equal(memmap_normalize(bi), KEEL_OK);
    assert_int_equal(bi->mem_count, 3);
    expect(bi, 0, 0x2000, 0x3000, MEM_USABLE, 0);
    expect(bi, 1, 0x20001, 0x1fff, MEM_RESERVED, 0);
    /* [2^64-0x2801, 2^64-1): only the page at 2^64-0x2000 is whole. */
    expect(bi, 2, UINT64_MAX - 0x1fff, 0x1000, MEM_USABLE, 0);
    free(bi);
}

static void test_set_node(void **state) {
    struct boot_info *bi = new_bi();
    (void)state;

    add(bi, 0, 0x10000, MEM_USABLE, 0);
    add(bi, 0x10000, 0x10000, MEM_RESERVED, 0);
    assert_int_equal(memmap_set_node(bi, 0x4000, 0x10000, 1), KEEL_OK);
    assert_int_equal(memmap_set_node(bi, 0, 0, 1), KEEL_EINVAL);
    assert_int_equal(memmap_normalize(bi), KEEL_OK);
    assert_int_equal(bi->mem_count, 4);
    expect(bi, 0, 0, 0x4000, MEM_USABLE, 0);
    expect(bi, 1, 0x4000, 0xc000, MEM_USABLE, 1);
    expect(bi, 2, 0x10000, 0x4000, MEM_RESERVED, 1);
    expect(bi, 3, 0x14000, 0xc000, MEM_RESERVED, 0);

    /* memmap_apply_numa does the same from bi->numa.range[]. */
    memset(bi, 0, sizeof(*bi));
    add(bi, 0x40000000, 2048 * MB, MEM_USABLE, 0);
    bi->numa.range_count = 2;
    bi->numa.range[0] = (struct boot_numa_range){.base = 0x40000000, .size = 1024 * MB};
    bi->numa.range[1] = (struct boot_numa_range){.base = 0x80000000, .size = 1024 * MB, .node = 1};
    assert_int_equal(memmap_apply_numa(bi), KEEL_OK);
    assert_int_equal(bi->mem_count, 2);
    expect(bi, 0, 0x40000000, 1024 * MB, MEM_USABLE, 0);
    expect(bi, 1, 0x80000000, 1024 * MB, MEM_USABLE, 1);
    free(bi);
}

static void test_names(void **state) {
    (void)state;
    assert_string_equal(mem_type_name(MEM_USABLE), "usable");
    assert_string_equal(mem_type_name(MEM_KERNEL), "kernel");
    assert_string_equal(mem_type_name(MEM_DTB), "dtb");
    assert_string_equal(mem_type_name(0), "unknown");
    assert_string_equal(mem_type_name(11), "unknown");
    assert_string_equal(mem_type_name(UINT32_MAX), "unknown");
}

/* ---- randomised comparison against a byte-granular model ---- */

#define SPACE (6 * 4096u)

static uint8_t model_type[SPACE], model_node[SPACE];
static uint8_t got_type[SPACE], got_node[SPACE];

static bool beats(uint32_t t1, uint32_t n1, uint32_t t2, uint32_t n2) {
    return t1 > t2 || (t1 == t2 && n1 > n2);
}

/* The model: per byte the winning (type, node); usable runs shrunk to whole pages. */
static void model_build(const struct mem_region *in, uint32_t n) {
    memset(model_type, 0, sizeof(model_type));
    memset(model_node, 0, sizeof(model_node));
    for (uint32_t r = 0; r < n; r++) {
        for (uint64_t b = in[r].base; b < in[r].base + in[r].size; b++) {
            if (beats(in[r].type, in[r].node, model_type[b], model_node[b])) {
                model_type[b] = (uint8_t)in[r].type;
                model_node[b] = (uint8_t)in[r].node;
            }
        }
    }
    for (uint32_t b = 0; b < SPACE;) {
        uint32_t e = b;

        while (e < SPACE && model_type[e] == model_type[b] && model_node[e] == model_node[b]) {
            e++;
        }
        if (model_type[b] == MEM_USABLE) {
            uint32_t lo = (b + 4095) & ~4095u;
            uint32_t hi = e & ~4095u;

            for (uint32_t x = b; x < e; x++) {
                if (x < lo || x >= hi) {
                    model_type[x] = 0;
                    model_node[x] = 0;
                }
            }
        }
        b = e;
    }
}

/* Render bi->mem (relative to `offset`) into got_*, checking the structural rules. */
static void render(const struct boot_info *bi, uint64_t offset) {
    memset(got_type, 0, sizeof(got_type));
    memset(got_node, 0, sizeof(got_node));
    for (uint32_t i = 0; i < bi->mem_count; i++) {
        const struct mem_region *r = &bi->mem[i];

        assert_true(r->size > 0);
        assert_true(r->base >= offset && r->base - offset + r->size <= SPACE);
        if (i > 0) {
            const struct mem_region *p = &bi->mem[i - 1];

            assert_true(p->base + p->size <= r->base);
            assert_false(p->base + p->size == r->base && p->type == r->type &&
                         p->node == r->node); /* fully merged */
        }
        if (r->type == MEM_USABLE) {
            assert_true(r->base % 4096 == 0 && r->size % 4096 == 0);
        }
        for (uint64_t b = r->base - offset; b < r->base - offset + r->size; b++) {
            got_type[b] = (uint8_t)r->type;
            got_node[b] = (uint8_t)r->node;
        }
    }
}

static void random_regions(struct mem_region *in, uint32_t n) {
    static const uint32_t scales[] = {16, 700, 4096, 3 * 4096, SPACE};

    for (uint32_t i = 0; i < n; i++) {
        uint64_t base = test_rand_below(SPACE);
        uint64_t scale = scales[test_rand_below(ARRAY_SIZE(scales))];
        uint64_t max = MIN(scale, SPACE - base); /* MIN evaluates twice: no calls inside */

        if (test_rand_below(3) == 0) {
            base &= ~4095ull; /* page-aligned edges make merges and exact fits likely */
        }
        in[i] = (struct mem_region){
            .base = base,
            .size = 1 + test_rand_below(max),
            .type = test_rand_below(4) == 0 ? MEM_USABLE + (uint32_t)test_rand_below(10)
                                            : (test_rand_below(2) ? MEM_USABLE : MEM_RESERVED),
            .node = (uint32_t)test_rand_below(3),
        };
    }
}

static void test_random_model(void **state) {
    static const uint64_t offsets[] = {0, 0x40000000, 0xffffffffffff0000ull - SPACE};
    struct boot_info *bi = new_bi();
    struct mem_region in[48];
    (void)state;

    for (int iter = 0; iter < 4000; iter++) {
        uint64_t offset = offsets[iter % ARRAY_SIZE(offsets)];
        uint32_t n = 1 + (uint32_t)test_rand_below(ARRAY_SIZE(in));

        random_regions(in, n);
        memset(bi, 0, sizeof(*bi));
        for (uint32_t i = 0; i < n; i++) {
            add(bi, offset + in[i].base, in[i].size, in[i].type, in[i].node);
        }
        model_build(in, n);
        assert_int_equal(memmap_normalize(bi), KEEL_OK);
        render(bi, offset);
        if (memcmp(model_type, got_type, SPACE) != 0 || memcmp(model_node, got_node, SPACE)) {
            fail_msg("iteration %d: normalised map differs from the model", iter);
        }
        /* Normalising twice changes nothing. */
        struct mem_region before[BOOT_MAX_MEM_REGIONS];
        uint32_t count = bi->mem_count;

        memcpy(before, bi->mem, sizeof(before));
        assert_int_equal(memmap_normalize(bi), KEEL_OK);
        assert_int_equal(bi->mem_count, count);
        assert_memory_equal(before, bi->mem, count * sizeof(before[0]));
    }
    free(bi);
}

/*
 * A full map that needs more slots than exist: whatever is dropped, no byte the model
 * calls non-usable may come out usable (losing RAM is fine, handing out reserved is not).
 */
static void test_random_full(void **state) {
    struct boot_info *bi = new_bi();
    static struct mem_region in[BOOT_MAX_MEM_REGIONS];
    int exhausted = 0;
    (void)state;

    for (int iter = 0; iter < 300; iter++) {
        random_regions(in, BOOT_MAX_MEM_REGIONS);
        memset(bi, 0, sizeof(*bi));
        for (uint32_t i = 0; i < BOOT_MAX_MEM_REGIONS; i++) {
            /* Small pieces in the whole space, so that splits are needed. */
            in[i].size = 1 + in[i].size % 300;
            if (in[i].base + in[i].size > SPACE) {
                in[i].size = SPACE - in[i].base;
            }
            add(bi, in[i].base, in[i].size, in[i].type, in[i].node);
        }
        /* One big usable region under everything: it must be split around each winner. */
        bi->mem[0] = (struct mem_region){.base = 0, .size = SPACE, .type = MEM_USABLE};
        in[0] = bi->mem[0];
        model_build(in, BOOT_MAX_MEM_REGIONS);
        kstatus_t st = memmap_normalize(bi);
        assert_true(st == KEEL_OK || st == KEEL_EEXHAUSTED);
        render(bi, 0);
        if (st == KEEL_OK) {
            assert_memory_equal(model_type, got_type, SPACE);
        } else {
            exhausted++;
            assert_true(bi->mem_dropped > 0);
            for (uint32_t b = 0; b < SPACE; b++) {
                if (got_type[b] == MEM_USABLE) {
                    assert_int_equal(model_type[b], MEM_USABLE);
                }
            }
        }
    }
    print_message("random_full: %d of 300 maps overflowed\n", exhausted);
    free(bi);
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_rejects),    cmocka_unit_test(test_add_exhaustion),
        cmocka_unit_test(test_sort_and_merge), cmocka_unit_test(test_overlap_split),
        cmocka_unit_test(test_overlap_cases),  cmocka_unit_test(test_rounding),
        cmocka_unit_test(test_set_node),       cmocka_unit_test(test_names),
        cmocka_unit_test(test_random_model),   cmocka_unit_test(test_random_full),
    };

    test_seed_init(argc, argv, "boot_memmap");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
