/* SPDX-License-Identifier: MIT */
/*
 * Frame allocation and freeing. Runs under 512 frames come from split chunks (bitmap
 * words searched with ctz, chunks listed by their longest free run so a fitting chunk
 * is found in O(1) amortised); runs of 512 and more take naturally aligned buddy
 * blocks of whole chunks. Set-up, statistics and checks live in frame_init.c.
 */
#include "frame_internal.h"

#include <kernel/string.h>
#include <kernel/vm.h>

struct frame_state frame_g = {.lock = SPINLOCK_INIT};

#define SEARCH_BUDGET 4u /* split chunks tried per class before taking a fresh chunk */

/* ---- bitmap helpers ---------------------------------------------------------------- */

static inline uint64_t range_mask(unsigned lo, unsigned n) {
    return (n >= 64 ? ~0ULL : ((1ULL << n) - 1)) << lo;
}

void frame_bm_set(uint64_t *bm, uint64_t start, uint64_t len) {
    while (len > 0) {
        unsigned bit = (unsigned)(start & 63);
        unsigned n = (unsigned)MIN((uint64_t)(64 - bit), len);
        bm[start >> 6] |= range_mask(bit, n);
        start += n;
        len -= n;
    }
}

void frame_bm_clear(uint64_t *bm, uint64_t start, uint64_t len) {
    while (len > 0) {
        unsigned bit = (unsigned)(start & 63);
        unsigned n = (unsigned)MIN((uint64_t)(64 - bit), len);
        bm[start >> 6] &= ~range_mask(bit, n);
        start += n;
        len -= n;
    }
}

/* First bit >= pos in the chunk's 512 bits equal to `val`, or 512. */
static unsigned chunk_next(const uint64_t *w, unsigned pos, bool val) {
    if (pos >= CHUNK_FRAMES) {
        return CHUNK_FRAMES;
    }
    unsigned i = pos >> 6;
    uint64_t x = (val ? w[i] : ~w[i]) & (~0ULL << (pos & 63));
    while (x == 0) {
        if (++i == CHUNK_WORDS) {
            return CHUNK_FRAMES;
        }
        x = val ? w[i] : ~w[i];
    }
    return i * 64 + (unsigned)__builtin_ctzll(x);
}

/* One past the last set bit below pos, or 0. */
static unsigned chunk_prev_set_end(const uint64_t *w, unsigned pos) {
    if (pos == 0) {
        return 0;
    }
    unsigned i = (pos - 1) >> 6;
    unsigned b = (pos - 1) & 63;
    uint64_t x = w[i] & (b == 63 ? ~0ULL : ((1ULL << (b + 1)) - 1));
    while (x == 0) {
        if (i == 0) {
            return 0;
        }
        x = w[--i];
    }
    return i * 64 + (63u - (unsigned)__builtin_clzll(x)) + 1;
}

unsigned frame_chunk_longest_run(uint32_t c) {
    const uint64_t *w = chunk_words(frame_g.alloc_bm, c);
    unsigned best = 0;
    unsigned pos = chunk_next(w, 0, false);
    while (pos < CHUNK_FRAMES) {
        unsigned end = chunk_next(w, pos, true);
        best = MAX(best, end - pos);
        pos = chunk_next(w, end, false);
    }
    return best;
}

/* ---- lists ------------------------------------------------------------------------- */

static void list_push(uint32_t *head, uint32_t c) {
    struct chunk *ch = frame_g.chunks;
    ch[c].prev = NO_CHUNK;
    ch[c].next = *head;
    if (*head != NO_CHUNK) {
        ch[*head].prev = c;
    }
    *head = c;
}

static void list_del(uint32_t *head, uint32_t c) {
    struct chunk *ch = frame_g.chunks;
    if (ch[c].prev != NO_CHUNK) {
        ch[ch[c].prev].next = ch[c].next;
    } else {
        *head = ch[c].next;
    }
    if (ch[c].next != NO_CHUNK) {
        ch[ch[c].next].prev = ch[c].prev;
    }
    ch[c].next = ch[c].prev = NO_CHUNK;
}

static inline struct frame_pool *chunk_pool(uint32_t c) {
    return &frame_g.pools[frame_g.chunk_pool[c]];
}

static void free_list_push(struct frame_pool *p, uint32_t c, unsigned order) {
    struct chunk *ch = &frame_g.chunks[c];
    ch->state = CH_BUDDY_HEAD;
    ch->order = (uint8_t)order;
    list_push(&p->free_head[order], c);
    p->order_mask |= 1u << order;
}

