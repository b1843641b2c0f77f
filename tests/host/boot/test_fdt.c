/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the device tree parser (src/boot/fdt.c, fdt_boot.c): real QEMU virt
 * trees (tests/fixtures/dtb) must give QEMU's documented values; corrupted, truncated
 * and randomly mutated blobs must give KEEL_ECORRUPT (or parse) without any out-of-bounds
 * access (run under ASan/UBSan); hand-built blobs probe each rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fdt_build.h"
#include "fixture.h"
#include "test_rng.h"
#include <kernel/fdt.h>
#include <kernel/memmap.h>

#ifndef KEEL_FIXTURE_DIR
#error "KEEL_FIXTURE_DIR must name tests/fixtures/dtb"
#endif

#define MB (1024ull * 1024)
#define GB (1024ull * MB)

/* ---- helpers ---- */

static struct boot_info *new_bi(void) {
    struct boot_info *bi = calloc(1, sizeof(*bi));

    assert_non_null(bi);
    return bi;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The region of bi->mem that contains addr, or NULL. */
static const struct mem_region *region_at(const struct boot_info *bi, uint64_t addr) {
    for (uint32_t i = 0; i < bi->mem_count; i++) {
        if (addr >= bi->mem[i].base && addr - bi->mem[i].base < bi->mem[i].size) {
            return &bi->mem[i];
        }
    }
    return NULL;
}

/* ---- QEMU fixtures ---- */

struct fixture_expect {
    const char *name;
    bool riscv;
    uint32_t cpus;
    uint64_t ram;
    const char *bootargs;
    uint32_t intc;
    uint32_t psci;
    uint64_t initrd_base, initrd_size;
    uint32_t numa_nodes;
};

static const struct fixture_expect fixtures[] = {
    {"aarch64-gicv3-smp1-128m", false, 1, 128 * MB, "console=ttyAMA0 keel.fixture=a1",
     BOOT_INTC_GICV3, BOOT_PSCI_HVC, 0, 0, 0},
    {"aarch64-gicv3-smp2-1g", false, 2, 1 * GB, "console=ttyAMA0 keel.fixture=a2 ktest",
     BOOT_INTC_GICV3, BOOT_PSCI_HVC, 0x48000000, 0x10000, 0},
    {"aarch64-gicv3-smp4-4g", false, 4, 4 * GB, "keel.fixture=a4", BOOT_INTC_GICV3, BOOT_PSCI_HVC,
     0, 0, 0},
    {"aarch64-gicv2-smp2-1g", false, 2, 1 * GB, "keel.fixture=a2v2", BOOT_INTC_GICV2, BOOT_PSCI_HVC,
     0, 0, 0},
    {"aarch64-gicv3-el2-smp2-1g", false, 2, 1 * GB, "keel.fixture=el2", BOOT_INTC_GICV3,
     BOOT_PSCI_SMC, 0, 0, 0},
    {"aarch64-numa2", false, 2, 2 * GB, "keel.fixture=numa", BOOT_INTC_GICV3, BOOT_PSCI_HVC, 0, 0,
     2},
    {"riscv64-smp1-128m", true, 1, 128 * MB, "console=ttyS0 keel.fixture=r1", BOOT_INTC_PLIC,
     BOOT_PSCI_NONE, 0, 0, 0},
    {"riscv64-smp2-1g", true, 2, 1 * GB, "console=ttyS0 keel.fixture=r2", BOOT_INTC_PLIC,
     BOOT_PSCI_NONE, 0x88200000, 0x10000, 0},
    {"riscv64-smp4-4g", true, 4, 4 * GB, "keel.fixture=r4", BOOT_INTC_PLIC, BOOT_PSCI_NONE, 0, 0,
     0},
    {"riscv64-numa2", true, 2, 2 * GB, "keel.fixture=rnuma", BOOT_INTC_PLIC, BOOT_PSCI_NONE, 0, 0,
     2},
};

static void check_fixture(const struct fixture_expect *fx) {
    size_t size;
    uint8_t *blob = load_fixture(fx->name, &size);
    struct boot_info *bi = new_bi();
    uint64_t ram_base = fx->riscv ? 0x80000000 : 0x40000000;
    uint64_t dtb_phys = ram_base + 64 * MB + 0x100; /* inside RAM, not page aligned */
    uint64_t dtb_pages = (0x100 + size + 4095) & ~4095ull;
    const struct mem_region *r;

    print_message("fixture %s (%zu bytes)\n", fx->name, size);
    bi->mem[0] = (struct mem_region){ram_base + 32 * MB, 2 * MB, MEM_KERNEL, 0};
    bi->mem_count = 1;
    assert_int_equal(fdt_parse_boot_info(blob, size, dtb_phys, bi), KEEL_OK);

    /* Memory: all of RAM usable except the kernel, the DTB's pages and the initrd. */
    assert_int_equal(memmap_usable_bytes(bi), fx->ram - 2 * MB - dtb_pages - fx->initrd_size);
    r = region_at(bi, ram_base);
    assert_non_null(r);
    assert_int_equal(r->type, MEM_USABLE);
    assert_int_equal(r->base, ram_base);
    assert_int_equal(r->size, 32 * MB);
    r = region_at(bi, dtb_phys);
    assert_non_null(r);
    assert_int_equal(r->type, MEM_DTB);
    assert_int_equal(r->base, dtb_phys);
    assert_int_equal(r->size, size);
    assert_int_equal(bi->dtb.pa, dtb_phys);
    assert_int_equal(bi->dtb_size, size);
    assert_int_equal(region_at(bi, ram_base + 32 * MB)->type, MEM_KERNEL);
    r = region_at(bi, ram_base + fx->ram - 1);
    assert_non_null(r);
    assert_int_equal(r->type, MEM_USABLE);
    assert_null(region_at(bi, ram_base + fx->ram));
    assert_null(region_at(bi, ram_base - 1));

    assert_string_equal(bi->cmdline, fx->bootargs);
    assert_int_equal(bi->initrd_base.pa, fx->initrd_base);
    assert_int_equal(bi->initrd_size, fx->initrd_size);
    if (fx->initrd_size != 0) {
        r = region_at(bi, fx->initrd_base);
        assert_int_equal(r->type, MEM_INITRD);
        assert_int_equal(r->size, fx->initrd_size);
    }

    assert_int_equal(bi->cpu_count, fx->cpus);
    assert_int_equal(bi->cpu_dropped, 0);
    assert_int_equal(bi->boot_cpu, 0);
    for (uint32_t i = 0; i < fx->cpus; i++) {
        assert_int_equal(bi->cpus[i].hwid, i);
        assert_int_equal(bi->cpus[i].enabled, 1);
        assert_int_equal(bi->cpus[i].node, fx->numa_nodes ? i : 0);
    }
    assert_int_equal(bi->numa.node_count, fx->numa_nodes);
    if (fx->numa_nodes == 2) {
        /* QEMU: node 0 = the first GiB of RAM, node 1 = the second. */
        assert_int_equal(region_at(bi, ram_base)->node, 0);
        assert_int_equal(region_at(bi, ram_base + GB - 1)->node, 0);
        assert_int_equal(region_at(bi, ram_base + GB)->node, 1);
        assert_int_equal(region_at(bi, ram_base + 2 * GB - 1)->node, 1);
    }

    assert_int_equal(bi->intc.type, fx->intc);
    assert_int_equal(bi->psci_method, fx->psci);
    if (fx->riscv) {
        assert_int_equal(bi->console.type, BOOT_CONSOLE_UART16550_MMIO);
        assert_int_equal(bi->console.base, 0x10000000);
        assert_int_equal(bi->console.size, 0x100);
        assert_int_equal(bi->console.clock_hz, 3686400);
        assert_int_equal(bi->console.reg_shift, 0);
        assert_int_equal(bi->console.reg_width, 1);
        assert_int_equal(bi->intc.base[0], 0xc000000);
        assert_int_equal(bi->intc.size[0], 0x600000);
        assert_int_equal(bi->timer_freq_hz, 10000000);
        assert_int_equal(bi->poweroff.base, 0x100000);
        assert_int_equal(bi->poweroff.offset, 0);
        assert_int_equal(bi->poweroff.value, 0x5555);
    } else {
        assert_int_equal(bi->console.type, BOOT_CONSOLE_PL011);
        assert_int_equal(bi->console.base, 0x9000000);
        assert_int_equal(bi->console.size, 0x1000);
        assert_int_equal(bi->console.clock_hz, 24000000);
        assert_int_equal(bi->intc.base[0], 0x8000000);
        assert_int_equal(bi->intc.size[0], 0x10000);
        if (fx->intc == BOOT_INTC_GICV3) {
            assert_int_equal(bi->intc.base[1], 0x80a0000);
            assert_int_equal(bi->intc.size[1], 0xf60000);
        } else {
            assert_int_equal(bi->intc.base[1], 0x8010000);
            assert_int_equal(bi->intc.size[1], 0x10000);
        }
        assert_int_equal(bi->timer_freq_hz, 0); /* QEMU leaves it to CNTFRQ_EL0 */
        assert_int_equal(bi->poweroff.base, 0);
    }
    free(bi);
    free(blob);
}

static void test_fixtures(void **state) {
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
        check_fixture(&fixtures[i]);
    }
}

