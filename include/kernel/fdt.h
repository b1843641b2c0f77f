/* SPDX-License-Identifier: MIT */
/*
 * Flattened device tree (DTB, version 17) reader. fdt_init() validates the whole blob
 * once (header, memory reservation block, every token, name and property), so a blob
 * that passed can be queried without further checks; the queries stay bounds-checked
 * anyway. Nodes are named by the offset of their BEGIN_NODE token in the struct block.
 */
#ifndef KERNEL_FDT_H
#define KERNEL_FDT_H

#include <kernel/boot_info.h>

#define FDT_MAGIC     0xd00dfeedu
#define FDT_MAX_DEPTH 32 /* deeper nesting is rejected as corrupt */
#define FDT_NONE      UINT32_MAX

/* A validated blob. Fields are private to src/boot/fdt*.c; callers only pass it around. */
struct fdt {
    const uint8_t *blob;
    uint32_t total_size;
    uint32_t struct_off, struct_size;
    uint32_t strings_off, strings_size;
    uint32_t rsvmap_off;
    uint32_t boot_cpuid;
    uint32_t strings_ok; /* name offsets below this are NUL-terminated inside the block */
    uint32_t root;       /* offset of the root node; FDT_NONE until fdt_init() succeeds */
};

/* A node: the byte offset of its BEGIN_NODE token within the blob; FDT_NONE = none. */
typedef uint32_t fdt_node_t;

/*
 * Validate `blob` (size bytes readable) and fill *fdt. KEEL_ECORRUPT on any malformed
 * header, block, token, name, property or nesting deeper than FDT_MAX_DEPTH (then *fdt
 * is an empty tree: every query finds nothing); never reads outside [blob, blob+size).
 * One pass over the struct block. Any context.
 */
__must_check kstatus_t fdt_init(struct fdt *fdt, const void *blob, size_t size);

/* The root node of a validated blob (O(1)); FDT_NONE after a failed fdt_init(). */
fdt_node_t fdt_root(const struct fdt *fdt);

/*
 * The node after `node` in document order, or FDT_NONE at the end. *depth (may be NULL)
 * is adjusted by the nesting change: +1 for a child, 0 for a sibling, negative upwards.
 */
fdt_node_t fdt_next_node(const struct fdt *fdt, fdt_node_t node, int *depth);

/* First child / next sibling of `node`; FDT_NONE when there is none. */
fdt_node_t fdt_first_child(const struct fdt *fdt, fdt_node_t node);
fdt_node_t fdt_next_sibling(const struct fdt *fdt, fdt_node_t node);

/* The parent of `node` (O(nodes)); FDT_NONE for the root. */
fdt_node_t fdt_parent(const struct fdt *fdt, fdt_node_t node);

/* The node's name with unit address ("memory@40000000"; "" for the root). */
const char *fdt_node_name(const struct fdt *fdt, fdt_node_t node);

/*
 * Find a node by absolute path ("/cpus/cpu@0"); a component without '@' matches an exact
 * name first, else the first name with a unit address ("/memory" -> "memory@40000000").
 * KEEL_ENOTFOUND if absent.
 */
__must_check kstatus_t fdt_find_path(const struct fdt *fdt, const char *path, fdt_node_t *out);

/*
 * The first node after `from` (FDT_NONE: from the start) in document order whose
 * "compatible" list holds `compat`. KEEL_ENOTFOUND if none.
 */
__must_check kstatus_t fdt_find_compatible(const struct fdt *fdt, fdt_node_t from,
                                           const char *compat, fdt_node_t *out);

/* True if `node`'s "compatible" string list contains `compat`. */
bool fdt_is_compatible(const struct fdt *fdt, fdt_node_t node, const char *compat);

/* True unless `node` has a "status" other than "okay"/"ok". */
bool fdt_is_enabled(const struct fdt *fdt, fdt_node_t node);

/* The node with "phandle" (or "linux,phandle") `phandle`. KEEL_ENOTFOUND if none. */
__must_check kstatus_t fdt_find_phandle(const struct fdt *fdt, uint32_t phandle, fdt_node_t *out);

/* Property `name` of `node`: *val points into the blob, *len bytes. KEEL_ENOTFOUND. */
__must_check kstatus_t fdt_get_prop(const struct fdt *fdt, fdt_node_t node, const char *name,
                                    const void **val, uint32_t *len);

/* A one-cell property. KEEL_ENOTFOUND if absent, KEEL_ECORRUPT if not 4 bytes. */
__must_check kstatus_t fdt_get_u32(const struct fdt *fdt, fdt_node_t node, const char *name,
                                   uint32_t *out);

/* A one- or two-cell property. KEEL_ENOTFOUND if absent, KEEL_ECORRUPT if not 4/8 bytes. */
__must_check kstatus_t fdt_get_u64(const struct fdt *fdt, fdt_node_t node, const char *name,
                                   uint64_t *out);

/* A string property, NUL-terminated inside its value. KEEL_ENOTFOUND / KEEL_ECORRUPT. */
__must_check kstatus_t fdt_get_string(const struct fdt *fdt, fdt_node_t node, const char *name,
                                      const char **out);

/* Read `cells` (1 or 2) big-endian cells at p as one number; larger counts return 0. */
uint64_t fdt_read_cells(const void *p, uint32_t cells);

/*
 * #address-cells / #size-cells that `node` sets for its children (defaults 2 and 1).
 * KEEL_ECORRUPT if a property is not one cell or a value is above 4.
 */
__must_check kstatus_t fdt_cells(const struct fdt *fdt, fdt_node_t node, uint32_t *addr_cells,
                                 uint32_t *size_cells);

/*
 * Entry `index` of `node`'s "reg", decoded with its parent's cells (no "ranges"
 * translation: on the supported machines reg addresses are physical).
 * KEEL_ENOTFOUND: no reg or index past the end. KEEL_ECORRUPT: bad cells or length.
 * KEEL_ENOTSUP: more than 2 address or size cells (e.g. PCI), or 0 address cells.
 */
__must_check kstatus_t fdt_get_reg(const struct fdt *fdt, fdt_node_t node, uint32_t index,
                                   uint64_t *addr, uint64_t *size);

/*
 * The console node named by /chosen "stdout-path" (or "linux,stdout-path"), resolving an
 * /aliases name and ignoring ":options". KEEL_ENOTFOUND if unset or unresolvable.
 */
__must_check kstatus_t fdt_stdout_node(const struct fdt *fdt, fdt_node_t *out);

/*
 * Fill bi from the device tree at `blob` (size bytes readable, physical address
 * blob_phys): memory (MEM_USABLE), /memreserve/ and /reserved-memory (MEM_RESERVED),
 * the blob itself (MEM_DTB), initrd (MEM_INITRD), bootargs, CPUs, console, interrupt
 * controller, timer frequency, PSCI method, power-off device, NUMA node ids; then
 * memmap_normalize(). Adds to what bi already holds (e.g. MEM_KERNEL).
 * KEEL_ECORRUPT: malformed blob or property; KEEL_ERANGE: bootargs longer than
 * BOOT_CMDLINE_MAX-1 or a numa-node-id >= BOOT_MAX_NUMA_NODES; KEEL_EEXHAUSTED: a
 * non-usable region did not fit in the map. Boot only, single-threaded.
 */
__must_check kstatus_t fdt_parse_boot_info(const void *blob, size_t size, uint64_t blob_phys,
                                           struct boot_info *bi);

#endif /* KERNEL_FDT_H */
