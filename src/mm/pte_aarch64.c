/* SPDX-License-Identifier: MIT */
/*
 * AArch64 VMSAv8-64 stage 1 descriptors, 4 KiB granule, 48-bit VA (Arm ARM D8.3):
 * bits 1:0 = 11 table (levels 0-2) or page (level 3), 01 block (levels 1-2); AttrIndx
 * 4:2, AP[2:1] 7:6 (bit 6 EL0 access, bit 7 read-only), SH 9:8, AF 10, nG 11, output
 * address 47:12, PXN 53, UXN 54. Keel's level 0 is the Arm level 3 (4 KiB pages).
 * MAIR_EL1 attribute indices: 0 normal write-back, 1 device nGnRE, 2 normal non-cacheable.
 */
#include <kernel/pte.h>

#define A64_VALID     (1ULL << 0)
#define A64_TABLE     (1ULL << 1) /* also "page" at the last level */
#define A64_ATTR(i)   ((uint64_t)(i) << 2)
#define A64_ATTR_MASK (7ULL << 2)
#define A64_AP_EL0    (1ULL << 6)
#define A64_AP_RO     (1ULL << 7)
#define A64_SH_INNER  (3ULL << 8)
#define A64_AF        (1ULL << 10)
#define A64_NG        (1ULL << 11)
#define A64_PXN       (1ULL << 53)
#define A64_UXN       (1ULL << 54)
#define A64_ADDR      0x0000fffffffff000ULL

#define MAIR_IDX_NORMAL 0
#define MAIR_IDX_DEVICE 1
#define MAIR_IDX_NC     2

static uint64_t addr_mask(unsigned level) {
    return A64_ADDR & ~(PT_LEVEL_SIZE(level) - 1);
}

static uint64_t a64_make_table(const struct pt_format *f, paddr_t table, unsigned level) {
    (void)f;
    (void)level;
    return (table.pa & A64_ADDR) | A64_VALID | A64_TABLE;
}

static uint64_t a64_make_leaf(const struct pt_format *f, paddr_t pa, unsigned level,
                              uint32_t flags) {
    (void)f;
    uint64_t e = (pa.pa & addr_mask(level)) | A64_VALID | A64_AF | A64_SH_INNER;
    e |= level == 0 ? A64_TABLE : 0;
    e |= A64_ATTR((flags & VM_DEVICE) ? MAIR_IDX_DEVICE
                  : (flags & VM_WC)   ? MAIR_IDX_NC
                                      : MAIR_IDX_NORMAL);
    e |= (flags & VM_WRITE) ? 0 : A64_AP_RO;
    e |= (flags & VM_GLOBAL) ? 0 : A64_NG;
    if (flags & VM_USER) {
        /* EL0 page: the kernel never executes it; EL0 may if VM_EXEC. */
        e |= A64_AP_EL0 | A64_PXN | ((flags & VM_EXEC) ? 0 : A64_UXN);
    } else {
        e |= A64_UXN | ((flags & VM_EXEC) ? 0 : A64_PXN);
    }
    return e;
}

static enum pte_kind a64_kind(const struct pt_format *f, uint64_t e, unsigned level) {
    if (!(e & A64_VALID)) {
        return PTE_INVALID;
    }
    bool bit1 = (e & A64_TABLE) != 0;
    if (level == 0) {
        return bit1 ? PTE_LEAF : PTE_INVALID; /* 01 at level 3 is reserved */
    }
    if (bit1) {
        return PTE_TABLE;
    }
    /* Blocks exist at Arm levels 1 and 2 only (Keel levels 2 and 1). */
    return level < f->levels - 1 && level <= 2 ? PTE_LEAF : PTE_INVALID;
}

static paddr_t a64_addr(const struct pt_format *f, uint64_t e, unsigned level) {
    if (a64_kind(f, e, level) == PTE_LEAF) {
        return PADDR(e & addr_mask(level));
    }
    return PADDR(e & A64_ADDR);
}

static uint32_t a64_flags(const struct pt_format *f, uint64_t e, unsigned level) {
    (void)f;
    (void)level;
    uint32_t fl = VM_READ;
    bool user = (e & A64_AP_EL0) != 0;
    fl |= (e & A64_AP_RO) ? 0 : VM_WRITE;
    fl |= user ? VM_USER : 0;
    fl |= (e & A64_NG) ? 0 : VM_GLOBAL;
    fl |= (e & (user ? A64_UXN : A64_PXN)) ? 0 : VM_EXEC;
    uint64_t attr = (e & A64_ATTR_MASK) >> 2;
    fl |= attr == MAIR_IDX_DEVICE ? VM_DEVICE : attr == MAIR_IDX_NC ? VM_WC : 0;
    return fl;
}

const struct pt_format pt_format_aarch64 = {
    .name = "aarch64",
    .levels = 4,
    .va_bits = 48,
    .leaf_mask = 0x7,
    .features = PT_FEAT_SPLIT_ROOTS, /* kernel root in TTBR1_EL1, user root in TTBR0_EL1 */
    .make_table = a64_make_table,
    .make_leaf = a64_make_leaf,
    .kind = a64_kind,
    .addr = a64_addr,
    .flags = a64_flags,
};
