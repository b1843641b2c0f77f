/* SPDX-License-Identifier: MIT */
/*
 * Shared by slab.c and kmalloc.c: slab and cache layouts, the page map that tells kfree()
 * what a heap page is, and the heap lock that guards the kmalloc caches and statistics.
 */
#ifndef MM_HEAP_INTERNAL_H
#define MM_HEAP_INTERNAL_H

#include <kernel/heap.h>
#include <kernel/slab.h>
#include <kernel/spinlock.h>

#define SLAB_BM_WORDS 4u
#define SLAB_MAX_OBJS (SLAB_BM_WORDS * 64u)
#define SLAB_MAGIC    0x51ab51abu

/* At the start of every slab (1 or more naturally aligned pages). */
struct slab {
    struct slab_cache *cache;
    struct slab *next; /* partial list */
    struct slab *prev;
    uint16_t inuse;
    uint16_t total;
    uint32_t magic;
    uint64_t free_bm[SLAB_BM_WORDS]; /* 1 = object free */
};

struct slab_cache {
    char name[SLAB_NAME_MAX];
    uint32_t obj_size;
    uint32_t slab_pages;
    uint32_t objs;      /* objects per slab */
    uint32_t first_off; /* offset of object 0 in the slab */
    uint64_t recip;     /* ceil(2^32 / obj_size): index = off * recip >> 32 */
    spinlock_t own_lock;
    spinlock_t *lock; /* &own_lock, or &heap_lock for the kmalloc classes */
    struct slab *partial;
    struct slab *empty; /* one fully free slab kept to damp alloc/free churn */
    bool kmalloc_class;
    struct slab_cache_stats stats;
};

/* Page-map entries: 0 = not a heap page. */
#define PM_SLAB        0x1u /* (uintptr_t)cache | PM_SLAB: a page of a slab of that cache */
#define PM_LARGE       0x2u /* (pages << 2) | PM_LARGE: first page of a kmalloc page run */
#define PM_LARGE_SHIFT 2u

extern spinlock_t heap_lock;
extern struct heap_stats heap_counters;

kstatus_t heap_pagemap_init(void);
__must_check kstatus_t heap_pagemap_set(paddr_t page, uint64_t value);
uint64_t heap_pagemap_get(const void *p);

/* The cache lock is held by the caller for the three below. */
void slab_cache_setup(struct slab_cache *c, const char *name, size_t size, size_t align);
void *slab_alloc_locked(struct slab_cache *c);
kstatus_t slab_free_locked(struct slab_cache *c, void *obj);

#endif /* MM_HEAP_INTERNAL_H */
