/* SPDX-License-Identifier: MIT */
/*
 * The boot-info parser as it was before the one-pass rewrite (src/boot/fdt_boot.c at
 * commit 74ba1e5), built only on the public query API: every step searches the tree on
 * its own. test_fdt_equiv.c uses it as an oracle: the fast parser must give the same
 * status and the same struct boot_info on every blob, including corrupted ones.
 */
#include "fdt_boot_ref.h"

#include <kernel/memmap.h>
#include <kernel/string.h>

/*
 * Add a region to the map. Size 0 is skipped, a wrapping range is corrupt. When the map
 * is full it is normalised to make room; a usable region that still does not fit is
 * dropped (counted, safe), a non-usable one fails the boot with KEEL_EEXHAUSTED.
 */
static kstatus_t add_region(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t type,
                            uint32_t node) {
    kstatus_t st;

    if (size == 0) {
        return KEEL_OK;
    }
    if (base + size < base) {
        return KEEL_ECORRUPT;
    }
    if (bi->mem_count >= BOOT_MAX_MEM_REGIONS) {
        kstatus_t nst = memmap_normalize(bi); /* losses are counted in mem_dropped */
        (void)nst;
    }
    st = memmap_add(bi, base, size, type, node);
    if (st == KEEL_EEXHAUSTED && type == MEM_USABLE) {
        return KEEL_OK;
    }
    return st == KEEL_EINVAL ? KEEL_ECORRUPT : st;
}

/* Add every "reg" entry of `node` as `type` on NUMA node `numa`. */
static kstatus_t add_reg_regions(const struct fdt *fdt, fdt_node_t node, struct boot_info *bi,
                                 uint32_t type, uint32_t numa) {
    for (uint32_t i = 0;; i++) {
        uint64_t base, size;
        kstatus_t st = fdt_get_reg(fdt, node, i, &base, &size);

        if (st == KEEL_ENOTFOUND) {
            return KEEL_OK;
        }
        if (st == KEEL_OK) {
            st = add_region(bi, base, size, type, numa);
        }
        if (st != KEEL_OK) {
            return st == KEEL_ENOTSUP ? KEEL_ECORRUPT : st; /* undecodable: not skippable */
        }
    }
}

/* `node`'s numa-node-id (0 if absent); KEEL_ERANGE beyond BOOT_MAX_NUMA_NODES. */
static kstatus_t numa_id(const struct fdt *fdt, fdt_node_t node, struct boot_info *bi,
                         uint32_t *out) {
    kstatus_t st = fdt_get_u32(fdt, node, "numa-node-id", out);

    if (st == KEEL_ENOTFOUND) {
        *out = 0;
        return KEEL_OK;
    }
    if (st != KEEL_OK) {
        return st;
    }
    if (*out >= BOOT_MAX_NUMA_NODES) {
        return KEEL_ERANGE;
    }
    if (*out >= bi->numa.node_count) {
        for (uint32_t i = bi->numa.node_count; i <= *out; i++) {
            bi->numa.domain[i] = i;
        }
        bi->numa.node_count = *out + 1;
    }
    return KEEL_OK;
}

/* True if `node` has device_type `type` ("memory", "cpu"). */
static bool has_device_type(const struct fdt *fdt, fdt_node_t node, const char *type) {
    const char *s;

    return fdt_get_string(fdt, node, "device_type", &s) == KEEL_OK && strcmp(s, type) == 0;
}

