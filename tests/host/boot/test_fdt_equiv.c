/* SPDX-License-Identifier: MIT */
/*
 * Equivalence tests of the fast device tree code: every query and the one-pass boot-info
 * parser must answer exactly as simple reference versions do (written here on a minimal
 * token reader, and the pre-rewrite parser in fdt_boot_ref.c), on QEMU fixtures, built
 * machines bigger than the scan's node index and phandle table, and thousands of seeded
 * random mutants (KEEL_SEED or argv[1]). Run under ASan/UBSan as well.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fdt_boot_ref.h"
#include "fdt_build.h"
#include "fixture.h"
#include "fdt_internal.h"
#include "test_rng.h"
#include <kernel/memmap.h>

#ifndef KEEL_FIXTURE_DIR
#error "KEEL_FIXTURE_DIR must name tests/fixtures/dtb"
#endif

#define MAX_NODES 1024

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- reference queries: a minimal reader for blobs fdt_init() accepted ---- */

/* Offset of the first token after the BEGIN_NODE token at `node` (name skipped). */
static uint32_t ref_props(const uint8_t *b, fdt_node_t node) {
    return (uint32_t)(node + 4 + ((strlen((const char *)b + node + 4) + 4) & ~(size_t)3));
}

/* The root: the first BEGIN_NODE after any NOPs at the start of the struct block. */
static fdt_node_t ref_root(const uint8_t *b) {
    uint32_t off = get32(b + 8);

    while (get32(b + off) == 4) {
        off += 4;
    }
    return off;
}

/* First property `name` of `node`, walking its tokens by hand. */
static kstatus_t ref_get_prop(const uint8_t *b, fdt_node_t node, const char *name,
                              const uint8_t **val, uint32_t *len) {
    const char *strings = (const char *)b + get32(b + 12);
    uint32_t off = ref_props(b, node);

    for (;;) {
        uint32_t tag = get32(b + off);

        if (tag == 4) {
            off += 4;
            continue;
        }
        if (tag != 3) {
            return KEEL_ENOTFOUND;
        }
        if (strcmp(strings + get32(b + off + 8), name) == 0) {
            *val = b + off + 12;
            *len = get32(b + off + 4);
            return KEEL_OK;
        }
        off += (12 + get32(b + off + 4) + 3) & ~3u;
    }
}

static kstatus_t ref_get_u32(const uint8_t *b, fdt_node_t n, const char *name, uint32_t *out) {
    const uint8_t *v;
    uint32_t len;
    kstatus_t st = ref_get_prop(b, n, name, &v, &len);

    if (st == KEEL_OK && len != 4) {
        return KEEL_ECORRUPT;
    }
    if (st == KEEL_OK) {
        *out = get32(v);
    }
    return st;
}

/* The string value of `name`, or NULL if absent or unterminated. */
static const char *ref_string(const uint8_t *b, fdt_node_t n, const char *name) {
    const uint8_t *v;
    uint32_t len;

    if (ref_get_prop(b, n, name, &v, &len) != KEEL_OK || memchr(v, 0, len) == NULL) {
        return NULL;
    }
    return (const char *)v;
}

static bool ref_compatible(const uint8_t *b, fdt_node_t n, const char *s) {
    const uint8_t *v;
    uint32_t len;

    if (ref_get_prop(b, n, "compatible", &v, &len) != KEEL_OK) {
        return false;
    }
    for (uint32_t i = 0; i < len;) {
        const uint8_t *nul = memchr(v + i, 0, len - i);

        if (nul == NULL) {
            return false;
        }
        if (strcmp((const char *)v + i, s) == 0) {
            return true;
        }
        i = (uint32_t)(nul - v) + 1;
    }
    return false;
}

static bool ref_enabled(const uint8_t *b, fdt_node_t n) {
    const char *s = ref_string(b, n, "status");

    return s == NULL || strcmp(s, "okay") == 0 || strcmp(s, "ok") == 0;
}

/* The tree as a list: every node in document order with depth and parent. */
struct tree {
    uint32_t count;
    fdt_node_t node[MAX_NODES];
    fdt_node_t parent[MAX_NODES];
    uint32_t depth[MAX_NODES];
};

static void ref_tree(const uint8_t *b, uint32_t struct_end, struct tree *t) {
    fdt_node_t stack[FDT_MAX_DEPTH];
    uint32_t depth = 0;
    uint32_t off = ref_root(b);

    t->count = 0;
    while (off < struct_end) {
        uint32_t tag = get32(b + off);

        if (tag == 1) {
            assert_true(t->count < MAX_NODES);
            t->node[t->count] = off;
            t->parent[t->count] = depth > 0 ? stack[depth - 1] : FDT_NONE;
            t->depth[t->count++] = depth;
            stack[depth++] = off;
            off = ref_props(b, off);
        } else if (tag == 2) {
            if (--depth == 0) {
                return;
            }
            off += 4;
        } else if (tag == 3) {
            off += (12 + get32(b + off + 4) + 3) & ~3u;
        } else {
            off += 4;
        }
    }
}

