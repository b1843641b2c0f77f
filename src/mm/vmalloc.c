/* SPDX-License-Identifier: MIT */
/*
 * vmalloc: virtually contiguous kernel memory built from single frames, mapped into a
 * kernel VA window given by the arch. Every area is followed by one unmapped guard page,
 * so running off the end faults instead of corrupting the neighbour; a stack area also
 * owns one below it, registered with vm_fault so an overflow is reported as such. Areas
 * are kept in an address-sorted list; allocation is first fit (at an alignment the
 * caller may ask for: AArch64 kernel stacks need 32 KiB).
 */
#include <kernel/frame.h>
#include <kernel/heap.h>
#include <kernel/vm_fault.h>
#include <kernel/vmm.h>

struct vm_chunk {
    uint64_t start;
    uint64_t pages; /* mapped pages; the guard page follows */
    uint64_t lead;  /* guard pages reserved below start (stacks: 1) */
    bool freeing;   /* vfree() is unmapping it: the VA stays taken until that is done */
    struct vm_chunk *next;
    struct vm_guard guard; /* the leading guard's vm_fault record (size 0: none) */
};

static uint64_t win_base, win_end;
static struct vm_chunk *areas;
static struct vmalloc_stats vstats;
static spinlock_t vmalloc_lock = SPINLOCK_INIT;

kstatus_t vmalloc_init(vaddr_t base, uint64_t size) {
    struct vm_space *k = vmm_kernel_space;
    if (k == NULL || !k->kernel || size < 2 * PAGE_SIZE || !IS_ALIGNED(base.va, PAGE_SIZE) ||
        !IS_ALIGNED(size, PAGE_SIZE) || base.va + size < base.va ||
        base.va < pt_kernel_base(k->fmt)) {
        return KEEL_EINVAL;
    }
    unsigned long irq;
    spin_lock_irqsave(&vmalloc_lock, &irq);
    win_base = base.va;
    win_end = base.va + size;
    areas = NULL;
    vstats = (struct vmalloc_stats){0};
    spin_unlock_irqrestore(&vmalloc_lock, irq);
    return KEEL_OK;
}

/*
 * First fit for lead guard pages, then pages at a multiple of align, then the trailing
 * guard, in the window; links rec in. Lock held.
 */
static bool reserve_va(struct vm_chunk *rec, uint64_t pages, uint64_t align, uint64_t lead) {
    uint64_t below = lead * PAGE_SIZE;
    uint64_t above = (pages + 1) * PAGE_SIZE;
    uint64_t cursor = win_base; /* the lowest free address in the hole being tried */
    struct vm_chunk **link = &areas;
    for (;;) {
        uint64_t at = ALIGN_UP(cursor + below, align);
        if (at < cursor) {
            return false; /* the addition or ALIGN_UP wrapped: nothing fits higher up */
        }
        uint64_t limit = *link != NULL ? (*link)->start - (*link)->lead * PAGE_SIZE : win_end;
        if (at <= limit && limit - at >= above) {
            rec->start = at;
            rec->pages = pages;
            rec->lead = lead;
            rec->freeing = false;
            rec->next = *link;
            *link = rec;
            return true;
        }
        if (*link == NULL) {
            return false;
        }
        cursor = (*link)->start + ((*link)->pages + 1) * PAGE_SIZE;
        link = &(*link)->next;
    }
}

static void unlink_area(struct vm_chunk *rec) {
    struct vm_chunk **link = &areas;
    while (*link != rec) {
        link = &(*link)->next;
    }
    *link = rec->next;
}

/* Unmap and free the first `pages` pages of an area. */
static void release_pages(uint64_t start, uint64_t pages) {
    for (uint64_t i = 0; i < pages; i++) {
        paddr_t pa;
        if (vmm_unmap_page(vmm_kernel_space, VADDR(start + i * PAGE_SIZE), &pa) == KEEL_OK &&
            free_frames(paddr_to_frame(pa), 1) != KEEL_OK) {
            /* refused and counted by the frame allocator */
        }
    }
}

void *vmalloc(size_t size) {
    return vmalloc_aligned(size, PAGE_SIZE);
}

