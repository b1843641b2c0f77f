/* SPDX-License-Identifier: MIT */
/*
 * x86_64 4-level paging entries (Intel SDM vol. 3A, 4.5, tables 4-14 to 4-20): P 0,
 * R/W 1, U/S 2, PWT 3, PCD 4, A 5, D 6, PS 7 (PAT in a 4 KiB PTE), G 8, PAT 12 in 2 MiB
 * and 1 GiB entries, address 51:12, XD 63. Memory types use PAT entries 0 (WB),
 * 1 (WC: PWT only; the arch programs IA32_PAT entry 1 = WC) and 3 (UC: PCD|PWT).
 */
#include <kernel/pte.h>

#define X86_P    (1ULL << 0)
#define X86_RW   (1ULL << 1)
#define X86_US   (1ULL << 2)
#define X86_PWT  (1ULL << 3)
#define X86_PCD  (1ULL << 4)
#define X86_A    (1ULL << 5)
#define X86_D    (1ULL << 6)
#define X86_PS   (1ULL << 7)
#define X86_G    (1ULL << 8)
#define X86_XD   (1ULL << 63)
#define X86_ADDR 0x000ffffffffff000ULL

static uint64_t addr_mask(unsigned level) {
    return X86_ADDR & ~(PT_LEVEL_SIZE(level) - 1);
}

static uint64_t x86_make_table(const struct pt_format *f, paddr_t table, unsigned level) {
    (void)f;
    (void)level;
    /* Permissive: the leaf decides (effective rights are the AND over all levels). */
    return (table.pa & X86_ADDR) | X86_P | X86_RW | X86_US;
}

static uint64_t x86_make_leaf(const struct pt_format *f, paddr_t pa, unsigned level,
                              uint32_t flags) {
    (void)f;
    uint64_t e = (pa.pa & addr_mask(level)) | X86_P | X86_A;
    if (flags & VM_WRITE) {
        e |= X86_RW | X86_D;
    }
    if (flags & VM_USER) {
        e |= X86_US;
    }
    if (flags & VM_GLOBAL) {
        e |= X86_G;
    }
    if (!(flags & VM_EXEC)) {
        e |= X86_XD;
    }
    if (flags & VM_DEVICE) {
        e |= X86_PCD | X86_PWT;
    } else if (flags & VM_WC) {
        e |= X86_PWT;
    }
    if (level > 0) {
        e |= X86_PS;
    }
    return e;
}

static enum pte_kind x86_kind(const struct pt_format *f, uint64_t e, unsigned level) {
    if (!(e & X86_P)) {
        return PTE_INVALID;
    }
    if (level == 0) {
        return PTE_LEAF;
    }
    if (level < f->levels - 1 && (e & X86_PS)) {
        return PTE_LEAF;
    }
    return PTE_TABLE;
}

static paddr_t x86_addr(const struct pt_format *f, uint64_t e, unsigned level) {
    if (x86_kind(f, e, level) == PTE_LEAF) {
        return PADDR(e & addr_mask(level));
    }
    return PADDR(e & X86_ADDR);
}

static uint32_t x86_flags(const struct pt_format *f, uint64_t e, unsigned level) {
    (void)f;
    (void)level;
    uint32_t fl = VM_READ;
    fl |= (e & X86_RW) ? VM_WRITE : 0;
    fl |= (e & X86_US) ? VM_USER : 0;
    fl |= (e & X86_G) ? VM_GLOBAL : 0;
    fl |= (e & X86_XD) ? 0 : VM_EXEC;
    if ((e & (X86_PCD | X86_PWT)) == (X86_PCD | X86_PWT)) {
        fl |= VM_DEVICE;
    } else if (e & X86_PWT) {
        fl |= VM_WC;
    }
    return fl;
}

const struct pt_format pt_format_x86_64 = {
    .name = "x86_64",
    .levels = 4,
    .va_bits = 48,
    .leaf_mask = 0x7,
    .features = PT_FEAT_SHARED_KERNEL_ROOT,
    .make_table = x86_make_table,
    .make_leaf = x86_make_leaf,
    .kind = x86_kind,
    .addr = x86_addr,
    .flags = x86_flags,
};
