/* SPDX-License-Identifier: MIT */
/*
 * ACPI table walker for x86_64 boot: finds the MADT, SRAT and SLIT through the RSDP and
 * XSDT/RSDT and turns them into struct boot_info. Firmware tables are untrusted input:
 * every pointer goes through the caller's mapper, every length is checked before a read
 * and every table we use must checksum. Layouts: ACPI 6.5 sections 5.2.5-5.2.17.
 */
#include <kernel/acpi.h>
#include <kernel/memmap.h>
#include <kernel/string.h>

#define RSDP_V1_LEN  20
#define RSDP_V2_LEN  36
#define RSDP_MAX_LEN 4096 /* sanity bound on the v2 length field */
#define SDT_HDR_LEN  36

#define MADT_ENTRIES   44 /* header + local APIC address + flags */
#define SRAT_ENTRIES   48 /* header + 4 reserved + 8 reserved */
#define SLIT_ENTRIES   44 /* header + u64 locality count */
#define SLIT_MAX_NODES 0xffff

#define MADT_LAPIC          0
#define MADT_IOAPIC         1
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC         9

#define SRAT_CPU    0
#define SRAT_MEMORY 1
#define SRAT_X2APIC 2

#define APIC_ENABLED        1u /* MADT LAPIC/x2APIC flags bit 0 */
#define APIC_ONLINE_CAPABLE 2u /* bit 1 (ACPI 6.3+): can be brought online later */
#define SRAT_ENABLED        1u