static void free_list_del(struct frame_pool *p, uint32_t c, unsigned order) {
    list_del(&p->free_head[order], c);
    if (p->free_head[order] == NO_CHUNK) {
        p->order_mask &= ~(1u << order);
    }
}

static void split_unlist(struct frame_pool *p, uint32_t c) {
    struct chunk *ch = &frame_g.chunks[c];
    if (ch->order != NO_POOL) {
        list_del(&p->split_head[ch->order], c);
        if (p->split_head[ch->order] == NO_CHUNK) {
            p->split_mask &= ~(1u << ch->order);
        }
        ch->order = NO_POOL;
    }
}

/* Put a CH_SPLIT chunk on the list its free count and hint call for. */
void frame_split_list_update(uint32_t c) {
    struct chunk *ch = &frame_g.chunks[c];
    struct frame_pool *p = chunk_pool(c);
    unsigned want = ch->free == 0 ? NO_POOL : log2_floor(ch->hint);
    if (ch->order == want) {
        return;
    }
    split_unlist(p, c);
    if (want != NO_POOL) {
        list_push(&p->split_head[want], c);
        p->split_mask |= 1u << want;
        ch->order = (uint8_t)want;
    }
}

/* ---- buddy ------------------------------------------------------------------------- */

/* Return the free block [c, c + 2^order) to its pool, merging with free buddies. */
void frame_buddy_free_block(uint32_t c, unsigned order) {
    struct frame_pool *p = chunk_pool(c);
    uint8_t pool = frame_g.chunk_pool[c];
    for (uint32_t i = 1; i < (1u << order); i++) {
        frame_g.chunks[c + i].state = CH_BUDDY_TAIL;
    }
    while (order < FRAME_MAX_ORDER) {
        uint32_t abs = frame_g.base_chunk + c;
        uint32_t b = (abs ^ (1u << order)) - frame_g.base_chunk;
        if (b >= frame_g.nchunks || frame_g.chunk_pool[b] != pool) {
            break;
        }
        struct chunk *bc = &frame_g.chunks[b];
        if (bc->state != CH_BUDDY_HEAD || bc->order != order) {
            break;
        }
        free_list_del(p, b, order);
        bc->state = CH_BUDDY_TAIL;
        if (b < c) {
            frame_g.chunks[c].state = CH_BUDDY_TAIL;
            c = b;
        }
        order++;
    }
    free_list_push(p, c, order);
}

/* Take a free block of exactly 2^order chunks from p, splitting a bigger one if needed. */
static uint32_t buddy_alloc_block(struct frame_pool *p, unsigned order) {
    uint32_t mask = p->order_mask >> order;
    if (mask == 0) {
        return NO_CHUNK;
    }
    unsigned o = order + (unsigned)__builtin_ctz(mask);
    uint32_t c = p->free_head[o];
    free_list_del(p, c, o);
    while (o > order) {
        o--;
        free_list_push(p, c + (1u << o), o);
    }
    frame_g.chunks[c].state = CH_BUDDY_TAIL;
    return c;
}

/* A fully free chunk for splitting: a cached one, else one from the buddy. */
static uint32_t take_chunk(struct frame_pool *p) {
    uint32_t c = p->cache_head;
    if (c != NO_CHUNK) {
        list_del(&p->cache_head, c);
        p->cache_count--;
        return c;
    }
    return buddy_alloc_block(p, 0);
}

/* A chunk whose frames are all free again: keep it hot in the cache or give it back. */
static void release_chunk(struct frame_pool *p, uint32_t c, bool may_cache) {
    if (may_cache && p->cache_count < CHUNK_CACHE) {
        frame_g.chunks[c].state = CH_CACHED;
        list_push(&p->cache_head, c);
        p->cache_count++;
        return;
    }
    frame_buddy_free_block(c, 0);
}

static void pool_drain(struct frame_pool *p) {
    while (p->cache_head != NO_CHUNK) {
        uint32_t c = p->cache_head;
        list_del(&p->cache_head, c);
        p->cache_count--;
        frame_buddy_free_block(c, 0);
    }
}

/* ---- split chunks ------------------------------------------------------------------ */

static void split_start(uint32_t c) {
    struct chunk *ch = &frame_g.chunks[c];
    ch->state = CH_SPLIT;
    ch->free = CHUNK_FRAMES;
    ch->hint = CHUNK_FRAMES;
    ch->order = NO_POOL;
}

