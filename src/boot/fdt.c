/* SPDX-License-Identifier: MIT */
/*
 * Flattened device tree reader: validation of an untrusted DTB, token decoding and node
 * navigation. The blob comes from firmware or a boot loader and is treated as hostile:
 * every read is bounds-checked against the header's blocks, which are themselves checked
 * against the buffer. Layout facts: devicetree-specification v0.4, chapter 5 (DTB format).
 * Property queries and lookups are in fdt_query.c.
 */
#include "fdt_internal.h"

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

int64_t fdt_strnlen(const uint8_t *p, uint32_t avail) {
    for (uint32_t i = 0; i < avail; i++) {
        if (p[i] == '\0') {
            return i;
        }
    }
    return -1;
}

uint32_t fdt_token(const struct fdt *fdt, uint32_t off, uint32_t *next) {
    struct fdt_tok t = {0, 0, 0};
    uint32_t tag = fdt_decode(fdt, off, &t);

    if (tag != FDT_BAD) {
        *next = t.next;
    }
    return tag;
}

/* Check that the memory reservation block is in bounds and terminated. */
static kstatus_t check_rsvmap(const struct fdt *fdt) {
    uint32_t off = fdt->rsvmap_off;

    while (fdt->total_size - off >= 16) {
        if (fdt_be64(fdt->blob + off) == 0 && fdt_be64(fdt->blob + off + 8) == 0) {
            return KEEL_OK;
        }
        off += 16;
    }
    return KEEL_ECORRUPT;
}

/* Property-name kinds the walk records. */
enum {
    PROP_OTHER,
    PROP_COMPATIBLE,
    PROP_DEVICE_TYPE,
    PROP_STATUS,
    PROP_PHANDLE,
    PROP_LPHANDLE,
    PROP_KINDS
};
static const char *const prop_names[PROP_KINDS] = {
    NULL, "compatible", "device_type", "status", "phandle", "linux,phandle",
};

/*
 * The kind of the property named at nameoff. The first letter rules out most names; a
 * name once confirmed is known by its offset (known[kind]) from then on, since dtc stores
 * each name once, so strcmp runs about once per kind and blob.
 */
static int prop_kind(const struct fdt *fdt, uint32_t nameoff, uint32_t *known) {
    const char *name = fdt_string_at(fdt, nameoff);
    int kind;

    if (name == NULL) {
        return PROP_OTHER; /* fdt_decode() already refused such a name */
    }
    switch (name[0]) {
    case 'c':
        kind = PROP_COMPATIBLE;
        break;
    case 'd':
        kind = PROP_DEVICE_TYPE;
        break;
    case 's':
        kind = PROP_STATUS;
        break;
    case 'p':
        kind = PROP_PHANDLE;
        break;
    case 'l':
        kind = PROP_LPHANDLE;
        break;
    default:
        return PROP_OTHER;
    }
    if (known[kind] == nameoff) {
        return kind;
    }
    if (strcmp(name, prop_names[kind]) != 0) {
        return PROP_OTHER;
    }
    known[kind] = nameoff;
    return kind;
}

/* Fold the property at `off` (decoded as t) into info; only a name's first counts. */
static void note_prop(const struct fdt *fdt, uint32_t off, const struct fdt_tok *t,
                      struct fdt_node_info *info, uint32_t *seen, uint32_t *known) {
    const uint8_t *val = fdt->blob + off + 12;
    uint32_t len = t->len;
    int kind = prop_kind(fdt, t->nameoff, known);

    if (kind == PROP_OTHER || (*seen & (1u << kind)) != 0) {
        return;
    }
    *seen |= 1u << kind;
    switch (kind) {
    case PROP_COMPATIBLE:
        info->compatible = val;
        info->compatible_len = len;
        break;
    case PROP_DEVICE_TYPE:
        info->device_type = fdt_strnlen(val, len) >= 0 ? (const char *)val : NULL;
        break;
    case PROP_STATUS: /* an unterminated status reads as absent, as in fdt_is_enabled() */
        if (fdt_strnlen(val, len) >= 0) {
            info->enabled =
                strcmp((const char *)val, "okay") == 0 || strcmp((const char *)val, "ok") == 0;
        }
        break;
    case PROP_PHANDLE:
        info->has_phandle = len == 4;
        info->phandle = len == 4 ? fdt_be32(val) : 0;
        break;
    default:
        info->has_linux_phandle = len == 4;
        info->linux_phandle = len == 4 ? fdt_be32(val) : 0;
        break;
    }
}