static uint32_t tree_index(const struct tree *t, fdt_node_t n) {
    for (uint32_t i = 0; i < t->count; i++) {
        if (t->node[i] == n) {
            return i;
        }
    }
    fail_msg("node %#x not in the tree", n);
    return 0;
}

static fdt_node_t ref_next_sibling(const struct tree *t, uint32_t i) {
    for (uint32_t j = i + 1; j < t->count && t->depth[j] >= t->depth[i]; j++) {
        if (t->depth[j] == t->depth[i]) {
            return t->node[j];
        }
    }
    return FDT_NONE;
}

static fdt_node_t ref_first_child(const struct tree *t, uint32_t i) {
    return i + 1 < t->count && t->depth[i + 1] == t->depth[i] + 1 ? t->node[i + 1] : FDT_NONE;
}

/* The old find_path: exact names first, then names with a unit address. */
static kstatus_t ref_find_path(const uint8_t *b, const struct tree *t, const char *path,
                               size_t plen, fdt_node_t *out) {
    uint32_t cur = 0;
    size_t i = 0;

    if (plen == 0 || path[0] != '/') {
        return KEEL_ENOTFOUND;
    }
    while (i < plen) {
        size_t start, len;
        uint32_t match = UINT32_MAX;
        bool has_at = false;

        while (i < plen && path[i] == '/') {
            i++;
        }
        start = i;
        while (i < plen && path[i] != '/' && path[i] != '\0') {
            has_at |= path[i] == '@';
            i++;
        }
        len = i - start;
        if (len == 0) {
            break;
        }
        for (int pass = 0; pass < (has_at ? 1 : 2) && match == UINT32_MAX; pass++) {
            for (fdt_node_t c = ref_first_child(t, cur); c != FDT_NONE;
                 c = ref_next_sibling(t, tree_index(t, c))) {
                const char *name = (const char *)b + c + 4;

                if (strncmp(name, path + start, len) == 0 &&
                    (name[len] == '\0' || (pass == 1 && name[len] == '@'))) {
                    match = tree_index(t, c);
                    break;
                }
            }
        }
        if (match == UINT32_MAX) {
            return KEEL_ENOTFOUND;
        }
        cur = match;
        if (i < plen && path[i] == '\0') {
            break;
        }
    }
    *out = t->node[cur];
    return KEEL_OK;
}

static kstatus_t ref_find_phandle(const uint8_t *b, const struct tree *t, uint32_t ph,
                                  fdt_node_t *out) {
    if (ph == 0 || ph == UINT32_MAX) {
        return KEEL_ENOTFOUND;
    }
    for (uint32_t i = 0; i < t->count; i++) {
        uint32_t v;

        if ((ref_get_u32(b, t->node[i], "phandle", &v) == KEEL_OK && v == ph) ||
            (ref_get_u32(b, t->node[i], "linux,phandle", &v) == KEEL_OK && v == ph)) {
            *out = t->node[i];
            return KEEL_OK;
        }
    }
    return KEEL_ENOTFOUND;
}

static kstatus_t ref_cells(const uint8_t *b, fdt_node_t n, uint32_t *ac, uint32_t *sc) {
    kstatus_t st;

    *ac = 2;
    *sc = 1;
    st = ref_get_u32(b, n, "#address-cells", ac);
    if (st != KEEL_OK && st != KEEL_ENOTFOUND) {
        return st;
    }
    st = ref_get_u32(b, n, "#size-cells", sc);
    if (st != KEEL_OK && st != KEEL_ENOTFOUND) {
        return st;
    }
    return *ac > 4 || *sc > 4 ? KEEL_ECORRUPT : KEEL_OK;
}

/* The old stdout-path resolution: path, or alias (first property of /aliases by name). */
static kstatus_t ref_stdout(const uint8_t *b, const struct tree *t, fdt_node_t *out) {
    const char *strings = (const char *)b + get32(b + 12);
    fdt_node_t chosen, aliases;
    const char *path;
    size_t len = 0;
    uint32_t off;

    if (ref_find_path(b, t, "/chosen", 7, &chosen) != KEEL_OK) {
        return KEEL_ENOTFOUND;
    }
    path = ref_string(b, chosen, "stdout-path");
    if (path == NULL) {
        path = ref_string(b, chosen, "linux,stdout-path");
    }
    if (path == NULL) {
        return KEEL_ENOTFOUND;
    }
    while (path[len] != '\0' && path[len] != ':') {
        len++;
    }
    if (len > 0 && path[0] == '/') {
        return ref_find_path(b, t, path, len, out);
    }
    if (len == 0 || ref_find_path(b, t, "/aliases", 8, &aliases) != KEEL_OK) {
        return KEEL_ENOTFOUND;
    }
    off = ref_props(b, aliases);
    for (;;) {
        uint32_t tag = get32(b + off);
        const char *name;

        if (tag == 4) {
            off += 4;
            continue;
        }
        if (tag != 3) {
            return KEEL_ENOTFOUND;
        }
        name = strings + get32(b + off + 8);
        if (strncmp(name, path, len) == 0 && name[len] == '\0') {
            const char *value = (const char *)b + off + 12;

            if (memchr(value, 0, get32(b + off + 4)) == NULL) {
                return KEEL_ECORRUPT;
            }
            return ref_find_path(b, t, value, strlen(value), out);
        }
        off += (12 + get32(b + off + 4) + 3) & ~3u;
    }
}

