/* SPDX-License-Identifier: MIT */
/*
 * What the device tree reader's files share and nobody else sees: token decoding and the
 * one validating walk (fdt.c), lookups that also hand back the parent so that "reg" needs
 * no second search (fdt_query.c), and the notes fdt_parse_boot_info() takes during the
 * walk (fdt_scan.c). Host tests include it too (test_fdt_equiv.c).
 */
#ifndef BOOT_FDT_INTERNAL_H
#define BOOT_FDT_INTERNAL_H

#include <kernel/fdt.h>

/* Struct block tokens (spec 5.4.1); each is a 4-byte aligned big-endian u32. */
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE   2u
#define FDT_PROP       3u
#define FDT_NOP        4u
#define FDT_END        9u
#define FDT_BAD        0u /* not a token: malformed or out of bounds */

static inline uint32_t fdt_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t fdt_be64(const uint8_t *p) {
    return (uint64_t)fdt_be32(p) << 32 | fdt_be32(p + 4);
}

/* Length of the NUL-terminated string at p within `avail` bytes, or -1 if unterminated. */
int64_t fdt_strnlen(const uint8_t *p, uint32_t avail);

/*
 * The property name at strings-block offset nameoff, or NULL if out of bounds. fdt_init()
 * found the block's last NUL, so a name is terminated exactly when it starts at or before
 * that NUL: one comparison instead of a scan.
 */
static inline const char *fdt_string_at(const struct fdt *fdt, uint32_t nameoff) {
    if (nameoff >= fdt->strings_ok) {
        return NULL;
    }
    return (const char *)fdt->blob + fdt->strings_off + nameoff;
}

/*
 * Decode the token at blob offset `off`; *next gets the offset after it. For FDT_PROP the
 * len/nameoff words are at off + 4 and the value at off + 12. Returns FDT_BAD for
 * anything outside the struct block or malformed. Any context.
 */
uint32_t fdt_token(const struct fdt *fdt, uint32_t off, uint32_t *next);

/* A decoded token: the offset after it; for FDT_PROP also its value length and name. */
struct fdt_tok {
    uint32_t next;
    uint32_t len;     /* FDT_PROP: value bytes, at token offset + 12 */
    uint32_t nameoff; /* FDT_PROP: name offset, checked below fdt->strings_ok */
};

/*
 * fdt_token(), inlined into the loops that run over every token (the validating walk,
 * property lookups). The struct block's offset and size are 4-aligned (fdt_init
 * checks), so an aligned `off` below its end has 4 bytes left.
 */
static __always_inline uint32_t fdt_decode(const struct fdt *fdt, uint32_t off, struct fdt_tok *t) {
    uint32_t end = fdt->struct_off + fdt->struct_size;
    uint32_t tag;

    if ((off & 3) != 0 || off - fdt->struct_off >= fdt->struct_size) {
        return FDT_BAD; /* also off < struct_off: the subtraction wraps */
    }
    tag = fdt_be32(fdt->blob + off);
    off += 4;
    switch (tag) {
    case FDT_PROP:
        if (end - off < 8) {
            return FDT_BAD;
        }
        t->len = fdt_be32(fdt->blob + off);
        t->nameoff = fdt_be32(fdt->blob + off + 4);
        if (t->nameoff >= fdt->strings_ok) {
            return FDT_BAD; /* name outside the strings block or unterminated there */
        }
        off += 8;
        if (t->len > end - off) {
            return FDT_BAD;
        }
        off = ALIGN_UP(off + t->len, 4u); /* end is 4-aligned: stays <= end */
        break;
    case FDT_BEGIN_NODE:
        /*
         * The name starts 4-aligned and is padded to 4 bytes, and `end` is 4-aligned, so
         * reading it a word at a time stays inside the block; the word holding its NUL
         * is the last one.
         */
        for (;;) {
            const uint8_t *w = fdt->blob + off;

            if (off >= end) {
                return FDT_BAD;
            }
            off += 4;
            if (w[0] == 0 || w[1] == 0 || w[2] == 0 || w[3] == 0) {
                break;
            }
        }
        break;
    case FDT_END_NODE:
    case FDT_NOP:
    case FDT_END:
        break;
    default:
        return FDT_BAD;
    }
    t->next = off;
    return tag;
}