/* /memory nodes, /memreserve/ entries, /reserved-memory children. */
static kstatus_t parse_memory(const struct fdt *fdt, struct boot_info *bi) {
    fdt_node_t root = fdt_root(fdt);
    fdt_node_t resv;
    kstatus_t st;

    for (fdt_node_t n = fdt_first_child(fdt, root); n != FDT_NONE; n = fdt_next_sibling(fdt, n)) {
        uint32_t node;

        if (!has_device_type(fdt, n, "memory") || !fdt_is_enabled(fdt, n)) {
            continue;
        }
        st = numa_id(fdt, n, bi, &node);
        if (st == KEEL_OK) {
            st = add_reg_regions(fdt, n, bi, MEM_USABLE, node);
        }
        if (st != KEEL_OK) {
            return st;
        }
    }
    /* fdt_init checked the reservation block is inside the blob and terminated. */
    for (uint32_t off = fdt->rsvmap_off;; off += 16) {
        uint64_t base = fdt_read_cells(fdt->blob + off, 2);
        uint64_t size = fdt_read_cells(fdt->blob + off + 8, 2);

        if (base == 0 && size == 0) {
            break;
        }
        st = add_region(bi, base, size, MEM_RESERVED, 0);
        if (st != KEEL_OK) {
            return st;
        }
    }
    if (fdt_find_path(fdt, "/reserved-memory", &resv) == KEEL_OK) {
        for (fdt_node_t n = fdt_first_child(fdt, resv); n != FDT_NONE;
             n = fdt_next_sibling(fdt, n)) {
            if (!fdt_is_enabled(fdt, n)) {
                continue;
            }
            st = add_reg_regions(fdt, n, bi, MEM_RESERVED, 0);
            if (st != KEEL_OK) {
                return st;
            }
        }
    }
    return KEEL_OK;
}

/* /chosen: bootargs (never truncated) and the initrd. */
static kstatus_t parse_chosen(const struct fdt *fdt, struct boot_info *bi) {
    fdt_node_t chosen;
    const char *args;
    uint64_t start, end;
    kstatus_t st, st_end;

    if (fdt_find_path(fdt, "/chosen", &chosen) != KEEL_OK) {
        return KEEL_OK;
    }
    st = fdt_get_string(fdt, chosen, "bootargs", &args);
    if (st == KEEL_OK) {
        size_t len = strlen(args);

        if (len >= BOOT_CMDLINE_MAX) {
            return KEEL_ERANGE;
        }
        memcpy(bi->cmdline, args, len + 1);
    } else if (st != KEEL_ENOTFOUND) {
        return st;
    }
    st = fdt_get_u64(fdt, chosen, "linux,initrd-start", &start);
    st_end = fdt_get_u64(fdt, chosen, "linux,initrd-end", &end);
    if (st == KEEL_ENOTFOUND && st_end == KEEL_ENOTFOUND) {
        return KEEL_OK;
    }
    if (st != KEEL_OK || st_end != KEEL_OK || end < start) {
        return KEEL_ECORRUPT; /* half an initrd, or a negative one */
    }
    if (end == start) {
        return KEEL_OK;
    }
    bi->initrd_base = PADDR(start);
    bi->initrd_size = end - start;
    return add_region(bi, start, end - start, MEM_INITRD, 0);
}

/* /cpus: one boot_cpu per device_type "cpu" child; timebase-frequency (RISC-V). */
static kstatus_t parse_cpus(const struct fdt *fdt, struct boot_info *bi) {
    fdt_node_t cpus;
    kstatus_t st;

    if (fdt_find_path(fdt, "/cpus", &cpus) != KEEL_OK) {
        return KEEL_OK;
    }
    st = fdt_get_u64(fdt, cpus, "timebase-frequency", &bi->timer_freq_hz);
    if (st != KEEL_OK && st != KEEL_ENOTFOUND) {
        return st;
    }
    for (fdt_node_t n = fdt_first_child(fdt, cpus); n != FDT_NONE; n = fdt_next_sibling(fdt, n)) {
        uint64_t hwid, unused;
        uint32_t node;

        if (!has_device_type(fdt, n, "cpu")) {
            continue; /* cpu-map and friends */
        }
        st = fdt_get_reg(fdt, n, 0, &hwid, &unused);
        if (st == KEEL_OK) {
            st = numa_id(fdt, n, bi, &node);
        }
        if (st != KEEL_OK) {
            return st == KEEL_ENOTFOUND || st == KEEL_ENOTSUP ? KEEL_ECORRUPT : st;
        }
        if (bi->cpu_count >= BOOT_MAX_CPUS) {
            bi->cpu_dropped++;
            continue;
        }
        if (hwid == fdt->boot_cpuid) {
            bi->boot_cpu = bi->cpu_count;
        }
        bi->cpus[bi->cpu_count++] = (struct boot_cpu){
            .hwid = hwid, .node = node, .enabled = fdt_is_enabled(fdt, n) ? 1 : 0};
    }
    return KEEL_OK;
}

