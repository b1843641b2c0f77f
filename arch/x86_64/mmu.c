/* SPDX-License-Identifier: MIT */
/*
 * The x86_64 MMU pieces that are not the kernel address space itself (kspace.c): a
 * lock-free walk of the live tables (boot checks, the backtracer's "is this readable"),
 * dropping the loader's identity mapping, and arch_mmio_map(). Device windows mapped
 * before arch_mm_init go into the boot tables (tables from a small static pool) and are
 * remembered, so that the kernel space maps them again; later ones go through vmm_map.
 */
#include <arch/mmu.h>
#include <arch/cpu.h>
#include <arch/io.h>
#include <arch/x86_pt.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>
#include <kernel/vm.h>
#include <kernel/vmm.h>

#include "x86.h"

#define MMIO_POOL_PAGES    4
#define MMIO_EARLY_WINDOWS 16

static uint64_t mmio_pool[MMIO_POOL_PAGES][512] __aligned(4096);
static unsigned mmio_pool_used;
static uint64_t mmio_window_next = X86_MMIO_WINDOW_BASE;
static spinlock_t mmio_lock = SPINLOCK_INIT;

/* Windows handed out on the boot tables, for x86_mmio_adopt(). */
static struct { uint64_t va, pa, len; } early_windows[MMIO_EARLY_WINDOWS];
static unsigned early_count;

uint64_t x86_kernel_phys;

void x86_mmu_init(const struct boot_info *bi) {
    (void)bi;
    /* The loader identity-mapped its trampoline in the lower half; user space goes there. */
    uint64_t *pml4 = phys_to_virt(PADDR(x86_read_cr3() & X86_PTE_ADDR));
    for (unsigned i = 0; i < 256; i++) {
        pml4[i] = 0;
    }
    x86_write_cr3(x86_read_cr3());
}

/*
 * Only the kernel image and the direct map qualify, and every page of the range must be
 * present in the live tables: the image has unmapped guard pages below its stacks, and
 * the kernel's own direct map covers RAM only.
 */
bool x86_kernel_readable(uintptr_t addr, size_t len) {
    uintptr_t end = addr + len;
    if (end < addr) {
        return false;
    }
    bool image = addr >= (uintptr_t)__kernel_start && end <= (uintptr_t)__kernel_end;
    bool direct =
        addr >= KEEL_DIRECT_MAP_BASE && end <= KEEL_DIRECT_MAP_BASE + KEEL_DIRECT_MAP_SIZE;
    if (!image && !direct) {
        return false;
    }
    for (uintptr_t page = addr & ~(uintptr_t)(X86_PAGE_4K - 1); page < end; page += X86_PAGE_4K) {
        uint64_t pte;
        uint64_t size;
        if (x86_pt_lookup(page, &pte, &size) != KEEL_OK) {
            return false;
        }
    }
    return true;
}

kstatus_t x86_pt_lookup(uintptr_t va, uint64_t *pte, uint64_t *page_size) {
    uint64_t table = x86_read_cr3() & X86_PTE_ADDR;
    for (unsigned shift = 39;; shift -= 9) {
        const uint64_t *t = phys_to_virt(PADDR(table));
        uint64_t e = t[X86_PT_INDEX(va, shift)];
        if (!(e & X86_PTE_P)) {
            return KEEL_ENOTFOUND;
        }
        if (shift == 12 || ((e & X86_PTE_PS) && (shift == 21 || shift == 30))) {
            *pte = e;
            *page_size = 1ULL << shift;
            return KEEL_OK;
        }
        table = e & X86_PTE_ADDR;
    }
}

/* Physical address of a kernel-image pointer (the pool lives in .bss). */
static uint64_t image_to_phys(const void *p) {
    return x86_kernel_phys + ((uintptr_t)p - (uintptr_t)__kernel_start);
}

static uint64_t *next_table(uint64_t *entry) {
    if (*entry & X86_PTE_P) {
        return phys_to_virt(PADDR(*entry & X86_PTE_ADDR));
    }
    if (mmio_pool_used == MMIO_POOL_PAGES) {
        return NULL;
    }
    uint64_t *t = mmio_pool[mmio_pool_used++];
    memset(t, 0, PAGE_SIZE);
    *entry = image_to_phys(t) | X86_PTE_P | X86_PTE_W;
    return t;
}

static kstatus_t map_device_page(uintptr_t va, uint64_t pa) {
    uint64_t *t = phys_to_virt(PADDR(x86_read_cr3() & X86_PTE_ADDR));
    for (unsigned shift = 39; shift > 12; shift -= 9) {
        t = next_table(&t[X86_PT_INDEX(va, shift)]);
        if (t == NULL) {
            return KEEL_ENOMEM;
        }
    }
    uint64_t nx = (x86_rdmsr(X86_MSR_EFER) & X86_EFER_NXE) ? X86_PTE_NX : 0;
    t[X86_PT_INDEX(va, 12)] = pa | X86_PTE_P | X86_PTE_W | X86_PTE_PCD | X86_PTE_PWT | nx;
    x86_invlpg(va);
    return KEEL_OK;
}

/* Before arch_mm_init: map [va, va+len) into the boot tables and remember it. */
static kstatus_t map_early(uint64_t va, uint64_t pa, uint64_t len) {
    if (early_count == MMIO_EARLY_WINDOWS) {
        return KEEL_ENOMEM;
    }
    for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
        kstatus_t st = map_device_page(va + off, pa + off);
        if (st != KEEL_OK) {
            return st; /* pages mapped so far stay; the window is not reused */
        }
    }
    early_windows[early_count].va = va;
    early_windows[early_count].pa = pa;
    early_windows[early_count].len = len;
    early_count++;
    return KEEL_OK;
}

kstatus_t arch_mmio_map(paddr_t pa, size_t size, volatile void **out) {
    if (out == NULL || size == 0 || pa.pa + size < pa.pa || pa.pa + size > (1ULL << 52)) {
        return KEEL_EINVAL;
    }
    uint64_t first = ALIGN_DOWN(pa.pa, PAGE_SIZE);
    uint64_t len = ALIGN_UP(pa.pa + size, PAGE_SIZE) - first;
    unsigned long irq;
    spin_lock_irqsave(&mmio_lock, &irq);
    kstatus_t st = KEEL_ENOMEM;
    uintptr_t va = mmio_window_next;
    if (len <= X86_MMIO_WINDOW_BASE + X86_MMIO_WINDOW_SIZE - mmio_window_next) {
        if (vmm_kernel_space == NULL) {
            st = map_early(va, first, len);
        } else {
            st = vmm_map(vmm_kernel_space, VADDR(va), PADDR(first), len,
                         VM_READ | VM_WRITE | VM_DEVICE | VM_GLOBAL);
        }
        if (st == KEEL_OK || vmm_kernel_space == NULL) {
            mmio_window_next += len + PAGE_SIZE; /* an unmapped guard page between windows */
        }
    }
    spin_unlock_irqrestore(&mmio_lock, irq);
    if (st == KEEL_OK) {
        *out = (volatile void *)(va + (pa.pa - first));
    }
    return st;
}

kstatus_t x86_mmio_adopt(struct vm_space *ks) {
    for (unsigned i = 0; i < early_count; i++) {
        kstatus_t st = vmm_map(ks, VADDR(early_windows[i].va), PADDR(early_windows[i].pa),
                               early_windows[i].len, VM_READ | VM_WRITE | VM_DEVICE | VM_GLOBAL);
        if (st != KEEL_OK) {
            return st;
        }
    }
    return KEEL_OK;
}
