/* SPDX-License-Identifier: MIT */
/*
 * Device tree queries on a blob fdt_init() accepted: properties, compatible strings,
 * phandles, paths, "reg" and the console path. Each lookup is one pass over the tokens
 * it needs, and every read stays bounds-checked, so a bogus node handle is harmless.
 */
#include "fdt_internal.h"

#include <kernel/string.h>

kstatus_t fdt_get_prop(const struct fdt *fdt, fdt_node_t node, const char *name, const void **val,
                       uint32_t *len) {
    uint32_t off;

    if (!fdt_node_ok(fdt, node, &off)) {
        return KEEL_ENOTFOUND;
    }
    for (;;) {
        struct fdt_tok t = {0, 0, 0};
        uint32_t tag = fdt_decode(fdt, off, &t);

        if (tag == FDT_PROP) {
            const char *pname = fdt_string_at(fdt, t.nameoff);

            if (pname != NULL && pname[0] == name[0] && strcmp(pname, name) == 0) {
                *val = fdt->blob + off + 12;
                *len = t.len;
                return KEEL_OK;
            }
        } else if (tag != FDT_NOP) {
            return KEEL_ENOTFOUND;
        }
        off = t.next;
    }
}

kstatus_t fdt_get_u32(const struct fdt *fdt, fdt_node_t node, const char *name, uint32_t *out) {
    const void *v;
    uint32_t len;
    kstatus_t st = fdt_get_prop(fdt, node, name, &v, &len);

    if (st != KEEL_OK) {
        return st;
    }
    if (len != 4) {
        return KEEL_ECORRUPT;
    }
    *out = fdt_be32(v);
    return KEEL_OK;
}

kstatus_t fdt_get_u64(const struct fdt *fdt, fdt_node_t node, const char *name, uint64_t *out) {
    const void *v;
    uint32_t len;
    kstatus_t st = fdt_get_prop(fdt, node, name, &v, &len);

    if (st != KEEL_OK) {
        return st;
    }
    if (len != 4 && len != 8) {
        return KEEL_ECORRUPT;
    }
    *out = fdt_read_cells(v, len / 4);
    return KEEL_OK;
}

kstatus_t fdt_get_string(const struct fdt *fdt, fdt_node_t node, const char *name,
                         const char **out) {
    const void *v;
    uint32_t len;
    kstatus_t st = fdt_get_prop(fdt, node, name, &v, &len);

    if (st != KEEL_OK) {
        return st;
    }
    if (fdt_strnlen(v, len) < 0) {
        return KEEL_ECORRUPT;
    }
    *out = v;
    return KEEL_OK;
}

uint64_t fdt_read_cells(const void *p, uint32_t cells) {
    if (cells == 1) {
        return fdt_be32(p);
    }
    if (cells == 2) {
        return fdt_be64(p);
    }
    return 0;
}

/* True if the string list v[0..len) holds `s` (scanning stops at an unterminated tail). */
static bool list_contains(const uint8_t *v, uint32_t len, const char *s) {
    for (uint32_t i = 0; i < len;) {
        int64_t n = fdt_strnlen(v + i, len - i);

        if (n < 0) {
            return false; /* an unterminated tail is not a string */
        }
        if (strcmp((const char *)v + i, s) == 0) {
            return true;
        }
        i += (uint32_t)n + 1;
    }
    return false;
}

bool fdt_is_compatible(const struct fdt *fdt, fdt_node_t node, const char *compat) {
    const void *v;
    uint32_t len;

    return fdt_get_prop(fdt, node, "compatible", &v, &len) == KEEL_OK &&
           list_contains(v, len, compat);
}

bool fdt_is_enabled(const struct fdt *fdt, fdt_node_t node) {
    const char *s;

    if (fdt_get_string(fdt, node, "status", &s) != KEEL_OK) {
        return true;
    }
    return strcmp(s, "okay") == 0 || strcmp(s, "ok") == 0;
}

