/* SPDX-License-Identifier: MIT */
/*
 * riscv64 boot-time page tables beyond what entry.S built (the direct map of RAM in
 * 1 GiB and 2 MiB pages, early device windows in 4 KiB pages, all R/W, never X), the
 * device-window allocator arch_mmio_map() (through the VM layer once it is up), the
 * Svpbmt probe, and a lock-free walk of the live tables for traps and backtraces.
 */
#include <arch/cpu.h>
#include <arch/io.h>
#include <arch/mmu.h>
#include <kernel/spinlock.h>
#include <kernel/vmm.h>

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
static spinlock_t mmio_lock = SPINLOCK_INIT;

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

/* Early path of arch_mmio_map(): the static MMIO tables under boot_pt_high[511]. */
static kstatus_t early_mmio_map(uint64_t va, uint64_t pa, uint64_t len) {
    if (va - KEEL_MMIO_BASE + len > (uint64_t)MMIO_L0_POOL * SZ_2M) {
        return KEEL_ENOMEM;
    }
    if (boot_pt_high[MMIO_SLOT] == 0) {
        boot_pt_high[MMIO_SLOT] = PA_TO_PTE(kernel_virt_to_phys(mmio_l1)) | PTE_V;
    }
    for (uint64_t done = 0; done < len; done += PAGE_SIZE, va += PAGE_SIZE) {
        unsigned i1 = (unsigned)((va >> 21) & 511);
        if (mmio_l1[i1] == 0) {
            mmio_l1[i1] = PA_TO_PTE(kernel_virt_to_phys(mmio_l0_pool[i1])) | PTE_V;
        }
        mmio_l0_pool[i1][(va >> 12) & 511] = PA_TO_PTE(pa + done) | PTE_KERNEL_RW;
    }
    flush_tlb();
    return KEEL_OK;
}

/*
 * Device windows are bump-allocated in [KEEL_MMIO_BASE, +KEEL_MMIO_SIZE) and never
 * given back. Before arch_mm_init() they go into the static boot tables (16 MiB at
 * most), after it through the VM layer as VM_DEVICE (PBMT=IO with Svpbmt).
 */
kstatus_t arch_mmio_map(paddr_t pa, size_t size, volatile void **out) {
    uint64_t off = pa.pa & (PAGE_SIZE - 1);
    uint64_t base = pa.pa - off;

    if (out == NULL || size == 0 || size > KEEL_MMIO_SIZE || base + off + size < base) {
        return KEEL_EINVAL;
    }
    uint64_t len = ALIGN_UP(off + size, PAGE_SIZE);
    unsigned long irq;
    kstatus_t st = KEEL_ENOMEM;
    spin_lock_irqsave(&mmio_lock, &irq);
    if (mmio_next + len <= KEEL_MMIO_SIZE) {
        uint64_t va = KEEL_MMIO_BASE + mmio_next;
        struct vm_space *ks = vmm_kernel_space;
        st = ks != NULL ? vmm_map(ks, VADDR(va), PADDR(base), len,
                                  VM_READ | VM_WRITE | VM_DEVICE | VM_GLOBAL)
                        : early_mmio_map(va, base, len);
        if (st == KEEL_OK) {
            *out = (volatile void *)(uintptr_t)(va + off);
            mmio_next += len;
        }
    }
    spin_unlock_irqrestore(&mmio_lock, irq);
    return st;
}

kstatus_t riscv_mmio_replay(struct vm_space *ks) {
    for (unsigned i1 = 0; i1 < MMIO_L0_POOL; i1++) {
        for (unsigned i0 = 0; mmio_l1[i1] != 0 && i0 < PTE_ENTRIES; i0++) {
            pte_t e = mmio_l0_pool[i1][i0];
            uint64_t va = KEEL_MMIO_BASE + (uint64_t)i1 * SZ_2M + (uint64_t)i0 * PAGE_SIZE;
            if ((e & PTE_V) == 0) {
                continue;
            }
            kstatus_t st = vmm_map(ks, VADDR(va), PADDR(PTE_TO_PA(e)), PAGE_SIZE,
                                   VM_READ | VM_WRITE | VM_DEVICE | VM_GLOBAL);
            if (st != KEEL_OK) {
                return st;
            }
        }
    }
    return KEEL_OK;
}

bool riscv_probe_svpbmt(void) {
    /* The image's gigabyte ends in a 2 MiB slot no image reaches (it would be 1 GiB). */
    const unsigned slot = PTE_ENTRIES - 1;
    const uintptr_t alias = KEEL_KERNEL_BASE + (uintptr_t)slot * SZ_2M;
    volatile uint64_t got = 0;

    if (boot_pt_kernel[slot] != 0) {
        return false;
    }
    boot_pt_kernel[slot] = PA_TO_PTE(riscv_kernel_phys) | PTE_KERNEL_RW | PTE_PBMT_NC;
    flush_tlb();
    riscv_trap_expect = (struct riscv_trap_expect){.armed = true, .cause = CAUSE_LOAD_PAGE};
    __asm__ volatile("ld %0, 0(%1)" : "+r"(got) : "r"(alias) : "memory");
    bool faulted = riscv_trap_expect.hits != 0;
    riscv_trap_expect.armed = false;
    boot_pt_kernel[slot] = 0;
    flush_tlb();
    return !faulted && got == *(volatile uint64_t *)_kernel_start;
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

kstatus_t riscv_ram_runs(const struct boot_info *bi,
                         kstatus_t (*fn)(uint64_t base, uint64_t size, void *ctx), void *ctx) {
    uint64_t run_base = 0, run_end = 0;

    for (uint32_t i = 0; i <= bi->mem_count; i++) {
        const struct mem_region *r = i < bi->mem_count ? &bi->mem[i] : NULL;
        if (r != NULL && (r->type == MEM_MMIO || r->type == MEM_BAD || r->size == 0)) {
            continue;
        }
        if (r != NULL && run_end != 0 && r->base <= ALIGN_UP(run_end, SZ_2M)) {
            run_end = MAX(run_end, r->base + r->size);
            continue;
        }
        if (run_end != 0) {
            kstatus_t st = fn(run_base, run_end - run_base, ctx);
            if (st != KEEL_OK) {
                return st;
            }
        }
        if (r != NULL) {
            run_base = r->base;
            run_end = r->base + r->size;
        }
    }
    return KEEL_OK;
}
