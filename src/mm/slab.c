/* SPDX-License-Identifier: MIT */
/*
 * Slab caches and the heap page map. A slab is 2^k naturally aligned pages with its
 * header (and free bitmap) first, so an object's slab is found by masking its address;
 * the page map (one 64-bit entry per heap page, two levels over the frame span) tells
 * kfree() whether a pointer belongs to a slab, a page run, or nothing of the heap's.
 */
#include "heap_internal.h"

#include <kernel/frame.h>
#include <kernel/string.h>
#include <kernel/vm.h>

#define PM_PER_PAGE (PAGE_SIZE / sizeof(uint64_t)) /* 512 entries: one frame chunk */

static uint64_t **pm_top; /* one pointer per 512 frames of the span */
static uint64_t pm_base_pfn, pm_nchunks;
static spinlock_t pm_lock = SPINLOCK_INIT;

kstatus_t heap_pagemap_init(void) {
    uint64_t first, count;
    frame_span(&first, &count);
    pm_top = NULL;
    pm_base_pfn = first;
    pm_nchunks = (count + PM_PER_PAGE - 1) / PM_PER_PAGE;
    if (pm_nchunks == 0) {
        return KEEL_ENOMEM;
    }
    size_t bytes = (size_t)pm_nchunks * sizeof(uint64_t *);
    phys_frame_t f;
    if (allocate_frames((bytes + PAGE_SIZE - 1) / PAGE_SIZE, ZONE_NORMAL, &f) != KEEL_OK) {
        return KEEL_ENOMEM;
    }
    pm_top = phys_to_virt(frame_to_paddr(f));
    memset(pm_top, 0, bytes);
    return KEEL_OK;
}

