/* SPDX-License-Identifier: MIT */
/*
 * kmalloc and friends: sizes up to KMALLOC_MAX_CLASS from twelve slab size classes, larger
 * ones as page runs from the frame allocator. One lock guards the classes and the
 * statistics (one lock round trip per call); the page map routes kfree().
 */
#include "heap_internal.h"

#include <kernel/frame.h>
#include <kernel/string.h>
#include <kernel/vm.h>

static const uint16_t class_size[] = {16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024};
#define CLASS_COUNT ARRAY_SIZE(class_size)

spinlock_t heap_lock = SPINLOCK_INIT;
struct heap_stats heap_counters;
static struct slab_cache classes[CLASS_COUNT];
static uint8_t class_of16[KMALLOC_MAX_CLASS / 16 + 1]; /* (size + 15) / 16 -> class */
static bool heap_ready;

kstatus_t heap_init(void) {
    unsigned long irq;
    spin_lock_irqsave(&heap_lock, &irq);
    heap_ready = false;
    memset(&heap_counters, 0, sizeof(heap_counters));
    spin_unlock_irqrestore(&heap_lock, irq);
    kstatus_t st = heap_pagemap_init();
    if (st != KEEL_OK) {
        return st;
    }
    unsigned k = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(class_of16); i++) {
        while (class_size[k] < i * 16) {
            k++;
        }
        class_of16[i] = (uint8_t)k;
    }
    for (unsigned i = 0; i < CLASS_COUNT; i++) {
        slab_cache_setup(&classes[i], "kmalloc", class_size[i], KMALLOC_ALIGN);
        classes[i].lock = &heap_lock;
        classes[i].kmalloc_class = true;
    }
    heap_ready = true;
    return KEEL_OK;
}

static void count_alloc(uint64_t bytes) {
    heap_counters.total_allocated += bytes;
    heap_counters.current_allocated += bytes;
    heap_counters.allocation_count++;
    if (heap_counters.current_allocated > heap_counters.peak_allocated) {
        heap_counters.peak_allocated = heap_counters.current_allocated;
    }
}

static void count_free(uint64_t bytes) {
    heap_counters.total_freed += bytes;
    heap_counters.current_allocated -= bytes;
    heap_counters.free_count++;
}

static void *alloc_pages_run(size_t size) {
    size_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
    phys_frame_t f;
    if (pages >= (1ULL << 40) || allocate_frames(pages, ZONE_NORMAL, &f) != KEEL_OK) {
        return NULL;
    }
    paddr_t pa = frame_to_paddr(f);
    if (heap_pagemap_set(pa, ((uint64_t)pages << PM_LARGE_SHIFT) | PM_LARGE) != KEEL_OK) {
        if (free_frames(f, pages) != KEEL_OK) {
            /* refused and counted by the frame allocator */
        }
        return NULL;
    }
    unsigned long irq;
    spin_lock_irqsave(&heap_lock, &irq);
    count_alloc((uint64_t)pages * PAGE_SIZE);
    spin_unlock_irqrestore(&heap_lock, irq);
    return phys_to_virt(pa);
}

void *kmalloc(size_t size, unsigned flags) {
    void *p = NULL;
    if (size == 0) {
        return NULL;
    }
    if (!heap_ready || (flags & ~(unsigned)(KMALLOC_ATOMIC | KMALLOC_ZERO)) != 0) {
        goto fail;
    }
    if (size <= KMALLOC_MAX_CLASS) {
        struct slab_cache *c = &classes[class_of16[(size + 15) / 16]];
        unsigned long irq;
        spin_lock_irqsave(&heap_lock, &irq);
        p = slab_alloc_locked(c);
        if (p != NULL) {
            count_alloc(c->obj_size);
        }
        spin_unlock_irqrestore(&heap_lock, irq);
        if (p != NULL && (flags & KMALLOC_ZERO)) {
            memset(p, 0, c->obj_size);
        }
    } else {
        p = alloc_pages_run(size);
        if (p != NULL && (flags & KMALLOC_ZERO)) {
            memset(p, 0, ALIGN_UP(size, PAGE_SIZE));
        }
    }
    if (p != NULL) {
        return p;
    }
fail:
    __atomic_fetch_add(&heap_counters.failed_allocations, 1, __ATOMIC_RELAXED);
    return NULL;
}