/* ---- the checks ---- */

/* The compatible strings of FDT_C_*, in that order. */
static const char *const compat_names[FDT_C_COUNT] = {
    "arm,gic-v3",      "arm,gic-400",     "arm,cortex-a15-gic", "sifive,plic-1.0.0",
    "riscv,plic0",     "arm,armv8-timer", "arm,psci",           "arm,psci-0.2",
    "syscon-poweroff", "sifive,test1",    "sifive,test0",       "ns16550a",
    "ns16550",         "arm,pl011",
};
static const char *const top_names[FDT_TOP_COUNT] = {"/chosen", "/cpus", "/reserved-memory",
                                                     "/aliases", "/psci"};

/* What the walk reported, next to the scan it filled. */
struct record {
    struct fdt_scan sc;
    uint32_t count;
    struct fdt_node_info info[MAX_NODES];
};

static struct record rec;
static struct tree tree;

static kstatus_t record_visit(const struct fdt *fdt, const struct fdt_node_info *info, void *ctx) {
    struct record *r = ctx;

    if (r->count < MAX_NODES) {
        r->info[r->count] = *info;
    }
    r->count++;
    return fdt_scan_visit(fdt, info, &r->sc);
}

/* A failed fdt_init() leaves a tree in which nothing is found and nothing is read. */
static void check_empty(const struct fdt *fdt) {
    fdt_node_t n;
    const void *v;
    uint32_t len;

    assert_int_equal(fdt_root(fdt), FDT_NONE);
    assert_int_equal(fdt_next_node(fdt, fdt_root(fdt), NULL), FDT_NONE);
    assert_int_equal(fdt_find_path(fdt, "/", &n), KEEL_ENOTFOUND);
    assert_int_equal(fdt_find_compatible(fdt, FDT_NONE, "ns16550a", &n), KEEL_ENOTFOUND);
    assert_int_equal(fdt_find_phandle(fdt, 1, &n), KEEL_ENOTFOUND);
    assert_int_equal(fdt_get_prop(fdt, 40, "reg", &v, &len), KEEL_ENOTFOUND);
    assert_int_equal(fdt_stdout_node(fdt, &n), KEEL_ENOTFOUND);
}

/* fdt_get_reg() as it was: parent's cells, then the entry. */
static kstatus_t ref_get_reg(const uint8_t *b, fdt_node_t parent, fdt_node_t n, uint32_t index,
                             uint64_t *addr, uint64_t *size) {
    uint32_t ac, sc, len, entry;
    const uint8_t *v;
    kstatus_t st;

    if (parent == FDT_NONE) {
        return KEEL_ENOTFOUND;
    }
    st = ref_cells(b, parent, &ac, &sc);
    if (st != KEEL_OK) {
        return st;
    }
    st = ref_get_prop(b, n, "reg", &v, &len);
    if (st != KEEL_OK) {
        return st;
    }
    if (ac == 0 || ac > 2 || sc > 2) {
        return KEEL_ENOTSUP;
    }
    entry = (ac + sc) * 4;
    if (len % entry != 0) {
        return KEEL_ECORRUPT;
    }
    if (index >= len / entry) {
        return KEEL_ENOTFOUND;
    }
    v += (size_t)index * entry;
    *addr = ac == 1 ? get32(v) : (uint64_t)get32(v) << 32 | get32(v + 4);
    *size = sc == 0   ? 0
            : sc == 1 ? get32(v + ac * 4)
                      : (uint64_t)get32(v + ac * 4) << 32 | get32(v + ac * 4 + 4);
    return KEEL_OK;
}

/* The walk's report for node i against the reference reader. */
static void check_info(const uint8_t *b, uint32_t i) {
    const struct fdt_node_info *in = &rec.info[i];
    const uint8_t *v;
    uint32_t len, ph;

    assert_int_equal(in->node, tree.node[i]);
    assert_int_equal(in->parent, tree.parent[i]);
    assert_int_equal(in->depth, tree.depth[i]);
    assert_ptr_equal(in->name, (const char *)b + tree.node[i] + 4);
    if (ref_get_prop(b, tree.node[i], "compatible", &v, &len) == KEEL_OK) {
        assert_ptr_equal(in->compatible, v);
        assert_int_equal(in->compatible_len, len);
    } else {
        assert_null(in->compatible);
    }
    assert_ptr_equal(in->device_type, ref_string(b, tree.node[i], "device_type"));
    assert_int_equal(in->enabled, ref_enabled(b, tree.node[i]));
    assert_int_equal(in->has_phandle, ref_get_u32(b, tree.node[i], "phandle", &ph) == KEEL_OK);
    if (in->has_phandle) {
        assert_int_equal(in->phandle, ph);
    }
    assert_int_equal(in->has_linux_phandle,
                     ref_get_u32(b, tree.node[i], "linux,phandle", &ph) == KEEL_OK);
    if (in->has_linux_phandle) {
        assert_int_equal(in->linux_phandle, ph);
    }
}

