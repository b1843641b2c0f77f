/* SPDX-License-Identifier: MIT */
/*
 * The physical frame allocator: a hybrid of per-2 MiB-chunk bitmaps (runs under 512
 * frames) and a buddy allocator over whole chunks (runs of 512 frames and more), split
 * into pools by NUMA node and zone (DMA < 16 MiB, DMA32 < 4 GiB, Normal). It never reads
 * or writes the frames it manages; its metadata lives in a buffer the caller provides.
 * Names follow the seeds (allocate_frames, free_frames, memory_stats, page_alloc, ...).
 */
#ifndef KERNEL_FRAME_H
#define KERNEL_FRAME_H

#include <kernel/boot_info.h>
#include <kernel/types.h>

enum mem_zone {
    ZONE_DMA = 0,    /* [0, 16 MiB): legacy ISA DMA */
    ZONE_DMA32 = 1,  /* [16 MiB, 4 GiB): 32-bit DMA masters */
    ZONE_NORMAL = 2, /* [4 GiB, ...) */
    ZONE_COUNT = 3,
};

#define ZONE_DMA_LIMIT   0x1000000ULL   /* 16 MiB */
#define ZONE_DMA32_LIMIT 0x100000000ULL /* 4 GiB */

#define FRAME_MAX_NODES     BOOT_MAX_NUMA_NODES
#define FRAME_RUN_THRESHOLD 512u        /* runs of at least this many frames come from the buddy */
#define FRAME_NODE_DEFAULT  0xffffffffu /* "the default node" (node 0 until per-CPU nodes) */
#define FRAME_MAX_ORDER     15u         /* largest buddy block: 2^15 chunks of 2 MiB = 64 GiB */

/* Flags for allocate_frames_aligned(). */
#define FRAME_STRICT_NODE 0x1u /* never fall back to another NUMA node */

/* A physical frame number (physical address >> PAGE_SHIFT), as in the seed's PhysFrame. */
typedef struct {
    uint64_t number;
} phys_frame_t;

static inline paddr_t frame_to_paddr(phys_frame_t f) {
    return PADDR(f.number << PAGE_SHIFT);
}

static inline phys_frame_t paddr_to_frame(paddr_t pa) {
    return (phys_frame_t){.number = pa.pa >> PAGE_SHIFT};
}

/* Frame counts of one zone, one node, or the whole machine: total = free + allocated +
 * reserved. Reserved: RAM-like regions of the memory map that are not MEM_USABLE. */
struct frame_counts {
    uint64_t total;
    uint64_t free;
    uint64_t allocated;
    uint64_t reserved;
};

/* The seed's MemoryStatistics, plus per-node figures and error counters. */
struct memory_statistics {
    uint64_t total_frames;
    uint64_t free_frames;
    uint64_t allocated_frames;
    uint64_t reserved_frames;
    struct frame_counts zone_stats[ZONE_COUNT];
    struct frame_counts node_stats[FRAME_MAX_NODES];
    uint32_t node_count;
    uint64_t alloc_failures; /* allocations that returned KEEL_ENOMEM */
    uint64_t bad_requests;   /* allocations refused with KEEL_EINVAL */
    uint64_t double_frees;   /* free_frames() -> KEEL_EEXIST */
    uint64_t invalid_frees;  /* free_frames() -> KEEL_EINVAL */
    uint64_t reserved_frees; /* free_frames() -> KEEL_EPERM */
};

/*
 * Bytes of metadata frame_init() needs for this memory map (0 when it has no usable
 * RAM). The span covered runs from the lowest to the highest MEM_USABLE byte, rounded
 * out to 2 MiB: about 3 bits per frame plus 16 bytes per 2 MiB. Any context.
 */
size_t frame_metadata_bytes(const struct boot_info *bi);