kstatus_t heap_pagemap_set(paddr_t page, uint64_t value) {
    uint64_t rel = (page.pa >> PAGE_SHIFT) - pm_base_pfn;
    if (pm_top == NULL || rel >= pm_nchunks * PM_PER_PAGE) {
        return KEEL_EINVAL;
    }
    unsigned long irq;
    spin_lock_irqsave(&pm_lock, &irq);
    uint64_t *leaf = pm_top[rel / PM_PER_PAGE];
    if (leaf == NULL) {
        phys_frame_t f;
        if (allocate_frames(1, ZONE_NORMAL, &f) != KEEL_OK) {
            spin_unlock_irqrestore(&pm_lock, irq);
            return KEEL_ENOMEM;
        }
        leaf = phys_to_virt(frame_to_paddr(f));
        memset(leaf, 0, PAGE_SIZE);
        __atomic_store_n(&pm_top[rel / PM_PER_PAGE], leaf, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&leaf[rel % PM_PER_PAGE], value, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&pm_lock, irq);
    return KEEL_OK;
}

uint64_t heap_pagemap_get(const void *p) {
    uint64_t rel = (virt_to_phys(p).pa >> PAGE_SHIFT) - pm_base_pfn;
    if (pm_top == NULL || rel >= pm_nchunks * PM_PER_PAGE) {
        return 0;
    }
    uint64_t *leaf = __atomic_load_n(&pm_top[rel / PM_PER_PAGE], __ATOMIC_ACQUIRE);
    return leaf == NULL ? 0 : __atomic_load_n(&leaf[rel % PM_PER_PAGE], __ATOMIC_ACQUIRE);
}

static void pagemap_set_run(paddr_t base, uint32_t pages, uint64_t value) {
    for (uint32_t i = 0; i < pages; i++) {
        /* Leaves exist: this only clears or rewrites entries that were set. */
        if (heap_pagemap_set(PADDR(base.pa + (uint64_t)i * PAGE_SIZE), value) != KEEL_OK) {
            /* cannot fail: the leaf exists */
        }
    }
}

void slab_cache_setup(struct slab_cache *c, const char *name, size_t size, size_t align) {
    memset(c, 0, sizeof(*c));
    strlcpy(c->name, name, sizeof(c->name));
    size = ALIGN_UP(size, align);
    c->obj_size = (uint32_t)size;
    c->first_off = (uint32_t)ALIGN_UP(sizeof(struct slab), align);
    c->slab_pages = 1;
    for (;;) {
        size_t bytes = (size_t)c->slab_pages * PAGE_SIZE;
        size_t objs = bytes > c->first_off ? (bytes - c->first_off) / size : 0;
        c->objs = (uint32_t)MIN(objs, (size_t)SLAB_MAX_OBJS);
        if (c->objs >= 8 || (c->objs >= 1 && c->slab_pages >= 16)) {
            break;
        }
        c->slab_pages *= 2;
    }
    c->recip = ((1ULL << 32) + size - 1) / size;
    spinlock_init(&c->own_lock);
    c->lock = &c->own_lock;
}

static struct slab *new_slab(struct slab_cache *c) {
    phys_frame_t f;
    if (allocate_frames_aligned(c->slab_pages, c->slab_pages, ZONE_NORMAL, FRAME_NODE_DEFAULT, 0,
                                &f) != KEEL_OK) {
        return NULL;
    }
    paddr_t pa = frame_to_paddr(f);
    for (uint32_t i = 0; i < c->slab_pages; i++) {
        paddr_t pg = PADDR(pa.pa + (uint64_t)i * PAGE_SIZE);
        if (heap_pagemap_set(pg, (uintptr_t)c | PM_SLAB) != KEEL_OK) {
            pagemap_set_run(pa, i, 0);
            if (free_frames(f, c->slab_pages) != KEEL_OK) {
                /* refused and counted by the frame allocator */
            }
            return NULL;
        }
    }
    struct slab *s = phys_to_virt(pa);
    memset(s, 0, sizeof(*s));
    s->cache = c;
    s->total = (uint16_t)c->objs;
    s->magic = SLAB_MAGIC;
    for (uint32_t i = 0; i < c->objs; i += 64) {
        uint32_t n = MIN(64u, c->objs - i);
        s->free_bm[i / 64] = n == 64 ? ~0ULL : (1ULL << n) - 1;
    }
    c->stats.slabs++;
    return s;
}

static void release_slab(struct slab_cache *c, struct slab *s) {
    paddr_t pa = virt_to_phys(s);
    s->magic = 0;
    pagemap_set_run(pa, c->slab_pages, 0);
    if (free_frames(paddr_to_frame(pa), c->slab_pages) != KEEL_OK) {
        /* refused and counted by the frame allocator */
    }
    c->stats.slabs--;
}

static void partial_push(struct slab_cache *c, struct slab *s) {
    s->prev = NULL;
    s->next = c->partial;
    if (c->partial != NULL) {
        c->partial->prev = s;
    }
    c->partial = s;
}

static void partial_del(struct slab_cache *c, struct slab *s) {
    if (s->prev != NULL) {
        s->prev->next = s->next;
    } else {
        c->partial = s->next;
    }
    if (s->next != NULL) {
        s->next->prev = s->prev;
    }
    s->next = s->prev = NULL;
}

void *slab_alloc_locked(struct slab_cache *c) {
    struct slab *s = c->partial;
    if (s == NULL) {
        s = c->empty;
        c->empty = NULL;
        if (s == NULL && (s = new_slab(c)) == NULL) {
            return NULL;
        }
        partial_push(c, s);
    }
    unsigned i = 0;
    while (s->free_bm[i] == 0) {
        i++;
    }
    uint64_t w = s->free_bm[i];
    unsigned idx = i * 64 + (unsigned)__builtin_ctzll(w);
    s->free_bm[i] = w & (w - 1);
    if (++s->inuse == s->total) {
        partial_del(c, s);
    }
    c->stats.objects_in_use++;
    c->stats.alloc_count++;
    return (char *)s + c->first_off + (size_t)idx * c->obj_size;
}

kstatus_t slab_free_locked(struct slab_cache *c, void *obj) {
    uintptr_t slab_bytes = (uintptr_t)c->slab_pages * PAGE_SIZE;
    struct slab *s = (struct slab *)((uintptr_t)obj & ~(slab_bytes - 1));
    uintptr_t off = (uintptr_t)obj - (uintptr_t)s;
    if (s->magic != SLAB_MAGIC || s->cache != c || off < c->first_off) {
        c->stats.bad_frees++;
        return KEEL_EINVAL;
    }
    off -= c->first_off;
    uint64_t idx = ((uint64_t)off * c->recip) >> 32;
    if (idx >= s->total || idx * c->obj_size != off) {
        c->stats.bad_frees++;
        return KEEL_EINVAL;
    }
    uint64_t bit = 1ULL << (idx & 63);
    if (s->free_bm[idx / 64] & bit) {
        c->stats.double_frees++;
        return KEEL_EEXIST;
    }
    s->free_bm[idx / 64] |= bit;
    if (s->inuse-- == s->total) {
        partial_push(c, s);
    }
    c->stats.objects_in_use--;
    c->stats.free_count++;
    if (s->inuse == 0) {
        partial_del(c, s);
        if (c->empty == NULL) {
            c->empty = s;
        } else {
            release_slab(c, s);
        }
    }
    return KEEL_OK;
}

kstatus_t slab_cache_create(const char *name, size_t size, size_t align, struct slab_cache **out) {
    if (align == 0) {
        align = KMALLOC_ALIGN;
    }
    if (name == NULL || out == NULL || size == 0 || size > SLAB_MAX_OBJ ||
        (align & (align - 1)) != 0 || align > PAGE_SIZE) {
        return KEEL_EINVAL;
    }
    struct slab_cache *c = kmalloc(sizeof(*c), KMALLOC_ZERO);
    if (c == NULL) {
        return KEEL_ENOMEM;
    }
    slab_cache_setup(c, name, size, align);
    *out = c;
    return KEEL_OK;
}

kstatus_t slab_cache_destroy(struct slab_cache *c) {
    if (c == NULL || c->kmalloc_class) {
        return KEEL_EINVAL;
    }
    unsigned long irq;
    spin_lock_irqsave(c->lock, &irq);
    if (c->stats.objects_in_use != 0) {
        spin_unlock_irqrestore(c->lock, irq);
        return KEEL_EBUSY;
    }
    if (c->empty != NULL) {
        release_slab(c, c->empty);
        c->empty = NULL;
    }
    spin_unlock_irqrestore(c->lock, irq);
    kfree(c);
    return KEEL_OK;
}

void *slab_cache_alloc(struct slab_cache *c, unsigned flags) {
    if (c == NULL || (flags & ~(unsigned)(KMALLOC_ATOMIC | KMALLOC_ZERO)) != 0) {
        return NULL;
    }
    unsigned long irq;
    spin_lock_irqsave(c->lock, &irq);
    void *p = slab_alloc_locked(c);
    spin_unlock_irqrestore(c->lock, irq);
    if (p != NULL && (flags & KMALLOC_ZERO)) {
        memset(p, 0, c->obj_size);
    }
    return p;
}

kstatus_t slab_cache_free(struct slab_cache *c, void *obj) {
    if (c == NULL || obj == NULL) {
        return KEEL_EINVAL;
    }
    if (heap_pagemap_get(obj) != ((uintptr_t)c | PM_SLAB)) {
        unsigned long irq;
        spin_lock_irqsave(c->lock, &irq);
        c->stats.bad_frees++;
        spin_unlock_irqrestore(c->lock, irq);
        return KEEL_EINVAL;
    }
    unsigned long irq;
    spin_lock_irqsave(c->lock, &irq);
    kstatus_t st = slab_free_locked(c, obj);
    spin_unlock_irqrestore(c->lock, irq);
    return st;
}

size_t slab_cache_object_size(const struct slab_cache *c) {
    return c == NULL ? 0 : c->obj_size;
}

void slab_cache_get_stats(const struct slab_cache *c, struct slab_cache_stats *out) {
    if (c != NULL && out != NULL) {
        *out = c->stats;
    }
}
