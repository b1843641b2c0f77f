/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the ACPI walker (src/boot/acpi.c): synthetic RSDP/XSDT/RSDT/MADT/SRAT/
 * SLIT tables with correct checksums in a fake physical memory, then each one broken
 * (checksums, lengths, truncation, zero-length entries, pointers out of range) and
 * randomly mutated. The mapper hands out exact-size copies, so ASan catches any read
 * beyond what the parser asked to map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_rng.h"
#include <kernel/acpi.h>
#include <kernel/memmap.h>

#define PHYS_BASE 0x80000ull
#define MEM_SIZE  0x2000u

#define OFF_RSDP   0x000
#define OFF_ROOT   0x040 /* XSDT or RSDT */
#define OFF_MADT   0x100
#define OFF_SRAT   0x300
#define OFF_SLIT   0x500
#define OFF_FACP   0x5a0 /* only its header is read */
#define TABLES_END (OFF_FACP + 36)

#define GB (1024ull * 1024 * 1024)

/* Fake physical memory and the mapper serving it. */
static uint8_t phys_mem[MEM_SIZE];
static size_t phys_limit = MEM_SIZE; /* bytes from PHYS_BASE that are accessible */
static void *maps[1024];
static size_t map_count;

static const void *test_map(void *ctx, uint64_t phys, size_t len) {
    uint8_t *copy;
    (void)ctx;

    if (phys < PHYS_BASE || phys - PHYS_BASE > phys_limit ||
        len > phys_limit - (phys - PHYS_BASE)) {
        return NULL;
    }
    if (map_count == ARRAY_SIZE(maps)) {
        fail_msg("parser mapped more than %zu ranges", ARRAY_SIZE(maps));
    }
    copy = malloc(len ? len : 1);
    memcpy(copy, phys_mem + (phys - PHYS_BASE), len);
    maps[map_count++] = copy;
    return copy;
}

static void unmap_all(void) {
    while (map_count > 0) {
        free(maps[--map_count]);
    }
}

static void put8(size_t off, uint8_t v) {
    phys_mem[off] = v;
}

static void put16(size_t off, uint16_t v) {
    put8(off, (uint8_t)v);
    put8(off + 1, (uint8_t)(v >> 8));
}

static void put32(size_t off, uint32_t v) {
    put16(off, (uint16_t)v);
    put16(off + 2, (uint16_t)(v >> 16));
}