/*
 * (Re)initialise the allocator from the normalised map in bi: MEM_USABLE frames become
 * free, RAM-like other types are counted as reserved, MEM_MMIO and holes are ignored.
 * NUMA nodes come from mem[].node with bi->numa.node_count and bi->numa.distance
 * (0 = unknown: 10 local, 20 remote). meta (meta_size bytes, >= frame_metadata_bytes(),
 * 8-byte aligned) holds all metadata; the managed frames are never touched.
 * KEEL_EINVAL: NULL/misaligned arguments or no usable RAM; KEEL_ERANGE: meta too small.
 * Boot only (or tests), single-threaded.
 */
__must_check kstatus_t frame_init(const struct boot_info *bi, void *meta, size_t meta_size);

/*
 * Take the free frames of [base, base+size) (page-rounded outward) out of circulation
 * for good and count them as reserved, e.g. boot page tables or the allocator's own
 * metadata. KEEL_EINVAL outside managed RAM; KEEL_EBUSY if any frame is allocated
 * (nothing changed); reserving a reserved frame again is accepted. Any context.
 */
__must_check kstatus_t frame_reserve(paddr_t base, uint64_t size);

/*
 * Allocate count physically contiguous frames from `zone` or a lower zone (Normal falls
 * back to DMA32, then DMA) on the default node, then other nodes by distance. The first
 * frame goes to *out. KEEL_EINVAL: count 0, bad zone, NULL out; KEEL_ENOMEM: no fitting
 * run. Any context (never sleeps; takes the allocator's irqsave spinlock).
 */
__must_check kstatus_t allocate_frames(size_t count, enum mem_zone zone, phys_frame_t *out);

/* allocate_frames() preferring NUMA `node` (FRAME_NODE_DEFAULT: the default node). */
__must_check kstatus_t allocate_frames_node(size_t count, enum mem_zone zone, uint32_t node,
                                            phys_frame_t *out);

/*
 * allocate_frames_node() whose first frame number is a multiple of `align` (a power of
 * two, in frames). flags: FRAME_STRICT_NODE. KEEL_EINVAL: align not a power of two,
 * node >= node count, unknown flags.
 */
__must_check kstatus_t allocate_frames_aligned(size_t count, size_t align, enum mem_zone zone,
                                               uint32_t node, unsigned flags, phys_frame_t *out);

/*
 * Return count frames starting at `frame` (any sub-range of earlier allocations). Checked
 * first, changed only if every frame is currently allocated: KEEL_EPERM if any is
 * reserved or not RAM, else KEEL_EEXIST if any was already freed (double free), else
 * KEEL_EINVAL if any was never handed out or lies outside managed RAM (or count is 0).
 * Each refusal is counted in memory_stats(). Any context.
 */
__must_check kstatus_t free_frames(phys_frame_t frame, size_t count);

/* Snapshot of the counters (consistent: taken under the lock). Any context. */
void memory_stats(struct memory_statistics *out);

/* True when the frame lies in managed RAM and is currently allocated. Any context. */
bool frame_is_allocated(phys_frame_t frame);

/* First frame number and frame count of the managed span (0, 0 before frame_init). */
void frame_span(uint64_t *first, uint64_t *count);

/*
 * Hand the few fully free chunks kept hot per pool back to the buddy so they can
 * coalesce. The allocator does this itself before failing a large request. Any context.
 */
void frame_drain_caches(void);

/* Free buddy blocks of 2^order chunks in the pool (node, zone); for tests and debugging. */
size_t frame_debug_free_blocks(uint32_t node, enum mem_zone zone, unsigned order);

/*
 * Check every internal invariant (lists, counters, bitmaps, coalescing). KEEL_ECORRUPT
 * on the first violation. O(managed frames); tests and debugging only.
 */
__must_check kstatus_t frame_check(void);

/*
 * The CloudOS seed's page interface as thin wrappers. A page_t * is the kernel
 * (direct-map) address of the frame; page_to_phys()/phys_to_page() convert. NULL on
 * failure; freeing a bad pointer is refused and counted like free_frames().
 */
typedef struct page page_t;

page_t *page_alloc(void);
void page_free(page_t *page);
page_t *alloc_pages(uint32_t order);
void free_pages(page_t *pages, uint32_t order);
paddr_t page_to_phys(const page_t *page);
page_t *phys_to_page(paddr_t pa);

#endif /* KERNEL_FRAME_H */
