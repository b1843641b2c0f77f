/* SPDX-License-Identifier: MIT */
/*
 * Slab caches: fixed-size kernel objects (threads, endpoints, capability nodes, ...)
 * packed into naturally aligned runs of pages taken from the frame allocator. A per-slab
 * bitmap, kept apart from the objects, finds free objects and catches double frees.
 * kmalloc() is built on eleven of these caches.
 */
#ifndef KERNEL_SLAB_H
#define KERNEL_SLAB_H

#include <kernel/types.h>

struct slab_cache;

#define SLAB_NAME_MAX 24
#define SLAB_MAX_OBJ  (64 * 1024) /* largest object a slab cache accepts */

/* Counters of one cache (objects, slabs and refusals). */
struct slab_cache_stats {
    uint64_t objects_in_use;
    uint64_t slabs;
    uint64_t alloc_count;
    uint64_t free_count;
    uint64_t bad_frees; /* pointer not an object of this cache */
    uint64_t double_frees;
};

/*
 * Create a cache of `size`-byte objects aligned to `align` (0: 16; a power of two up
 * to 4096). KEEL_EINVAL: size 0 or > SLAB_MAX_OBJ, bad align, NULL name/out;
 * KEEL_ENOMEM: no memory for the descriptor. May allocate (needs heap_init()).
 */
__must_check kstatus_t slab_cache_create(const char *name, size_t size, size_t align,
                                         struct slab_cache **out);

/*
 * Destroy a cache. KEEL_EBUSY while objects are still allocated (nothing freed);
 * KEEL_EINVAL for NULL or a kmalloc cache. Returns the cache's pages to the allocator.
 */
__must_check kstatus_t slab_cache_destroy(struct slab_cache *cache);

/* An object (KMALLOC_ZERO in flags: zeroed), or NULL when out of memory. Any context. */
void *slab_cache_alloc(struct slab_cache *cache, unsigned flags);

/*
 * Return an object to its cache. KEEL_EINVAL if obj is not an object of this cache,
 * KEEL_EEXIST if it is already free; both are counted and change nothing.
 */
__must_check kstatus_t slab_cache_free(struct slab_cache *cache, void *obj);

/* Object size (after alignment rounding) of the cache. */
size_t slab_cache_object_size(const struct slab_cache *cache);

/* Copy the cache's counters to *out. */
void slab_cache_get_stats(const struct slab_cache *cache, struct slab_cache_stats *out);

#endif /* KERNEL_SLAB_H */