static void mark_allocated(uint64_t pfn_rel, uint64_t n) {
    frame_bm_set(frame_g.alloc_bm, pfn_rel, n);
    frame_bm_set(frame_g.ever_bm, pfn_rel, n);
}

/* First-fit an aligned run of n frames in split chunk c; on failure make hint exact. */
static bool split_take(uint32_t c, unsigned n, unsigned align, uint64_t *pfn_rel) {
    struct chunk *ch = &frame_g.chunks[c];
    const uint64_t *w = chunk_words(frame_g.alloc_bm, c);
    unsigned best = 0;
    unsigned pos = chunk_next(w, 0, false);
    while (pos < CHUNK_FRAMES) {
        unsigned end = chunk_next(w, pos, true);
        unsigned start = (pos + align - 1) & ~(align - 1);
        if (start + n <= end) {
            uint64_t rel = ((uint64_t)c << CHUNK_SHIFT) + start;
            mark_allocated(rel, n);
            ch->free = (uint16_t)(ch->free - n);
            frame_split_list_update(c);
            *pfn_rel = rel;
            return true;
        }
        best = MAX(best, end - pos);
        pos = chunk_next(w, end, false);
    }
    ch->hint = (uint16_t)best;
    frame_split_list_update(c);
    return false;
}

static bool alloc_small(struct frame_pool *p, unsigned n, unsigned align, bool exhaustive,
                        uint64_t *pfn_rel) {
    uint32_t mask = p->split_mask & (~0u << log2_floor(n));
    while (mask != 0) {
        unsigned k = (unsigned)__builtin_ctz(mask);
        mask &= mask - 1;
        uint32_t c = p->split_head[k];
        for (unsigned tries = 0; c != NO_CHUNK && (exhaustive || tries < SEARCH_BUDGET); tries++) {
            uint32_t next = frame_g.chunks[c].next;
            struct chunk *ch = &frame_g.chunks[c];
            if (ch->free >= n && ch->hint >= n && split_take(c, n, align, pfn_rel)) {
                return true;
            }
            c = next;
        }
    }
    if (exhaustive) {
        return false;
    }
    uint32_t c = take_chunk(p);
    if (c == NO_CHUNK) {
        return false;
    }
    split_start(c);
    return split_take(c, n, align, pfn_rel);
}

/* ---- large runs -------------------------------------------------------------------- */

static unsigned order_for(uint64_t chunks) {
    return chunks <= 1 ? 0 : log2_floor(chunks - 1) + 1;
}

static bool alloc_large(struct frame_pool *p, uint64_t count, unsigned order, uint64_t *pfn_rel) {
    uint32_t c = order == 0 ? take_chunk(p) : buddy_alloc_block(p, order);
    if (c == NO_CHUNK) {
        return false;
    }
    uint32_t full = (uint32_t)(count >> CHUNK_SHIFT);
    unsigned rem = (unsigned)(count & (CHUNK_FRAMES - 1));
    for (uint32_t i = 0; i < full; i++) {
        frame_g.chunks[c + i].state = CH_LARGE;
    }
    mark_allocated((uint64_t)c << CHUNK_SHIFT, count);
    uint32_t used = full;
    if (rem != 0) {
        split_start(c + full);
        frame_g.chunks[c + full].free = (uint16_t)(CHUNK_FRAMES - rem);
        frame_g.chunks[c + full].hint = (uint16_t)(CHUNK_FRAMES - rem);
        frame_split_list_update(c + full);
        used++;
    }
    /* Give back the whole chunks past the run, as the largest aligned blocks that fit. */
    uint32_t end = 1u << order;
    while (used < end) {
        unsigned o = (unsigned)__builtin_ctz(frame_g.base_chunk + c + used);
        while (used + (1u << o) > end) {
            o--;
        }
        frame_buddy_free_block(c + used, o);
        used += 1u << o;
    }
    *pfn_rel = (uint64_t)c << CHUNK_SHIFT;
    return true;
}

/* ---- public allocation ------------------------------------------------------------- */