/* Navigation, properties, cells and reg of node i. */
static void check_node(const struct fdt *fdt, const uint8_t *b, uint32_t i) {
    static const char *props[] = {"reg",     "compatible",  "status", "#address-cells",
                                  "phandle", "device_type", "clocks", "no-such"};
    fdt_node_t n = tree.node[i], c, rc;
    uint32_t ac, sc, rac, rsc;
    int d = 0;

    assert_int_equal(fdt_parent(fdt, n), tree.parent[i]);
    assert_int_equal(fdt_first_child(fdt, n), ref_first_child(&tree, i));
    assert_int_equal(fdt_next_sibling(fdt, n), ref_next_sibling(&tree, i));
    assert_int_equal(fdt_next_node(fdt, n, &d), i + 1 < tree.count ? tree.node[i + 1] : FDT_NONE);
    if (i + 1 < tree.count) {
        assert_int_equal(d, (int)tree.depth[i + 1] - (int)tree.depth[i]);
    }
    assert_string_equal(fdt_node_name(fdt, n), (const char *)b + n + 4);
    /* Children through the scan's index (or its fallback) match the tree. */
    rc = ref_first_child(&tree, i);
    for (c = fdt_scan_child(fdt, &rec.sc, n, FDT_NONE); c != FDT_NONE;
         c = fdt_scan_child(fdt, &rec.sc, n, c)) {
        assert_int_equal(c, rc);
        rc = ref_next_sibling(&tree, tree_index(&tree, rc));
    }
    assert_int_equal(rc, FDT_NONE);
    for (size_t k = 0; k < ARRAY_SIZE(props); k++) {
        const void *v = NULL;
        const uint8_t *rv = NULL;
        uint32_t len = 0, rlen = 0;
        kstatus_t st = fdt_get_prop(fdt, n, props[k], &v, &len);

        assert_int_equal(st, ref_get_prop(b, n, props[k], &rv, &rlen));
        if (st == KEEL_OK) {
            assert_ptr_equal(v, rv);
            assert_int_equal(len, rlen);
        }
    }
    assert_int_equal(fdt_cells(fdt, n, &ac, &sc), ref_cells(b, n, &rac, &rsc));
    assert_int_equal(ac, rac);
    assert_int_equal(sc, rsc);
    for (uint32_t idx = 0; idx < 2; idx++) {
        uint64_t a = 0, z = 0, ra = 0, rz = 0;
        kstatus_t st = fdt_get_reg(fdt, n, idx, &a, &z);

        assert_int_equal(st, ref_get_reg(b, tree.parent[i], n, idx, &ra, &rz));
        assert_int_equal(fdt_get_reg_in(fdt, tree.parent[i], n, idx, &a, &z), st);
        if (st == KEEL_OK) {
            assert_int_equal(a, ra);
            assert_int_equal(z, rz);
        }
    }
    for (int k = 0; k < FDT_C_COUNT; k++) {
        assert_int_equal(fdt_is_compatible(fdt, n, compat_names[k]),
                         ref_compatible(b, n, compat_names[k]));
    }
    assert_int_equal(fdt_is_enabled(fdt, n), ref_enabled(b, n));
}

/* Node i's absolute path (and without its last unit address) through all three finders. */
static void check_path(const struct fdt *fdt, const uint8_t *b, uint32_t i) {
    char path[1024], *at;
    fdt_node_t chain[FDT_MAX_DEPTH];
    size_t len = 0;
    int depth = 0;

    for (fdt_node_t n = tree.node[i]; n != FDT_NONE; n = tree.parent[tree_index(&tree, n)]) {
        chain[depth++] = n;
    }
    for (int k = depth - 2; k >= 0; k--) {
        len +=
            (size_t)snprintf(path + len, sizeof(path) - len, "/%s", (const char *)b + chain[k] + 4);
        if (len >= sizeof(path)) {
            return; /* absurdly long mutant path: skip */
        }
    }
    if (depth == 1) {
        strcpy(path, "/");
    }
    for (int variant = 0; variant < 2; variant++) {
        fdt_node_t n = FDT_NONE, m = FDT_NONE, r = FDT_NONE, parent = FDT_NONE;
        kstatus_t st = fdt_find_path(fdt, path, &n);

        assert_int_equal(st, ref_find_path(b, &tree, path, strlen(path), &r));
        assert_int_equal(fdt_find_path_parent(fdt, path, strlen(path), fdt_scan_child_named,
                                              &rec.sc, &m, &parent),
                         st);
        if (st == KEEL_OK) {
            assert_int_equal(n, r);
            assert_int_equal(m, r);
            assert_int_equal(parent, tree.parent[tree_index(&tree, r)]);
        }
        at = strrchr(path, '@');
        if (at == NULL || strchr(at, '/') != NULL) {
            break;
        }
        *at = '\0';
    }
}

