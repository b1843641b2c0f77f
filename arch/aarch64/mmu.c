/* SPDX-License-Identifier: MIT */
/*
 * The early kernel page tables, C side. The entry code builds the first tables (kernel
 * image, DTB window, the identity block for the MMU switch) from a static pool in .bss;
 * this file adopts them and adds the direct map of RAM and the device window behind
 * arch_mmio_map(). TTBR1_EL1 only, 4 KiB granule, 4 levels; entries only ever go from
 * invalid to valid, so there is no break-before-make to do. The memory issue replaces
 * all of this with the real VM layer.
 */
#include <arch/mmu.h>
#include <arch/io.h>
#include <kernel/string.h>

#include "aarch64.h"

#define LEVEL_SHIFT(l) (39u - 9u * (l))
#define MMIO_WINDOWS   16

/* Defined in entry.S: page 0 is the TTBR1 root, page 1 the (temporary) TTBR0 root. */
extern uint64_t early_pt_pool[EARLY_PT_POOL_PAGES][512];

static uint64_t kernel_phys;
static unsigned pool_used;

struct mmio_window {
    uint64_t pa;
    uint64_t size;
    uintptr_t va;
};
static struct mmio_window mmio_windows[MMIO_WINDOWS];
static unsigned mmio_window_count;
static uintptr_t mmio_next = KEEL_MMIO_BASE;

void aarch64_mmu_init(uint64_t kernel_pa, uint64_t used) {
    kernel_phys = kernel_pa;
    pool_used = (unsigned)used;
}

uint64_t aarch64_kimg_to_phys(const void *p) {
    return (uint64_t)(uintptr_t)p - KEEL_KERNEL_BASE + kernel_phys;
}

/* Kernel address of a table; every early table lives in the pool inside the image. */
static uint64_t *table_va(uint64_t pa) {
    return (uint64_t *)(uintptr_t)(pa - kernel_phys + KEEL_KERNEL_BASE);
}

static void tlb_sync(void) {
    __asm__ volatile("dsb ishst\n\ttlbi vmalle1is\n\tdsb ish\n\tisb" ::: "memory");
}

void aarch64_drop_identity_map(void) {
    uint64_t tcr;
    __asm__ volatile("mrs %0, tcr_el1" : "=r"(tcr));
    tcr |= TCR_EPD0;
    __asm__ volatile("msr tcr_el1, %0\n\tisb" ::"r"(tcr) : "memory");
    tlb_sync();
}

/*
 * Install desc for va at `level`, creating tables on the way. KEEL_EBUSY when a table
 * already sits in that slot (the caller goes one level finer), KEEL_EEXIST when another
 * mapping does, KEEL_ENOMEM when the pool is empty.
 */
static kstatus_t map_one(uint64_t va, uint64_t desc, unsigned level) {
    uint64_t *table = early_pt_pool[0];

    for (unsigned l = 0; l < level; l++) {
        size_t idx = (va >> LEVEL_SHIFT(l)) & 511;
        uint64_t e = table[idx];

        if ((e & PTE_VALID) == 0) {
            if (pool_used >= EARLY_PT_POOL_PAGES) {
                return KEEL_ENOMEM;
            }
            e = aarch64_kimg_to_phys(early_pt_pool[pool_used++]) | PTE_TABLE;
            WRITE_ONCE(table[idx], e);
        } else if ((e & 3) != PTE_TABLE) {
            return KEEL_EEXIST;
        }
        table = table_va(e & PTE_ADDR_MASK);
    }
    size_t idx = (va >> LEVEL_SHIFT(level)) & 511;
    uint64_t old = table[idx];
    if (old == desc) {
        return KEEL_OK;
    }
    if ((old & PTE_VALID) != 0) {
        return level < 3 && (old & 3) == PTE_TABLE ? KEEL_EBUSY : KEEL_EEXIST;
    }
    WRITE_ONCE(table[idx], desc);
    return KEEL_OK;
}

