/* SPDX-License-Identifier: MIT */
/*
 * riscv64 boot-time page tables beyond what entry.S built: the direct map of RAM
 * (1 GiB and 2 MiB pages, R/W, never X) and the MMIO window of arch_mmio_map() (4 KiB
 * pages, R/W, never X; without Svpbmt the device attributes come from the platform's
 * PMAs). Static tables only; the memory issue replaces this with a full VM layer.
 */
#include <arch/mmu.h>
#include <arch/cpu.h>
#include <arch/io.h>

#include "riscv.h"

#define DM_L1_POOL    8 /* 2 MiB-granular gigabytes of the direct map (run edges) */
#define MMIO_L0_POOL  8 /* 4 KiB tables of the MMIO window: 8 x 2 MiB = 16 MiB */
#define PTE_KERNEL_RW (PTE_V | PTE_R | PTE_W | PTE_G | PTE_A | PTE_D)
#define MMIO_SLOT     511 /* boot_pt_high index of KEEL_MMIO_BASE */

static pte_t dm_l1_pool[DM_L1_POOL][PTE_ENTRIES] __aligned(PAGE_SIZE);
static unsigned dm_l1_used;
static pte_t mmio_l1[PTE_ENTRIES] __aligned(PAGE_SIZE);
static pte_t mmio_l0_pool[MMIO_L0_POOL][PTE_ENTRIES] __aligned(PAGE_SIZE);
static uint64_t mmio_next; /* bytes of the window handed out */

STATIC_ASSERT(((KEEL_MMIO_BASE >> 30) & 511) == MMIO_SLOT, "MMIO window slot");
STATIC_ASSERT((KEEL_DIRECT_MAP_BASE & (SZ_1G - 1)) == 0, "direct map is 1 GiB aligned");

/* A page table at physical pa, as a pointer: kernel image or direct map. */
static pte_t *table_at(uint64_t pa) {
    uint64_t image_size = (uint64_t)(_kernel_end - _kernel_start);

    if (pa >= riscv_kernel_phys && pa - riscv_kernel_phys < image_size) {
        return (pte_t *)(_kernel_start + (pa - riscv_kernel_phys));
    }
    return (pte_t *)dm_ptr(pa);
}

static inline void flush_tlb(void) {
    __asm__ volatile("sfence.vma" ::: "memory");
}

kstatus_t riscv_direct_map(uint64_t pa, uint64_t size) {
    if (size == 0 || pa + size < pa || pa + size > KEEL_DIRECT_MAP_SIZE - SZ_2M) {
        return KEEL_ERANGE;
    }
    uint64_t cur = ALIGN_DOWN(pa, SZ_2M);
    uint64_t end = ALIGN_UP(pa + size, SZ_2M);

    while (cur < end) {
        uint64_t gig_end = ALIGN_DOWN(cur, SZ_1G) + SZ_1G;
        pte_t *slot = &boot_pt_high[((KEEL_DIRECT_MAP_BASE + cur) >> 30) & 511];

        if ((*slot & PTE_V) != 0 && (*slot & PTE_LEAF_MASK) != 0) {
            cur = gig_end; /* already a gigapage */
            continue;
        }
        if (*slot == 0 && IS_ALIGNED(cur, SZ_1G) && end >= gig_end) {
            *slot = PA_TO_PTE(cur) | PTE_KERNEL_RW;
            cur = gig_end;
            continue;
        }
        if (*slot == 0) {
            if (dm_l1_used == DM_L1_POOL) {
                return KEEL_ENOMEM;
            }
            *slot = PA_TO_PTE(kernel_virt_to_phys(dm_l1_pool[dm_l1_used++])) | PTE_V;
        }
        pte_t *l1 = table_at(PTE_TO_PA(*slot));
        for (; cur < end && cur < gig_end; cur += SZ_2M) {
            l1[(cur >> 21) & 511] = PA_TO_PTE(cur) | PTE_KERNEL_RW;
        }
    }
    flush_tlb();
    return KEEL_OK;
}

kstatus_t arch_mmio_map(paddr_t pa, size_t size, volatile void **out) {
    uint64_t off = pa.pa & (PAGE_SIZE - 1);
    uint64_t base = pa.pa - off;

    if (size == 0 || size > (uint64_t)MMIO_L0_POOL * SZ_2M || base + off + size < base) {
        return KEEL_EINVAL;
    }
    uint64_t len = ALIGN_UP(off + size, PAGE_SIZE);
    if (mmio_next + len > (uint64_t)MMIO_L0_POOL * SZ_2M) {
        return KEEL_ENOMEM;
    }
    if (boot_pt_high[MMIO_SLOT] == 0) {
        boot_pt_high[MMIO_SLOT] = PA_TO_PTE(kernel_virt_to_phys(mmio_l1)) | PTE_V;
    }
    uint64_t va = KEEL_MMIO_BASE + mmio_next;
    for (uint64_t done = 0; done < len; done += PAGE_SIZE, va += PAGE_SIZE) {
        unsigned i1 = (unsigned)((va >> 21) & 511);
        if (mmio_l1[i1] == 0) {
            mmio_l1[i1] = PA_TO_PTE(kernel_virt_to_phys(mmio_l0_pool[i1])) | PTE_V;
        }
        mmio_l0_pool[i1][(va >> 12) & 511] = PA_TO_PTE(base + done) | PTE_KERNEL_RW;
    }
    flush_tlb();
    *out = (volatile void *)(uintptr_t)(KEEL_MMIO_BASE + mmio_next + off);
    mmio_next += len;
    return KEEL_OK;
}

bool riscv_walk(uintptr_t va, pte_t *leaf, uint64_t *page_size) {
    unsigned levels = riscv_satp_mode == SATP_MODE_SV48 ? 4 : 3;
    unsigned va_bits = 12 + 9 * levels;
    uint64_t satp = csr_read(satp);
    pte_t *table = table_at((satp & SATP_PPN_MASK) << PAGE_SHIFT);

    /* Canonical: bits 63..va_bits-1 all equal. */
    int64_t sext = (int64_t)((uint64_t)va << (64 - va_bits)) >> (64 - va_bits);
    if ((uint64_t)sext != va) {
        return false;
    }
    for (int level = (int)levels - 1; level >= 0; level--) {
        pte_t e = table[(va >> (12 + 9 * level)) & 511];
        if ((e & PTE_V) == 0) {
            return false;
        }
        if ((e & PTE_LEAF_MASK) != 0) {
            *leaf = e;
            *page_size = 1ULL << (12 + 9 * level);
            return true;
        }
        table = table_at(PTE_TO_PA(e));
    }
    return false;
}

bool riscv_kernel_range_ok(uintptr_t va, size_t len) {
    pte_t e;
    uint64_t sz;

    /* Never the MMIO window: reading a device register can have side effects. */
    if (len == 0 || va + len < va || va < KEEL_DIRECT_MAP_BASE || va + len > KEEL_MMIO_BASE) {
        return false;
    }
    return riscv_walk(va, &e, &sz) && (e & PTE_R) != 0 && riscv_walk(va + len - 1, &e, &sz) &&
           (e & PTE_R) != 0;
}

/*
 * The kernel keeps running on the boot page tables for now; moving the kernel onto an
 * address space built with the portable VM layer (vmm.h) is the memory issue's arch step.
 */
kstatus_t arch_mm_init(const struct boot_info *bi) {
    (void)bi;
    return KEEL_OK;
}