/* The scan's notes against the reference lookups. */
static void check_scan(const struct fdt *fdt, const uint8_t *b, bool thorough) {
    struct fdt_found f;
    fdt_node_t n, r;
    uint32_t phandles = 0;
    kstatus_t st;

    if (!rec.sc.nodes_overflow) {
        assert_int_equal(rec.sc.node_count, tree.count);
        for (uint32_t i = 0; i < tree.count; i++) {
            const char *type = ref_string(b, tree.node[i], "device_type");

            assert_int_equal(rec.sc.nodes[i].node, tree.node[i]);
            assert_int_equal(rec.sc.nodes[i].depth, tree.depth[i]);
            assert_int_equal(rec.sc.nodes[i].memory, tree.depth[i] == 1 && type != NULL &&
                                                         strcmp(type, "memory") == 0 &&
                                                         ref_enabled(b, tree.node[i]));
        }
    } else {
        assert_true(tree.count > FDT_SCAN_NODES);
    }
    for (int k = 0; k < FDT_TOP_COUNT; k++) {
        f = fdt_scan_top(&rec.sc, k);
        st = ref_find_path(b, &tree, top_names[k], strlen(top_names[k]), &r);
        assert_int_equal(f.node, st == KEEL_OK ? r : FDT_NONE);
        if (st == KEEL_OK) {
            assert_int_equal(f.parent, tree.node[0]);
        }
    }
    for (int k = 0; k < FDT_C_COUNT; k++) {
        uint32_t first = UINT32_MAX;

        for (uint32_t i = 0; i < tree.count && first == UINT32_MAX; i++) {
            first = ref_compatible(b, tree.node[i], compat_names[k]) ? i : UINT32_MAX;
        }
        assert_int_equal(rec.sc.compat[k].node, first == UINT32_MAX ? FDT_NONE : tree.node[first]);
        if (first != UINT32_MAX) {
            assert_int_equal(rec.sc.compat[k].parent, tree.parent[first]);
        }
        st = fdt_find_compatible(fdt, FDT_NONE, compat_names[k], &n);
        assert_int_equal(st, first == UINT32_MAX ? KEEL_ENOTFOUND : KEEL_OK);
        if (st == KEEL_OK) {
            assert_int_equal(n, tree.node[first]);
        }
        /* From every node on: the next match in document order. */
        for (uint32_t i = 0; thorough && i < tree.count; i++) {
            uint32_t next = UINT32_MAX;

            for (uint32_t j = i + 1; j < tree.count && next == UINT32_MAX; j++) {
                next = ref_compatible(b, tree.node[j], compat_names[k]) ? j : UINT32_MAX;
            }
            st = fdt_find_compatible(fdt, tree.node[i], compat_names[k], &n);
            assert_int_equal(st, next == UINT32_MAX ? KEEL_ENOTFOUND : KEEL_OK);
            if (st == KEEL_OK) {
                assert_int_equal(n, tree.node[next]);
            }
        }
    }
    r = FDT_NONE;
    for (uint32_t i = 0; i < tree.count && r == FDT_NONE; i++) {
        if (ref_enabled(b, tree.node[i]) && (ref_compatible(b, tree.node[i], "ns16550a") ||
                                             ref_compatible(b, tree.node[i], "ns16550") ||
                                             ref_compatible(b, tree.node[i], "arm,pl011"))) {
            r = tree.node[i];
        }
    }
    assert_int_equal(rec.sc.uart.node, r);
    /* Phandles: every value present, its neighbours, and the reserved ones. */
    for (uint32_t i = 0; i < tree.count + 3; i++) {
        uint32_t base = 0, ph2;
        bool has = false;

        if (i < tree.count) {
            has = ref_get_u32(b, tree.node[i], "phandle", &base) == KEEL_OK;
            if (ref_get_u32(b, tree.node[i], "linux,phandle", &ph2) == KEEL_OK) {
                base = has ? base : ph2;
                has = true;
            }
            phandles += has;
            if (!has) {
                continue;
            }
        } else {
            base = i == tree.count ? 0 : i == tree.count + 1 ? UINT32_MAX : 0x12345;
        }
        for (uint32_t ph = base - 1; ph != base + 2; ph++) {
            st = fdt_find_phandle(fdt, ph, &n);
            assert_int_equal(st, ref_find_phandle(b, &tree, ph, &r));
            assert_int_equal(fdt_scan_phandle(fdt, &rec.sc, ph, &f), st);
            if (st == KEEL_OK) {
                assert_int_equal(n, r);
                assert_int_equal(f.node, r);
                assert_int_equal(f.parent, tree.parent[tree_index(&tree, r)]);
            }
        }
    }
    assert_int_equal(rec.sc.ph_overflow, phandles > FDT_SCAN_PHANDLES);
    st = fdt_stdout_node(fdt, &n);
    assert_int_equal(st, ref_stdout(b, &tree, &r));
    assert_int_equal(fdt_scan_stdout(fdt, &rec.sc, &f), st);
    if (st == KEEL_OK) {
        assert_int_equal(n, r);
        assert_int_equal(f.node, r);
        assert_int_equal(f.parent, tree.parent[tree_index(&tree, r)]);
    }
}

