/* SPDX-License-Identifier: MIT */
/*
 * The kernel's view of the boot page tables the EFI loader built (layout in
 * <arch/arch_mmu.h>): walking them, mapping device windows for arch_mmio_map(), and
 * dropping the loader's identity mapping. The memory issue replaces this with a full
 * VM layer; until then tables for MMIO windows come from a small static pool.
 */
#include <arch/mmu.h>
#include <arch/cpu.h>
#include <arch/io.h>
#include <arch/x86_pt.h>
#include <kernel/string.h>
#include <kernel/vm.h>

#include "x86.h"

#define MMIO_POOL_PAGES 8

static uint64_t mmio_pool[MMIO_POOL_PAGES][512] __aligned(4096);
static unsigned mmio_pool_used;
static uint64_t mmio_window_next = X86_MMIO_WINDOW_BASE;

uint64_t x86_kernel_phys;
static const struct boot_info *boot_info;

/* RAM and firmware tables: the loader maps these (and all of [0, 4 GiB)). */
static bool is_ram_type(uint32_t type) {
    return type == MEM_USABLE || type == MEM_ACPI_RECLAIM || type == MEM_FIRMWARE ||
           type == MEM_ACPI_NVS || type == MEM_KERNEL || type == MEM_INITRD || type == MEM_DTB;
}

void x86_mmu_init(const struct boot_info *bi) {
    boot_info = bi;

    /* The loader identity-mapped its trampoline in the lower half; user space goes there. */
    uint64_t *pml4 = phys_to_virt(PADDR(x86_read_cr3() & X86_PTE_ADDR));
    for (unsigned i = 0; i < 256; i++) {
        pml4[i] = 0;
    }
    x86_write_cr3(x86_read_cr3());
}

bool x86_kernel_readable(uintptr_t addr, size_t len) {
    uintptr_t end = addr + len;
    if (end < addr) {
        return false;
    }
    if (addr >= (uintptr_t)__kernel_start && end <= (uintptr_t)__kernel_end) {
        return true;
    }
    /* The direct map: all of [0, 4 GiB), and above that the RAM regions. */
    if (addr < KEEL_DIRECT_MAP_BASE || end > KEEL_DIRECT_MAP_BASE + KEEL_DIRECT_MAP_SIZE) {
        return false;
    }
    uint64_t pa = addr - KEEL_DIRECT_MAP_BASE;
    uint64_t pa_end = end - KEEL_DIRECT_MAP_BASE;
    if (pa_end <= (1ULL << 32)) {
        return true;
    }
    for (uint32_t i = 0; boot_info != NULL && i < boot_info->mem_count; i++) {
        const struct mem_region *r = &boot_info->mem[i];
        if (is_ram_type(r->type) && pa >= r->base && pa_end <= r->base + r->size) {
            return true;
        }
    }
    return false;
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

kstatus_t arch_mmio_map(paddr_t pa, size_t size, volatile void **out) {
    if (size == 0 || pa.pa + size < pa.pa || pa.pa + size > (1ULL << 52)) {
        return KEEL_EINVAL;
    }
    uint64_t first = ALIGN_DOWN(pa.pa, PAGE_SIZE);
    uint64_t len = ALIGN_UP(pa.pa + size, PAGE_SIZE) - first;
    if (len > X86_MMIO_WINDOW_BASE + X86_MMIO_WINDOW_SIZE - mmio_window_next) {
        return KEEL_ENOMEM;
    }
    uintptr_t va = mmio_window_next;
    for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
        kstatus_t st = map_device_page(va + off, first + off);
        if (st != KEEL_OK) {
            return st; /* pages mapped so far stay; the window is not reused */
        }
    }
    mmio_window_next += len + PAGE_SIZE; /* an unmapped guard page between windows */
    *out = (volatile void *)(va + (pa.pa - first));
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