/* The generic query API on a real tree. */
static void test_queries(void **state) {
    size_t size;
    uint8_t *blob = load_fixture("riscv64-smp2-1g", &size);
    struct fdt fdt;
    fdt_node_t n, m, root;
    uint32_t ac, sc, v32;
    uint64_t addr, sz, v64;
    const char *s;
    int depth = 0, max_depth = 0, nodes = 0;
    (void)state;

    assert_int_equal(fdt_init(&fdt, blob, size), KEEL_OK);
    root = fdt_root(&fdt);
    assert_string_equal(fdt_node_name(&fdt, root), "");
    assert_int_equal(fdt_parent(&fdt, root), FDT_NONE);
    for (n = root; n != FDT_NONE; n = fdt_next_node(&fdt, n, &depth)) {
        assert_true(depth >= 0);
        max_depth = MAX(max_depth, depth);
        nodes++;
    }
    assert_true(nodes > 20);
    assert_int_equal(max_depth, 4); /* /cpus/cpu-map/cluster0/core0 */

    assert_int_equal(fdt_find_path(&fdt, "/soc/serial@10000000", &n), KEEL_OK);
    assert_string_equal(fdt_node_name(&fdt, n), "serial@10000000");
    assert_int_equal(fdt_find_path(&fdt, "/soc/serial", &m), KEEL_OK); /* unit-less */
    assert_int_equal(m, n);
    assert_int_equal(fdt_find_path(&fdt, "/soc//serial@10000000/", &m), KEEL_OK);
    assert_int_equal(m, n);
    assert_int_equal(fdt_find_path(&fdt, "/soc/serial@1", &m), KEEL_ENOTFOUND);
    assert_int_equal(fdt_find_path(&fdt, "soc", &m), KEEL_ENOTFOUND);
    assert_int_equal(fdt_find_path(&fdt, "/", &m), KEEL_OK);
    assert_int_equal(m, root);
    assert_int_equal(fdt_find_path(&fdt, "/soc", &m), KEEL_OK);
    assert_int_equal(fdt_parent(&fdt, n), m);
    assert_int_equal(fdt_stdout_node(&fdt, &m), KEEL_OK);
    assert_int_equal(m, n);
    assert_true(fdt_is_compatible(&fdt, n, "ns16550a"));
    assert_false(fdt_is_compatible(&fdt, n, "ns16550"));
    assert_int_equal(fdt_get_reg(&fdt, n, 0, &addr, &sz), KEEL_OK);
    assert_int_equal(addr, 0x10000000);
    assert_int_equal(sz, 0x100);
    assert_int_equal(fdt_get_reg(&fdt, n, 1, &addr, &sz), KEEL_ENOTFOUND);
    assert_int_equal(fdt_get_u32(&fdt, n, "clock-frequency", &v32), KEEL_OK);
    assert_int_equal(v32, 3686400);
    assert_int_equal(fdt_get_u32(&fdt, n, "compatible", &v32), KEEL_ECORRUPT); /* 9 bytes */
    assert_int_equal(fdt_get_u32(&fdt, n, "nonexistent", &v32), KEEL_ENOTFOUND);
    assert_int_equal(fdt_get_u64(&fdt, n, "reg", &v64), KEEL_ECORRUPT); /* 16 bytes */
    assert_int_equal(fdt_get_string(&fdt, n, "compatible", &s), KEEL_OK);
    assert_string_equal(s, "ns16550a");

    assert_int_equal(fdt_find_compatible(&fdt, FDT_NONE, "virtio,mmio", &n), KEEL_OK);
    nodes = 1;
    while (fdt_find_compatible(&fdt, n, "virtio,mmio", &n) == KEEL_OK) {
        nodes++;
    }
    assert_int_equal(nodes, 8);
    assert_int_equal(fdt_find_compatible(&fdt, FDT_NONE, "no,such", &n), KEEL_ENOTFOUND);

    assert_int_equal(fdt_find_path(&fdt, "/cpus", &n), KEEL_OK);
    assert_int_equal(fdt_cells(&fdt, n, &ac, &sc), KEEL_OK);
    assert_int_equal(ac, 1);
    assert_int_equal(sc, 0);
    nodes = 0;
    for (m = fdt_first_child(&fdt, n); m != FDT_NONE; m = fdt_next_sibling(&fdt, m)) {
        nodes++;
    }
    assert_int_equal(nodes, 3); /* cpu@0, cpu@1, cpu-map */
    assert_int_equal(fdt_find_phandle(&fdt, 6, &n), KEEL_OK);
    assert_string_equal(fdt_node_name(&fdt, n), "test@100000");
    assert_int_equal(fdt_find_phandle(&fdt, 0, &n), KEEL_ENOTFOUND);
    assert_int_equal(fdt_find_phandle(&fdt, 0x12345, &n), KEEL_ENOTFOUND);

    /* Bogus node handles are harmless. */
    assert_string_equal(fdt_node_name(&fdt, 3), "");
    assert_int_equal(fdt_next_node(&fdt, FDT_NONE, NULL), FDT_NONE);
    assert_int_equal(fdt_get_prop(&fdt, 0x7fffffff, "reg", &(const void *){0}, &v32),
                     KEEL_ENOTFOUND);
    assert_int_equal(fdt_read_cells(blob, 3), 0);
    free(blob);
}