/*
 * Every query on blob[0..size) against the references; `thorough` adds the O(n^2) ones.
 * Returns fdt_init()'s status.
 */
static kstatus_t check_tree(const uint8_t *blob, size_t size, bool thorough) {
    uint8_t *b = malloc(size ? size : 1); /* exact size: ASan sees any overrun */
    struct fdt f1, f2;
    kstatus_t st;

    memcpy(b, blob, size);
    st = fdt_init(&f1, b, size);
    fdt_scan_init(&rec.sc);
    rec.count = 0;
    assert_int_equal(fdt_init_walk(&f2, b, size, record_visit, &rec), st);
    if (st != KEEL_OK) {
        assert_int_equal(st, KEEL_ECORRUPT);
        check_empty(&f1);
        check_empty(&f2);
        free(b);
        return st;
    }
    assert_int_equal(f1.root, f2.root);
    assert_int_equal(f1.strings_ok, f2.strings_ok);
    ref_tree(b, get32(b + 8) + get32(b + 36), &tree);
    assert_int_equal(fdt_root(&f1), ref_root(b));
    assert_int_equal(rec.count, tree.count);
    for (uint32_t i = 0; i < tree.count; i++) {
        check_info(b, i);
        check_node(&f1, b, i);
        if (thorough || i % 5 == 0) {
            check_path(&f1, b, i);
        }
    }
    check_scan(&f1, b, thorough);
    free(b);
    return KEEL_OK;
}

/* fdt_parse_boot_info() and the old parser: same status, same boot_info, byte for byte. */
static kstatus_t check_parse(const uint8_t *blob, size_t size) {
    uint8_t *b1 = malloc(size ? size : 1), *b2 = malloc(size ? size : 1);
    struct boot_info *bi1 = calloc(1, sizeof(*bi1)), *bi2 = calloc(1, sizeof(*bi2));
    kstatus_t st;

    assert_non_null(bi1);
    assert_non_null(bi2);
    memcpy(b1, blob, size);
    memcpy(b2, blob, size);
    bi1->mem[0] = (struct mem_region){0x42000000, 0x200000, MEM_KERNEL, 0};
    bi1->mem_count = 1;
    *bi2 = *bi1;
    st = fdt_parse_boot_info(b1, size, 0x44000100, bi1);
    assert_int_equal(ref_fdt_parse_boot_info(b2, size, 0x44000100, bi2), st);
    assert_memory_equal(bi1, bi2, sizeof(*bi1));
    free(bi1);
    free(bi2);
    free(b1);
    free(b2);
    return st;
}

/* ---- blobs ---- */

static const char *const fixture_names[] = {
    "aarch64-gicv3-smp1-128m", "aarch64-gicv3-smp2-1g",     "aarch64-gicv3-smp4-4g",
    "aarch64-gicv2-smp2-1g",   "aarch64-gicv3-el2-smp2-1g", "aarch64-numa2",
    "riscv64-smp1-128m",       "riscv64-smp2-1g",           "riscv64-smp4-4g",
    "riscv64-numa2",
};

#define BIG_DEVICES 150 /* more nodes than FDT_SCAN_NODES, more phandles than FDT_SCAN_PHANDLES */

/*
 * A machine with what every step looks for: memory (the second one after all devices when
 * `big`), reservations, initrd, CPUs, a console behind an alias with its clock behind a
 * phandle (or, unless `alias_ok`, the first enabled UART), a GIC, PSCI, syscon-poweroff,
 * a disabled UART first, and a "cpus@9" before "/cpus". `big` adds BIG_DEVICES devices with
 * phandles before the clock, so the clock is beyond the scan's phandle table and node index.
 */
