/* SPDX-License-Identifier: MIT */
/*
 * Kernel heap interface: small variable-size allocations for kernel objects.
 * kmalloc() serves sizes up to 1 KiB from slab size classes and larger sizes from whole
 * pages of the frame allocator; both are found again on kfree() through a page map, so a
 * bad or repeated kfree() is caught and counted instead of corrupting the heap.
 */
#ifndef KERNEL_HEAP_H
#define KERNEL_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include <kernel/types.h>

#define KMALLOC_ATOMIC 0x1 /* caller holds a spinlock: do not sleep */
#define KMALLOC_ZERO   0x2 /* return zeroed memory */

#define KMALLOC_MAX_CLASS 1024u /* larger requests take whole pages */
#define KMALLOC_ALIGN     16u   /* every kmalloc() result is aligned to this */

/*
 * Allocate size bytes (flags: KMALLOC_*); NULL when out of memory, for size 0 and for
 * unknown flags. No path sleeps today, so KMALLOC_ATOMIC is accepted everywhere; it marks
 * callers that must stay non-blocking once reclaim exists. Any context.
 */
void *kmalloc(size_t size, unsigned flags);

/*
 * Free memory from kmalloc() (or a slab cache object); NULL is ignored. A pointer the
 * heap did not hand out, or one already freed, is refused and counted in heap_stats().
 */
void kfree(void *p);

/* Zeroed array of nmemb * size bytes; NULL on overflow or out of memory. */
void *kcalloc(size_t nmemb, size_t size);

/*
 * Resize: like kmalloc(new_size, 0) + copy + kfree(ptr), in place when the granted size
 * already fits. ptr NULL: kmalloc. new_size 0: kfree and NULL. NULL (ptr untouched) when
 * out of memory or ptr is not a live heap pointer.
 */
void *krealloc(void *ptr, size_t new_size);

/* Bytes usable at p (its size class or page run); 0 for a pointer not live in the heap. */
size_t ksize(const void *p);

/* The seed's AllocatorStats (bytes are counted at the granted size), plus refusals. */
struct heap_stats {
    uint64_t total_allocated;
    uint64_t total_freed;
    uint64_t current_allocated;
    uint64_t peak_allocated;
    uint64_t allocation_count;
    uint64_t free_count;
    uint64_t failed_allocations; /* NULL returns other than size 0 */
    uint64_t bad_frees;          /* kfree of a pointer the heap never handed out */
    uint64_t double_frees;       /* kfree of an object already free */
};

/* Snapshot of the heap counters. Any context. */
void heap_stats(struct heap_stats *out);

/*
 * Set up the heap on top of the frame allocator (call after frame_init(); calling it
 * again forgets the previous heap, for tests). KEEL_ENOMEM when the page map cannot be
 * allocated. Boot only.
 */
__must_check kstatus_t heap_init(void);

#endif /* KERNEL_HEAP_H */