static kstatus_t alloc_locked(uint64_t count, uint64_t align, unsigned zone, uint32_t node,
                              unsigned flags, uint64_t *pfn_out) {
    const uint8_t *list = frame_g.fallback[node][zone];
    uint8_t strict_list[ZONE_COUNT + 1];
    if (flags & FRAME_STRICT_NODE) {
        unsigned k = 0;
        for (unsigned i = 0; list[i] != NO_POOL; i++) {
            if (list[i] / ZONE_COUNT == node) {
                strict_list[k++] = list[i];
            }
        }
        strict_list[k] = NO_POOL;
        list = strict_list;
    }
    uint64_t rel;
    if (count < CHUNK_FRAMES && align <= CHUNK_FRAMES) {
        for (int pass = 0; pass < 2; pass++) {
            for (unsigned i = 0; list[i] != NO_POOL; i++) {
                struct frame_pool *p = &frame_g.pools[list[i]];
                if (p->free >= count &&
                    alloc_small(p, (unsigned)count, (unsigned)align, pass == 1, &rel)) {
                    goto found;
                }
            }
        }
    } else {
        uint64_t chunks = (count + CHUNK_FRAMES - 1) >> CHUNK_SHIFT;
        unsigned order = order_for(chunks);
        if (align > CHUNK_FRAMES) {
            order = MAX(order, log2_floor(align) - CHUNK_SHIFT);
        }
        if (order > FRAME_MAX_ORDER) {
            return KEEL_ENOMEM;
        }
        for (int pass = 0; pass < 2; pass++) {
            for (unsigned i = 0; list[i] != NO_POOL; i++) {
                struct frame_pool *p = &frame_g.pools[list[i]];
                if (pass == 1) {
                    pool_drain(p);
                }
                if (p->free >= count && alloc_large(p, count, order, &rel)) {
                    goto found;
                }
            }
        }
    }
    return KEEL_ENOMEM;
found:
    for (uint64_t f = rel; f < rel + count; f += CHUNK_FRAMES - ((f) & (CHUNK_FRAMES - 1))) {
        uint64_t in_chunk = MIN(count - (f - rel), CHUNK_FRAMES - (f & (CHUNK_FRAMES - 1)));
        chunk_pool((uint32_t)(f >> CHUNK_SHIFT))->free -= in_chunk;
    }
    *pfn_out = frame_g.base_pfn + rel;
    return KEEL_OK;
}

kstatus_t allocate_frames_aligned(size_t count, size_t align, enum mem_zone zone, uint32_t node,
                                  unsigned flags, phys_frame_t *out) {
    if (node == FRAME_NODE_DEFAULT) {
        node = 0;
    }
    unsigned long irq;
    spin_lock_irqsave(&frame_g.lock, &irq);
    kstatus_t st = KEEL_EINVAL;
    if (frame_g.ready && out != NULL && count != 0 && (unsigned)zone < ZONE_COUNT &&
        node < frame_g.node_count && align != 0 && (align & (align - 1)) == 0 &&
        (flags & ~FRAME_STRICT_NODE) == 0) {
        uint64_t pfn = 0;
        st = alloc_locked(count, align, (unsigned)zone, node, flags, &pfn);
        if (st == KEEL_OK) {
            out->number = pfn;
        } else {
            frame_g.alloc_failures++;
        }
    } else {
        frame_g.bad_requests++;
    }
    spin_unlock_irqrestore(&frame_g.lock, irq);
    return st;
}

kstatus_t allocate_frames_node(size_t count, enum mem_zone zone, uint32_t node, phys_frame_t *out) {
    return allocate_frames_aligned(count, 1, zone, node, 0, out);
}

kstatus_t allocate_frames(size_t count, enum mem_zone zone, phys_frame_t *out) {
    return allocate_frames_aligned(count, 1, zone, FRAME_NODE_DEFAULT, 0, out);
}

/* ---- freeing ----------------------------------------------------------------------- */

/* Every frame of [rel, rel+count) allocated? Else the error free_frames() reports. */
static kstatus_t check_allocated(uint64_t rel, uint64_t count) {
    bool never = false, again = false;
    while (count > 0) {
        unsigned bit = (unsigned)(rel & 63);
        unsigned n = (unsigned)MIN((uint64_t)(64 - bit), count);
        uint64_t m = range_mask(bit, n);
        size_t w = (size_t)(rel >> 6);
        uint64_t missing = ~frame_g.alloc_bm[w] & m;
        if ((frame_g.resv_bm[w] & m) != 0) {
            return KEEL_EPERM;
        }
        if (missing != 0) {
            again |= (missing & frame_g.ever_bm[w]) != 0;
            never |= (missing & ~frame_g.ever_bm[w]) != 0;
        }
        rel += n;
        count -= n;
    }
    return again ? KEEL_EEXIST : never ? KEEL_EINVAL : KEEL_OK;
}