static size_t build_machine(struct fdt_build *fb, uint8_t *out, size_t cap, bool big,
                            bool alias_ok) {
    fb_init(fb);
    fb_begin(fb, "");
    fb_prop_u32(fb, "#address-cells", 2);
    fb_prop_u32(fb, "#size-cells", 2);
    fb_begin(fb, "aliases");
    fb_prop_str(fb, "serial1", "/soc/serial@2000");
    fb_prop_str(fb, "serial0", "/soc/serial@1000");
    fb_end(fb);
    fb_begin(fb, "chosen@0"); /* found by "/chosen" through its unit address */
    fb_prop_str(fb, "bootargs", "console=ttyAMA0 keel.equiv");
    fb_prop_str(fb, "stdout-path", alias_ok ? "serial0:115200n8" : "serial7:115200n8");
    fb_prop_cells(fb, "linux,initrd-start", 2, 0, 0x48000000);
    fb_prop_u32(fb, "linux,initrd-end", 0x48100000);
    fb_end(fb);
    fb_begin(fb, "memory@40000000");
    fb_prop_str(fb, "device_type", "memory");
    fb_prop_cells(fb, "reg", 4, 0, 0x40000000, 0, 0x20000000);
    fb_end(fb);
    fb_begin(fb, "memory@c0000000");
    fb_prop_str(fb, "device_type", "memory");
    fb_prop_str(fb, "status", "disabled");
    fb_prop_cells(fb, "reg", 4, 0, 0xc0000000, 0, 0x10000000);
    fb_end(fb);
    fb_begin(fb, "reserved-memory");
    fb_prop_u32(fb, "#address-cells", 2);
    fb_prop_u32(fb, "#size-cells", 2);
    fb_begin(fb, "fw@40000000");
    fb_prop_cells(fb, "reg", 4, 0, 0x40000000, 0, 0x80000);
    fb_end(fb);
    fb_begin(fb, "off@41000000");
    fb_prop_str(fb, "status", "disabled");
    fb_prop_cells(fb, "reg", 4, 0, 0x41000000, 0, 0x80000);
    fb_end(fb);
    fb_end(fb);
    fb_begin(fb, "cpus@9"); /* "/cpus" is the exact name below, not this one */
    fb_prop_u32(fb, "#address-cells", 1);
    fb_prop_u32(fb, "#size-cells", 0);
    fb_begin(fb, "cpu@9");
    fb_prop_str(fb, "device_type", "cpu");
    fb_prop_u32(fb, "reg", 9);
    fb_end(fb);
    fb_end(fb);
    fb_begin(fb, "cpus");
    fb_prop_u32(fb, "#address-cells", 1);
    fb_prop_u32(fb, "#size-cells", 0);
    for (int i = 0; i < 2; i++) {
        char name[16];

        snprintf(name, sizeof(name), "cpu@%d", i);
        fb_begin(fb, name);
        fb_prop_str(fb, "device_type", "cpu");
        fb_prop_u32(fb, "reg", (uint32_t)i);
        fb_end(fb);
    }
    fb_begin(fb, "cpu-map");
    fb_end(fb);
    fb_end(fb);
    fb_begin(fb, "psci");
    fb_prop_str(fb, "compatible", "arm,psci-1.0");
    fb_prop_str(fb, "method", "smc");
    fb_end(fb);
    fb_begin(fb, "intc@8000000");
    fb_prop(fb, "compatible", "arm,gic-400\0arm,cortex-a15-gic", 31);
    fb_prop_cells(fb, "reg", 8, 0, 0x8000000, 0, 0x10000, 0, 0x8010000, 0, 0x10000);
    fb_prop_u32(fb, "phandle", 1);
    fb_end(fb);
    fb_begin(fb, "syscon@9100000");
    fb_prop_str(fb, "compatible", "syscon");
    fb_prop_cells(fb, "reg", 4, 0, 0x9100000, 0, 0x1000);
    fb_prop_u32(fb, "linux,phandle", 2);
    fb_end(fb);
    fb_begin(fb, "poweroff");
    fb_prop_str(fb, "compatible", "syscon-poweroff");
    fb_prop_u32(fb, "regmap", 2);
    fb_prop_u32(fb, "offset", 0x10);
    fb_prop_u32(fb, "value", 0x77);
    fb_end(fb);
    fb_begin(fb, "soc");
    fb_prop_u32(fb, "#address-cells", 1);
    fb_prop_u32(fb, "#size-cells", 1);
    for (int i = 0; big && i < BIG_DEVICES; i++) {
        char name[24];

        snprintf(name, sizeof(name), "dev@%x", 0x100000 + i * 0x1000);
        fb_begin(fb, name);
        fb_prop_str(fb, "compatible", "vendor,dev");
        fb_prop_cells(fb, "reg", 2, 0x100000 + i * 0x1000, 0x1000);
        fb_prop_u32(fb, "phandle", 100 + (uint32_t)i);
        fb_end(fb);
    }
    fb_begin(fb, "serial@3000");
    fb_prop_str(fb, "compatible", "ns16550a");
    fb_prop_str(fb, "status", "disabled");
    fb_prop_cells(fb, "reg", 2, 0x3000, 0x100);
    fb_end(fb);
    fb_begin(fb, "serial@2000");
    fb_prop_str(fb, "compatible", "ns16550a");
    fb_prop_cells(fb, "reg", 2, 0x2000, 0x100);
    fb_end(fb);
    fb_begin(fb, "serial@1000");
    fb_prop(fb, "compatible", "arm,pl011\0arm,primecell", 24);
    fb_prop_cells(fb, "reg", 2, 0x1000, 0x1000);
    fb_prop_u32(fb, "clocks", big ? 500 : 3);
    fb_end(fb);
    fb_end(fb);
    fb_begin(fb, "apb-pclk");
    fb_prop_str(fb, "compatible", "fixed-clock");
    fb_prop_u32(fb, "clock-frequency", 24000000);
    fb_prop_u32(fb, "phandle", big ? 500 : 3);
    fb_end(fb);
    if (big) {
        fb_begin(fb, "memory@80000000");
        fb_prop_str(fb, "device_type", "memory");
        fb_prop_cells(fb, "reg", 4, 0, 0x80000000, 0, 0x10000000);
        fb_end(fb);
    }
    fb_end(fb);
    fb->boot_cpuid = 1;
    fb_reserve(fb, 0x5f000000, 0x1000);
    return fb_finish(fb, out, cap);
}