/* Map one naturally aligned block of `level`, splitting it where a table is in the way. */
static kstatus_t map_block(uint64_t va, uint64_t pa, uint64_t attrs, unsigned level) {
    kstatus_t st = map_one(va, pa | attrs | (level == 3 ? PTE_PAGE : PTE_BLOCK), level);

    if (st != KEEL_EBUSY) {
        return st;
    }
    uint64_t sub = 1ULL << LEVEL_SHIFT(level + 1);
    for (unsigned i = 0; i < 512; i++) {
        st = map_block(va + i * sub, pa + i * sub, attrs, level + 1);
        if (st != KEEL_OK) {
            return st;
        }
    }
    return KEEL_OK;
}

kstatus_t aarch64_map(uint64_t va, uint64_t pa, uint64_t size, uint64_t attrs) {
    kstatus_t st = KEEL_OK;

    if (!IS_ALIGNED(va | pa | size, PAGE_SIZE) || size == 0 || pa + size < pa ||
        va + size - 1 < va || pa + size > (1ULL << 48)) {
        return KEEL_EINVAL;
    }
    while (size != 0 && st == KEEL_OK) {
        unsigned level = 3;
        for (unsigned l = 1; l <= 2; l++) {
            uint64_t bs = 1ULL << LEVEL_SHIFT(l);
            if (IS_ALIGNED(va | pa, bs) && size >= bs) {
                level = l;
                break;
            }
        }
        uint64_t bs = 1ULL << LEVEL_SHIFT(level);
        st = map_block(va, pa, attrs, level);
        va += bs;
        pa += bs;
        size -= bs;
    }
    tlb_sync();
    return st;
}

bool aarch64_lookup(uint64_t va, uint64_t *desc, unsigned *level) {
    const uint64_t *table = early_pt_pool[0];

    if ((va >> 48) != 0xffff) {
        return false;
    }
    for (unsigned l = 0; l <= 3; l++) {
        uint64_t e = table[(va >> LEVEL_SHIFT(l)) & 511];
        if ((e & PTE_VALID) == 0) {
            return false;
        }
        if (l == 3 || (e & 3) == PTE_BLOCK) {
            *desc = e;
            *level = l;
            return true;
        }
        table = table_va(e & PTE_ADDR_MASK);
    }
    return false;
}

kstatus_t arch_mmio_map(paddr_t pa, size_t size, volatile void **out) {
    if (out == NULL || size == 0 || pa.pa + size < pa.pa || pa.pa + size > (1ULL << 48)) {
        return KEEL_EINVAL;
    }
    uint64_t start = ALIGN_DOWN(pa.pa, (uint64_t)PAGE_SIZE);
    uint64_t end = ALIGN_UP(pa.pa + size, (uint64_t)PAGE_SIZE);

    for (unsigned i = 0; i < mmio_window_count; i++) {
        const struct mmio_window *w = &mmio_windows[i];
        if (start >= w->pa && end <= w->pa + w->size) {
            *out = (volatile void *)(w->va + (pa.pa - w->pa));
            return KEEL_OK;
        }
    }
    /* Each window is followed by an unmapped guard page. */
    if (end - start + PAGE_SIZE > KEEL_MMIO_END - mmio_next) {
        return KEEL_ENOMEM;
    }
    kstatus_t st = aarch64_map(mmio_next, start, end - start, PTE_DEVICE | PTE_PXN | PTE_UXN);
    if (st != KEEL_OK) {
        return st == KEEL_EINVAL ? KEEL_EINVAL : KEEL_ENOMEM;
    }
    if (mmio_window_count < MMIO_WINDOWS) {
        mmio_windows[mmio_window_count++] =
            (struct mmio_window){.pa = start, .size = end - start, .va = mmio_next};
    }
    *out = (volatile void *)(mmio_next + (pa.pa - start));
    mmio_next += end - start + PAGE_SIZE;
    return KEEL_OK;
}

/*
 * The kernel keeps running on the boot page tables for now; moving the kernel onto an
 * address space built with the portable VM layer (vmm.h) is the memory issue's arch step.
 */
kstatus_t arch_mm_init(const struct boot_info *bi) {
    (void)bi;
    return KEEL_OK;
}