/* ---- header corruption, truncation, mutation on real trees ---- */

static kstatus_t init_copy(const uint8_t *blob, size_t len) {
    /* An exact-size heap copy, so ASan sees any read past the end. */
    uint8_t *copy = malloc(len ? len : 1);
    struct fdt fdt;
    kstatus_t st;

    memcpy(copy, blob, len);
    st = fdt_init(&fdt, copy, len);
    free(copy);
    return st;
}

static kstatus_t init_patched(const uint8_t *blob, size_t size, uint32_t field, uint32_t v) {
    uint8_t *copy = malloc(size);
    struct fdt fdt;
    kstatus_t st;

    memcpy(copy, blob, size);
    put32(copy + field, v);
    st = fdt_init(&fdt, copy, size);
    free(copy);
    return st;
}

static void test_header_fields(void **state) {
    size_t size;
    uint8_t *b = load_fixture("aarch64-gicv3-smp2-1g", &size);
    uint32_t total = get32(b + 4), off_st = get32(b + 8), off_str = get32(b + 12);
    uint32_t off_rsv = get32(b + 16), sz_str = get32(b + 32), sz_st = get32(b + 36);
    (void)state;

    assert_int_equal(init_copy(b, size), KEEL_OK);
    assert_int_equal(total, size);
    assert_int_equal(init_patched(b, size, 0, 0xd00dfeee), KEEL_ECORRUPT);
    assert_int_equal(init_patched(b, size, 0, 0xedfe0dd0), KEEL_ECORRUPT); /* byte-swapped */
    assert_int_equal(init_patched(b, size, 4, total + 1), KEEL_ECORRUPT);  /* > buffer */
    assert_int_equal(init_patched(b, size, 4, 39), KEEL_ECORRUPT);
    assert_int_equal(init_patched(b, size, 4, 0xffffffff), KEEL_ECORRUPT);
    assert_int_equal(init_patched(b, size, 4, total - 1), KEEL_ECORRUPT);  /* strings cut */
    assert_int_equal(init_patched(b, size, 8, off_st + 2), KEEL_ECORRUPT); /* misaligned */
    assert_int_equal(init_patched(b, size, 8, 0), KEEL_ECORRUPT);          /* in header */
    assert_int_equal(init_patched(b, size, 8, total), KEEL_ECORRUPT);
    assert_int_equal(init_patched(b, size, 8, 0xfffffffc), KEEL_ECORRUPT); /* wraps */
    assert_int_equal(init_patched(b, size, 12, total), KEEL_ECORRUPT);
    assert_int_equal(init_patched(b, size, 12, 0xffffffff), KEEL_ECORRUPT);
    assert_int_equal(init_patched(b, size, 12, off_str + 1), KEEL_ECORRUPT); /* names shift */
    assert_int_equal(init_patched(b, size, 16, off_rsv + 4), KEEL_ECORRUPT); /* misaligned */
    assert_int_equal(init_patched(b, size, 16, 0), KEEL_ECORRUPT);
    assert_int_equal(init_patched(b, size, 16, total & ~7u), KEEL_ECORRUPT); /* no room */
    assert_int_equal(init_patched(b, size, 20, 16), KEEL_ECORRUPT);          /* version */
    assert_int_equal(init_patched(b, size, 20, 0), KEEL_ECORRUPT);
    assert_int_equal(init_patched(b, size, 20, 18), KEEL_OK);       /* newer, v17-compatible */
    assert_int_equal(init_patched(b, size, 24, 18), KEEL_ECORRUPT); /* last_comp_version */
    assert_int_equal(init_patched(b, size, 24, 17), KEEL_OK);
    assert_int_equal(init_patched(b, size, 28, 0xffffffff), KEEL_OK); /* boot cpu: any */
    assert_int_equal(init_patched(b, size, 32, 0), KEEL_ECORRUPT);    /* names gone */
    assert_int_equal(init_patched(b, size, 32, sz_str - 1), KEEL_ECORRUPT);
    assert_int_equal(init_patched(b, size, 32, sz_str + 1), KEEL_ECORRUPT);
    assert_int_equal(init_patched(b, size, 32, 0xffffffff), KEEL_ECORRUPT);
    assert_int_equal(init_patched(b, size, 36, 0), KEEL_ECORRUPT);
    assert_int_equal(init_patched(b, size, 36, sz_st - 4), KEEL_ECORRUPT); /* FDT_END cut */
    assert_int_equal(init_patched(b, size, 36, sz_st - 1), KEEL_ECORRUPT); /* misaligned */
    assert_int_equal(init_patched(b, size, 36, 0xfffffffc), KEEL_ECORRUPT);
    assert_int_equal(init_copy(b, 39), KEEL_ECORRUPT);
    assert_int_equal(init_copy(b, 0), KEEL_ECORRUPT);
    {
        struct fdt fdt;
        assert_int_equal(fdt_init(&fdt, NULL, 100), KEEL_ECORRUPT);
    }

    /* Every header word set to random values: OK or corrupt, never a bad access. */
    for (uint32_t field = 0; field < 40; field += 4) {
        for (int i = 0; i < 300; i++) {
            uint32_t v = (uint32_t)test_rand();

            if (i % 3 == 0) {
                v = get32(b + field) + (uint32_t)test_rand_below(64) - 32;
            }
            kstatus_t st = init_patched(b, size, field, v);
            assert_true(st == KEEL_OK || st == KEEL_ECORRUPT);
        }
    }
    free(b);
}

