/* SPDX-License-Identifier: MIT */
/*
 * The early kernel page tables, C side, and the device window. The entry code builds
 * the first tables (kernel image, DTB window, the identity block for the MMU switch)
 * from a static pool in .bss; this file adopts them and adds the direct map of RAM
 * (remembering its ranges for the real kernel space) and the devices arch_mmio_map()
 * hands out. Early entries only ever go from invalid to valid, so there is no
 * break-before-make to do. Once arch_mm_init() (kspace.c) has moved TTBR1 onto the
 * address space of the portable VM layer, the early tables are retired and device
 * windows are mapped through vmm_map().
 */
#include <arch/mmu.h>
#include <arch/io.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>
#include <kernel/vm.h>
#include <kernel/vmm.h>

#include "aarch64.h"

#define LEVEL_SHIFT(l) (39u - 9u * (l))
#define MMIO_WINDOWS   16
#define RAM_RANGES     32

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
static spinlock_t mmio_lock = SPINLOCK_INIT;

static struct aarch64_range ram_ranges[RAM_RANGES];
static unsigned ram_range_count;
static bool early_retired; /* TTBR1 runs on the VM layer's tables */

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

    if (early_retired) {
        return KEEL_ENOTSUP;
    }
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

kstatus_t aarch64_map_ram(uint64_t start, uint64_t end) {
    if (start >= end || !IS_ALIGNED(start | end, PAGE_SIZE) || end > KEEL_DIRECT_MAP_MAX) {
        return KEEL_EINVAL;
    }
    struct aarch64_range *last = ram_range_count > 0 ? &ram_ranges[ram_range_count - 1] : NULL;
    if (last == NULL || last->end != start) {
        if (ram_range_count == RAM_RANGES) {
            return KEEL_EEXHAUSTED;
        }
        last = &ram_ranges[ram_range_count++];
        last->start = start;
    }
    last->end = end;
    return aarch64_map(KEEL_DIRECT_MAP_BASE + start, start, end - start,
                       PTE_KERNEL_RW | PTE_PXN | PTE_UXN);
}

unsigned aarch64_ram_ranges(const struct aarch64_range **out) {
    *out = ram_ranges;
    return ram_range_count;
}

bool aarch64_lookup(uint64_t va, uint64_t *desc, unsigned *level) {
    uint64_t ttbr1;

    if ((va >> 48) != 0xffff) {
        return false;
    }
    /* The live root, whichever tables those are; every table page sits in RAM. */
    __asm__ volatile("mrs %0, ttbr1_el1" : "=r"(ttbr1));
    const uint64_t *table = phys_to_virt(PADDR(ttbr1 & PTE_ADDR_MASK));
    for (unsigned l = 0; l <= 3; l++) {
        uint64_t e = READ_ONCE(table[(va >> LEVEL_SHIFT(l)) & 511]);
        if ((e & PTE_VALID) == 0) {
            return false;
        }
        if (l == 3 || (e & 3) == PTE_BLOCK) {
            *desc = e;
            *level = l;
            return true;
        }
        table = phys_to_virt(PADDR(e & PTE_ADDR_MASK));
    }
    return false;
}

/* Map one device window at va: early tables before the switch, the VM layer after it. */
static kstatus_t mmio_map_window(uintptr_t va, uint64_t pa, uint64_t size) {
    if (vmm_kernel_space != NULL) {
        return vmm_map(vmm_kernel_space, VADDR(va), PADDR(pa), size,
                       VM_READ | VM_WRITE | VM_DEVICE | VM_GLOBAL);
    }
    kstatus_t st = aarch64_map(va, pa, size, PTE_DEVICE | PTE_PXN | PTE_UXN);
    return st == KEEL_EINVAL ? KEEL_EINVAL : st == KEEL_OK ? KEEL_OK : KEEL_ENOMEM;
}

kstatus_t arch_mmio_map(paddr_t pa, size_t size, volatile void **out) {
    if (out == NULL || size == 0 || pa.pa + size < pa.pa || pa.pa + size > (1ULL << 48)) {
        return KEEL_EINVAL;
    }
    uint64_t start = ALIGN_DOWN(pa.pa, (uint64_t)PAGE_SIZE);
    uint64_t end = ALIGN_UP(pa.pa + size, (uint64_t)PAGE_SIZE);
    kstatus_t st = KEEL_OK;
    unsigned long irq;

    spin_lock_irqsave(&mmio_lock, &irq);
    for (unsigned i = 0; i < mmio_window_count; i++) {
        const struct mmio_window *w = &mmio_windows[i];
        if (start >= w->pa && end <= w->pa + w->size) {
            *out = (volatile void *)(w->va + (pa.pa - w->pa));
            goto out;
        }
    }
    /* Before the switch every window must be remembered, to be carried over. */
    if (vmm_kernel_space == NULL && mmio_window_count == MMIO_WINDOWS) {
        st = KEEL_ENOMEM;
        goto out;
    }
    /* Each window is followed by an unmapped guard page. */
    if (end - start + PAGE_SIZE > KEEL_MMIO_END - mmio_next) {
        st = KEEL_ENOMEM;
        goto out;
    }
    st = mmio_map_window(mmio_next, start, end - start);
    if (st != KEEL_OK) {
        goto out;
    }
    if (mmio_window_count < MMIO_WINDOWS) {
        mmio_windows[mmio_window_count++] =
            (struct mmio_window){.pa = start, .size = end - start, .va = mmio_next};
    }
    *out = (volatile void *)(mmio_next + (pa.pa - start));
    mmio_next += end - start + PAGE_SIZE;
out:
    spin_unlock_irqrestore(&mmio_lock, irq);
    return st;
}

kstatus_t aarch64_mmio_carry_over(struct vm_space *ks) {
    for (unsigned i = 0; i < mmio_window_count; i++) {
        const struct mmio_window *w = &mmio_windows[i];
        kstatus_t st = vmm_map(ks, VADDR(w->va), PADDR(w->pa), w->size,
                               VM_READ | VM_WRITE | VM_DEVICE | VM_GLOBAL);
        if (st != KEEL_OK) {
            return st;
        }
    }
    return KEEL_OK;
}

void aarch64_early_tables_retired(void) {
    early_retired = true;
}