/* Read an optional u32 property into *out, keeping *out when absent. */
static kstatus_t opt_u32(const struct fdt *fdt, fdt_node_t node, const char *name, uint32_t *out) {
    kstatus_t st = fdt_get_u32(fdt, node, name, out);

    return st == KEEL_ENOTFOUND ? KEEL_OK : st;
}

/*
 * Fill bi->console from `node` if it is a UART we drive. KEEL_ENOTSUP if not;
 * KEEL_ECORRUPT on malformed reg or clock properties.
 */
static kstatus_t console_from_node(const struct fdt *fdt, fdt_node_t node, struct boot_info *bi) {
    struct boot_console c = {.reg_width = 1};
    fdt_node_t clk;
    kstatus_t st;

    if (fdt_is_compatible(fdt, node, "ns16550a") || fdt_is_compatible(fdt, node, "ns16550")) {
        c.type = BOOT_CONSOLE_UART16550_MMIO;
        st = opt_u32(fdt, node, "reg-shift", &c.reg_shift);
        if (st == KEEL_OK) {
            st = opt_u32(fdt, node, "reg-io-width", &c.reg_width);
        }
        if (st != KEEL_OK) {
            return st;
        }
        if (c.reg_shift > 4 || (c.reg_width != 1 && c.reg_width != 2 && c.reg_width != 4)) {
            return KEEL_ECORRUPT;
        }
    } else if (fdt_is_compatible(fdt, node, "arm,pl011")) {
        c.type = BOOT_CONSOLE_PL011;
        c.reg_width = 4;
    } else {
        return KEEL_ENOTSUP;
    }
    st = fdt_get_reg(fdt, node, 0, &c.base, &c.size);
    if (st != KEEL_OK) {
        return st == KEEL_ENOTFOUND || st == KEEL_ENOTSUP ? KEEL_ECORRUPT : st;
    }
    st = opt_u32(fdt, node, "clock-frequency", &c.clock_hz);
    if (st != KEEL_OK) {
        return st;
    }
    /* No clock-frequency: follow the first "clocks" phandle to a fixed clock. */
    if (c.clock_hz == 0) {
        const void *v;
        uint32_t len;

        if (fdt_get_prop(fdt, node, "clocks", &v, &len) == KEEL_OK && len >= 4 &&
            fdt_find_phandle(fdt, (uint32_t)fdt_read_cells(v, 1), &clk) == KEEL_OK) {
            st = opt_u32(fdt, clk, "clock-frequency", &c.clock_hz);
            if (st != KEEL_OK) {
                return st;
            }
        }
    }
    bi->console = c;
    return KEEL_OK;
}

/* The console: /chosen stdout-path, else the first enabled UART we know. */
static kstatus_t parse_console(const struct fdt *fdt, struct boot_info *bi) {
    fdt_node_t n;
    kstatus_t st;

    if (fdt_stdout_node(fdt, &n) == KEEL_OK) {
        st = console_from_node(fdt, n, bi);
        if (st != KEEL_ENOTSUP) {
            return st;
        }
    }
    for (n = fdt_root(fdt); n != FDT_NONE; n = fdt_next_node(fdt, n, NULL)) {
        if (!fdt_is_enabled(fdt, n)) {
            continue;
        }
        st = console_from_node(fdt, n, bi);
        if (st != KEEL_ENOTSUP) {
            return st;
        }
    }
    return KEEL_OK;
}

/* The first compatible match for an interrupt controller kind. */
static const struct {
    const char *compat;
    uint32_t type;
    uint32_t regs; /* reg entries used: GIC dist + redist/cpu, PLIC one */
} intc_kinds[] = {
    {"arm,gic-v3", BOOT_INTC_GICV3, 2},         {"arm,gic-400", BOOT_INTC_GICV2, 2},
    {"arm,cortex-a15-gic", BOOT_INTC_GICV2, 2}, {"sifive,plic-1.0.0", BOOT_INTC_PLIC, 1},
    {"riscv,plic0", BOOT_INTC_PLIC, 1},
};

