/* SPDX-License-Identifier: MIT */
/*
 * The notes fdt_parse_boot_info() takes during the one validating walk of a device tree:
 * root children it finds by path, the first node of each compatible string it uses,
 * phandles, and a small node index with sibling links. With them no later step has to
 * search the whole tree again; each lookup answers exactly as the fdt_* query would.
 */
#include "fdt_internal.h"

#include <kernel/string.h>

#define NAME(s)                                                                                    \
    { s, sizeof(s) - 1 }

static const struct {
    const char *s;
    uint32_t len;
} top_names[FDT_TOP_COUNT] = {NAME("chosen"), NAME("cpus"), NAME("reserved-memory"),
                              NAME("aliases"), NAME("psci")};

static const struct {
    const char *s;
    uint32_t len;
} compat_names[FDT_C_COUNT] = {
    NAME("arm,gic-v3"),        NAME("arm,gic-400"),  NAME("arm,cortex-a15-gic"),
    NAME("sifive,plic-1.0.0"), NAME("riscv,plic0"),  NAME("arm,armv8-timer"),
    NAME("arm,psci"),          NAME("arm,psci-0.2"), NAME("syscon-poweroff"),
    NAME("sifive,test1"),      NAME("sifive,test0"), NAME("ns16550a"),
    NAME("ns16550"),           NAME("arm,pl011"),
};

void fdt_scan_init(struct fdt_scan *sc) {
    static const struct fdt_found none = {FDT_NONE, FDT_NONE};

    sc->uart = none;
    for (int k = 0; k < FDT_TOP_COUNT; k++) {
        sc->top[k] = sc->top_unit[k] = none;
    }
    sc->compat_first = 0;
    for (int k = 0; k < FDT_C_COUNT; k++) {
        sc->compat[k] = none;
        sc->compat_first |= 1u << (compat_names[k].s[0] - 'a'); /* all start with a-z */
    }
    for (int d = 0; d <= FDT_MAX_DEPTH; d++) {
        sc->last_at[d] = FDT_SCAN_NO_NODE;
    }
    sc->node_count = 0;
    sc->nodes_overflow = false;
    sc->ph_count = 0;
    sc->ph_overflow = false;
}

/* Record a root child that /chosen, /cpus, ... may name. */
static void note_top(struct fdt_scan *sc, const struct fdt_node_info *info) {
    struct fdt_found f = {info->node, info->parent};
    char c = info->name[0];

    if (c != 'c' && c != 'r' && c != 'a' && c != 'p') {
        return; /* the first letters of top_names: most root children stop here */
    }
    for (int k = 0; k < FDT_TOP_COUNT; k++) {
        uint32_t len = top_names[k].len;

        if (c != top_names[k].s[0] || strncmp(info->name, top_names[k].s, len) != 0) {
            continue;
        }
        if (info->name[len] == '\0' && sc->top[k].node == FDT_NONE) {
            sc->top[k] = f;
        } else if (info->name[len] == '@' && sc->top_unit[k].node == FDT_NONE) {
            sc->top_unit[k] = f;
        }
    }
}

/* Could a wanted compatible string start with c? Most strings are ruled out here. */
static bool wanted_first(const struct fdt_scan *sc, uint8_t c) {
    return c >= 'a' && c <= 'z' && (sc->compat_first & (1u << (c - 'a'))) != 0;
}

/* Record the node as the first holder of each wanted string in its compatible list. */
static void note_compat(struct fdt_scan *sc, const struct fdt_node_info *info) {
    const uint8_t *v = info->compatible;
    uint32_t len = info->compatible_len;
    struct fdt_found f = {info->node, info->parent};

    for (uint32_t i = 0; i < len;) {
        int64_t n = fdt_strnlen(v + i, len - i);

        if (n < 0) {
            return; /* an unterminated tail is not a string (as fdt_is_compatible) */
        }
        for (int k = wanted_first(sc, v[i]) ? 0 : FDT_C_COUNT; k < FDT_C_COUNT; k++) {
            if (compat_names[k].len != (uint32_t)n ||
                memcmp(v + i, compat_names[k].s, (size_t)n) != 0) {
                continue;
            }
            if (sc->compat[k].node == FDT_NONE) {
                sc->compat[k] = f;
            }
            if (k >= FDT_C_NS16550A && info->enabled && sc->uart.node == FDT_NONE) {
                sc->uart = f;
            }
        }
        i += (uint32_t)n + 1;
    }
}

static void note_phandle(struct fdt_scan *sc, const struct fdt_node_info *info) {
    if (sc->ph_count >= FDT_SCAN_PHANDLES) {
        sc->ph_overflow = true;
        return;
    }
    sc->ph[sc->ph_count].f = (struct fdt_found){info->node, info->parent};
    sc->ph[sc->ph_count].has_phandle = info->has_phandle;
    sc->ph[sc->ph_count].has_linux_phandle = info->has_linux_phandle;
    sc->ph[sc->ph_count].phandle = info->phandle;
    sc->ph[sc->ph_count].linux_phandle = info->linux_phandle;
    sc->ph_count++;
}