static void test_truncation(void **state) {
    const char *names[] = {"aarch64-gicv3-smp2-1g", "riscv64-smp1-128m"};
    (void)state;

    for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
        size_t size;
        uint8_t *b = load_fixture(names[k], &size);

        for (size_t len = 0; len <= size; len++) {
            uint8_t *copy = malloc(len ? len : 1);
            struct boot_info *bi = new_bi();
            kstatus_t st;

            memcpy(copy, b, len);
            st = fdt_parse_boot_info(copy, len, 0x1000, bi);
            assert_int_equal(st, len == size ? KEEL_OK : KEEL_ECORRUPT);
            /* Claim the truncated length in the header too: blocks now overrun it. */
            if (len >= 40 && len < size) {
                put32(copy + 4, (uint32_t)len);
                assert_int_equal(fdt_parse_boot_info(copy, len, 0x1000, bi), KEEL_ECORRUPT);
            }
            free(copy);
            free(bi);
        }
        free(b);
    }
}

static volatile kstatus_t sink; /* results the walk does not check */

/* Exercise every query on a blob fdt_init accepted. */
static void walk_everything(const struct fdt *fdt) {
    static const char *props[] = {"reg", "compatible", "status", "#address-cells", "phandle"};
    int depth = 0;

    for (fdt_node_t n = fdt_root(fdt); n != FDT_NONE; n = fdt_next_node(fdt, n, &depth)) {
        const void *v;
        const char *s;
        uint32_t len, ac, sc;
        uint64_t a, z;
        fdt_node_t m;

        (void)strlen(fdt_node_name(fdt, n));
        for (size_t i = 0; i < ARRAY_SIZE(props); i++) {
            if (fdt_get_prop(fdt, n, props[i], &v, &len) == KEEL_OK && len > 0) {
                volatile uint8_t last = ((const uint8_t *)v)[len - 1];
                (void)last;
            }
            sink = fdt_get_string(fdt, n, props[i], &s);
        }
        sink = fdt_cells(fdt, n, &ac, &sc);
        sink = fdt_get_reg(fdt, n, 0, &a, &z);
        (void)fdt_is_compatible(fdt, n, "ns16550a");
        (void)fdt_is_enabled(fdt, n);
        (void)fdt_next_sibling(fdt, n);
        (void)fdt_first_child(fdt, n);
        sink = fdt_find_phandle(fdt, 1, &m);
    }
}

