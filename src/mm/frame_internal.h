/* SPDX-License-Identifier: MIT */
/*
 * Shared state of the frame allocator (frame.c: allocation paths; frame_init.c: set-up,
 * statistics and checks). Memory is cut into 2 MiB chunks of 512 frames; each chunk is
 * either part of a free buddy block, a hot cached free chunk, split into frames managed
 * by its bitmap words, or wholly allocated as part of a large run.
 */
#ifndef MM_FRAME_INTERNAL_H
#define MM_FRAME_INTERNAL_H

#include <kernel/frame.h>
#include <kernel/spinlock.h>

#define CHUNK_SHIFT   9u
#define CHUNK_FRAMES  512u
#define CHUNK_WORDS   8u
#define SPLIT_CLASSES 10u /* split chunks are listed by floor(log2(largest free run)) */
#define NO_CHUNK      0xffffffffu
#define CHUNK_CACHE   4u /* fully free chunks kept out of the buddy per pool */
#define NO_POOL       0xffu
#define POOL_COUNT    (FRAME_MAX_NODES * ZONE_COUNT)

enum chunk_state {
    CH_ABSENT = 0, /* no usable frame: holes and reserved memory only */
    CH_BUDDY_HEAD, /* first chunk of a free buddy block of `order` */
    CH_BUDDY_TAIL, /* inside a free buddy block */
    CH_CACHED,     /* fully free, on its pool's cache list */
    CH_SPLIT,      /* frames handed out individually; bitmap words are authoritative */
    CH_LARGE,      /* all 512 frames allocated as part of a run >= 512 */
};

/* 16 bytes per 2 MiB chunk. */
struct chunk {
    uint32_t next; /* list links (buddy free list, cache list or split list) */
    uint32_t prev;
    uint16_t free;   /* CH_SPLIT: free frames */
    uint16_t hint;   /* CH_SPLIT: upper bound of the longest free run */
    uint16_t usable; /* frames that are RAM and not reserved */
    uint8_t state;   /* enum chunk_state */
    uint8_t order;   /* CH_BUDDY_HEAD: block order; CH_SPLIT: split class or NO_POOL */
};

struct frame_pool {
    uint32_t free_head[FRAME_MAX_ORDER + 1];
    uint32_t split_head[SPLIT_CLASSES];
    uint32_t cache_head;
    uint32_t order_mask; /* bit o: free_head[o] non-empty */
    uint32_t split_mask; /* bit k: split_head[k] non-empty */
    uint32_t cache_count;
    uint64_t total;    /* usable + reserved frames */
    uint64_t free;     /* free frames (buddy, cached and split) */
    uint64_t reserved; /* reserved frames */
};

struct frame_state {
    bool ready;
    uint64_t base_pfn;   /* first frame of the span (chunk aligned) */
    uint64_t nframes;    /* frames in the span (multiple of CHUNK_FRAMES) */
    uint32_t base_chunk; /* base_pfn >> CHUNK_SHIFT */
    uint32_t nchunks;
    struct chunk *chunks;
    uint8_t *chunk_pool; /* pool index of each chunk, NO_POOL when unset */
    uint64_t *alloc_bm;  /* 1 = allocated, reserved or not RAM */
    uint64_t *resv_bm;   /* 1 = reserved or not RAM */
    uint64_t *ever_bm;   /* 1 = handed out at least once (tells double from bogus frees) */
    uint32_t node_count;
    uint8_t distance[FRAME_MAX_NODES][FRAME_MAX_NODES];
    /* fallback[node][zone] = pools to try, in order, ending with NO_POOL */
    uint8_t fallback[FRAME_MAX_NODES][ZONE_COUNT][POOL_COUNT + 1];
    struct frame_pool pools[POOL_COUNT];
    uint64_t alloc_failures, bad_requests, double_frees, invalid_frees, reserved_frees;
    spinlock_t lock;
};

extern struct frame_state frame_g;

static inline unsigned pool_index(uint32_t node, unsigned zone) {
    return node * ZONE_COUNT + zone;
}

static inline uint64_t *chunk_words(uint64_t *bm, uint32_t c) {
    return &bm[(size_t)c * CHUNK_WORDS];
}

static inline unsigned log2_floor(uint64_t x) {
    return 63u - (unsigned)__builtin_clzll(x);
}

/* Internal helpers shared by frame.c and frame_init.c; the caller holds frame_g.lock. */
void frame_buddy_free_block(uint32_t c, unsigned order);
void frame_split_list_update(uint32_t c);
unsigned frame_chunk_longest_run(uint32_t c);
void frame_bm_set(uint64_t *bm, uint64_t start, uint64_t len);
void frame_bm_clear(uint64_t *bm, uint64_t start, uint64_t len);

#endif /* MM_FRAME_INTERNAL_H */
