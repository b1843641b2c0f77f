/* SPDX-License-Identifier: MIT */
/*
 * vmalloc: virtually contiguous kernel memory built from single frames, mapped into a
 * kernel VA window given by the arch. Every area is followed by one unmapped guard page,
 * so running off the end faults instead of corrupting the neighbour. Areas are kept in
 * an address-sorted list; allocation is first fit (at an alignment the caller may ask
 * for: AArch64 kernel stacks need 32 KiB).
 */
#include <kernel/frame.h>
#include <kernel/heap.h>
#include <kernel/vmm.h>

struct vm_chunk {
    uint64_t start;
    uint64_t pages; /* mapped pages; the guard page follows */
    bool freeing;   /* vfree() is unmapping it: the VA stays taken until that is done */
    struct vm_chunk *next;
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
 * First fit for pages + 1 (guard) at a multiple of align in the window; links rec in.
 * Lock held.
 */
static bool reserve_va(struct vm_chunk *rec, uint64_t pages, uint64_t align) {
    uint64_t need = (pages + 1) * PAGE_SIZE;
    uint64_t at = ALIGN_UP(win_base, align);
    struct vm_chunk **link = &areas;
    while (*link != NULL) {
        if (at >= win_base && at <= (*link)->start && (*link)->start - at >= need) {
            break;
        }
        at = ALIGN_UP((*link)->start + ((*link)->pages + 1) * PAGE_SIZE, align);
        link = &(*link)->next;
    }
    if (at < win_base || at > win_end || win_end - at < need) {
        return false; /* also an ALIGN_UP that wrapped */
    }
    rec->start = at;
    rec->pages = pages;
    rec->freeing = false;
    rec->next = *link;
    *link = rec;
    return true;
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

void *vmalloc_aligned(size_t size, size_t align) {
    uint64_t pages = ((uint64_t)size + PAGE_SIZE - 1) / PAGE_SIZE;
    bool align_ok = (align & (align - 1)) == 0;
    struct vm_chunk *rec = size == 0 || win_end == 0 || !align_ok ? NULL : kmalloc(sizeof(*rec), 0);
    unsigned long irq;
    if (rec == NULL) {
        goto fail;
    }
    spin_lock_irqsave(&vmalloc_lock, &irq);
    bool ok = pages < (win_end - win_base) / PAGE_SIZE &&
              reserve_va(rec, pages, align < PAGE_SIZE ? PAGE_SIZE : align);
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
    spin_lock_irqsave(&vmalloc_lock, &irq);
    vstats.areas++;
    vstats.pages += pages;
    spin_unlock_irqrestore(&vmalloc_lock, irq);
    return (void *)(uintptr_t)rec->start;
fail:
    __atomic_fetch_add(&vstats.failures, 1, __ATOMIC_RELAXED);
    return NULL;
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