/*
 * The property at `off` if it is the first one named `name` in the current node (*seen
 * tracks that), else NULL; *len gets its length.
 */
static const uint8_t *first_named(const struct fdt *fdt, uint32_t off, const char *name, bool *seen,
                                  uint32_t *len) {
    const char *pname;

    if (*seen) {
        return NULL;
    }
    pname = fdt_string_at(fdt, fdt_be32(fdt->blob + off + 8));
    if (pname == NULL || strcmp(pname, name) != 0) {
        return NULL;
    }
    *seen = true;
    *len = fdt_be32(fdt->blob + off + 4);
    return fdt->blob + off + 12;
}

/* One pass in document order from the node `start`, checking each node's first compatible. */
kstatus_t fdt_find_compatible(const struct fdt *fdt, fdt_node_t from, const char *compat,
                              fdt_node_t *out) {
    fdt_node_t start = from == FDT_NONE ? fdt_root(fdt) : fdt_next_node(fdt, from, NULL);
    fdt_node_t cur = start;
    bool seen = false;
    uint32_t off = start;

    for (;;) {
        uint32_t next, len;
        uint32_t tag = fdt_token(fdt, off, &next);
        const uint8_t *v;

        if (tag == FDT_BEGIN_NODE) {
            cur = off;
            seen = false;
        } else if (tag == FDT_PROP) {
            v = first_named(fdt, off, "compatible", &seen, &len);
            if (v != NULL && list_contains(v, len, compat)) {
                *out = cur;
                return KEEL_OK;
            }
        } else if (tag != FDT_END_NODE && tag != FDT_NOP) {
            return KEEL_ENOTFOUND;
        }
        off = next;
    }
}

/* One pass from the root; a node matches by its first "phandle" or "linux,phandle". */
kstatus_t fdt_find_phandle(const struct fdt *fdt, uint32_t phandle, fdt_node_t *out) {
    fdt_node_t cur = FDT_NONE;
    bool seen = false, seen_linux = false;
    uint32_t off = fdt_root(fdt);

    if (phandle == 0 || phandle == UINT32_MAX) {
        return KEEL_ENOTFOUND; /* reserved values (spec 2.3.3) */
    }
    for (;;) {
        uint32_t next, len = 0;
        uint32_t tag = fdt_token(fdt, off, &next);
        const uint8_t *v;

        if (tag == FDT_BEGIN_NODE) {
            cur = off;
            seen = seen_linux = false;
        } else if (tag == FDT_PROP) {
            v = first_named(fdt, off, "phandle", &seen, &len);
            if (v == NULL) {
                v = first_named(fdt, off, "linux,phandle", &seen_linux, &len);
            }
            if (v != NULL && len == 4 && fdt_be32(v) == phandle) {
                *out = cur;
                return KEEL_OK;
            }
        } else if (tag != FDT_END_NODE && tag != FDT_NOP) {
            return KEEL_ENOTFOUND;
        }
        off = next;
    }
}

fdt_node_t fdt_child_named(const struct fdt *fdt, const void *ctx, fdt_node_t node,
                           const char *comp, size_t len, bool exact) {
    fdt_node_t unit = FDT_NONE;
    uint32_t d = 1; /* inside `node` */
    uint32_t off;

    (void)ctx;
    if (!fdt_node_ok(fdt, node, &off)) {
        return FDT_NONE;
    }
    for (;;) {
        uint32_t next;
        uint32_t tag = fdt_token(fdt, off, &next);

        if (tag == FDT_BEGIN_NODE) {
            const char *name = (const char *)fdt->blob + off + 4;

            if (d == 1 && strncmp(name, comp, len) == 0) {
                if (name[len] == '\0') {
                    return off;
                }
                if (!exact && name[len] == '@' && unit == FDT_NONE) {
                    unit = off;
                }
            }
            d++;
        } else if (tag == FDT_END_NODE) {
            if (--d == 0) {
                return unit;
            }
        } else if (tag != FDT_PROP && tag != FDT_NOP) {
            return unit;
        }
        off = next;
    }
}