/*
 * The one validating pass over the struct block: only known tokens, balanced nesting no
 * deeper than FDT_MAX_DEPTH, one nameless root, every other node named, properties before
 * children. Records the root in fdt->root. With `visit`, reports each node once its
 * properties are known (before the rest of the blob is checked).
 */
static kstatus_t walk_struct(struct fdt *fdt, fdt_visit_fn visit, void *ctx) {
    fdt_node_t stack[FDT_MAX_DEPTH];
    struct fdt_node_info info;
    uint32_t known[PROP_KINDS] = {UINT32_MAX, UINT32_MAX, UINT32_MAX,
                                  UINT32_MAX, UINT32_MAX, UINT32_MAX};
    uint32_t depth = 0, seen = 0;
    uint32_t off = fdt->struct_off;
    fdt_node_t root = FDT_NONE;
    bool open = false; /* the node begun last still takes properties: no child yet */

    for (;;) {
        struct fdt_tok t = {0, 0, 0};
        uint32_t tag = fdt_decode(fdt, off, &t);
        kstatus_t st;

        switch (tag) {
        case FDT_PROP:
            if (!open) {
                return KEEL_ECORRUPT; /* after a child, or outside the root */
            }
            if (visit != NULL) {
                note_prop(fdt, off, &t, &info, &seen, known);
            }
            break;
        case FDT_NOP:
            break;
        case FDT_BEGIN_NODE: {
            const char *name = (const char *)fdt->blob + off + 4;

            if (depth >= FDT_MAX_DEPTH || (depth == 0 && root != FDT_NONE)) {
                return KEEL_ECORRUPT;
            }
            if ((depth == 0) != (name[0] == '\0')) {
                return KEEL_ECORRUPT; /* the root is nameless, every other node named */
            }
            if (visit != NULL) {
                if (open && (st = visit(fdt, &info, ctx)) != KEEL_OK) {
                    return st;
                }
                /* Field by field: a compound literal may become a memset call. */
                info.node = off;
                info.parent = depth > 0 ? stack[depth - 1] : FDT_NONE;
                info.depth = depth;
                info.name = name;
                info.compatible = NULL;
                info.compatible_len = 0;
                info.device_type = NULL;
                info.enabled = true;
                info.has_phandle = info.has_linux_phandle = false;
                info.phandle = info.linux_phandle = 0;
                seen = 0;
            }
            if (depth == 0) {
                root = off;
            }
            stack[depth++] = off;
            open = true;
            break;
        }
        case FDT_END_NODE:
            if (depth == 0) {
                return KEEL_ECORRUPT;
            }
            if (visit != NULL && open && (st = visit(fdt, &info, ctx)) != KEEL_OK) {
                return st;
            }
            depth--;
            open = false;
            break;
        case FDT_END:
            if (depth != 0 || root == FDT_NONE) {
                return KEEL_ECORRUPT;
            }
            fdt->root = root;
            return KEEL_OK;
        default:
            return KEEL_ECORRUPT;
        }
        off = t.next;
    }
}

/* True if [off, off+len) lies inside [FDT_HDR_SIZE, total). */
static bool block_ok(uint32_t off, uint32_t len, uint32_t total) {
    return off >= FDT_HDR_SIZE && off <= total && len <= total - off;
}

/* Bytes of the strings block up to and including its last NUL (0 if it has none). */
static uint32_t strings_terminated(const struct fdt *fdt) {
    const uint8_t *s = fdt->blob + fdt->strings_off;

    for (uint32_t n = fdt->strings_size; n > 0; n--) {
        if (s[n - 1] == '\0') {
            return n;
        }
    }
    return 0;
}