static void machine(struct fdt_build *fb, const char *bootargs, const char *stdout_path);

static int mutate_and_parse(const uint8_t *b, size_t size, int flips, int *accepted) {
    uint8_t *copy = malloc(size);
    struct boot_info *bi = new_bi();
    struct fdt fdt;
    kstatus_t st;
    uint32_t struct_end = get32(b + 8) + get32(b + 36);

    memcpy(copy, b, size);
    for (int f = 0; f < flips; f++) {
        /* Half the flips land in the header and struct block, where the rules live. */
        size_t pos = test_rand_below(2) ? test_rand_below(struct_end) : test_rand_below(size);

        copy[pos] ^= (uint8_t)(1u << test_rand_below(8));
        if (test_rand_below(4) == 0) {
            copy[pos] = (uint8_t)test_rand();
        }
    }
    st = fdt_init(&fdt, copy, size);
    assert_true(st == KEEL_OK || st == KEEL_ECORRUPT);
    if (st == KEEL_OK) {
        (*accepted)++;
        walk_everything(&fdt);
        st = fdt_parse_boot_info(copy, size, 0x40000000, bi);
        /* A well-formed tree with odd values may also be out of range or overflow. */
        if (st != KEEL_OK && st != KEEL_ECORRUPT && st != KEEL_ERANGE && st != KEEL_EEXHAUSTED) {
            fail_msg("fdt_parse_boot_info returned %d", st);
        }
    }
    free(bi);
    free(copy);
    return 0;
}

static void test_random_mutants(void **state) {
    const char *names[] = {"aarch64-gicv3-smp2-1g", "riscv64-smp2-1g", "aarch64-numa2"};
    (void)state;

    for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
        size_t size;
        uint8_t *b = load_fixture(names[k], &size);
        int accepted = 0;
        const int n = 2000;

        for (int i = 0; i < n; i++) {
            mutate_and_parse(b, size, 1 + (int)test_rand_below(8), &accepted);
        }
        print_message("mutants of %s: %d accepted, %d corrupt\n", names[k], accepted, n - accepted);
        free(b);
    }
    /* The hand-built machine has aliases, reserved-memory, initrd and /memreserve/. */
    {
        static struct fdt_build fb;
        static uint8_t blob[65536];
        int accepted = 0;
        size_t len;

        machine(&fb, "console=ttyS0", "serial0:115200");
        len = fb_finish(&fb, blob, sizeof(blob));
        for (int i = 0; i < 2000; i++) {
            mutate_and_parse(blob, len, 1 + (int)test_rand_below(4), &accepted);
        }
        print_message("mutants of the built machine: %d accepted\n", accepted);
    }
}

/* ---- hand-built blobs ---- */

static uint8_t out[65536];

static kstatus_t build_init(struct fdt_build *fb, size_t *len, bool end_token) {
    *len = end_token ? fb_finish(fb, out, sizeof(out)) : fb_finish_raw(fb, out, sizeof(out));
    return init_copy(out, *len);
}

static void minimal_root(struct fdt_build *fb) {
    fb_init(fb);
    fb_begin(fb, "");
    fb_prop_u32(fb, "#address-cells", 2);
    fb_prop_u32(fb, "#size-cells", 2);
}