void kfree(void *p) {
    if (p == NULL) {
        return;
    }
    uint64_t tag = heap_pagemap_get(p);
    unsigned long irq;
    if (tag & PM_SLAB) {
        struct slab_cache *c = (struct slab_cache *)(uintptr_t)(tag & ~(uint64_t)7);
        spin_lock_irqsave(c->lock, &irq);
        kstatus_t st = slab_free_locked(c, p);
        if (c->kmalloc_class) {
            if (st == KEEL_OK) {
                count_free(c->obj_size);
            } else if (st == KEEL_EEXIST) {
                heap_counters.double_frees++;
            } else {
                heap_counters.bad_frees++;
            }
        }
        spin_unlock_irqrestore(c->lock, irq);
        return;
    }
    spin_lock_irqsave(&heap_lock, &irq);
    paddr_t pa = virt_to_phys(p);
    tag = heap_pagemap_get(p); /* again under the lock: two racing kfree()s */
    uint64_t pages = tag >> PM_LARGE_SHIFT;
    if (!(tag & PM_LARGE) || (pa.pa & (PAGE_SIZE - 1)) != 0) {
        heap_counters.bad_frees++;
        spin_unlock_irqrestore(&heap_lock, irq);
        return;
    }
    if (heap_pagemap_set(pa, 0) != KEEL_OK) {
        /* cannot fail: the leaf exists */
    }
    count_free(pages * PAGE_SIZE);
    spin_unlock_irqrestore(&heap_lock, irq);
    if (free_frames(paddr_to_frame(pa), pages) != KEEL_OK) {
        /* refused and counted by the frame allocator */
    }
}

size_t ksize(const void *p) {
    if (p == NULL) {
        return 0;
    }
    uint64_t tag = heap_pagemap_get(p);
    if (tag & PM_SLAB) {
        const struct slab_cache *c = (const struct slab_cache *)(uintptr_t)(tag & ~(uint64_t)7);
        uintptr_t slab_bytes = (uintptr_t)c->slab_pages * PAGE_SIZE;
        const struct slab *s = (const struct slab *)((uintptr_t)p & ~(slab_bytes - 1));
        uintptr_t off = (uintptr_t)p - (uintptr_t)s;
        if (off < c->first_off) {
            return 0;
        }
        off -= c->first_off;
        uint64_t idx = ((uint64_t)off * c->recip) >> 32;
        if (idx >= s->total || idx * c->obj_size != off ||
            (s->free_bm[idx / 64] & (1ULL << (idx & 63)))) {
            return 0;
        }
        return c->obj_size;
    }
    if ((tag & PM_LARGE) && ((uintptr_t)p & (PAGE_SIZE - 1)) == 0) {
        return (size_t)(tag >> PM_LARGE_SHIFT) * PAGE_SIZE;
    }
    return 0;
}

void *kcalloc(size_t nmemb, size_t size) {
    if (size != 0 && nmemb > SIZE_MAX / size) {
        __atomic_fetch_add(&heap_counters.failed_allocations, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    return kmalloc(nmemb * size, KMALLOC_ZERO);
}

void *krealloc(void *ptr, size_t new_size) {
    if (ptr == NULL) {
        return kmalloc(new_size, 0);
    }
    size_t have = ksize(ptr);
    if (have == 0) {
        kfree(ptr); /* not live: refused and counted there */
        return NULL;
    }
    if (new_size == 0) {
        kfree(ptr);
        return NULL;
    }
    if (new_size <= have && (have <= KMALLOC_MAX_CLASS || new_size > have / 2)) {
        return ptr;
    }
    void *n = kmalloc(new_size, 0);
    if (n == NULL) {
        return NULL;
    }
    memcpy(n, ptr, MIN(have, new_size));
    kfree(ptr);
    return n;
}

void heap_stats(struct heap_stats *out) {
    if (out == NULL) {
        return;
    }
    unsigned long irq;
    spin_lock_irqsave(&heap_lock, &irq);
    *out = heap_counters;
    out->failed_allocations = __atomic_load_n(&heap_counters.failed_allocations, __ATOMIC_RELAXED);
    spin_unlock_irqrestore(&heap_lock, irq);
}