static kstatus_t parse_intc(const struct fdt *fdt, struct boot_info *bi) {
    for (size_t k = 0; k < ARRAY_SIZE(intc_kinds); k++) {
        struct boot_intc ic = {.type = intc_kinds[k].type};
        fdt_node_t n;

        if (fdt_find_compatible(fdt, FDT_NONE, intc_kinds[k].compat, &n) != KEEL_OK) {
            continue;
        }
        for (uint32_t i = 0; i < intc_kinds[k].regs; i++) {
            kstatus_t st = fdt_get_reg(fdt, n, i, &ic.base[i], &ic.size[i]);

            if (st != KEEL_OK) {
                return st == KEEL_ENOTFOUND || st == KEEL_ENOTSUP ? KEEL_ECORRUPT : st;
            }
        }
        bi->intc = ic;
        return KEEL_OK;
    }
    return KEEL_OK;
}

/* Timer frequency fallback (arm,armv8-timer), PSCI conduit, power-off register. */
static kstatus_t parse_misc(const struct fdt *fdt, struct boot_info *bi) {
    fdt_node_t n;
    const char *method;
    uint32_t phandle;
    kstatus_t st;

    if (bi->timer_freq_hz == 0 &&
        fdt_find_compatible(fdt, FDT_NONE, "arm,armv8-timer", &n) == KEEL_OK) {
        st = fdt_get_u64(fdt, n, "clock-frequency", &bi->timer_freq_hz);
        if (st != KEEL_OK && st != KEEL_ENOTFOUND) {
            return st;
        }
    }
    if ((fdt_find_path(fdt, "/psci", &n) == KEEL_OK ||
         fdt_find_compatible(fdt, FDT_NONE, "arm,psci", &n) == KEEL_OK ||
         fdt_find_compatible(fdt, FDT_NONE, "arm,psci-0.2", &n) == KEEL_OK) &&
        fdt_get_string(fdt, n, "method", &method) == KEEL_OK) {
        if (strcmp(method, "hvc") == 0) {
            bi->psci_method = BOOT_PSCI_HVC;
        } else if (strcmp(method, "smc") == 0) {
            bi->psci_method = BOOT_PSCI_SMC;
        }
    }
    /* syscon-poweroff: write `value` at `offset` in the syscon named by `regmap`. */
    if (fdt_find_compatible(fdt, FDT_NONE, "syscon-poweroff", &n) == KEEL_OK &&
        fdt_get_u32(fdt, n, "regmap", &phandle) == KEEL_OK) {
        struct boot_poweroff po = {0};
        fdt_node_t syscon;
        uint64_t size;

        if (fdt_find_phandle(fdt, phandle, &syscon) == KEEL_OK &&
            fdt_get_reg(fdt, syscon, 0, &po.base, &size) == KEEL_OK &&
            fdt_get_u32(fdt, n, "value", &po.value) == KEEL_OK &&
            opt_u32(fdt, n, "offset", &po.offset) == KEEL_OK && po.offset < size) {
            bi->poweroff = po;
            return KEEL_OK;
        }
    }
    if (fdt_find_compatible(fdt, FDT_NONE, "sifive,test1", &n) == KEEL_OK ||
        fdt_find_compatible(fdt, FDT_NONE, "sifive,test0", &n) == KEEL_OK) {
        uint64_t base, size;

        if (fdt_get_reg(fdt, n, 0, &base, &size) == KEEL_OK) {
            bi->poweroff = (struct boot_poweroff){.base = base, .offset = 0, .value = 0x5555};
        }
    }
    return KEEL_OK;
}

kstatus_t ref_fdt_parse_boot_info(const void *blob, size_t size, uint64_t blob_phys,
                                  struct boot_info *bi) {
    struct fdt fdt;
    kstatus_t st = fdt_init(&fdt, blob, size);

    if (st != KEEL_OK) {
        return st;
    }
    bi->dtb = PADDR(blob_phys);
    bi->dtb_size = fdt.total_size;
    st = add_region(bi, blob_phys, fdt.total_size, MEM_DTB, 0);
    if (st == KEEL_OK) {
        st = parse_memory(&fdt, bi);
    }
    if (st == KEEL_OK) {
        st = parse_chosen(&fdt, bi);
    }
    if (st == KEEL_OK) {
        st = parse_cpus(&fdt, bi);
    }
    if (st == KEEL_OK) {
        st = parse_console(&fdt, bi);
    }
    if (st == KEEL_OK) {
        st = parse_intc(&fdt, bi);
    }
    if (st == KEEL_OK) {
        st = parse_misc(&fdt, bi);
    }
    if (st != KEEL_OK) {
        return st;
    }
    return memmap_normalize(bi);
}