static void test_built_structure(void **state) {
    static struct fdt_build fb;
    size_t len;
    uint8_t name[8];
    (void)state;

    minimal_root(&fb);
    fb_end(&fb);
    assert_int_equal(build_init(&fb, &len, true), KEEL_OK);

    /* Property length past the block, and 0xffffffff. */
    minimal_root(&fb);
    fb_prop(&fb, "x", "abcd", 4);
    fb_end(&fb);
    fb_finish(&fb, out, sizeof(out));
    len = fb_finish_raw(&fb, out, sizeof(out));
    for (uint32_t bad = 0; bad < 2; bad++) {
        uint32_t off = get32(out + 8) + 8 + 12 + 4 + 12 + 4; /* root, 2 u32 props */
        assert_int_equal(get32(out + off), 3);
        put32(out + off + 4, bad ? 0xffffffffu : get32(out + 36));
        assert_int_equal(init_copy(out, len), KEEL_ECORRUPT);
    }

    /* Name offset outside the strings block; and a name string left unterminated. */
    minimal_root(&fb);
    fb_end(&fb);
    len = fb_finish(&fb, out, sizeof(out));
    put32(out + get32(out + 8) + 8 + 8, get32(out + 32)); /* first prop's nameoff */
    assert_int_equal(init_copy(out, len), KEEL_ECORRUPT);
    len = fb_finish_raw(&fb, out, sizeof(out));
    out[len - 1] = 'x'; /* "#size-cells" loses its NUL: last string in the block */
    assert_int_equal(init_copy(out, len), KEEL_ECORRUPT);

    /* Node name running to the end of the struct block. */
    fb_init(&fb);
    fb_begin(&fb, "");
    fb_token(&fb, 1);
    memset(name, 'a', sizeof(name));
    memcpy(fb.st + fb.st_len, name, sizeof(name));
    fb.st_len += sizeof(name);
    assert_int_equal(build_init(&fb, &len, false), KEEL_ECORRUPT);

    /* Nesting: FDT_MAX_DEPTH levels parse, one more is corrupt. */
    for (int extra = 0; extra < 2; extra++) {
        fb_init(&fb);
        fb_begin(&fb, "");
        for (int d = 1; d < FDT_MAX_DEPTH + extra; d++) {
            fb_begin(&fb, "n");
        }
        for (int d = 0; d < FDT_MAX_DEPTH + extra; d++) {
            fb_end(&fb);
        }
        assert_int_equal(build_init(&fb, &len, true), extra ? KEEL_ECORRUPT : KEEL_OK);
    }

    /* Property after a child node; stray END_NODE; missing END_NODE; no FDT_END. */
    minimal_root(&fb);
    fb_begin(&fb, "child");
    fb_end(&fb);
    fb_prop_u32(&fb, "late", 1);
    fb_end(&fb);
    assert_int_equal(build_init(&fb, &len, true), KEEL_ECORRUPT);
    minimal_root(&fb);
    fb_end(&fb);
    fb_end(&fb);
    assert_int_equal(build_init(&fb, &len, true), KEEL_ECORRUPT);
    minimal_root(&fb);
    assert_int_equal(build_init(&fb, &len, true), KEEL_ECORRUPT);
    minimal_root(&fb);
    fb_end(&fb);
    assert_int_equal(build_init(&fb, &len, false), KEEL_ECORRUPT);

    /* Unknown token; two roots; a named root; an unnamed child; property at top level. */
    minimal_root(&fb);
    fb_token(&fb, 5);
    fb_end(&fb);
    assert_int_equal(build_init(&fb, &len, true), KEEL_ECORRUPT);
    minimal_root(&fb);
    fb_end(&fb);
    fb_begin(&fb, "");
    fb_end(&fb);
    assert_int_equal(build_init(&fb, &len, true), KEEL_ECORRUPT);
    fb_init(&fb);
    fb_begin(&fb, "root");
    fb_end(&fb);
    assert_int_equal(build_init(&fb, &len, true), KEEL_ECORRUPT);
    minimal_root(&fb);
    fb_begin(&fb, "");
    fb_end(&fb);
    fb_end(&fb);
    assert_int_equal(build_init(&fb, &len, true), KEEL_ECORRUPT);
    fb_init(&fb);
    fb_prop_u32(&fb, "orphan", 1);
    fb_begin(&fb, "");
    fb_end(&fb);
    assert_int_equal(build_init(&fb, &len, true), KEEL_ECORRUPT);

    /* NOPs anywhere are fine. */
    fb_init(&fb);
    fb_token(&fb, 4);
    fb_begin(&fb, "");
    fb_token(&fb, 4);
    fb_prop_u32(&fb, "a", 1);
    fb_token(&fb, 4);
    fb_end(&fb);
    fb_token(&fb, 4);
    assert_int_equal(build_init(&fb, &len, true), KEEL_OK);

    /* Unterminated memory reservation block. */
    minimal_root(&fb);
    fb_end(&fb);
    fb_reserve(&fb, 0x1000, 0x1000);
    fb.no_rsv_terminator = 1;
    len = fb_finish(&fb, out, sizeof(out));
    put32(out + 8, 40 + 16); /* struct right after the one entry: no terminator room */
    assert_int_equal(init_copy(out, len), KEEL_ECORRUPT);
}

/* A small machine: memory, chosen, cpus, a UART behind an alias, reserved memory. */
static void machine(struct fdt_build *fb, const char *bootargs, const char *stdout_path) {
    minimal_root(fb);
    fb_begin(fb, "aliases");
    fb_prop_str(fb, "serial0", "/soc/uart@1000");
    fb_prop_str(fb, "serial", "/nonexistent");
    fb_end(fb);
    fb_begin(fb, "chosen");
    if (bootargs != NULL) {
        fb_prop_str(fb, "bootargs", bootargs);
    }
    if (stdout_path != NULL) {
        fb_prop_str(fb, "stdout-path", stdout_path);
    }
    fb_prop_u32(fb, "linux,initrd-start", 0x90000000);
    fb_prop_cells(fb, "linux,initrd-end", 2, 0, 0x90100000);
    fb_end(fb);
    fb_begin(fb, "memory@80000000");
    fb_prop_str(fb, "device_type", "memory");
    fb_prop_cells(fb, "reg", 8, 0, 0x80000000, 0, 0x20000000, 1, 0, 0, 0x10000000);
    fb_end(fb);
    fb_begin(fb, "memory@200000000");
    fb_prop_str(fb, "device_type", "memory");
    fb_prop_str(fb, "status", "disabled");
    fb_prop_cells(fb, "reg", 4, 2, 0, 0, 0x10000000);
    fb_end(fb);
    fb_begin(fb, "reserved-memory");
    fb_prop_u32(fb, "#address-cells", 2);
    fb_prop_u32(fb, "#size-cells", 2);
    fb_begin(fb, "fw@80000000");
    fb_prop_cells(fb, "reg", 4, 0, 0x80000000, 0, 0x40000);
    fb_end(fb);
    fb_begin(fb, "pool");
    fb_prop_cells(fb, "size", 2, 0, 0x100000); /* dynamic: no reg, ignored */
    fb_end(fb);
    fb_end(fb);
    fb_begin(fb, "cpus");
    fb_prop_u32(fb, "#address-cells", 1);
    fb_prop_u32(fb, "#size-cells", 0);
    fb_prop_cells(fb, "timebase-frequency", 2, 0, 25000000);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "cpu@%d", i + 4);
        fb_begin(fb, name);
        fb_prop_str(fb, "device_type", "cpu");
        fb_prop_u32(fb, "reg", (uint32_t)i + 4);
        if (i == 2) {
            fb_prop_str(fb, "status", "disabled");
        }
        fb_end(fb);
    }
    fb_end(fb);
    fb_begin(fb, "soc");
    fb_prop_u32(fb, "#address-cells", 1);
    fb_prop_u32(fb, "#size-cells", 1);
    fb_begin(fb, "uart@2000");
    fb_prop_str(fb, "compatible", "ns16550");
    fb_prop_cells(fb, "reg", 2, 0x2000, 0x100);
    fb_end(fb);
    fb_begin(fb, "uart@1000");
    fb_prop(fb, "compatible", "snps,dw-apb-uart\0ns16550a", 26);
    fb_prop_cells(fb, "reg", 2, 0x1000, 0x100);
    fb_prop_u32(fb, "reg-shift", 2);
    fb_prop_u32(fb, "reg-io-width", 4);
    fb_prop_u32(fb, "clock-frequency", 1843200);
    fb_end(fb);
    fb_end(fb);
    fb_end(fb);
    fb->boot_cpuid = 5;
    fb_reserve(fb, 0x9f000000, 0x2000);
}

