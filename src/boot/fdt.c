/* SPDX-License-Identifier: MIT */
/*
 * Flattened device tree reader: validation of an untrusted DTB and a small query API.
 * The blob comes from firmware or a boot loader and is treated as hostile: every read
 * is bounds-checked against the header's blocks, which are themselves checked against
 * the buffer. Layout facts: devicetree-specification v0.4, chapter 5 (DTB format).
 */
#include <kernel/fdt.h>
#include <kernel/string.h>

/* Header fields: ten big-endian u32 words (spec 5.2). */
#define FDT_HDR_MAGIC        0
#define FDT_HDR_TOTALSIZE    4
#define FDT_HDR_OFF_STRUCT   8
#define FDT_HDR_OFF_STRINGS  12
#define FDT_HDR_OFF_RSVMAP   16
#define FDT_HDR_VERSION      20
#define FDT_HDR_LAST_COMP    24
#define FDT_HDR_BOOT_CPUID   28
#define FDT_HDR_SIZE_STRINGS 32
#define FDT_HDR_SIZE_STRUCT  36
#define FDT_HDR_SIZE         40

/* Struct block tokens (spec 5.4.1); each is a 4-byte aligned big-endian u32. */
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE   2u
#define FDT_PROP       3u
#define FDT_NOP        4u
#define FDT_END        9u
#define FDT_BAD        0u /* not a token: malformed or out of bounds */

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p) {
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Length of the NUL-terminated string at p within `avail` bytes, or -1 if unterminated. */
static int64_t bounded_strlen(const uint8_t *p, uint32_t avail) {
    for (uint32_t i = 0; i < avail; i++) {
        if (p[i] == '\0') {
            return i;
        }
    }
    return -1;
}

/* The property name at strings-block offset nameoff, or NULL if out of bounds. */
static const char *string_at(const struct fdt *fdt, uint32_t nameoff) {
    const uint8_t *s;

    if (nameoff >= fdt->strings_size) {
        return NULL;
    }
    s = fdt->blob + fdt->strings_off + nameoff;
    if (bounded_strlen(s, fdt->strings_size - nameoff) < 0) {
        return NULL;
    }
    return (const char *)s;
}

/*
 * Decode the token at blob offset `off`; *next gets the offset after it. For FDT_PROP,
 * *prop (if not NULL) gets the offset of its len/nameoff words. Returns FDT_BAD for
 * anything outside the struct block or malformed.
 */
static uint32_t next_token(const struct fdt *fdt, uint32_t off, uint32_t *next) {
    uint32_t end = fdt->struct_off + fdt->struct_size;
    uint32_t tag;

    if (off < fdt->struct_off || off >= end || end - off < 4 || (off & 3) != 0) {
        return FDT_BAD;
    }
    tag = be32(fdt->blob + off);
    off += 4;
    switch (tag) {
    case FDT_BEGIN_NODE: {
        int64_t len = bounded_strlen(fdt->blob + off, end - off);

        if (len < 0) {
            return FDT_BAD;
        }
        off = ALIGN_UP(off + (uint32_t)len + 1, 4u); /* end is 4-aligned: stays <= end */
        break;
    }
    case FDT_PROP: {
        uint32_t len;

        if (end - off < 8) {
            return FDT_BAD;
        }
        len = be32(fdt->blob + off);
        if (string_at(fdt, be32(fdt->blob + off + 4)) == NULL) {
            return FDT_BAD;
        }
        off += 8;
        if (len > end - off) {
            return FDT_BAD;
        }
        off = ALIGN_UP(off + len, 4u);
        break;
    }
    case FDT_END_NODE:
    case FDT_NOP:
    case FDT_END:
        break;
    default:
        return FDT_BAD;
    }
    *next = off;
    return tag;
}

/* Check that the memory reservation block is in bounds and terminated. */
static kstatus_t check_rsvmap(const struct fdt *fdt) {
    uint32_t off = fdt->rsvmap_off;

    while (fdt->total_size - off >= 16) {
        if (be64(fdt->blob + off) == 0 && be64(fdt->blob + off + 8) == 0) {
            return KEEL_OK;
        }
        off += 16;
    }
    return KEEL_ECORRUPT;
}

/* Walk every token once: nesting, order (properties before children), single root. */
static kstatus_t check_struct(const struct fdt *fdt) {
    bool child_seen[FDT_MAX_DEPTH];
    uint32_t depth = 0;
    uint32_t off = fdt->struct_off;
    bool root_seen = false;

    for (;;) {
        uint32_t next;
        uint32_t tag = next_token(fdt, off, &next);

        switch (tag) {
        case FDT_BEGIN_NODE: {
            const char *name = (const char *)fdt->blob + off + 4;

            if (depth >= FDT_MAX_DEPTH || (depth == 0 && root_seen)) {
                return KEEL_ECORRUPT;
            }
            if ((depth == 0) != (name[0] == '\0')) {
                return KEEL_ECORRUPT; /* the root is nameless, every other node named */
            }
            if (depth > 0) {
                child_seen[depth - 1] = true;
            }
            child_seen[depth++] = false;
            root_seen = true;
            break;
        }
        case FDT_PROP:
            if (depth == 0 || child_seen[depth - 1]) {
                return KEEL_ECORRUPT;
            }
            break;
        case FDT_END_NODE:
            if (depth == 0) {
                return KEEL_ECORRUPT;
            }
            depth--;
            break;
        case FDT_NOP:
            break;
        case FDT_END:
            return depth == 0 && root_seen ? KEEL_OK : KEEL_ECORRUPT;
        default:
            return KEEL_ECORRUPT;
        }
        off = next;
    }
}

/* True if [off, off+len) lies inside [FDT_HDR_SIZE, total). */
static bool block_ok(uint32_t off, uint32_t len, uint32_t total) {
    return off >= FDT_HDR_SIZE && off <= total && len <= total - off;
}

kstatus_t fdt_init(struct fdt *fdt, const void *blob, size_t size) {
    const uint8_t *b = blob;
    uint32_t total;

    if (b == NULL || size < FDT_HDR_SIZE || be32(b + FDT_HDR_MAGIC) != FDT_MAGIC) {
        return KEEL_ECORRUPT;
    }
    total = be32(b + FDT_HDR_TOTALSIZE);
    if (total < FDT_HDR_SIZE || total > size) {
        return KEEL_ECORRUPT;
    }
    /* v17 layout; a blob may be newer as long as it stays readable by a v17 reader. */
    if (be32(b + FDT_HDR_VERSION) < 17 || be32(b + FDT_HDR_LAST_COMP) > 17) {
        return KEEL_ECORRUPT;
    }
    *fdt = (struct fdt){
        .blob = b,
        .total_size = total,
        .struct_off = be32(b + FDT_HDR_OFF_STRUCT),
        .struct_size = be32(b + FDT_HDR_SIZE_STRUCT),
        .strings_off = be32(b + FDT_HDR_OFF_STRINGS),
        .strings_size = be32(b + FDT_HDR_SIZE_STRINGS),
        .rsvmap_off = be32(b + FDT_HDR_OFF_RSVMAP),
        .boot_cpuid = be32(b + FDT_HDR_BOOT_CPUID),
    };
    if (!block_ok(fdt->struct_off, fdt->struct_size, total) ||
        !block_ok(fdt->strings_off, fdt->strings_size, total) ||
        !block_ok(fdt->rsvmap_off, 0, total)) {
        return KEEL_ECORRUPT;
    }
    if ((fdt->struct_off & 3) != 0 || (fdt->struct_size & 3) != 0 || (fdt->rsvmap_off & 7) != 0) {
        return KEEL_ECORRUPT;
    }
    if (check_rsvmap(fdt) != KEEL_OK || check_struct(fdt) != KEEL_OK) {
        return KEEL_ECORRUPT;
    }
    return KEEL_OK;
}

/* True if `node` is the offset of a BEGIN_NODE token; *first_prop gets the next token. */
static bool node_ok(const struct fdt *fdt, fdt_node_t node, uint32_t *first) {
    return node != FDT_NONE && next_token(fdt, node, first) == FDT_BEGIN_NODE;
}

fdt_node_t fdt_root(const struct fdt *fdt) {
    uint32_t off = fdt->struct_off;
    uint32_t next;
    uint32_t tag;

    while ((tag = next_token(fdt, off, &next)) == FDT_NOP) {
        off = next;
    }
    return tag == FDT_BEGIN_NODE ? off : FDT_NONE;
}

fdt_node_t fdt_next_node(const struct fdt *fdt, fdt_node_t node, int *depth) {
    int d = 0;
    uint32_t off;

    if (!node_ok(fdt, node, &off)) {
        return FDT_NONE;
    }
    d = 1; /* inside `node` */
    for (;;) {
        uint32_t next;
        uint32_t tag = next_token(fdt, off, &next);

        if (tag == FDT_BEGIN_NODE) {
            if (depth != NULL) {
                *depth += d;
            }
            return off;
        }
        if (tag == FDT_END_NODE) {
            d--;
        } else if (tag != FDT_PROP && tag != FDT_NOP) {
            return FDT_NONE;
        }
        off = next;
    }
}

fdt_node_t fdt_first_child(const struct fdt *fdt, fdt_node_t node) {
    int d = 0;
    fdt_node_t n = fdt_next_node(fdt, node, &d);

    return d == 1 ? n : FDT_NONE;
}

fdt_node_t fdt_next_sibling(const struct fdt *fdt, fdt_node_t node) {
    int d = 0;
    fdt_node_t n = node;

    for (;;) {
        n = fdt_next_node(fdt, n, &d);
        if (n == FDT_NONE || d < 0) {
            return FDT_NONE;
        }
        if (d == 0) {
            return n;
        }
    }
}

fdt_node_t fdt_parent(const struct fdt *fdt, fdt_node_t node) {
    fdt_node_t stack[FDT_MAX_DEPTH];
    fdt_node_t n = fdt_root(fdt);
    int d = 0;

    while (n != FDT_NONE && d >= 0 && d < FDT_MAX_DEPTH) {
        stack[d] = n;
        if (n == node) {
            return d > 0 ? stack[d - 1] : FDT_NONE;
        }
        n = fdt_next_node(fdt, n, &d);
    }
    return FDT_NONE;
}

const char *fdt_node_name(const struct fdt *fdt, fdt_node_t node) {
    uint32_t first;

    if (!node_ok(fdt, node, &first)) {
        return "";
    }
    return (const char *)fdt->blob + node + 4;
}

kstatus_t fdt_get_prop(const struct fdt *fdt, fdt_node_t node, const char *name, const void **val,
                       uint32_t *len) {
    uint32_t off;

    if (!node_ok(fdt, node, &off)) {
        return KEEL_ENOTFOUND;
    }
    for (;;) {
        uint32_t next;
        uint32_t tag = next_token(fdt, off, &next);

        if (tag == FDT_PROP) {
            const char *pname = string_at(fdt, be32(fdt->blob + off + 8));

            if (pname != NULL && strcmp(pname, name) == 0) {
                *val = fdt->blob + off + 12;
                *len = be32(fdt->blob + off + 4);
                return KEEL_OK;
            }
        } else if (tag != FDT_NOP) {
            return KEEL_ENOTFOUND;
        }
        off = next;
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
    *out = be32(v);
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
    if (bounded_strlen(v, len) < 0) {
        return KEEL_ECORRUPT;
    }
    *out = v;
    return KEEL_OK;
}

uint64_t fdt_read_cells(const void *p, uint32_t cells) {
    if (cells == 1) {
        return be32(p);
    }
    if (cells == 2) {
        return be64(p);
    }
    return 0;
}

/* True if string-list property `name` of `node` contains `s`. */
static bool list_contains(const struct fdt *fdt, fdt_node_t node, const char *name, const char *s) {
    const uint8_t *v;
    const void *pv;
    uint32_t len;

    if (fdt_get_prop(fdt, node, name, &pv, &len) != KEEL_OK) {
        return false;
    }
    v = pv;
    for (uint32_t i = 0; i < len;) {
        int64_t n = bounded_strlen(v + i, len - i);

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
    return list_contains(fdt, node, "compatible", compat);
}

bool fdt_is_enabled(const struct fdt *fdt, fdt_node_t node) {
    const char *s;

    if (fdt_get_string(fdt, node, "status", &s) != KEEL_OK) {
        return true;
    }
    return strcmp(s, "okay") == 0 || strcmp(s, "ok") == 0;
}

kstatus_t fdt_find_compatible(const struct fdt *fdt, fdt_node_t from, const char *compat,
                              fdt_node_t *out) {
    fdt_node_t n = from == FDT_NONE ? fdt_root(fdt) : fdt_next_node(fdt, from, NULL);

    for (; n != FDT_NONE; n = fdt_next_node(fdt, n, NULL)) {
        if (fdt_is_compatible(fdt, n, compat)) {
            *out = n;
            return KEEL_OK;
        }
    }
    return KEEL_ENOTFOUND;
}

kstatus_t fdt_find_phandle(const struct fdt *fdt, uint32_t phandle, fdt_node_t *out) {
    if (phandle == 0 || phandle == UINT32_MAX) {
        return KEEL_ENOTFOUND; /* reserved values (spec 2.3.3) */
    }
    for (fdt_node_t n = fdt_root(fdt); n != FDT_NONE; n = fdt_next_node(fdt, n, NULL)) {
        uint32_t v;

        if ((fdt_get_u32(fdt, n, "phandle", &v) == KEEL_OK && v == phandle) ||
            (fdt_get_u32(fdt, n, "linux,phandle", &v) == KEEL_OK && v == phandle)) {
            *out = n;
            return KEEL_OK;
        }
    }
    return KEEL_ENOTFOUND;
}

/* Does node name `name` match path component comp[0..len)? "cpu" matches "cpu@0". */
static bool component_matches(const char *name, const char *comp, size_t len, bool exact) {
    if (strncmp(name, comp, len) != 0) {
        return false;
    }
    return name[len] == '\0' || (!exact && name[len] == '@');
}

/* fdt_find_path() on the first `plen` bytes of path. */
static kstatus_t find_path_n(const struct fdt *fdt, const char *path, size_t plen,
                             fdt_node_t *out) {
    fdt_node_t cur = fdt_root(fdt);
    size_t i = 0;

    if (plen == 0 || path[0] != '/' || cur == FDT_NONE) {
        return KEEL_ENOTFOUND;
    }
    while (i < plen) {
        size_t start;
        size_t len;
        fdt_node_t match = FDT_NONE;
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
        for (int pass = 0; pass < (has_at ? 1 : 2) && match == FDT_NONE; pass++) {
            for (fdt_node_t c = fdt_first_child(fdt, cur); c != FDT_NONE;
                 c = fdt_next_sibling(fdt, c)) {
                if (component_matches(fdt_node_name(fdt, c), path + start, len, pass == 0)) {
                    match = c;
                    break;
                }
            }
        }
        if (match == FDT_NONE) {
            return KEEL_ENOTFOUND;
        }
        cur = match;
        if (i < plen && path[i] == '\0') {
            break;
        }
    }
    *out = cur;
    return KEEL_OK;
}

kstatus_t fdt_find_path(const struct fdt *fdt, const char *path, fdt_node_t *out) {
    return find_path_n(fdt, path, strlen(path), out);
}

kstatus_t fdt_cells(const struct fdt *fdt, fdt_node_t node, uint32_t *addr_cells,
                    uint32_t *size_cells) {
    kstatus_t st;

    *addr_cells = 2;
    *size_cells = 1;
    st = fdt_get_u32(fdt, node, "#address-cells", addr_cells);
    if (st != KEEL_OK && st != KEEL_ENOTFOUND) {
        return st;
    }
    st = fdt_get_u32(fdt, node, "#size-cells", size_cells);
    if (st != KEEL_OK && st != KEEL_ENOTFOUND) {
        return st;
    }
    if (*addr_cells > 4 || *size_cells > 4) {
        return KEEL_ECORRUPT;
    }
    return KEEL_OK;
}

kstatus_t fdt_get_reg(const struct fdt *fdt, fdt_node_t node, uint32_t index, uint64_t *addr,
                      uint64_t *size) {
    fdt_node_t parent = fdt_parent(fdt, node);
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

kstatus_t fdt_stdout_node(const struct fdt *fdt, fdt_node_t *out) {
    fdt_node_t chosen, aliases;
    const char *path;
    size_t len = 0;
    uint32_t off, next;

    if (fdt_find_path(fdt, "/chosen", &chosen) != KEEL_OK ||
        (fdt_get_string(fdt, chosen, "stdout-path", &path) != KEEL_OK &&
         fdt_get_string(fdt, chosen, "linux,stdout-path", &path) != KEEL_OK)) {
        return KEEL_ENOTFOUND;
    }
    while (path[len] != '\0' && path[len] != ':') {
        len++;
    }
    if (len > 0 && path[0] == '/') {
        return find_path_n(fdt, path, len, out);
    }
    /* An alias: a property of /aliases whose name is the whole alias, value a path. */
    if (len == 0 || fdt_find_path(fdt, "/aliases", &aliases) != KEEL_OK ||
        !node_ok(fdt, aliases, &off)) {
        return KEEL_ENOTFOUND;
    }
    for (;; off = next) {
        uint32_t tag = next_token(fdt, off, &next);
        const char *name;
        const char *value;
        uint32_t vlen;

        if (tag == FDT_NOP) {
            continue;
        }
        if (tag != FDT_PROP) {
            return KEEL_ENOTFOUND;
        }
        name = string_at(fdt, be32(fdt->blob + off + 8));
        if (name != NULL && strncmp(name, path, len) == 0 && name[len] == '\0') {
            value = (const char *)fdt->blob + off + 12;
            vlen = be32(fdt->blob + off + 4);
            if (bounded_strlen((const uint8_t *)value, vlen) < 0) {
                return KEEL_ECORRUPT;
            }
            return find_path_n(fdt, value, strlen(value), out);
        }
    }
}
