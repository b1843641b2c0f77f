/* SPDX-License-Identifier: MIT */
/*
 * RISC-V Sv39 / Sv48 entries (privileged spec, "Sv39" and "Sv48"): V 0, R 1, W 2, X 3,
 * U 4, G 5, A 6, D 7, PPN 53:10, with Svpbmt PBMT 62:61 (0 PMA, 1 NC, 2 IO). A
 * non-leaf entry has R = W = X = 0; W without R is reserved. A and D are preset (D only
 * when writable) so harts that fault on clear A/D bits never do for kernel mappings.
 */
#include <kernel/pte.h>

#define RV_V        (1ULL << 0)
#define RV_R        (1ULL << 1)
#define RV_W        (1ULL << 2)
#define RV_X        (1ULL << 3)
#define RV_U        (1ULL << 4)
#define RV_G        (1ULL << 5)
#define RV_A        (1ULL << 6)
#define RV_D        (1ULL << 7)
#define RV_PPN_MASK 0x003ffffffffffc00ULL /* bits 53:10 */
#define RV_PBMT_NC  (1ULL << 61)
#define RV_PBMT_IO  (2ULL << 61)
#define RV_PBMT     (3ULL << 61)

static uint64_t pa_to_ppn_bits(uint64_t pa) {
    return ((pa >> PAGE_SHIFT) << 10) & RV_PPN_MASK;
}

static uint64_t rv_make_table(const struct pt_format *f, paddr_t table, unsigned level) {
    (void)f;
    (void)level;
    return pa_to_ppn_bits(table.pa) | RV_V;
}

static uint64_t rv_make_leaf(const struct pt_format *f, paddr_t pa, unsigned level,
                             uint32_t flags) {
    uint64_t e = pa_to_ppn_bits(pa.pa & ~(PT_LEVEL_SIZE(level) - 1)) | RV_V | RV_R | RV_A;
    e |= (flags & VM_WRITE) ? RV_W | RV_D : 0;
    e |= (flags & VM_EXEC) ? RV_X : 0;
    e |= (flags & VM_USER) ? RV_U : 0;
    e |= (flags & VM_GLOBAL) ? RV_G : 0;
    if (f->features & PT_FEAT_SVPBMT) {
        e |= (flags & VM_DEVICE) ? RV_PBMT_IO : (flags & VM_WC) ? RV_PBMT_NC : 0;
    }
    return e;
}

static enum pte_kind rv_kind(const struct pt_format *f, uint64_t e, unsigned level) {
    (void)f;
    if (!(e & RV_V) || ((e & RV_W) && !(e & RV_R))) {
        return PTE_INVALID;
    }
    if ((e & (RV_R | RV_W | RV_X)) == 0) {
        return level == 0 ? PTE_INVALID : PTE_TABLE;
    }
    return PTE_LEAF;
}

static paddr_t rv_addr(const struct pt_format *f, uint64_t e, unsigned level) {
    (void)f;
    (void)level;
    return PADDR(((e & RV_PPN_MASK) >> 10) << PAGE_SHIFT);
}

static uint32_t rv_flags(const struct pt_format *f, uint64_t e, unsigned level) {
    (void)level;
    uint32_t fl = 0;
    fl |= (e & RV_R) ? VM_READ : 0;
    fl |= (e & RV_W) ? VM_WRITE : 0;
    fl |= (e & RV_X) ? VM_EXEC : 0;
    fl |= (e & RV_U) ? VM_USER : 0;
    fl |= (e & RV_G) ? VM_GLOBAL : 0;
    if (f->features & PT_FEAT_SVPBMT) {
        uint64_t t = e & RV_PBMT;
        fl |= t == RV_PBMT_IO ? VM_DEVICE : t == RV_PBMT_NC ? VM_WC : 0;
    }
    return fl;
}

#define RV_FORMAT(nm, lv, bits, feat)                                                              \
    {                                                                                              \
        .name = nm, .levels = lv, .va_bits = bits, .leaf_mask = 0x7,                               \
        .features = PT_FEAT_SHARED_KERNEL_ROOT | (feat), .make_table = rv_make_table,              \
        .make_leaf = rv_make_leaf, .kind = rv_kind, .addr = rv_addr, .flags = rv_flags,            \
    }

const struct pt_format pt_format_sv48 = RV_FORMAT("sv48", 4, 48, 0);
const struct pt_format pt_format_sv39 = RV_FORMAT("sv39", 3, 39, 0);
const struct pt_format pt_format_sv48_svpbmt = RV_FORMAT("sv48+svpbmt", 4, 48, PT_FEAT_SVPBMT);
const struct pt_format pt_format_sv39_svpbmt = RV_FORMAT("sv39+svpbmt", 3, 39, PT_FEAT_SVPBMT);