kstatus_t fdt_find_path_parent(const struct fdt *fdt, const char *path, size_t plen,
                               fdt_child_fn child, const void *ctx, fdt_node_t *out,
                               fdt_node_t *parent) {
    fdt_node_t cur = fdt_root(fdt);
    fdt_node_t up = FDT_NONE;
    size_t i = 0;

    if (plen == 0 || path[0] != '/' || cur == FDT_NONE) {
        return KEEL_ENOTFOUND;
    }
    if (child == NULL) {
        child = fdt_child_named;
    }
    while (i < plen) {
        size_t start;
        fdt_node_t match;
        bool has_at = false;

        while (i < plen && path[i] == '/') {
            i++;
        }
        start = i;
        while (i < plen && path[i] != '/' && path[i] != '\0') {
            has_at |= path[i] == '@';
            i++;
        }
        if (i == start) {
            break;
        }
        match = child(fdt, ctx, cur, path + start, i - start, has_at);
        if (match == FDT_NONE) {
            return KEEL_ENOTFOUND;
        }
        up = cur;
        cur = match;
        if (i < plen && path[i] == '\0') {
            break;
        }
    }
    *out = cur;
    *parent = up;
    return KEEL_OK;
}

kstatus_t fdt_find_path(const struct fdt *fdt, const char *path, fdt_node_t *out) {
    fdt_node_t parent;

    return fdt_find_path_parent(fdt, path, strlen(path), NULL, NULL, out, &parent);
}

/*
 * The first property of `node` named names[i], for each i < n (n <= 4), in one pass over
 * its properties: vals[i] is NULL if there is none (or `node` is not a node).
 */
static void get_props(const struct fdt *fdt, fdt_node_t node, const char *const *names, uint32_t n,
                      const uint8_t **vals, uint32_t *lens) {
    uint32_t missing = n;
    uint32_t off;

    for (uint32_t i = 0; i < n; i++) {
        vals[i] = NULL;
    }
    if (!fdt_node_ok(fdt, node, &off)) {
        return;
    }
    while (missing > 0) {
        struct fdt_tok t = {0, 0, 0};
        uint32_t tag = fdt_decode(fdt, off, &t);

        if (tag == FDT_PROP) {
            const char *pname = fdt_string_at(fdt, t.nameoff);

            for (uint32_t i = 0; pname != NULL && i < n; i++) {
                if (vals[i] == NULL && pname[0] == names[i][0] && strcmp(pname, names[i]) == 0) {
                    vals[i] = fdt->blob + off + 12;
                    lens[i] = t.len;
                    missing--;
                    break;
                }
            }
        } else if (tag != FDT_NOP) {
            return;
        }
        off = t.next;
    }
}

kstatus_t fdt_cells(const struct fdt *fdt, fdt_node_t node, uint32_t *addr_cells,
                    uint32_t *size_cells) {
    static const char *const names[2] = {"#address-cells", "#size-cells"};
    const uint8_t *v[2];
    uint32_t len[2];

    *addr_cells = 2;
    *size_cells = 1;
    get_props(fdt, node, names, 2, v, len);
    for (int i = 0; i < 2; i++) { /* as fdt_get_u32(), #address-cells first */
        if (v[i] != NULL && len[i] != 4) {
            return KEEL_ECORRUPT;
        }
        if (v[i] != NULL) {
            *(i == 0 ? addr_cells : size_cells) = fdt_be32(v[i]);
        }
    }
    if (*addr_cells > 4 || *size_cells > 4) {
        return KEEL_ECORRUPT;
    }
    return KEEL_OK;
}