static void put64(size_t off, uint64_t v) {
    put32(off, (uint32_t)v);
    put32(off + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(size_t off) {
    return phys_mem[off] | (uint32_t)phys_mem[off + 1] << 8 | (uint32_t)phys_mem[off + 2] << 16 |
           (uint32_t)phys_mem[off + 3] << 24;
}

/* Set the byte at `sum_off` so that [off, off+len) sums to zero. */
static void fix_sum(size_t off, size_t len, size_t sum_off) {
    uint8_t s = 0;

    len = MIN(len, MEM_SIZE - off); /* a deliberately bad length: sum what exists */
    phys_mem[sum_off] = 0;
    for (size_t i = 0; i < len; i++) {
        s = (uint8_t)(s + phys_mem[off + i]);
    }
    phys_mem[sum_off] = (uint8_t)-s;
}

static void fix_table(size_t off) {
    fix_sum(off, get32(off + 4), off + 9);
}

static void fix_rsdp(void) {
    fix_sum(OFF_RSDP, 20, OFF_RSDP + 8);
    if (phys_mem[OFF_RSDP + 15] >= 2) {
        fix_sum(OFF_RSDP, get32(OFF_RSDP + 20), OFF_RSDP + 32);
    }
}

static void fix_all(void) {
    fix_table(OFF_ROOT);
    fix_table(OFF_MADT);
    fix_table(OFF_SRAT);
    fix_table(OFF_SLIT);
    fix_rsdp();
}

static size_t sdt_header(size_t off, const char *sig, uint8_t rev) {
    memcpy(phys_mem + off, sig, 4);
    put8(off + 8, rev);
    memcpy(phys_mem + off + 10, "KEELTS", 6);
    memcpy(phys_mem + off + 16, "KEELTEST", 8);
    return off + 36;
}

/* Build the standard machine: 4 CPUs described, 2 IOAPICs, 2 NUMA nodes, SLIT. */
static void build_tables(int rsdp_rev, bool xsdt) {
    size_t p;

    memset(phys_mem, 0, sizeof(phys_mem));
    phys_limit = MEM_SIZE;

    /* RSDP (ACPI 5.2.5.3). */
    memcpy(phys_mem + OFF_RSDP, "RSD PTR ", 8);
    memcpy(phys_mem + OFF_RSDP + 9, "KEELTS", 6);
    put8(OFF_RSDP + 15, (uint8_t)rsdp_rev);
    put32(OFF_RSDP + 16, xsdt ? 0 : (uint32_t)(PHYS_BASE + OFF_ROOT));
    if (rsdp_rev >= 2) {
        put32(OFF_RSDP + 20, 36);
        put64(OFF_RSDP + 24, xsdt ? PHYS_BASE + OFF_ROOT : 0);
    }

    /* XSDT/RSDT: MADT, an unrelated table, SRAT, SLIT. */
    p = sdt_header(OFF_ROOT, xsdt ? "XSDT" : "RSDT", 1);
    {
        const uint64_t tables[] = {PHYS_BASE + OFF_MADT, PHYS_BASE + OFF_FACP, PHYS_BASE + OFF_SRAT,
                                   PHYS_BASE + OFF_SLIT};
        for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
            if (xsdt) {
                put64(p, tables[i]);
                p += 8;
            } else {
                put32(p, (uint32_t)tables[i]);
                p += 4;
            }
        }
    }
    put32(OFF_ROOT + 4, (uint32_t)(p - OFF_ROOT));
    sdt_header(OFF_FACP, "FACP", 6); /* only its header is looked at: bad checksum is fine */
    put32(OFF_FACP + 4, 0x1000000);

    /* MADT (5.2.12). */
    p = sdt_header(OFF_MADT, "APIC", 5);
    put32(p, 0xfee00000);
    put32(p + 4, 1);
    p += 8;
    const uint8_t lapics[][3] = {{0, 0, 1}, {1, 2, 1}, {2, 4, 0}, {3, 6, 2}, {4, 0xff, 1}};
    for (size_t i = 0; i < ARRAY_SIZE(lapics); i++) {
        put8(p, 0);
        put8(p + 1, 8);
        put8(p + 2, lapics[i][0]);
        put8(p + 3, lapics[i][1]);
        put32(p + 4, lapics[i][2]);
        p += 8;
    }
    for (uint32_t i = 0; i < 2; i++) {
        put8(p, 1);
        put8(p + 1, 12);
        put8(p + 2, (uint8_t)i);
        put32(p + 4, 0xfec00000 + i * 0x1000);
        put32(p + 8, i * 24);
        p += 12;
    }
    const uint32_t x2apics[][2] = {{0x100, 1}, {2, 1}, {0x200, 0}};
    for (size_t i = 0; i < ARRAY_SIZE(x2apics); i++) {
        put8(p, 9);
        put8(p + 1, 16);
        put32(p + 4, x2apics[i][0]);
        put32(p + 8, x2apics[i][1]);
        put32(p + 12, 10 + (uint32_t)i);
        p += 16;
    }
    put8(p, 0x7f); /* unknown type: skipped by its length */
    put8(p + 1, 4);
    p += 4;
    put32(OFF_MADT + 4, (uint32_t)(p - OFF_MADT));

    /* SRAT (5.2.16), revision 3: CPU domains may use the high bytes. */
    p = sdt_header(OFF_SRAT, "SRAT", 3);
    put32(p, 1);
    p += 12;
    const uint32_t cpu_aff[][2] = {{0, 0}, {2, 0x105}};
    for (size_t i = 0; i < ARRAY_SIZE(cpu_aff); i++) {
        put8(p, 0);
        put8(p + 1, 16);
        put8(p + 2, (uint8_t)cpu_aff[i][1]);
        put8(p + 3, (uint8_t)cpu_aff[i][0]);
        put32(p + 4, 1);
        put8(p + 9, (uint8_t)(cpu_aff[i][1] >> 8));
        p += 16;
    }
    put8(p, 2); /* x2APIC affinity */
    put8(p + 1, 24);
    put32(p + 4, 0x105);
    put32(p + 8, 0x100);
    put32(p + 12, 1);
    p += 24;
    const uint64_t mem_aff[][4] = {
        {0, 0, 1 * GB, 1}, {0, 1 * GB, 1 * GB, 1}, {0x105, 2 * GB, 2 * GB, 1}, {7, 4 * GB, GB, 0}};
    for (size_t i = 0; i < ARRAY_SIZE(mem_aff); i++) {
        put8(p, 1);
        put8(p + 1, 40);
        put32(p + 2, (uint32_t)mem_aff[i][0]);
        put64(p + 8, mem_aff[i][1]);
        put64(p + 16, mem_aff[i][2]);
        put32(p + 28, (uint32_t)mem_aff[i][3]);
        p += 40;
    }
    put32(OFF_SRAT + 4, (uint32_t)(p - OFF_SRAT));

    /* SLIT (5.2.17): 3 localities; proximity domain 0x105 is beyond it. */
    p = sdt_header(OFF_SLIT, "SLIT", 1);
    put64(p, 3);
    p += 8;
    for (uint32_t i = 0; i < 3; i++) {
        for (uint32_t j = 0; j < 3; j++) {
            put8(p++, (uint8_t)(i == j ? 10 : 20 + i + j));
        }
    }
    put32(OFF_SLIT + 4, (uint32_t)(p - OFF_SLIT));
    fix_all();
}

static struct boot_info *new_bi(void) {
    struct boot_info *bi = calloc(1, sizeof(*bi));

    assert_non_null(bi);
    assert_int_equal(memmap_add(bi, 0, 4 * GB, MEM_USABLE, 0), KEEL_OK);
    return bi;
}

static kstatus_t parse(struct boot_info *bi) {
    kstatus_t st = acpi_parse_boot_info(PHYS_BASE + OFF_RSDP, test_map, NULL, bi);

    unmap_all();
    return st;
}

static kstatus_t parse_fresh(void) {
    struct boot_info *bi = new_bi();
    kstatus_t st = parse(bi);

    free(bi);
    return st;
}

static void check_machine(const struct boot_info *bi) {
    assert_int_equal(bi->acpi_rsdp.pa, PHYS_BASE + OFF_RSDP);
    /* 0, 2 enabled; 4 absent; 6 online-capable; 0xff skipped; x2APIC 0x100; 2 dup; 0x200 absent */
    assert_int_equal(bi->cpu_count, 4);
    assert_int_equal(bi->cpus[0].hwid, 0);
    assert_int_equal(bi->cpus[0].enabled, 1);
    assert_int_equal(bi->cpus[1].hwid, 2);
    assert_int_equal(bi->cpus[2].hwid, 6);
    assert_int_equal(bi->cpus[2].enabled, 0);
    assert_int_equal(bi->cpus[3].hwid, 0x100);
    assert_int_equal(bi->cpus[3].enabled, 1);
    assert_int_equal(bi->boot_cpu, 0);
    assert_int_equal(bi->intc.type, BOOT_INTC_APIC);
    assert_int_equal(bi->intc.base[0], 0xfee00000);
    assert_int_equal(bi->intc.base[1], 0xfec00000);
    assert_int_equal(bi->intc.size[0], 0x1000);
}

static void check_numa(const struct boot_info *bi) {
    assert_int_equal(bi->numa.node_count, 2);
    assert_int_equal(bi->numa.domain[0], 0);
    assert_int_equal(bi->numa.domain[1], 0x105);
    assert_int_equal(bi->cpus[0].node, 0);
    assert_int_equal(bi->cpus[1].node, 1);
    assert_int_equal(bi->cpus[2].node, 0);
    assert_int_equal(bi->cpus[3].node, 1);
    assert_int_equal(bi->numa.range_count, 2); /* two contiguous node-0 ranges merged */
    assert_int_equal(bi->numa.range[0].size, 2 * GB);
    assert_int_equal(bi->numa.distance[0][0], 10);
    assert_int_equal(bi->numa.distance[0][1], 0); /* domain 0x105 is not in the SLIT */
    assert_int_equal(bi->mem_count, 2);
    assert_int_equal(bi->mem[0].size, 2 * GB);
    assert_int_equal(bi->mem[0].node, 0);
    assert_int_equal(bi->mem[1].base, 2 * GB);
    assert_int_equal(bi->mem[1].node, 1);
}

static void test_xsdt(void **state) {
    struct boot_info *bi = new_bi();
    const struct acpi_sdt_header *h;
    (void)state;

    build_tables(2, true);
    assert_int_equal(parse(bi), KEEL_OK);
    check_machine(bi);
    check_numa(bi);
    assert_int_equal(acpi_find_table(PHYS_BASE, test_map, NULL, "SLIT", &h), KEEL_OK);
    assert_memory_equal(h->signature, "SLIT", 4);
    assert_int_equal(h->length, 44 + 9);
    assert_int_equal(acpi_find_table(PHYS_BASE, test_map, NULL, "HPET", &h), KEEL_ENOTFOUND);
    unmap_all();
    free(bi);
}

static void test_rsdt_and_slit(void **state) {
    struct boot_info *bi = new_bi();
    (void)state;

    build_tables(0, false); /* ACPI 1.0: 20-byte RSDP, RSDT */
    assert_int_equal(parse(bi), KEEL_OK);
    check_machine(bi);
    check_numa(bi);
    free(bi);

    build_tables(2, false); /* revision 2 but no XSDT: the RSDT is used */
    bi = new_bi();
    assert_int_equal(parse(bi), KEEL_OK);
    check_machine(bi);
    free(bi);

    /* Domain 0x105 -> 2: the SLIT now covers both nodes. */
    build_tables(2, true);
    put8(OFF_SRAT + 48 + 16 + 2, 2);
    put8(OFF_SRAT + 48 + 16 + 9, 0);
    put32(OFF_SRAT + 48 + 32 + 4, 2);
    put32(OFF_SRAT + 48 + 56 + 80 + 2, 2);
    fix_all();
    bi = new_bi();
    assert_int_equal(parse(bi), KEEL_OK);
    assert_int_equal(bi->numa.domain[1], 2);
    assert_int_equal(bi->numa.distance[0][1], 22);
    assert_int_equal(bi->numa.distance[1][0], 22);
    assert_int_equal(bi->numa.distance[1][1], 10);
    assert_int_equal(bi->cpus[3].node, 1);
    free(bi);

    /* SRAT revision 1: only the low byte of a CPU's domain counts (0x105 -> 5). */
    build_tables(2, true);
    put8(OFF_SRAT + 8, 1);
    fix_all();
    bi = new_bi();
    assert_int_equal(parse(bi), KEEL_OK);
    assert_int_equal(bi->numa.domain[1], 5);
    assert_int_equal(bi->numa.node_count, 3);
    free(bi);
}

static void test_variants(void **state) {
    struct boot_info *bi = new_bi();
    (void)state;

    /* A local APIC address override (type 5) wins over the 32-bit field. */
    build_tables(2, true);
    {
        size_t p = get32(OFF_MADT + 4) + OFF_MADT;
        put8(p, 5);
        put8(p + 1, 12);
        put64(p + 4, 0xfffffffee0000000ull);
        put32(OFF_MADT + 4, get32(OFF_MADT + 4) + 12);
        fix_all();
    }
    assert_int_equal(parse(bi), KEEL_OK);
    assert_int_equal(bi->intc.base[0], 0xfffffffee0000000ull);
    free(bi);

    /* No SRAT or SLIT: no NUMA information, memory untouched. */
    build_tables(2, true);
    put32(OFF_ROOT + 4, 36 + 16);
    fix_all();
    bi = new_bi();
    assert_int_equal(parse(bi), KEEL_OK);
    check_machine(bi);
    assert_int_equal(bi->numa.node_count, 0);
    assert_int_equal(bi->mem_count, 1);
    free(bi);

    /* No MADT. */
    build_tables(2, true);
    memcpy(phys_mem + OFF_MADT, "APIX", 4);
    fix_all();
    assert_int_equal(parse_fresh(), KEEL_ENOTFOUND);

    /* More than BOOT_MAX_NUMA_NODES proximity domains. */
    build_tables(2, true);
    {
        size_t p = OFF_SRAT + 48;
        for (uint32_t i = 0; i < 9; i++, p += 40) {
            put8(p, 1);
            put8(p + 1, 40);
            put32(p + 2, 100 + i);
            put64(p + 8, (uint64_t)i << 30);
            put64(p + 16, 1 << 20);
            put32(p + 28, 1);
        }
        put32(OFF_SRAT + 4, (uint32_t)(p - OFF_SRAT));
        fix_all();
    }
    assert_int_equal(parse_fresh(), KEEL_ERANGE);
}

static void test_corrupt(void **state) {
    (void)state;

    /* RSDP: signature, v1 checksum, extended checksum, length, unmappable address. */
    build_tables(2, true);
    phys_mem[OFF_RSDP] = 'r';
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    build_tables(2, true);
    phys_mem[OFF_RSDP + 8] ^= 1;
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    build_tables(2, true);
    phys_mem[OFF_RSDP + 32] ^= 1;
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    for (uint32_t len = 0; len < 2; len++) {
        build_tables(2, true);
        put32(OFF_RSDP + 20, len ? 35 : 0x10000);
        fix_rsdp();
        assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    }
    {
        struct boot_info *bi = new_bi();
        build_tables(2, true);
        assert_int_equal(acpi_parse_boot_info(PHYS_BASE + MEM_SIZE - 10, test_map, NULL, bi),
                         KEEL_ECORRUPT);
        assert_int_equal(acpi_parse_boot_info(0, test_map, NULL, bi), KEEL_ECORRUPT);
        unmap_all();
        free(bi);
    }

    /* XSDT: checksum, signature, ragged length, too short, out-of-range entries. */
    build_tables(2, true);
    phys_mem[OFF_ROOT + 20] ^= 0x40;
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    build_tables(2, true);
    memcpy(phys_mem + OFF_ROOT, "RSDT", 4);
    fix_all();
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    build_tables(2, true);
    put32(OFF_ROOT + 4, get32(OFF_ROOT + 4) - 4);
    fix_all();
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    build_tables(2, true);
    put32(OFF_ROOT + 4, 35);
    fix_all();
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    build_tables(2, true);
    put32(OFF_ROOT + 4, 0xfffffff0);
    fix_all();
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    build_tables(2, true);
    put64(OFF_ROOT + 36 + 8, 0x7fff0000000ull); /* the FACP pointer */
    fix_all();
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    build_tables(2, true);
    put64(OFF_ROOT + 36, UINT64_MAX - 8); /* would wrap */
    fix_all();
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);

    /* Each used table: checksum, a length below its fixed part, a length past memory. */
    const size_t used[] = {OFF_MADT, OFF_SRAT, OFF_SLIT};
    const uint32_t fixed[] = {44, 48, 44};
    for (size_t t = 0; t < ARRAY_SIZE(used); t++) {
        build_tables(2, true);
        phys_mem[used[t] + 40] ^= 0x10;
        assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
        build_tables(2, true);
        put32(used[t] + 4, fixed[t] - 1);
        fix_all();
        assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
        build_tables(2, true);
        put32(used[t] + 4, MEM_SIZE);
        fix_all();
        assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    }

    /* MADT entries: zero length (must not loop), length 1, overrunning, short typed. */
    const uint8_t entry_len[] = {0, 1, 200, 6};
    for (size_t k = 0; k < ARRAY_SIZE(entry_len); k++) {
        build_tables(2, true);
        put8(OFF_MADT + 44 + 8 + 1, entry_len[k]); /* the second local APIC entry */
        fix_all();
        assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    }
    build_tables(2, true);
    put32(OFF_MADT + 4, get32(OFF_MADT + 4) - 3); /* last entry cut short */
    fix_all();
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    build_tables(2, true);
    put8(OFF_MADT + 44 + 40 + 24 + 1, 12); /* x2APIC entry of 12 bytes */
    fix_all();
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);

    /* SRAT: zero-length entry, short memory entry, wrapping range. */
    build_tables(2, true);
    put8(OFF_SRAT + 48 + 1, 0);
    fix_all();
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    build_tables(2, true);
    put8(OFF_SRAT + 48 + 56 + 1, 24);
    fix_all();
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    build_tables(2, true);
    put64(OFF_SRAT + 48 + 56 + 8, UINT64_MAX - 10);
    fix_all();
    assert_int_equal(parse_fresh(), KEEL_ECORRUPT);

    /* SLIT: locality count of 0, 2^32 (N*N wraps 64 bits), 4 (matrix past the end). */
    const uint64_t counts[] = {0, 1ull << 32, 4, 0x10000};
    for (size_t k = 0; k < ARRAY_SIZE(counts); k++) {
        build_tables(2, true);
        put64(OFF_SLIT + 36, counts[k]);
        fix_all();
        assert_int_equal(parse_fresh(), KEEL_ECORRUPT);
    }

    /* Truncation: memory ends at every byte up to the end of the last table header. */
    build_tables(2, true);
    for (size_t lim = 0; lim <= TABLES_END; lim++) {
        struct boot_info *bi = new_bi();
        phys_limit = lim;
        kstatus_t st = parse(bi);
        if (lim >= TABLES_END) {
            assert_int_equal(st, KEEL_OK);
        } else {
            assert_int_equal(st, KEEL_ECORRUPT);
        }
        free(bi);
    }
    phys_limit = MEM_SIZE;
}