kstatus_t fdt_init_walk(struct fdt *fdt, const void *blob, size_t size, fdt_visit_fn visit,
                        void *ctx) {
    const uint8_t *b = blob;
    struct fdt f = {.root = FDT_NONE};
    uint32_t total;
    kstatus_t st;

    *fdt = f; /* a failed init leaves an empty tree: every query finds nothing */
    if (b == NULL || size < FDT_HDR_SIZE || fdt_be32(b + FDT_HDR_MAGIC) != FDT_MAGIC) {
        return KEEL_ECORRUPT;
    }
    total = fdt_be32(b + FDT_HDR_TOTALSIZE);
    if (total < FDT_HDR_SIZE || total > size) {
        return KEEL_ECORRUPT;
    }
    /* v17 layout; a blob may be newer as long as it stays readable by a v17 reader. */
    if (fdt_be32(b + FDT_HDR_VERSION) < 17 || fdt_be32(b + FDT_HDR_LAST_COMP) > 17) {
        return KEEL_ECORRUPT;
    }
    f = (struct fdt){
        .blob = b,
        .total_size = total,
        .struct_off = fdt_be32(b + FDT_HDR_OFF_STRUCT),
        .struct_size = fdt_be32(b + FDT_HDR_SIZE_STRUCT),
        .strings_off = fdt_be32(b + FDT_HDR_OFF_STRINGS),
        .strings_size = fdt_be32(b + FDT_HDR_SIZE_STRINGS),
        .rsvmap_off = fdt_be32(b + FDT_HDR_OFF_RSVMAP),
        .boot_cpuid = fdt_be32(b + FDT_HDR_BOOT_CPUID),
        .root = FDT_NONE,
    };
    if (!block_ok(f.struct_off, f.struct_size, total) ||
        !block_ok(f.strings_off, f.strings_size, total) || !block_ok(f.rsvmap_off, 0, total)) {
        return KEEL_ECORRUPT;
    }
    if ((f.struct_off & 3) != 0 || (f.struct_size & 3) != 0 || (f.rsvmap_off & 7) != 0) {
        return KEEL_ECORRUPT;
    }
    f.strings_ok = strings_terminated(&f);
    if (check_rsvmap(&f) != KEEL_OK) {
        return KEEL_ECORRUPT;
    }
    st = walk_struct(&f, visit, ctx);
    if (st != KEEL_OK) {
        return st;
    }
    *fdt = f;
    return KEEL_OK;
}

kstatus_t fdt_init(struct fdt *fdt, const void *blob, size_t size) {
    return fdt_init_walk(fdt, blob, size, NULL, NULL);
}

bool fdt_node_ok(const struct fdt *fdt, fdt_node_t node, uint32_t *first) {
    return node != FDT_NONE && fdt_token(fdt, node, first) == FDT_BEGIN_NODE;
}

fdt_node_t fdt_root(const struct fdt *fdt) {
    return fdt->root;
}

fdt_node_t fdt_next_node(const struct fdt *fdt, fdt_node_t node, int *depth) {
    int d = 1; /* inside `node` */
    uint32_t off;

    if (!fdt_node_ok(fdt, node, &off)) {
        return FDT_NONE;
    }
    for (;;) {
        uint32_t next;
        uint32_t tag = fdt_token(fdt, off, &next);

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

/* One pass over `node`'s subtree to the token after it: a sibling, or its parent's end. */
fdt_node_t fdt_next_sibling(const struct fdt *fdt, fdt_node_t node) {
    uint32_t d = 1; /* inside `node` */
    uint32_t off;

    if (!fdt_node_ok(fdt, node, &off)) {
        return FDT_NONE;
    }
    for (;;) {
        uint32_t next;
        uint32_t tag = fdt_token(fdt, off, &next);

        if (tag == FDT_BEGIN_NODE) {
            if (d == 0) {
                return off;
            }
            d++;
        } else if (tag == FDT_END_NODE) {
            if (d == 0) {
                return FDT_NONE; /* the parent ended first */
            }
            d--;
        } else if (tag != FDT_PROP && tag != FDT_NOP) {
            return FDT_NONE;
        }
        off = next;
    }
}

fdt_node_t fdt_parent(const struct fdt *fdt, fdt_node_t node) {
    fdt_node_t stack[FDT_MAX_DEPTH];
    uint32_t depth = 0;
    uint32_t off = fdt->root;

    if (node == FDT_NONE) {
        return FDT_NONE;
    }
    for (;;) {
        uint32_t next;
        uint32_t tag = fdt_token(fdt, off, &next);

        if (tag == FDT_BEGIN_NODE) {
            if (off == node) {
                return depth > 0 ? stack[depth - 1] : FDT_NONE;
            }
            if (off > node || depth >= FDT_MAX_DEPTH) {
                return FDT_NONE; /* passed it: not a node */
            }
            stack[depth++] = off;
        } else if (tag == FDT_END_NODE) {
            if (depth == 0) {
                return FDT_NONE;
            }
            depth--;
        } else if (tag != FDT_PROP && tag != FDT_NOP) {
            return FDT_NONE;
        }
        off = next;
    }
}

const char *fdt_node_name(const struct fdt *fdt, fdt_node_t node) {
    uint32_t first;

    if (!fdt_node_ok(fdt, node, &first)) {
        return "";
    }
    return (const char *)fdt->blob + node + 4;
}