/* True if `node` is the offset of a BEGIN_NODE token; *first gets the next token. */
bool fdt_node_ok(const struct fdt *fdt, fdt_node_t node, uint32_t *first);

/* What the node walk tells about each node: its first property of each name below. */
struct fdt_node_info {
    fdt_node_t node;
    fdt_node_t parent; /* FDT_NONE for the root */
    uint32_t depth;    /* 0 for the root */
    const char *name;
    const uint8_t *compatible; /* NULL: no "compatible" */
    uint32_t compatible_len;
    const char *device_type; /* NULL: absent or not a terminated string */
    bool enabled;            /* as fdt_is_enabled() */
    bool has_phandle;        /* "phandle" of 4 bytes: value in phandle */
    bool has_linux_phandle;  /* "linux,phandle" of 4 bytes: value in linux_phandle */
    uint32_t phandle;
    uint32_t linux_phandle;
};

typedef kstatus_t (*fdt_visit_fn)(const struct fdt *fdt, const struct fdt_node_info *info,
                                  void *ctx);

/*
 * fdt_init() that also calls visit() once per node in document order, from the same one
 * pass that validates the struct block. visit() may run before a later part of the blob
 * is found corrupt, so it must only take notes in ctx. Returns KEEL_ECORRUPT as
 * fdt_init(), or the first non-KEEL_OK status of visit() (the walk stops there).
 */
__must_check kstatus_t fdt_init_walk(struct fdt *fdt, const void *blob, size_t size,
                                     fdt_visit_fn visit, void *ctx);

/*
 * The child of `node` named comp[0..len): an exact name first, else (unless `exact`) the
 * first name with that stem and a unit address ("cpu" -> "cpu@0"); FDT_NONE if none.
 * fdt_child_named() does it with one pass over node's subtree; a fdt_child_fn may know
 * a faster way (ctx is its own).
 */
typedef fdt_node_t (*fdt_child_fn)(const struct fdt *fdt, const void *ctx, fdt_node_t node,
                                   const char *comp, size_t len, bool exact);
fdt_node_t fdt_child_named(const struct fdt *fdt, const void *ctx, fdt_node_t node,
                           const char *comp, size_t len, bool exact);

/*
 * fdt_find_path() on path[0..plen), finding each component with child() (NULL:
 * fdt_child_named), also giving the node's parent (FDT_NONE for the root).
 * KEEL_ENOTFOUND if absent.
 */
__must_check kstatus_t fdt_find_path_parent(const struct fdt *fdt, const char *path, size_t plen,
                                            fdt_child_fn child, const void *ctx, fdt_node_t *out,
                                            fdt_node_t *parent);

/*
 * fdt_stdout_node() with /chosen already known and /aliases known unless `aliases` is NULL
 * (FDT_NONE: absent), paths resolved as fdt_find_path_parent() with child/ctx; also gives
 * the console node's parent. Errors as fdt_stdout_node().
 */
__must_check kstatus_t fdt_stdout_lookup(const struct fdt *fdt, fdt_node_t chosen,
                                         const fdt_node_t *aliases, fdt_child_fn child,
                                         const void *ctx, fdt_node_t *out, fdt_node_t *parent);

/* fdt_get_reg() for a node whose parent the caller already knows. Same errors. */
__must_check kstatus_t fdt_get_reg_in(const struct fdt *fdt, fdt_node_t parent, fdt_node_t node,
                                      uint32_t index, uint64_t *addr, uint64_t *size);

/* ---- fdt_scan.c: what fdt_parse_boot_info() asks for, noted in the one walk ---- */

/* Children of the root found by path ("/chosen" also matches "chosen@0"). */
enum {
    FDT_TOP_CHOSEN,
    FDT_TOP_CPUS,
    FDT_TOP_RESERVED,
    FDT_TOP_ALIASES,
    FDT_TOP_PSCI,
    FDT_TOP_COUNT
};

/* Compatible strings whose first node in document order is looked up. */
enum {
    FDT_C_GICV3,
    FDT_C_GIC400,
    FDT_C_A15_GIC,
    FDT_C_PLIC,
    FDT_C_PLIC0,
    FDT_C_TIMER,
    FDT_C_PSCI,
    FDT_C_PSCI02,
    FDT_C_SYSCON_OFF,
    FDT_C_TEST1,
    FDT_C_TEST0,
    FDT_C_NS16550A, /* from here on: the UARTs we drive */
    FDT_C_NS16550,
    FDT_C_PL011,
    FDT_C_COUNT
};