/* Flip a few bits, half of them in the header and struct block, where the rules live. */
static void mutate(uint8_t *copy, const uint8_t *b, size_t size, int flips) {
    uint32_t struct_end = get32(b + 8) + get32(b + 36);

    memcpy(copy, b, size);
    for (int f = 0; f < flips; f++) {
        size_t pos = test_rand_below(2) ? test_rand_below(struct_end) : test_rand_below(size);

        copy[pos] ^= (uint8_t)(1u << test_rand_below(8));
        if (test_rand_below(4) == 0) {
            copy[pos] = (uint8_t)test_rand();
        }
    }
}

/* ---- tests ---- */

static void test_fixture_equivalence(void **state) {
    (void)state;
    for (size_t k = 0; k < ARRAY_SIZE(fixture_names); k++) {
        size_t size;
        uint8_t *b = load_fixture(fixture_names[k], &size);

        assert_int_equal(check_tree(b, size, true), KEEL_OK);
        assert_false(rec.sc.nodes_overflow);
        assert_int_equal(check_parse(b, size), KEEL_OK);
        free(b);
    }
}

static void test_built_equivalence(void **state) {
    static struct fdt_build fb;
    static uint8_t blob[65536];
    struct boot_info *bi = calloc(1, sizeof(*bi));
    size_t len;
    (void)state;

    assert_non_null(bi);
    for (int v = 0; v < 4; v++) {
        bool big = v & 1, alias_ok = v < 2;

        len = build_machine(&fb, blob, sizeof(blob), big, alias_ok);
        assert_int_equal(check_tree(blob, len, true), KEEL_OK);
        assert_int_equal(rec.sc.nodes_overflow, big);
        assert_int_equal(rec.sc.ph_overflow, big);
        assert_int_equal(check_parse(blob, len), KEEL_OK);

        memset(bi, 0, sizeof(*bi));
        assert_int_equal(fdt_parse_boot_info(blob, len, 0x44000000, bi), KEEL_OK);
        assert_string_equal(bi->cmdline, "console=ttyAMA0 keel.equiv");
        if (alias_ok) {
            assert_int_equal(bi->console.type, BOOT_CONSOLE_PL011);
            assert_int_equal(bi->console.base, 0x1000);
            assert_int_equal(bi->console.clock_hz, 24000000); /* through the clocks phandle */
        } else { /* the first enabled UART: serial@3000 is disabled */
            assert_int_equal(bi->console.type, BOOT_CONSOLE_UART16550_MMIO);
            assert_int_equal(bi->console.base, 0x2000);
        }
        assert_int_equal(bi->intc.type, BOOT_INTC_GICV2);
        assert_int_equal(bi->intc.base[1], 0x8010000);
        assert_int_equal(bi->psci_method, BOOT_PSCI_SMC);
        assert_int_equal(bi->poweroff.base, 0x9100000); /* regmap through linux,phandle */
        assert_int_equal(bi->poweroff.offset, 0x10);
        assert_int_equal(bi->poweroff.value, 0x77);
        assert_int_equal(bi->cpu_count, 2);
        assert_int_equal(bi->boot_cpu, 1);
        assert_int_equal(bi->initrd_size, 0x100000);
        /* RAM less firmware, initrd, /memreserve/ and the blob's own pages. */
        assert_int_equal(memmap_usable_bytes(bi), 0x20000000 - 0x80000 - 0x100000 - 0x1000 -
                                                      ((len + 0xfff) & ~(size_t)0xfff) +
                                                      (big ? 0x10000000 : 0));
    }
    free(bi);
}

static void test_mutant_equivalence(void **state) {
    static struct fdt_build fb;
    static uint8_t built[65536];
    static uint8_t copy[65536];
    (void)state;

    for (size_t k = 0; k < 5; k++) {
        static const char *const names[] = {"aarch64-gicv3-smp2-1g", "riscv64-smp2-1g",
                                            "aarch64-numa2"};
        size_t size;
        uint8_t *b;
        int accepted = 0, parsed = 0;
        const int n = k < 3 ? 1500 : 600;

        if (k < 3) {
            b = load_fixture(names[k], &size);
        } else {
            size = build_machine(&fb, built, sizeof(built), k == 4, true);
            b = built;
        }
        for (int i = 0; i < n; i++) {
            mutate(copy, b, size, 1 + (int)test_rand_below(6));
            accepted += check_tree(copy, size, false) == KEEL_OK;
            parsed += check_parse(copy, size) == KEEL_OK;
        }
        print_message("mutants of %s: %d of %d accepted by fdt_init, %d parsed\n",
                      k < 3    ? names[k]
                      : k == 3 ? "the built machine"
                               : "the big machine",
                      accepted, n, parsed);
        if (k < 3) {
            free(b);
        }
    }
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_equivalence),
        cmocka_unit_test(test_built_equivalence),
        cmocka_unit_test(test_mutant_equivalence),
    };

    test_seed_init(argc, argv, "boot_fdt_equiv");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