kstatus_t fdt_get_reg_in(const struct fdt *fdt, fdt_node_t parent, fdt_node_t node, uint32_t index,
                         uint64_t *addr, uint64_t *size) {
    uint32_t ac, sc, len, entry;
    const uint8_t *v;
    const void *pv;
    kstatus_t st;

    if (parent == FDT_NONE) {
        return KEEL_ENOTFOUND;
    }
    st = fdt_cells(fdt, parent, &ac, &sc);
    if (st != KEEL_OK) {
        return st;
    }
    st = fdt_get_prop(fdt, node, "reg", &pv, &len);
    if (st != KEEL_OK) {
        return st;
    }
    if (ac == 0 || ac > 2 || sc > 2) {
        return KEEL_ENOTSUP; /* e.g. PCI's 3-cell addresses: not a plain physical range */
    }
    v = pv;
    entry = (ac + sc) * 4;
    if (len % entry != 0) {
        return KEEL_ECORRUPT;
    }
    if (index >= len / entry) {
        return KEEL_ENOTFOUND;
    }
    v += (size_t)index * entry;
    *addr = fdt_read_cells(v, ac);
    *size = sc == 0 ? 0 : fdt_read_cells(v + ac * 4, sc);
    return KEEL_OK;
}

kstatus_t fdt_get_reg(const struct fdt *fdt, fdt_node_t node, uint32_t index, uint64_t *addr,
                      uint64_t *size) {
    return fdt_get_reg_in(fdt, fdt_parent(fdt, node), node, index, addr, size);
}

kstatus_t fdt_stdout_lookup(const struct fdt *fdt, fdt_node_t chosen, const fdt_node_t *aliases,
                            fdt_child_fn child, const void *ctx, fdt_node_t *out,
                            fdt_node_t *parent) {
    fdt_node_t al;
    const char *path;
    size_t len = 0;
    uint32_t off, next;

    if (chosen == FDT_NONE ||
        (fdt_get_string(fdt, chosen, "stdout-path", &path) != KEEL_OK &&
         fdt_get_string(fdt, chosen, "linux,stdout-path", &path) != KEEL_OK)) {
        return KEEL_ENOTFOUND;
    }
    while (path[len] != '\0' && path[len] != ':') {
        len++;
    }
    if (len > 0 && path[0] == '/') {
        return fdt_find_path_parent(fdt, path, len, child, ctx, out, parent);
    }
    if (len == 0) {
        return KEEL_ENOTFOUND;
    }
    if (aliases != NULL) {
        al = *aliases;
    } else if (fdt_find_path(fdt, "/aliases", &al) != KEEL_OK) {
        return KEEL_ENOTFOUND;
    }
    /* An alias: a property of /aliases whose name is the whole alias, value a path. */
    if (!fdt_node_ok(fdt, al, &off)) {
        return KEEL_ENOTFOUND;
    }
    for (;; off = next) {
        uint32_t tag = fdt_token(fdt, off, &next);
        const char *name;
        const char *value;

        if (tag == FDT_NOP) {
            continue;
        }
        if (tag != FDT_PROP) {
            return KEEL_ENOTFOUND;
        }
        name = fdt_string_at(fdt, fdt_be32(fdt->blob + off + 8));
        if (name != NULL && strncmp(name, path, len) == 0 && name[len] == '\0') {
            value = (const char *)fdt->blob + off + 12;
            if (fdt_strnlen((const uint8_t *)value, fdt_be32(fdt->blob + off + 4)) < 0) {
                return KEEL_ECORRUPT;
            }
            return fdt_find_path_parent(fdt, value, strlen(value), child, ctx, out, parent);
        }
    }
}

kstatus_t fdt_stdout_node(const struct fdt *fdt, fdt_node_t *out) {
    fdt_node_t chosen, parent;

    if (fdt_find_path(fdt, "/chosen", &chosen) != KEEL_OK) {
        return KEEL_ENOTFOUND;
    }
    return fdt_stdout_lookup(fdt, chosen, NULL, NULL, NULL, out, &parent);
}