/* A node and its parent (for "reg"); node FDT_NONE: not found. */
struct fdt_found {
    fdt_node_t node, parent;
};

/*
 * The node index: up to FDT_SCAN_NODES nodes in document order with sibling links, so
 * paths and child lists need no walk. A bigger tree sets nodes_overflow and the lookups
 * fall back to walking the blob. The whole scan is about 2 KiB of the 16 KiB boot stack.
 */
#define FDT_SCAN_NODES    128
#define FDT_SCAN_PHANDLES 32
#define FDT_SCAN_NO_NODE  0xffffu

struct fdt_scan_node {
    uint32_t node;
    uint16_t next;  /* index of the next sibling; FDT_SCAN_NO_NODE: none */
    uint8_t depth;  /* 0 for the root */
    uint8_t memory; /* a root child with device_type "memory", enabled */
};

struct fdt_scan {
    struct fdt_found top[FDT_TOP_COUNT];      /* exact name */
    struct fdt_found top_unit[FDT_TOP_COUNT]; /* first "name@unit" */
    struct fdt_found compat[FDT_C_COUNT];
    struct fdt_found uart; /* first enabled node compatible with a UART we drive */
    uint32_t compat_first; /* bit c - 'a': a wanted compatible string starts with c */
    struct fdt_scan_node nodes[FDT_SCAN_NODES];
    uint16_t last_at[FDT_MAX_DEPTH + 1]; /* latest node index at each depth, for links */
    uint32_t node_count;
    bool nodes_overflow;
    bool ph_overflow; /* more phandles than ph[] holds: look further in the blob */
    uint32_t ph_count;
    struct {
        struct fdt_found f;
        bool has_phandle, has_linux_phandle;
        uint32_t phandle, linux_phandle;
    } ph[FDT_SCAN_PHANDLES]; /* nodes with a phandle, in document order */
};

/* An empty scan, before fdt_init_walk(..., fdt_scan_visit, sc). */
void fdt_scan_init(struct fdt_scan *sc);

/* The fdt_visit_fn that fills a struct fdt_scan (ctx). Only takes notes; KEEL_OK. */
kstatus_t fdt_scan_visit(const struct fdt *fdt, const struct fdt_node_info *info, void *ctx);

/* The root child a path like "/chosen" names: the exact name, else the first with a unit. */
struct fdt_found fdt_scan_top(const struct fdt_scan *sc, int k);

/* The child of `parent` after `prev` (FDT_NONE: the first child); FDT_NONE at the end. */
fdt_node_t fdt_scan_child(const struct fdt *fdt, const struct fdt_scan *sc, fdt_node_t parent,
                          fdt_node_t prev);

/* The fdt_child_fn over the node index (ctx: the scan); fdt_child_named() if partial. */
fdt_node_t fdt_scan_child_named(const struct fdt *fdt, const void *ctx, fdt_node_t node,
                                const char *comp, size_t len, bool exact);

/* The first node with this phandle, as fdt_find_phandle(), and its parent. KEEL_ENOTFOUND. */
__must_check kstatus_t fdt_scan_phandle(const struct fdt *fdt, const struct fdt_scan *sc,
                                        uint32_t phandle, struct fdt_found *out);

/* fdt_stdout_node() and the node's parent, from the scan. KEEL_ENOTFOUND / KEEL_ECORRUPT. */
__must_check kstatus_t fdt_scan_stdout(const struct fdt *fdt, const struct fdt_scan *sc,
                                       struct fdt_found *out);

/*
 * NUMA distances from a "numa-distance-map-v1" node into bi->numa (absent: unchanged).
 * KEEL_ECORRUPT for a malformed matrix, KEEL_ERANGE for a node id past
 * BOOT_MAX_NUMA_NODES. Call after the memory and CPU nodes are parsed.
 */
__must_check kstatus_t fdt_parse_distance_map(const struct fdt *fdt, struct boot_info *bi);

#endif /* BOOT_FDT_INTERNAL_H */