/* Random byte changes, with and without re-fixed checksums: never a bad access. */
static void test_random_mutants(void **state) {
    static uint8_t pristine[MEM_SIZE];
    int counts[3] = {0};
    (void)state;

    for (int iter = 0; iter < 40000; iter++) {
        struct boot_info *bi = new_bi();
        kstatus_t st;

        if (iter == 0) {
            build_tables(2, true);
            memcpy(pristine, phys_mem, MEM_SIZE);
        }
        memcpy(phys_mem, pristine, MEM_SIZE);
        for (int f = 1 + (int)test_rand_below(6); f > 0; f--) {
            size_t pos = test_rand_below(TABLES_END);
            phys_mem[pos] = test_rand_below(2)
                                ? (uint8_t)test_rand()
                                : phys_mem[pos] ^ (uint8_t)(1u << test_rand_below(8));
        }
        if (iter % 4 != 0) {
            fix_all(); /* most mutants get past the checksums into the parsers */
        }
        st = parse(bi);
        if (st == KEEL_OK) {
            counts[0]++;
            assert_true(bi->cpu_count <= BOOT_MAX_CPUS);
            assert_true(bi->numa.node_count <= BOOT_MAX_NUMA_NODES);
        } else if (st == KEEL_ECORRUPT) {
            counts[1]++;
        } else if (st == KEEL_ENOTFOUND || st == KEEL_ERANGE) {
            counts[2]++;
        } else {
            fail_msg("acpi_parse_boot_info returned %d", st);
        }
        free(bi);
    }
    print_message("acpi mutants: %d ok, %d corrupt, %d not found / out of range\n", counts[0],
                  counts[1], counts[2]);
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xsdt),           cmocka_unit_test(test_rsdt_and_slit),
        cmocka_unit_test(test_variants),       cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_random_mutants),
    };

    test_seed_init(argc, argv, "boot_acpi");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