#define APIC_MMIO_SIZE 0x1000u /* the register window the arch maps, for both */

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) {
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool checksum_ok(const uint8_t *p, size_t len) {
    uint8_t sum = 0;

    for (size_t i = 0; i < len; i++) {
        sum = (uint8_t)(sum + p[i]);
    }
    return sum == 0;
}

/* The mapper, and the root table (XSDT or RSDT) once validated. */
struct acpi_ctx {
    acpi_map_fn map;
    void *ctx;
    const uint8_t *entries; /* physical addresses of the tables */
    uint32_t count;
    uint32_t entry_size; /* 8 for the XSDT, 4 for the RSDT */
};

/* Map a whole table at phys and check its length and checksum. */
static kstatus_t map_table(struct acpi_ctx *a, uint64_t phys, const uint8_t **out) {
    const uint8_t *hdr = a->map(a->ctx, phys, SDT_HDR_LEN);
    const uint8_t *t;
    uint32_t len;

    if (hdr == NULL) {
        return KEEL_ECORRUPT;
    }
    len = le32(hdr + 4);
    if (len < SDT_HDR_LEN || phys + len < phys) {
        return KEEL_ECORRUPT;
    }
    t = a->map(a->ctx, phys, len);
    if (t == NULL || le32(t + 4) != len || !checksum_ok(t, len)) {
        return KEEL_ECORRUPT;
    }
    *out = t;
    return KEEL_OK;
}

/* Validate the RSDP and the XSDT (revision >= 2 with an XSDT) or RSDT. */
static kstatus_t open_root(struct acpi_ctx *a, uint64_t rsdp_phys) {
    const uint8_t *r = a->map(a->ctx, rsdp_phys, RSDP_V1_LEN);
    const uint8_t *root;
    uint64_t root_phys;
    kstatus_t st;

    if (r == NULL || memcmp(r, "RSD PTR ", 8) != 0 || !checksum_ok(r, RSDP_V1_LEN)) {
        return KEEL_ECORRUPT;
    }
    root_phys = le32(r + 16);
    a->entry_size = 4;
    if (r[15] >= 2) {
        const uint8_t *r2 = a->map(a->ctx, rsdp_phys, RSDP_V2_LEN);
        uint32_t len;

        if (r2 == NULL) {
            return KEEL_ECORRUPT;
        }
        len = le32(r2 + 20);
        if (len < RSDP_V2_LEN || len > RSDP_MAX_LEN) {
            return KEEL_ECORRUPT;
        }
        r2 = a->map(a->ctx, rsdp_phys, len);
        if (r2 == NULL || !checksum_ok(r2, len)) {
            return KEEL_ECORRUPT;
        }
        if (le64(r2 + 24) != 0) {
            root_phys = le64(r2 + 24);
            a->entry_size = 8;
        }
    }
    st = map_table(a, root_phys, &root);
    if (st != KEEL_OK) {
        return st;
    }
    if (memcmp(root, a->entry_size == 8 ? "XSDT" : "RSDT", 4) != 0 ||
        (le32(root + 4) - SDT_HDR_LEN) % a->entry_size != 0) {
        return KEEL_ECORRUPT;
    }
    a->entries = root + SDT_HDR_LEN;
    a->count = (le32(root + 4) - SDT_HDR_LEN) / a->entry_size;
    return KEEL_OK;
}

/* The first table with signature sig, validated. KEEL_ENOTFOUND if there is none. */
static kstatus_t find_table(struct acpi_ctx *a, const char *sig, const uint8_t **out) {
    for (uint32_t i = 0; i < a->count; i++) {
        const uint8_t *e = a->entries + (size_t)i * a->entry_size;
        uint64_t phys = a->entry_size == 8 ? le64(e) : le32(e);
        const uint8_t *hdr = a->map(a->ctx, phys, SDT_HDR_LEN);

        if (hdr == NULL) {
            return KEEL_ECORRUPT; /* a pointer into nowhere */
        }
        if (memcmp(hdr, sig, 4) == 0) {
            return map_table(a, phys, out);
        }
    }
    return KEEL_ENOTFOUND;
}

kstatus_t acpi_find_table(uint64_t rsdp_phys, acpi_map_fn map, void *ctx, const char *sig,
                          const struct acpi_sdt_header **out) {
    struct acpi_ctx a = {.map = map, .ctx = ctx};
    const uint8_t *t;
    kstatus_t st = open_root(&a, rsdp_phys);

    if (st == KEEL_OK) {
        st = find_table(&a, sig, &t);
    }
    if (st == KEEL_OK) {
        *out = (const struct acpi_sdt_header *)t;
    }
    return st;
}

/*
 * Step through the variable-length entries of a MADT or SRAT from offset `off`:
 * on KEEL_OK *e is the next entry with at least 2 bytes and a length inside the table.
 * Returns KEEL_ENOTFOUND at the end, KEEL_ECORRUPT for a zero/short or overlong entry.
 */
static kstatus_t next_entry(const uint8_t *t, uint32_t *off, const uint8_t **e) {
    uint32_t len = le32(t + 4);

    if (*off >= len) {
        return KEEL_ENOTFOUND;
    }
    if (len - *off < 2 || t[*off + 1] < 2 || t[*off + 1] > len - *off) {
        return KEEL_ECORRUPT;
    }
    *e = t + *off;
    *off += t[*off + 1];
    return KEEL_OK;
}

/* Minimum entry lengths by type, so that short entries are corrupt, not over-read. */
static bool entry_long_enough(const uint8_t *e, uint8_t type, uint8_t min) {
    return e[0] != type || e[1] >= min;
}

static void add_cpu(struct boot_info *bi, uint64_t hwid, uint32_t flags) {
    if ((flags & (APIC_ENABLED | APIC_ONLINE_CAPABLE)) == 0) {
        return; /* not present */
    }
    for (uint32_t i = 0; i < bi->cpu_count; i++) {
        if (bi->cpus[i].hwid == hwid) {
            return; /* listed as both local APIC and x2APIC */
        }
    }
    if (bi->cpu_count >= BOOT_MAX_CPUS) {
        bi->cpu_dropped++;
        return;
    }
    bi->cpus[bi->cpu_count++] =
        (struct boot_cpu){.hwid = hwid, .node = 0, .enabled = (flags & APIC_ENABLED) != 0};
}

static kstatus_t parse_madt(const uint8_t *t, struct boot_info *bi) {
    uint64_t lapic;
    bool have_ioapic = false;
    uint32_t off = MADT_ENTRIES;
    const uint8_t *e;
    kstatus_t st;

    if (le32(t + 4) < MADT_ENTRIES) {
        return KEEL_ECORRUPT;
    }
    lapic = le32(t + 36);
    while ((st = next_entry(t, &off, &e)) == KEEL_OK) {
        if (!entry_long_enough(e, MADT_LAPIC, 8) || !entry_long_enough(e, MADT_IOAPIC, 12) ||
            !entry_long_enough(e, MADT_LAPIC_OVERRIDE, 12) ||
            !entry_long_enough(e, MADT_X2APIC, 16)) {
            return KEEL_ECORRUPT;
        }
        switch (e[0]) {
        case MADT_LAPIC:
            if (e[3] != 0xff) { /* 0xff: use the x2APIC entry instead */
                add_cpu(bi, e[3], le32(e + 4));
            }
            break;
        case MADT_X2APIC:
            if (le32(e + 4) != UINT32_MAX) {
                add_cpu(bi, le32(e + 4), le32(e + 8));
            }
            break;
        case MADT_IOAPIC:
            if (!have_ioapic) {
                bi->intc.base[1] = le32(e + 4);
                bi->intc.size[1] = APIC_MMIO_SIZE;
                have_ioapic = true;
            }
            break;
        case MADT_LAPIC_OVERRIDE:
            lapic = le64(e + 4);
            break;
        default:
            break;
        }
    }
    if (st != KEEL_ENOTFOUND) {
        return st;
    }
    bi->intc.type = BOOT_INTC_APIC;
    bi->intc.base[0] = lapic;
    bi->intc.size[0] = APIC_MMIO_SIZE;
    bi->boot_cpu = 0; /* the BSP comes first by convention; the arch may refine this */
    return KEEL_OK;
}

/* The dense node number for proximity domain pxm, allocating one on first sight. */
static kstatus_t node_for_domain(struct boot_info *bi, uint32_t pxm, uint32_t *node) {
    struct boot_numa *nu = &bi->numa;

    for (uint32_t i = 0; i < nu->node_count && i < BOOT_MAX_NUMA_NODES; i++) {
        if (nu->domain[i] == pxm) {
            *node = i;
            return KEEL_OK;
        }
    }
    if (nu->node_count >= BOOT_MAX_NUMA_NODES) {
        return KEEL_ERANGE;
    }
    nu->domain[nu->node_count] = pxm;
    *node = nu->node_count++;
    return KEEL_OK;
}

static kstatus_t srat_cpu(struct boot_info *bi, uint32_t pxm, uint64_t hwid, uint32_t flags) {
    uint32_t node;
    kstatus_t st;

    if ((flags & SRAT_ENABLED) == 0) {
        return KEEL_OK;
    }
    st = node_for_domain(bi, pxm, &node);
    for (uint32_t i = 0; st == KEEL_OK && i < bi->cpu_count; i++) {
        if (bi->cpus[i].hwid == hwid) {
            bi->cpus[i].node = node;
        }
    }
    return st;
}

static kstatus_t srat_memory(struct boot_info *bi, const uint8_t *e) {
    uint64_t base = le64(e + 8);
    uint64_t size = le64(e + 16);
    struct boot_numa *nu = &bi->numa;
    uint32_t node;
    kstatus_t st;

    if ((le32(e + 28) & SRAT_ENABLED) == 0 || size == 0) {
        return KEEL_OK;
    }
    if (base + size < base) {
        return KEEL_ECORRUPT;
    }
    st = node_for_domain(bi, le32(e + 2), &node);
    if (st != KEEL_OK) {
        return st;
    }
    if (nu->range_count > 0) {
        struct boot_numa_range *last = &nu->range[nu->range_count - 1];

        if (last->node == node && last->base + last->size == base) {
            last->size += size; /* contiguous: keep the table small */
            return KEEL_OK;
        }
    }
    if (nu->range_count >= BOOT_MAX_NUMA_RANGES) {
        return KEEL_ERANGE;
    }
    nu->range[nu->range_count++] =
        (struct boot_numa_range){.base = base, .size = size, .node = node};
    return KEEL_OK;
}

static kstatus_t parse_srat(const uint8_t *t, struct boot_info *bi) {
    uint32_t off = SRAT_ENTRIES;
    const uint8_t *e;
    kstatus_t st;

    if (le32(t + 4) < SRAT_ENTRIES) {
        return KEEL_ECORRUPT;
    }
    while ((st = next_entry(t, &off, &e)) == KEEL_OK) {
        if (!entry_long_enough(e, SRAT_CPU, 16) || !entry_long_enough(e, SRAT_MEMORY, 40) ||
            !entry_long_enough(e, SRAT_X2APIC, 24)) {
            return KEEL_ECORRUPT;
        }
        if (e[0] == SRAT_CPU) {
            /* Revision 1 tables only define the low 8 bits of the domain. */
            uint32_t pxm = e[2];

            if (t[8] >= 2) {
                pxm |= (uint32_t)e[9] << 8 | (uint32_t)e[10] << 16 | (uint32_t)e[11] << 24;
            }
            st = srat_cpu(bi, pxm, e[3], le32(e + 4));
        } else if (e[0] == SRAT_MEMORY) {
            st = srat_memory(bi, e);
        } else if (e[0] == SRAT_X2APIC) {
            st = srat_cpu(bi, le32(e + 4), le32(e + 8), le32(e + 12));
        }
        if (st != KEEL_OK) {
            return st;
        }
    }
    return st == KEEL_ENOTFOUND ? KEEL_OK : st;
}

static kstatus_t parse_slit(const uint8_t *t, struct boot_info *bi) {
    uint32_t len = le32(t + 4);
    uint64_t n;
    struct boot_numa *nu = &bi->numa;

    if (len < SLIT_ENTRIES) {
        return KEEL_ECORRUPT;
    }
    n = le64(t + 36);
    if (n == 0 || n > SLIT_MAX_NODES || n * n > len - SLIT_ENTRIES) {
        return KEEL_ECORRUPT;
    }
    for (uint32_t i = 0; i < nu->node_count && i < BOOT_MAX_NUMA_NODES; i++) {
        for (uint32_t j = 0; j < nu->node_count && j < BOOT_MAX_NUMA_NODES; j++) {
            uint64_t pi = nu->domain[i];
            uint64_t pj = nu->domain[j];

            if (pi < n && pj < n) {
                nu->distance[i][j] = t[SLIT_ENTRIES + pi * n + pj];
            }
        }
    }
    return KEEL_OK;
}

kstatus_t acpi_parse_boot_info(uint64_t rsdp_phys, acpi_map_fn map, void *ctx,
                               struct boot_info *bi) {
    struct acpi_ctx a = {.map = map, .ctx = ctx};
    const uint8_t *t;
    kstatus_t st = open_root(&a, rsdp_phys);

    if (st != KEEL_OK) {
        return st;
    }
    bi->acpi_rsdp = PADDR(rsdp_phys);
    st = find_table(&a, ACPI_SIG_MADT, &t);
    if (st == KEEL_OK) {
        st = parse_madt(t, bi);
    }
    if (st != KEEL_OK) {
        return st;
    }
    st = find_table(&a, ACPI_SIG_SRAT, &t);
    if (st == KEEL_OK) {
        st = parse_srat(t, bi);
    }
    if (st != KEEL_OK && st != KEEL_ENOTFOUND) {
        return st;
    }
    st = find_table(&a, ACPI_SIG_SLIT, &t);
    if (st == KEEL_OK) {
        st = parse_slit(t, bi);
    }
    if (st != KEEL_OK && st != KEEL_ENOTFOUND) {
        return st;
    }
    if (bi->numa.range_count > 0) {
        /* Node hints only: a split that does not fit leaves node 0, and drops are counted
         * in mem_dropped, so this is not a reason to fail the boot. */
        kstatus_t nst = memmap_apply_numa(bi);
        (void)nst;
    }
    return KEEL_OK;
}
