/* SPDX-License-Identifier: MIT */
/*
 * Turns a validated device tree into struct boot_info for AArch64 and RISC-V boot:
 * memory, reservations, command line, initrd, CPUs, console, interrupt controller,
 * timer, PSCI and the power-off device. Bindings followed: devicetree-specification
 * v0.4 chapter 3, and the Linux bindings for chosen, reserved-memory, 8250, pl011,
 * GIC, PLIC, PSCI and syscon-poweroff. Speed: the one validating pass of fdt_init_walk()
 * also notes every node the steps below ask for (fdt_scan.c), so no step searches the
 * whole tree again (docs/boot-info.md, "Performance").
 */
#include "fdt_internal.h"

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

/* Add every "reg" entry of `node` (a child of `parent`) as `type` on NUMA node `numa`. */
static kstatus_t add_reg_regions(const struct fdt *fdt, fdt_node_t parent, fdt_node_t node,
                                 struct boot_info *bi, uint32_t type, uint32_t numa) {
    for (uint32_t i = 0;; i++) {
        uint64_t base, size;
        kstatus_t st = fdt_get_reg_in(fdt, parent, node, i, &base, &size);

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

/* ---- the steps, in the order their effects on bi must happen ---- */

/* A memory node (a child of the root): its "reg" ranges as usable RAM. */
static kstatus_t memory_node(const struct fdt *fdt, fdt_node_t n, struct boot_info *bi) {
    uint32_t node;
    kstatus_t st = numa_id(fdt, n, bi, &node);

    if (st != KEEL_OK) {
        return st;
    }
    return add_reg_regions(fdt, fdt_root(fdt), n, bi, MEM_USABLE, node);
}

/* /memory nodes, /memreserve/ entries, /reserved-memory children. */
static kstatus_t parse_memory(const struct fdt *fdt, const struct fdt_scan *sc,
                              struct boot_info *bi) {
    fdt_node_t resv = fdt_scan_top(sc, FDT_TOP_RESERVED).node;
    fdt_node_t root = fdt_root(fdt);
    kstatus_t st;

    if (!sc->nodes_overflow) {
        for (uint32_t i = 0; i < sc->node_count; i++) {
            st = sc->nodes[i].memory ? memory_node(fdt, sc->nodes[i].node, bi) : KEEL_OK;
            if (st != KEEL_OK) {
                return st;
            }
        }
    } else {
        for (fdt_node_t n = fdt_first_child(fdt, root); n != FDT_NONE;
             n = fdt_next_sibling(fdt, n)) {
            if (!has_device_type(fdt, n, "memory") || !fdt_is_enabled(fdt, n)) {
                continue;
            }
            st = memory_node(fdt, n, bi);
            if (st != KEEL_OK) {
                return st;
            }
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
    if (resv == FDT_NONE) {
        return KEEL_OK;
    }
    for (fdt_node_t n = fdt_scan_child(fdt, sc, resv, FDT_NONE); n != FDT_NONE;
         n = fdt_scan_child(fdt, sc, resv, n)) {
        if (!fdt_is_enabled(fdt, n)) {
            continue;
        }
        st = add_reg_regions(fdt, resv, n, bi, MEM_RESERVED, 0);
        if (st != KEEL_OK) {
            return st;
        }
    }
    return KEEL_OK;
}

/* /chosen: bootargs (never truncated) and the initrd. */
static kstatus_t parse_chosen(const struct fdt *fdt, const struct fdt_scan *sc,
                              struct boot_info *bi) {
    fdt_node_t chosen = fdt_scan_top(sc, FDT_TOP_CHOSEN).node;
    const char *args;
    uint64_t start, end;
    kstatus_t st, st_end;

    if (chosen == FDT_NONE) {
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
static kstatus_t parse_cpus(const struct fdt *fdt, const struct fdt_scan *sc,
                            struct boot_info *bi) {
    fdt_node_t cpus = fdt_scan_top(sc, FDT_TOP_CPUS).node;
    kstatus_t st;

    if (cpus == FDT_NONE) {
        return KEEL_OK;
    }
    st = fdt_get_u64(fdt, cpus, "timebase-frequency", &bi->timer_freq_hz);
    if (st != KEEL_OK && st != KEEL_ENOTFOUND) {
        return st;
    }
    for (fdt_node_t n = fdt_scan_child(fdt, sc, cpus, FDT_NONE); n != FDT_NONE;
         n = fdt_scan_child(fdt, sc, cpus, n)) {
        uint64_t hwid, unused;
        uint32_t node;

        if (!has_device_type(fdt, n, "cpu")) {
            continue; /* cpu-map and friends */
        }
        st = fdt_get_reg_in(fdt, cpus, n, 0, &hwid, &unused);
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
 * Fill bi->console from `at` if it is a UART we drive. KEEL_ENOTSUP if not;
 * KEEL_ECORRUPT on malformed reg or clock properties.
 */
static kstatus_t console_from_node(const struct fdt *fdt, const struct fdt_scan *sc,
                                   struct fdt_found at, struct boot_info *bi) {
    struct boot_console c = {.reg_width = 1};
    fdt_node_t node = at.node;
    struct fdt_found clk;
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
    st = fdt_get_reg_in(fdt, at.parent, node, 0, &c.base, &c.size);
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
            fdt_scan_phandle(fdt, sc, (uint32_t)fdt_read_cells(v, 1), &clk) == KEEL_OK) {
            st = opt_u32(fdt, clk.node, "clock-frequency", &c.clock_hz);
            if (st != KEEL_OK) {
                return st;
            }
        }
    }
    bi->console = c;
    return KEEL_OK;
}

/* The console: /chosen stdout-path, else the first enabled UART we know. */
static kstatus_t parse_console(const struct fdt *fdt, const struct fdt_scan *sc,
                               struct boot_info *bi) {
    struct fdt_found at;
    kstatus_t st;

    if (fdt_scan_stdout(fdt, sc, &at) == KEEL_OK) {
        st = console_from_node(fdt, sc, at, bi);
        if (st != KEEL_ENOTSUP) {
            return st;
        }
    }
    if (sc->uart.node == FDT_NONE) {
        return KEEL_OK;
    }
    /* Compatible with a UART we drive, so never KEEL_ENOTSUP. */
    return console_from_node(fdt, sc, sc->uart, bi);
}

/* The first compatible match for an interrupt controller kind. */
static const struct {
    int compat; /* FDT_C_* */
    uint32_t type;
    uint32_t regs; /* reg entries used: GIC dist + redist/cpu, PLIC one */
} intc_kinds[] = {
    {FDT_C_GICV3, BOOT_INTC_GICV3, 2},   {FDT_C_GIC400, BOOT_INTC_GICV2, 2},
    {FDT_C_A15_GIC, BOOT_INTC_GICV2, 2}, {FDT_C_PLIC, BOOT_INTC_PLIC, 1},
    {FDT_C_PLIC0, BOOT_INTC_PLIC, 1},
};

static kstatus_t parse_intc(const struct fdt *fdt, const struct fdt_scan *sc,
                            struct boot_info *bi) {
    for (size_t k = 0; k < ARRAY_SIZE(intc_kinds); k++) {
        struct boot_intc ic = {.type = intc_kinds[k].type};
        struct fdt_found f = sc->compat[intc_kinds[k].compat];

        if (f.node == FDT_NONE) {
            continue;
        }
        for (uint32_t i = 0; i < intc_kinds[k].regs; i++) {
            kstatus_t st = fdt_get_reg_in(fdt, f.parent, f.node, i, &ic.base[i], &ic.size[i]);

            if (st != KEEL_OK) {
                return st == KEEL_ENOTFOUND || st == KEEL_ENOTSUP ? KEEL_ECORRUPT : st;
            }
        }
        bi->intc = ic;
        return KEEL_OK;
    }
    return KEEL_OK;
}

/* The first of `a`, `b`, `c` that was found (FDT_NONE in .node if none). */
static struct fdt_found first_found(struct fdt_found a, struct fdt_found b, struct fdt_found c) {
    return a.node != FDT_NONE ? a : b.node != FDT_NONE ? b : c;
}

/* Timer frequency fallback (arm,armv8-timer), PSCI conduit, power-off register. */
static kstatus_t parse_misc(const struct fdt *fdt, const struct fdt_scan *sc,
                            struct boot_info *bi) {
    struct fdt_found f;
    const char *method;
    uint32_t phandle;
    kstatus_t st;

    f = sc->compat[FDT_C_TIMER];
    if (bi->timer_freq_hz == 0 && f.node != FDT_NONE) {
        st = fdt_get_u64(fdt, f.node, "clock-frequency", &bi->timer_freq_hz);
        if (st != KEEL_OK && st != KEEL_ENOTFOUND) {
            return st;
        }
    }
    f = first_found(fdt_scan_top(sc, FDT_TOP_PSCI), sc->compat[FDT_C_PSCI],
                    sc->compat[FDT_C_PSCI02]);
    if (f.node != FDT_NONE && fdt_get_string(fdt, f.node, "method", &method) == KEEL_OK) {
        if (strcmp(method, "hvc") == 0) {
            bi->psci_method = BOOT_PSCI_HVC;
        } else if (strcmp(method, "smc") == 0) {
            bi->psci_method = BOOT_PSCI_SMC;
        }
    }
    /* syscon-poweroff: write `value` at `offset` in the syscon named by `regmap`. */
    f = sc->compat[FDT_C_SYSCON_OFF];
    if (f.node != FDT_NONE && fdt_get_u32(fdt, f.node, "regmap", &phandle) == KEEL_OK) {
        struct boot_poweroff po = {0};
        struct fdt_found syscon;
        uint64_t size;

        if (fdt_scan_phandle(fdt, sc, phandle, &syscon) == KEEL_OK &&
            fdt_get_reg_in(fdt, syscon.parent, syscon.node, 0, &po.base, &size) == KEEL_OK &&
            fdt_get_u32(fdt, f.node, "value", &po.value) == KEEL_OK &&
            opt_u32(fdt, f.node, "offset", &po.offset) == KEEL_OK && po.offset < size) {
            bi->poweroff = po;
            return KEEL_OK;
        }
    }
    f = sc->compat[FDT_C_TEST1].node != FDT_NONE ? sc->compat[FDT_C_TEST1]
                                                 : sc->compat[FDT_C_TEST0];
    if (f.node != FDT_NONE) {
        uint64_t base, size;

        if (fdt_get_reg_in(fdt, f.parent, f.node, 0, &base, &size) == KEEL_OK) {
            bi->poweroff = (struct boot_poweroff){.base = base, .offset = 0, .value = 0x5555};
        }
    }
    return KEEL_OK;
}

kstatus_t fdt_parse_boot_info(const void *blob, size_t size, uint64_t blob_phys,
                              struct boot_info *bi) {
    struct fdt_scan sc;
    struct fdt fdt;
    kstatus_t st;

    fdt_scan_init(&sc);
    st = fdt_init_walk(&fdt, blob, size, fdt_scan_visit, &sc); /* the one validating pass */
    if (st != KEEL_OK) {
        return st;
    }
    bi->dtb = PADDR(blob_phys);
    bi->dtb_size = fdt.total_size;
    st = add_region(bi, blob_phys, fdt.total_size, MEM_DTB, 0);
    if (st == KEEL_OK) {
        st = parse_memory(&fdt, &sc, bi);
    }
    if (st == KEEL_OK) {
        st = parse_chosen(&fdt, &sc, bi);
    }
    if (st == KEEL_OK) {
        st = parse_cpus(&fdt, &sc, bi);
    }
    if (st == KEEL_OK) {
        st = parse_console(&fdt, &sc, bi);
    }
    if (st == KEEL_OK) {
        st = parse_intc(&fdt, &sc, bi);
    }
    if (st == KEEL_OK) {
        st = parse_misc(&fdt, &sc, bi);
    }
    if (st == KEEL_OK) {
        st = fdt_parse_distance_map(&fdt, bi);
    }
    if (st != KEEL_OK) {
        return st;
    }
    return memmap_normalize(bi);
}