static kstatus_t build_parse(struct fdt_build *fb, struct boot_info *bi) {
    size_t len = fb_finish(fb, out, sizeof(out));
    uint8_t *copy = malloc(len);
    kstatus_t st;

    memcpy(copy, out, len);
    memset(bi, 0, sizeof(*bi));
    st = fdt_parse_boot_info(copy, len, 0x1000, bi);
    free(copy);
    return st;
}

static void test_built_machine(void **state) {
    static struct fdt_build fb;
    struct boot_info *bi = new_bi();
    char args[BOOT_CMDLINE_MAX + 1];
    const struct mem_region *r;
    (void)state;

    machine(&fb, "root=/dev/vda", "serial0:115200n8");
    assert_int_equal(build_parse(&fb, bi), KEEL_OK);
    assert_string_equal(bi->cmdline, "root=/dev/vda");
    assert_int_equal(bi->console.type, BOOT_CONSOLE_UART16550_MMIO);
    assert_int_equal(bi->console.base, 0x1000);
    assert_int_equal(bi->console.reg_shift, 2);
    assert_int_equal(bi->console.reg_width, 4);
    assert_int_equal(bi->console.clock_hz, 1843200);
    assert_int_equal(bi->initrd_base.pa, 0x90000000);
    assert_int_equal(bi->initrd_size, 0x100000);
    assert_int_equal(bi->timer_freq_hz, 25000000);
    assert_int_equal(bi->cpu_count, 3);
    assert_int_equal(bi->cpus[0].hwid, 4);
    assert_int_equal(bi->cpus[2].enabled, 0);
    assert_int_equal(bi->boot_cpu, 1); /* boot_cpuid_phys 5 */
    r = region_at(bi, 0x80000000);
    assert_int_equal(r->type, MEM_RESERVED);
    assert_int_equal(r->size, 0x40000);
    assert_int_equal(region_at(bi, 0x80040000)->type, MEM_USABLE);
    assert_int_equal(region_at(bi, 0x90000000)->type, MEM_INITRD);
    assert_int_equal(region_at(bi, 0x9f000000)->type, MEM_RESERVED);
    assert_int_equal(region_at(bi, 0x100000000)->type, MEM_USABLE);
    assert_null(region_at(bi, 0x200000000)); /* disabled memory node */
    assert_int_equal(region_at(bi, 0x1000)->type, MEM_DTB);
    assert_int_equal(memmap_usable_bytes(bi),
                     0x20000000 - 0x40000 - 0x100000 - 0x2000 + 0x10000000);

    /* stdout-path as a path with options, as an unresolvable alias, and absent. */
    machine(&fb, NULL, "/soc/uart@2000:9600");
    assert_int_equal(build_parse(&fb, bi), KEEL_OK);
    assert_int_equal(bi->console.base, 0x2000);
    assert_int_equal(bi->console.reg_width, 1);
    assert_string_equal(bi->cmdline, "");
    machine(&fb, NULL, "serial");
    assert_int_equal(build_parse(&fb, bi), KEEL_OK);
    assert_int_equal(bi->console.base, 0x2000); /* first known UART in the tree */
    machine(&fb, NULL, NULL);
    assert_int_equal(build_parse(&fb, bi), KEEL_OK);
    assert_int_equal(bi->console.base, 0x2000);

    /* bootargs: 1023 characters fit, 1024 do not (never truncated). */
    memset(args, 'k', sizeof(args));
    args[BOOT_CMDLINE_MAX - 1] = '\0';
    machine(&fb, args, NULL);
    assert_int_equal(build_parse(&fb, bi), KEEL_OK);
    assert_int_equal(strlen(bi->cmdline), BOOT_CMDLINE_MAX - 1);
    args[BOOT_CMDLINE_MAX - 1] = 'k';
    args[BOOT_CMDLINE_MAX] = '\0';
    machine(&fb, args, NULL);
    assert_int_equal(build_parse(&fb, bi), KEEL_ERANGE);
    free(bi);
}

