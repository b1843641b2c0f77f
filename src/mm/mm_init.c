/* SPDX-License-Identifier: MIT */
/*
 * Memory bring-up order: the frame allocator first (its metadata taken from the largest
 * usable region, then reserved so it is never handed out), the heap on top of it, then
 * the arch's kernel address space, which needs both.
 */
#include <arch/mmu.h>
#include <kernel/frame.h>
#include <kernel/heap.h>
#include <kernel/kprintf.h>
#include <kernel/mm.h>
#include <kernel/vm.h>

/* The highest usable region that can hold size bytes (8-byte aligned, page rounded). */
static bool find_metadata_home(const struct boot_info *bi, uint64_t size, uint64_t *base) {
    bool found = false;
    for (uint32_t i = 0; i < bi->mem_count; i++) {
        const struct mem_region *r = &bi->mem[i];
        if (r->type == MEM_USABLE && r->size >= size) {
            *base = r->base + r->size - size;
            found = true;
        }
    }
    return found;
}

kstatus_t mm_init(const struct boot_info *bi) {
    size_t need = frame_metadata_bytes(bi);
    if (need == 0) {
        kprintf("mm: the memory map has no usable RAM\n");
        return KEEL_ENOMEM;
    }
    uint64_t size = ALIGN_UP((uint64_t)need, (uint64_t)PAGE_SIZE);
    uint64_t base;
    if (!find_metadata_home(bi, size, &base)) {
        kprintf("mm: no usable region holds the allocator's %llu KiB of metadata\n",
                (unsigned long long)(size >> 10));
        return KEEL_ENOMEM;
    }
    kstatus_t st = frame_init(bi, phys_to_virt(PADDR(base)), size);
    if (st == KEEL_OK) {
        st = frame_reserve(PADDR(base), size);
    }
    if (st == KEEL_OK) {
        st = heap_init();
    }
    if (st == KEEL_OK) {
        st = arch_mm_init(bi);
    }
    if (st != KEEL_OK) {
        return st;
    }
    struct memory_statistics ms;
    memory_stats(&ms);
    kprintf("Memory: %llu MiB free of %llu MiB managed (%llu KiB allocator metadata)\n",
            (unsigned long long)(ms.free_frames >> (20 - PAGE_SHIFT)),
            (unsigned long long)(ms.total_frames >> (20 - PAGE_SHIFT)),
            (unsigned long long)(size >> 10));
    return KEEL_OK;
}