/* Free [s, e) of chunk c, which is CH_SPLIT or CH_LARGE. */
static void free_in_chunk(uint32_t c, unsigned s, unsigned e, bool may_cache) {
    struct chunk *ch = &frame_g.chunks[c];
    struct frame_pool *p = chunk_pool(c);
    p->free += e - s;
    if (ch->state == CH_LARGE) {
        if (s == 0 && e == CHUNK_FRAMES) {
            memset(chunk_words(frame_g.alloc_bm, c), 0, CHUNK_WORDS * sizeof(uint64_t));
            release_chunk(p, c, may_cache);
            return;
        }
        ch->state = CH_SPLIT;
        ch->free = 0;
        ch->hint = 0;
        ch->order = NO_POOL;
    }
    uint64_t *w = chunk_words(frame_g.alloc_bm, c);
    frame_bm_clear(w, s, e - s);
    ch->free = (uint16_t)(ch->free + (e - s));
    if (ch->free == CHUNK_FRAMES) {
        split_unlist(p, c);
        release_chunk(p, c, may_cache);
        return;
    }
    unsigned lo = chunk_prev_set_end(w, s);
    unsigned hi = chunk_next(w, e, true);
    if (hi - lo > ch->hint) {
        ch->hint = (uint16_t)(hi - lo);
    }
    frame_split_list_update(c);
}

kstatus_t free_frames(phys_frame_t frame, size_t count) {
    unsigned long irq;
    spin_lock_irqsave(&frame_g.lock, &irq);
    kstatus_t st = KEEL_EINVAL;
    uint64_t rel = frame.number - frame_g.base_pfn;
    if (frame_g.ready && count != 0 && frame.number >= frame_g.base_pfn && rel < frame_g.nframes &&
        count <= frame_g.nframes - rel) {
        st = check_allocated(rel, count);
    }
    if (st == KEEL_OK) {
        bool may_cache = count <= CHUNK_FRAMES;
        uint64_t end = rel + count;
        while (rel < end) {
            uint32_t c = (uint32_t)(rel >> CHUNK_SHIFT);
            unsigned s = (unsigned)(rel & (CHUNK_FRAMES - 1));
            unsigned e = (unsigned)MIN((uint64_t)CHUNK_FRAMES, end - ((uint64_t)c << CHUNK_SHIFT));
            free_in_chunk(c, s, e, may_cache);
            rel += e - s;
        }
    } else if (st == KEEL_EPERM) {
        frame_g.reserved_frees++;
    } else if (st == KEEL_EEXIST) {
        frame_g.double_frees++;
    } else {
        frame_g.invalid_frees++;
    }
    spin_unlock_irqrestore(&frame_g.lock, irq);
    return st;
}

void frame_drain_caches(void) {
    unsigned long irq;
    spin_lock_irqsave(&frame_g.lock, &irq);
    if (frame_g.ready) {
        for (unsigned i = 0; i < POOL_COUNT; i++) {
            pool_drain(&frame_g.pools[i]);
        }
    }
    spin_unlock_irqrestore(&frame_g.lock, irq);
}

/* ---- the seed's page interface ----------------------------------------------------- */

page_t *alloc_pages(uint32_t order) {
    phys_frame_t f;
    if (order > 31 || allocate_frames((size_t)1 << order, ZONE_NORMAL, &f) != KEEL_OK) {
        return NULL;
    }
    return phys_to_page(frame_to_paddr(f));
}

void free_pages(page_t *pages, uint32_t order) {
    if (pages == NULL) {
        return;
    }
    paddr_t pa = page_to_phys(pages);
    if (order > 31 || (pa.pa & (PAGE_SIZE - 1)) != 0) {
        __atomic_fetch_add(&frame_g.invalid_frees, 1, __ATOMIC_RELAXED);
        return;
    }
    if (free_frames(paddr_to_frame(pa), (size_t)1 << order) != KEEL_OK) {
        /* refused and counted by the frame allocator */
    }
}

page_t *page_alloc(void) {
    return alloc_pages(0);
}

void page_free(page_t *page) {
    free_pages(page, 0);
}

paddr_t page_to_phys(const page_t *page) {
    return virt_to_phys(page);
}

page_t *phys_to_page(paddr_t pa) {
    return (page_t *)phys_to_virt(pa);
}
