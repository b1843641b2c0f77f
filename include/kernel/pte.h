/* SPDX-License-Identifier: MIT */
/*
 * Page-table entry formats. The portable walker (src/mm/vmm.c) handles any radix tree
 * of 512-entry tables over 4 KiB pages; a struct pt_format says how many levels there
 * are and how to encode and decode one entry. The formats are pure bit manipulation,
 * so they live in src/mm/pte_<format>.c and are checked bit-exactly on the host; an
 * arch port picks one (plus its TLB maintenance) and needs nothing else.
 */
#ifndef KERNEL_PTE_H
#define KERNEL_PTE_H

#include <kernel/types.h>

/* Portable mapping flags (also used for VM areas). */
#define VM_READ      0x01u
#define VM_WRITE     0x02u
#define VM_EXEC      0x04u
#define VM_USER      0x08u /* reachable from user mode */
#define VM_GLOBAL    0x10u /* kept across address-space switches (kernel mappings) */
#define VM_DEVICE    0x20u /* device registers: uncached, strongly ordered, never executable */
#define VM_WC        0x40u /* write-combining (framebuffers) */
#define VM_FLAGS_ALL 0x7fu

/* Levels: 0 maps 4 KiB pages, 1 maps 2 MiB, 2 maps 1 GiB; the root is levels - 1. */
#define PT_ENTRIES        512u
#define PT_LEVEL_BITS     9u
#define PT_LEVEL_SHIFT(l) (PAGE_SHIFT + PT_LEVEL_BITS * (l))
#define PT_LEVEL_SIZE(l)  ((uint64_t)1 << PT_LEVEL_SHIFT(l))

enum pte_kind {
    PTE_INVALID = 0,
    PTE_TABLE = 1, /* points to the next-level table */
    PTE_LEAF = 2,  /* maps a page or block */
};

/* Feature bits of a format. */
#define PT_FEAT_SHARED_KERNEL_ROOT 0x1u /* user roots copy the kernel half's root entries */
#define PT_FEAT_SVPBMT             0x2u /* RISC-V Svpbmt: encode DEVICE/WC in PBMT */
#define PT_FEAT_SPLIT_ROOTS                                                                        \
    0x4u /* kernel and user have separate roots (TTBR1/TTBR0),                                     \
            each covering 2^va_bits bytes */

struct pt_format {
    const char *name;
    unsigned levels;    /* 3 (Sv39) or 4 */
    unsigned va_bits;   /* 39 or 48: addresses are sign-extended from bit va_bits - 1 */
    unsigned leaf_mask; /* bit l: level l may hold leaves */
    unsigned features;  /* PT_FEAT_* */
    /* Entry pointing to a next-level table at pa (table is at `level`, >= 1). */
    uint64_t (*make_table)(const struct pt_format *f, paddr_t table, unsigned level);
    /* Leaf at `level` mapping pa (aligned to the level's size) with VM_* flags. */
    uint64_t (*make_leaf)(const struct pt_format *f, paddr_t pa, unsigned level, uint32_t flags);
    enum pte_kind (*kind)(const struct pt_format *f, uint64_t e, unsigned level);
    /* Physical address of a table or leaf entry. */
    paddr_t (*addr)(const struct pt_format *f, uint64_t e, unsigned level);
    /* VM_* flags of a leaf entry. */
    uint32_t (*flags)(const struct pt_format *f, uint64_t e, unsigned level);
};

/* First kernel address: the upper half (upper 2^va_bits region with split roots). */
static inline uint64_t pt_kernel_base(const struct pt_format *f) {
    return ~0ULL << ((f->features & PT_FEAT_SPLIT_ROOTS) ? f->va_bits : f->va_bits - 1);
}

/* One past the last user address. */
static inline uint64_t pt_user_top(const struct pt_format *f) {
    return 1ULL << ((f->features & PT_FEAT_SPLIT_ROOTS) ? f->va_bits : f->va_bits - 1);
}

/* x86_64 4-level paging (PAT expected programmed: entry 1 = WC, see docs/memory.md). */
extern const struct pt_format pt_format_x86_64;
/* AArch64 VMSAv8-64 stage 1, 4 KiB granule, 48-bit VA (MAIR: 0 normal WB, 1 device
 * nGnRE, 2 normal non-cacheable). */
extern const struct pt_format pt_format_aarch64;
/* RISC-V Sv48 and Sv39, without and with Svpbmt. Without Svpbmt, VM_DEVICE and VM_WC
 * cannot be expressed in an entry (the platform's PMAs decide) and are not reported back. */
extern const struct pt_format pt_format_sv48;
extern const struct pt_format pt_format_sv39;
extern const struct pt_format pt_format_sv48_svpbmt;
extern const struct pt_format pt_format_sv39_svpbmt;

#endif /* KERNEL_PTE_H */