/* Append the node to the index and link it after its previous sibling. */
static void note_index(struct fdt_scan *sc, const struct fdt_node_info *info) {
    uint32_t i = sc->node_count;
    uint32_t d = info->depth; /* < FDT_MAX_DEPTH: the walk checks */

    if (sc->nodes_overflow || i >= FDT_SCAN_NODES || d >= FDT_MAX_DEPTH) {
        sc->nodes_overflow = true;
        return;
    }
    sc->nodes[i] = (struct fdt_scan_node){
        .node = info->node,
        .next = FDT_SCAN_NO_NODE,
        .depth = (uint8_t)d,
        .memory = d == 1 && info->enabled && info->device_type != NULL &&
                  strcmp(info->device_type, "memory") == 0,
    };
    if (sc->last_at[d] != FDT_SCAN_NO_NODE) {
        sc->nodes[sc->last_at[d]].next = (uint16_t)i;
    }
    sc->last_at[d] = (uint16_t)i;
    sc->last_at[d + 1] = FDT_SCAN_NO_NODE; /* its children start a new list */
    sc->node_count = i + 1;
}

kstatus_t fdt_scan_visit(const struct fdt *fdt, const struct fdt_node_info *info, void *ctx) {
    struct fdt_scan *sc = ctx;

    (void)fdt;
    note_index(sc, info);
    if (info->depth == 1) {
        note_top(sc, info);
    }
    if (info->compatible != NULL) {
        note_compat(sc, info);
    }
    if (info->has_phandle || info->has_linux_phandle) {
        note_phandle(sc, info);
    }
    return KEEL_OK;
}

struct fdt_found fdt_scan_top(const struct fdt_scan *sc, int k) {
    return sc->top[k].node != FDT_NONE ? sc->top[k] : sc->top_unit[k];
}

/* Index of `node` in the (complete) node index, or FDT_SCAN_NO_NODE. Binary search. */
static uint32_t index_of(const struct fdt_scan *sc, fdt_node_t node) {
    uint32_t lo = 0, hi = sc->node_count;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (sc->nodes[mid].node == node) {
            return mid;
        }
        if (sc->nodes[mid].node < node) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return FDT_SCAN_NO_NODE;
}

/* Index of the first child of index entry i, or FDT_SCAN_NO_NODE. */
static uint32_t first_child_index(const struct fdt_scan *sc, uint32_t i) {
    if (i + 1 < sc->node_count && sc->nodes[i + 1].depth == sc->nodes[i].depth + 1) {
        return i + 1;
    }
    return FDT_SCAN_NO_NODE;
}

fdt_node_t fdt_scan_child(const struct fdt *fdt, const struct fdt_scan *sc, fdt_node_t parent,
                          fdt_node_t prev) {
    uint32_t i;

    if (sc->nodes_overflow) {
        return prev == FDT_NONE ? fdt_first_child(fdt, parent) : fdt_next_sibling(fdt, prev);
    }
    if (prev == FDT_NONE) {
        i = index_of(sc, parent);
        i = i == FDT_SCAN_NO_NODE ? i : first_child_index(sc, i);
    } else {
        i = index_of(sc, prev);
        i = i == FDT_SCAN_NO_NODE ? i : sc->nodes[i].next;
    }
    return i == FDT_SCAN_NO_NODE ? FDT_NONE : sc->nodes[i].node;
}

fdt_node_t fdt_scan_child_named(const struct fdt *fdt, const void *ctx, fdt_node_t node,
                                const char *comp, size_t len, bool exact) {
    const struct fdt_scan *sc = ctx;
    fdt_node_t unit = FDT_NONE;
    uint32_t i;

    if (sc->nodes_overflow) {
        return fdt_child_named(fdt, NULL, node, comp, len, exact);
    }
    i = index_of(sc, node);
    if (i == FDT_SCAN_NO_NODE) {
        return FDT_NONE;
    }
    for (i = first_child_index(sc, i); i != FDT_SCAN_NO_NODE; i = sc->nodes[i].next) {
        const char *name = (const char *)fdt->blob + sc->nodes[i].node + 4;

        if (name[0] != comp[0] || strncmp(name, comp, len) != 0) {
            continue;
        }
        if (name[len] == '\0') {
            return sc->nodes[i].node;
        }
        if (!exact && name[len] == '@' && unit == FDT_NONE) {
            unit = sc->nodes[i].node;
        }
    }
    return unit;
}

kstatus_t fdt_scan_stdout(const struct fdt *fdt, const struct fdt_scan *sc, struct fdt_found *out) {
    fdt_node_t aliases = fdt_scan_top(sc, FDT_TOP_ALIASES).node;

    return fdt_stdout_lookup(fdt, fdt_scan_top(sc, FDT_TOP_CHOSEN).node, &aliases,
                             fdt_scan_child_named, sc, &out->node, &out->parent);
}

kstatus_t fdt_scan_phandle(const struct fdt *fdt, const struct fdt_scan *sc, uint32_t phandle,
                           struct fdt_found *out) {
    fdt_node_t n;

    if (phandle == 0 || phandle == UINT32_MAX) {
        return KEEL_ENOTFOUND; /* reserved values (spec 2.3.3) */
    }
    for (uint32_t i = 0; i < sc->ph_count; i++) {
        if ((sc->ph[i].has_phandle && sc->ph[i].phandle == phandle) ||
            (sc->ph[i].has_linux_phandle && sc->ph[i].linux_phandle == phandle)) {
            *out = sc->ph[i].f;
            return KEEL_OK;
        }
    }
    /* Not among the first FDT_SCAN_PHANDLES: the first match is further on. */
    if (!sc->ph_overflow || fdt_find_phandle(fdt, phandle, &n) != KEEL_OK) {
        return KEEL_ENOTFOUND;
    }
    *out = (struct fdt_found){n, fdt_parent(fdt, n)};
    return KEEL_OK;
}
