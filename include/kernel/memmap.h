/* SPDX-License-Identifier: MIT */
/*
 * The boot memory map in struct boot_info: adding firmware regions, and normalising
 * them into one sorted, non-overlapping list the frame allocator can trust. Every
 * arch's boot code and the FDT/ACPI parsers feed it; nothing here allocates.
 */
#ifndef KERNEL_MEMMAP_H
#define KERNEL_MEMMAP_H

#include <kernel/boot_info.h>

/*
 * Append [base, base+size) of `type` (enum mem_type) on NUMA `node` to bi->mem.
 * KEEL_EINVAL: size 0, base+size overflows 64 bits, or type not an enum mem_type.
 * KEEL_EEXHAUSTED: BOOT_MAX_MEM_REGIONS used; the region is counted in bi->mem_dropped.
 * Boot only, single-threaded.
 */
__must_check kstatus_t memmap_add(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t type,
                                  uint32_t node);

/*
 * Normalise bi->mem in place: sort by base; where regions overlap the higher mem_type
 * wins (equal type: the higher node), splitting regions as needed; merge touching
 * neighbours of equal type and node; shrink MEM_USABLE inward to page boundaries and
 * drop the empty ones. KEEL_EEXHAUSTED if a split found no free slot: a usable piece
 * (or, failing that, the piece itself) was dropped and counted in mem_dropped.
 * Boot only, single-threaded; O(n^2) for n <= BOOT_MAX_MEM_REGIONS, no allocation.
 */
__must_check kstatus_t memmap_normalize(struct boot_info *bi);

/*
 * Give every part of bi->mem inside [base, base+size) NUMA `node`, splitting regions at
 * the range's edges. Leaves the map unsorted: call memmap_normalize() afterwards.
 * KEEL_EINVAL: size 0 or overflow. KEEL_EEXHAUSTED: no slot for a split (map unchanged
 * for that region). Boot only.
 */
__must_check kstatus_t memmap_set_node(struct boot_info *bi, uint64_t base, uint64_t size,
                                       uint32_t node);

/*
 * Apply bi->numa.range[] (e.g. from the ACPI SRAT) to bi->mem with memmap_set_node()
 * and normalise. Errors as memmap_set_node() / memmap_normalize(). Boot only.
 */
__must_check kstatus_t memmap_apply_numa(struct boot_info *bi);

/* Total bytes of MEM_USABLE regions in bi->mem (meaningful after memmap_normalize()). */
uint64_t memmap_usable_bytes(const struct boot_info *bi);

/* A short name for an enum mem_type ("usable", "reserved", ...); "unknown" otherwise. */
const char *mem_type_name(uint32_t type);

#endif /* KERNEL_MEMMAP_H */
