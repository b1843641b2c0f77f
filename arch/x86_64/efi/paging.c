/* SPDX-License-Identifier: MIT */
/*
 * The loader's 4-level page-table builder. UEFI runs with physical memory identity
 * mapped, so the loader writes the new tables through their physical addresses; they
 * only take effect when the trampoline loads cr3.
 */
#include <arch/x86_pt.h>

#include "loader.h"

uint64_t pt_alloc(struct pt_pool *pool) {
    if (pool->used == pool->cap) {
        return 0;
    }
    uint64_t pa = pool->base + pool->used * X86_PAGE_4K;
    pool->used++;
    uint64_t *t = (uint64_t *)(uintptr_t)pa;
    for (unsigned i = 0; i < 512; i++) {
        t[i] = 0;
    }
    return pa;
}

static const char *map_one(struct pt_pool *pool, uint64_t pml4, uint64_t va, uint64_t pa,
                           unsigned leaf_shift, uint64_t flags) {
    uint64_t table = pml4;
    for (unsigned shift = 39; shift > leaf_shift; shift -= 9) {
        uint64_t *e = (uint64_t *)(uintptr_t)table + X86_PT_INDEX(va, shift);
        if (!(*e & X86_PTE_P)) {
            uint64_t t = pt_alloc(pool);
            if (t == 0) {
                return "page-table pool exhausted";
            }
            /* Intermediate levels allow everything; the leaf decides. */
            *e = t | X86_PTE_P | X86_PTE_W;
        } else if (*e & X86_PTE_PS) {
            return "mapping conflicts with a large page";
        }
        table = *e & X86_PTE_ADDR;
    }
    uint64_t *e = (uint64_t *)(uintptr_t)table + X86_PT_INDEX(va, leaf_shift);
    uint64_t want = pa | flags | X86_PTE_P | (leaf_shift > 12 ? X86_PTE_PS : 0);
    if ((*e & X86_PTE_P) && *e != want) {
        return "mapping conflicts with an existing page";
    }
    *e = want;
    return 0;
}

const char *pt_map(struct pt_pool *pool, uint64_t pml4, uint64_t va, uint64_t pa, uint64_t size,
                   uint64_t page_size, uint64_t flags) {
    unsigned shift = page_size == X86_PAGE_1G ? 30 : page_size == X86_PAGE_2M ? 21 : 12;
    if ((va | pa | size) & (page_size - 1)) {
        return "unaligned mapping";
    }
    for (uint64_t off = 0; off < size; off += page_size) {
        const char *why = map_one(pool, pml4, va + off, pa + off, shift, flags);
        if (why != 0) {
            return why;
        }
    }
    return 0;
}