static void test_built_errors(void **state) {
    static struct fdt_build fb;
    struct boot_info *bi = new_bi();
    (void)state;

    /* Unterminated bootargs. */
    minimal_root(&fb);
    fb_begin(&fb, "chosen");
    fb_prop(&fb, "bootargs", "abcd", 4);
    fb_end(&fb);
    fb_end(&fb);
    assert_int_equal(build_parse(&fb, bi), KEEL_ECORRUPT);

    /* Half an initrd; an initrd that ends before it starts; a 3-byte initrd-start. */
    for (int k = 0; k < 3; k++) {
        minimal_root(&fb);
        fb_begin(&fb, "chosen");
        if (k == 2) {
            fb_prop(&fb, "linux,initrd-start", "abc", 3);
        } else {
            fb_prop_u32(&fb, "linux,initrd-start", 0x2000);
        }
        if (k != 0) {
            fb_prop_u32(&fb, "linux,initrd-end", 0x1000);
        }
        fb_end(&fb);
        fb_end(&fb);
        assert_int_equal(build_parse(&fb, bi), KEEL_ECORRUPT);
    }

    /* reg whose length is not a whole number of entries; a range that wraps. */
    minimal_root(&fb);
    fb_begin(&fb, "memory@0");
    fb_prop_str(&fb, "device_type", "memory");
    fb_prop_cells(&fb, "reg", 3, 0, 0, 1);
    fb_end(&fb);
    fb_end(&fb);
    assert_int_equal(build_parse(&fb, bi), KEEL_ECORRUPT);
    minimal_root(&fb);
    fb_begin(&fb, "memory@0");
    fb_prop_str(&fb, "device_type", "memory");
    fb_prop_cells(&fb, "reg", 4, 0xffffffff, 0xfffff000, 0, 0x2000);
    fb_end(&fb);
    fb_end(&fb);
    assert_int_equal(build_parse(&fb, bi), KEEL_ECORRUPT);

    /* numa-node-id beyond BOOT_MAX_NUMA_NODES. */
    minimal_root(&fb);
    fb_begin(&fb, "memory@0");
    fb_prop_str(&fb, "device_type", "memory");
    fb_prop_u32(&fb, "numa-node-id", BOOT_MAX_NUMA_NODES);
    fb_prop_cells(&fb, "reg", 4, 0, 0, 0, 0x100000);
    fb_end(&fb);
    fb_end(&fb);
    assert_int_equal(build_parse(&fb, bi), KEEL_ERANGE);

    /* #address-cells of 5; a cpu without reg. */
    minimal_root(&fb);
    fb_begin(&fb, "cpus");
    fb_prop_u32(&fb, "#address-cells", 5);
    fb_begin(&fb, "cpu@0");
    fb_prop_str(&fb, "device_type", "cpu");
    fb_prop_u32(&fb, "reg", 0);
    fb_end(&fb);
    fb_end(&fb);
    fb_end(&fb);
    assert_int_equal(build_parse(&fb, bi), KEEL_ECORRUPT);
    minimal_root(&fb);
    fb_begin(&fb, "cpus");
    fb_begin(&fb, "cpu@0");
    fb_prop_str(&fb, "device_type", "cpu");
    fb_end(&fb);
    fb_end(&fb);
    fb_end(&fb);
    assert_int_equal(build_parse(&fb, bi), KEEL_ECORRUPT);

    /* More CPUs than BOOT_MAX_CPUS: the rest are counted, not stored. */
    minimal_root(&fb);
    fb_begin(&fb, "cpus");
    fb_prop_u32(&fb, "#address-cells", 1);
    fb_prop_u32(&fb, "#size-cells", 0);
    for (int i = 0; i < BOOT_MAX_CPUS + 3; i++) {
        fb_begin(&fb, "cpu");
        fb_prop_str(&fb, "device_type", "cpu");
        fb_prop_u32(&fb, "reg", (uint32_t)i);
        fb_end(&fb);
    }
    fb_end(&fb);
    fb_end(&fb);
    assert_int_equal(build_parse(&fb, bi), KEEL_OK);
    assert_int_equal(bi->cpu_count, BOOT_MAX_CPUS);
    assert_int_equal(bi->cpu_dropped, 3);

    /* A 16550 with a nonsense reg-io-width. */
    minimal_root(&fb);
    fb_begin(&fb, "uart@0");
    fb_prop_str(&fb, "compatible", "ns16550a");
    fb_prop_cells(&fb, "reg", 4, 0, 0x1000, 0, 0x100);
    fb_prop_u32(&fb, "reg-io-width", 3);
    fb_end(&fb);
    fb_end(&fb);
    assert_int_equal(build_parse(&fb, bi), KEEL_ECORRUPT);

    /* Many memory regions: usable overflow is dropped and counted, not fatal. */
    minimal_root(&fb);
    fb_begin(&fb, "memory@0");
    fb_prop_str(&fb, "device_type", "memory");
    {
        uint8_t reg[300 * 16];
        for (uint32_t i = 0; i < 300; i++) {
            put32(reg + 16 * i, 0);
            put32(reg + 16 * i + 4, 0x100000 + i * 0x20000);
            put32(reg + 16 * i + 8, 0);
            put32(reg + 16 * i + 12, 0x10000);
        }
        fb_prop(&fb, "reg", reg, sizeof(reg));
    }
    fb_end(&fb);
    fb_end(&fb);
    assert_int_equal(build_parse(&fb, bi), KEEL_OK);
    assert_true(bi->mem_dropped > 0);
    assert_int_equal(bi->mem_count, BOOT_MAX_MEM_REGIONS);
    free(bi);
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures),       cmocka_unit_test(test_queries),
        cmocka_unit_test(test_header_fields),  cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_random_mutants), cmocka_unit_test(test_built_structure),
        cmocka_unit_test(test_built_machine),  cmocka_unit_test(test_built_errors),
    };

    test_seed_init(argc, argv, "boot_fdt");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