/* vmalloc_aligned() with lead guard pages reserved below the area (0 or 1). */
static void *vmalloc_area(size_t size, size_t align, uint64_t lead) {
    uint64_t pages = ((uint64_t)size + PAGE_SIZE - 1) / PAGE_SIZE;
    bool align_ok = (align & (align - 1)) == 0;
    struct vm_chunk *rec = size == 0 || win_end == 0 || !align_ok ? NULL : kmalloc(sizeof(*rec), 0);
    unsigned long irq;
    if (rec == NULL) {
        goto fail;
    }
    spin_lock_irqsave(&vmalloc_lock, &irq);
    rec->guard.size = 0;
    bool ok = pages < (win_end - win_base) / PAGE_SIZE &&
              reserve_va(rec, pages, align < PAGE_SIZE ? PAGE_SIZE : align, lead);
    spin_unlock_irqrestore(&vmalloc_lock, irq);
    if (!ok) {
        kfree(rec);
        goto fail;
    }
    for (uint64_t i = 0; i < pages; i++) {
        phys_frame_t f;
        if (allocate_frames(1, ZONE_NORMAL, &f) != KEEL_OK) {
            goto undo;
        }
        if (vmm_map_page(vmm_kernel_space, VADDR(rec->start + i * PAGE_SIZE), frame_to_paddr(f),
                         PAGE_SIZE, VM_READ | VM_WRITE | VM_GLOBAL) != KEEL_OK) {
            if (free_frames(f, 1) != KEEL_OK) {
                /* cannot happen: just allocated */
            }
            goto undo;
        }
        continue;
    undo:
        release_pages(rec->start, i);
        spin_lock_irqsave(&vmalloc_lock, &irq);
        unlink_area(rec);
        spin_unlock_irqrestore(&vmalloc_lock, irq);
        kfree(rec);
        goto fail;
    }
    if (lead != 0 &&
        vm_fault_guard_insert(&rec->guard, VADDR(rec->start - PAGE_SIZE), PAGE_SIZE) != KEEL_OK) {
        /* cannot happen: a page-sized range inside the window */
    }
    spin_lock_irqsave(&vmalloc_lock, &irq);
    vstats.areas++;
    vstats.pages += pages;
    spin_unlock_irqrestore(&vmalloc_lock, irq);
    return (void *)(uintptr_t)rec->start;
fail:
    __atomic_fetch_add(&vstats.failures, 1, __ATOMIC_RELAXED);
    return NULL;
}

void *vmalloc_aligned(size_t size, size_t align) {
    return vmalloc_area(size, align, 0);
}

void *vmalloc_stack(size_t size, size_t align) {
    return vmalloc_area(size, align, 1);
}

void vfree(void *ptr) {
    if (ptr == NULL) {
        return;
    }
    uint64_t va = (uintptr_t)ptr;
    unsigned long irq;
    spin_lock_irqsave(&vmalloc_lock, &irq);
    struct vm_chunk *rec = areas;
    while (rec != NULL && rec->start < va) {
        rec = rec->next;
    }
    if (rec == NULL || rec->start != va || rec->freeing) {
        vstats.bad_frees++;
        spin_unlock_irqrestore(&vmalloc_lock, irq);
        return;
    }
    /* Unmap first, then give the VA back: a vmalloc() on another CPU must not get pages
     * that are still mapped here (its vmm_map_page would fail with KEEL_EEXIST). */
    rec->freeing = true;
    spin_unlock_irqrestore(&vmalloc_lock, irq);
    release_pages(rec->start, rec->pages);
    spin_lock_irqsave(&vmalloc_lock, &irq);
    /* Before the VA can be reused: a new area's page there is no guard. */
    vm_fault_guard_remove(&rec->guard);
    unlink_area(rec);
    vstats.areas--;
    vstats.pages -= rec->pages;
    spin_unlock_irqrestore(&vmalloc_lock, irq);
    kfree(rec);
}

void vmalloc_get_stats(struct vmalloc_stats *out) {
    if (out == NULL) {
        return;
    }
    unsigned long irq;
    spin_lock_irqsave(&vmalloc_lock, &irq);
    *out = vstats;
    out->failures = __atomic_load_n(&vstats.failures, __ATOMIC_RELAXED);
    spin_unlock_irqrestore(&vmalloc_lock, irq);
}
