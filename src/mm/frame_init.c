/* SPDX-License-Identifier: MIT */
/*
 * Frame allocator set-up from the boot memory map, NUMA fallback order, boot-time
 * reservations, statistics and the invariant checker used by the tests. The allocation
 * paths are in frame.c.
 */
#include "frame_internal.h"

#include <kernel/string.h>

struct frame_layout {
    uint64_t base_pfn, nframes;
    size_t chunks_off, pool_off, alloc_off, resv_off, ever_off, bytes;
};

static bool is_ram_reserved(uint32_t type) {
    return type != MEM_USABLE && type != MEM_MMIO && type >= MEM_ACPI_RECLAIM && type <= MEM_KERNEL;
}

static bool usable_pfns(const struct mem_region *r, uint64_t *s, uint64_t *e) {
    if (r->type != MEM_USABLE || r->base + r->size < r->base) {
        return false;
    }
    *s = (r->base + PAGE_SIZE - 1) >> PAGE_SHIFT;
    *e = (r->base + r->size) >> PAGE_SHIFT;
    return *e > *s;
}

static bool layout_for(const struct boot_info *bi, struct frame_layout *l) {
    uint64_t lo = UINT64_MAX, hi = 0;
    if (bi == NULL) {
        return false;
    }
    for (uint32_t i = 0; i < bi->mem_count && i < BOOT_MAX_MEM_REGIONS; i++) {
        uint64_t s, e;
        if (usable_pfns(&bi->mem[i], &s, &e)) {
            lo = MIN(lo, s);
            hi = MAX(hi, e);
        }
    }
    if (hi == 0 || hi > (1ULL << (52 - PAGE_SHIFT))) {
        return false;
    }
    l->base_pfn = ALIGN_DOWN(lo, (uint64_t)CHUNK_FRAMES);
    l->nframes = ALIGN_UP(hi, (uint64_t)CHUNK_FRAMES) - l->base_pfn;
    uint64_t nchunks = l->nframes >> CHUNK_SHIFT;
    size_t bm_bytes = (size_t)(l->nframes / 8);
    l->chunks_off = 0;
    l->pool_off = (size_t)nchunks * sizeof(struct chunk);
    l->alloc_off = l->pool_off + ALIGN_UP((size_t)nchunks, (size_t)8);
    l->resv_off = l->alloc_off + bm_bytes;
    l->ever_off = l->resv_off + bm_bytes;
    l->bytes = l->ever_off + bm_bytes;
    return true;
}

size_t frame_metadata_bytes(const struct boot_info *bi) {
    struct frame_layout l;
    return layout_for(bi, &l) ? l.bytes : 0;
}

static unsigned zone_of_chunk(uint32_t c) {
    uint64_t pa = ((uint64_t)(frame_g.base_chunk + c) << CHUNK_SHIFT) << PAGE_SHIFT;
    return pa < ZONE_DMA_LIMIT ? ZONE_DMA : pa < ZONE_DMA32_LIMIT ? ZONE_DMA32 : ZONE_NORMAL;
}

static uint64_t count_clear(const uint64_t *bm, uint64_t start, uint64_t len) {
    uint64_t n = 0;
    while (len > 0) {
        unsigned bit = (unsigned)(start & 63);
        unsigned k = (unsigned)MIN((uint64_t)(64 - bit), len);
        uint64_t m = (k == 64 ? ~0ULL : ((1ULL << k) - 1)) << bit;
        n += (uint64_t)__builtin_popcountll(~bm[start >> 6] & m);
        start += k;
        len -= k;
    }
    return n;
}

static void set_numa(const struct boot_info *bi) {
    uint32_t n = bi->numa.node_count;
    frame_g.node_count = n == 0 ? 1 : MIN(n, (uint32_t)FRAME_MAX_NODES);
    for (uint32_t i = 0; i < FRAME_MAX_NODES; i++) {
        for (uint32_t j = 0; j < FRAME_MAX_NODES; j++) {
            uint8_t d = n == 0 ? 0 : bi->numa.distance[i][j];
            frame_g.distance[i][j] = d != 0 ? d : (i == j ? 10 : 20);
        }
    }
}

static void build_fallback(void) {
    for (uint32_t n = 0; n < FRAME_MAX_NODES; n++) {
        uint32_t order[FRAME_MAX_NODES];
        uint32_t k = 0;
        /* Nodes by distance from n (n itself first, ties by number): insertion sort. */
        for (uint32_t m = 0; m < frame_g.node_count; m++) {
            uint32_t key = m == n ? 0 : 1u + frame_g.distance[n][m];
            uint32_t j = k++;
            while (j > 0) {
                uint32_t p = order[j - 1];
                uint32_t pkey = p == n ? 0 : 1u + frame_g.distance[n][p];
                if (pkey <= key) {
                    break;
                }
                order[j] = p;
                j--;
            }
            order[j] = m;
        }
        for (unsigned z = 0; z < ZONE_COUNT; z++) {
            uint8_t *list = frame_g.fallback[n][z];
            unsigned len = 0;
            for (uint32_t i = 0; i < k; i++) {
                for (int zz = (int)z; zz >= 0; zz--) {
                    unsigned pi = pool_index(order[i], (unsigned)zz);
                    struct frame_pool *p = &frame_g.pools[pi];
                    if (p->total > p->reserved) {
                        list[len++] = (uint8_t)pi;
                    }
                }
            }
            list[len] = NO_POOL;
        }
    }
}

static void add_usable(uint64_t s, uint64_t e, uint32_t node) {
    frame_bm_clear(frame_g.alloc_bm, s, e - s);
    frame_bm_clear(frame_g.resv_bm, s, e - s);
    while (s < e) {
        uint32_t c = (uint32_t)(s >> CHUNK_SHIFT);
        uint64_t ce = MIN(e, ((uint64_t)c + 1) << CHUNK_SHIFT);
        if (frame_g.chunk_pool[c] == NO_POOL) {
            frame_g.chunk_pool[c] = (uint8_t)pool_index(node, zone_of_chunk(c));
        }
        struct frame_pool *p = &frame_g.pools[frame_g.chunk_pool[c]];
        frame_g.chunks[c].usable = (uint16_t)(frame_g.chunks[c].usable + (ce - s));
        p->total += ce - s;
        p->free += ce - s;
        s = ce;
    }
}

static void add_reserved(uint64_t s, uint64_t e, uint32_t node) {
    while (s < e) {
        uint32_t c = (uint32_t)(s >> CHUNK_SHIFT);
        uint64_t ce = MIN(e, ((uint64_t)c + 1) << CHUNK_SHIFT);
        uint64_t n = (ce - s) - count_clear(frame_g.resv_bm, s, ce - s);
        if (frame_g.chunk_pool[c] == NO_POOL) {
            frame_g.chunk_pool[c] = (uint8_t)pool_index(node, zone_of_chunk(c));
        }
        struct frame_pool *p = &frame_g.pools[frame_g.chunk_pool[c]];
        p->total += n;
        p->reserved += n;
        s = ce;
    }
}

kstatus_t frame_init(const struct boot_info *bi, void *meta, size_t meta_size) {
    struct frame_layout l;
    if (meta == NULL || ((uintptr_t)meta & 7) != 0 || !layout_for(bi, &l)) {
        return KEEL_EINVAL;
    }
    if (meta_size < l.bytes) {
        return KEEL_ERANGE;
    }
    char *m = meta;
    memset(&frame_g, 0, sizeof(frame_g));
    spinlock_init(&frame_g.lock);
    frame_g.base_pfn = l.base_pfn;
    frame_g.nframes = l.nframes;
    frame_g.base_chunk = (uint32_t)(l.base_pfn >> CHUNK_SHIFT);
    frame_g.nchunks = (uint32_t)(l.nframes >> CHUNK_SHIFT);
    frame_g.chunks = (struct chunk *)(void *)(m + l.chunks_off);
    frame_g.chunk_pool = (uint8_t *)(m + l.pool_off);
    frame_g.alloc_bm = (uint64_t *)(void *)(m + l.alloc_off);
    frame_g.resv_bm = (uint64_t *)(void *)(m + l.resv_off);
    frame_g.ever_bm = (uint64_t *)(void *)(m + l.ever_off);
    size_t bm_bytes = (size_t)(l.nframes / 8);
    memset(frame_g.alloc_bm, 0xff, bm_bytes);
    memset(frame_g.resv_bm, 0xff, bm_bytes);
    memset(frame_g.ever_bm, 0, bm_bytes);
    memset(frame_g.chunk_pool, NO_POOL, frame_g.nchunks);
    for (uint32_t c = 0; c < frame_g.nchunks; c++) {
        frame_g.chunks[c] = (struct chunk){.next = NO_CHUNK, .prev = NO_CHUNK, .order = NO_POOL};
    }
    for (unsigned i = 0; i < POOL_COUNT; i++) {
        struct frame_pool *p = &frame_g.pools[i];
        for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++) {
            p->free_head[o] = NO_CHUNK;
        }
        for (unsigned k = 0; k < SPLIT_CLASSES; k++) {
            p->split_head[k] = NO_CHUNK;
        }
        p->cache_head = NO_CHUNK;
    }
    set_numa(bi);

    uint64_t end = l.base_pfn + l.nframes;
    uint32_t count = MIN(bi->mem_count, (uint32_t)BOOT_MAX_MEM_REGIONS);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t s, e;
        uint32_t node = bi->mem[i].node < frame_g.node_count ? bi->mem[i].node : 0;
        if (usable_pfns(&bi->mem[i], &s, &e)) {
            add_usable(s - l.base_pfn, e - l.base_pfn, node);
        }
    }
    uint64_t done = 0; /* reserved regions may share a page: count each page once */
    for (uint32_t i = 0; i < count; i++) {
        const struct mem_region *r = &bi->mem[i];
        uint32_t node = r->node < frame_g.node_count ? r->node : 0;
        if (!is_ram_reserved(r->type) || r->base + r->size < r->base) {
            continue;
        }
        uint64_t s = MAX(r->base >> PAGE_SHIFT, MAX(l.base_pfn, done));
        uint64_t e = MIN((r->base + r->size + PAGE_SIZE - 1) >> PAGE_SHIFT, end);
        if (s < e) {
            add_reserved(s - l.base_pfn, e - l.base_pfn, node);
            done = e;
        }
    }
    for (uint32_t c = 0; c < frame_g.nchunks; c++) {
        struct chunk *ch = &frame_g.chunks[c];
        if (ch->usable == CHUNK_FRAMES) {
            frame_buddy_free_block(c, 0);
        } else if (ch->usable > 0) {
            ch->state = CH_SPLIT;
            ch->free = ch->usable;
            ch->hint = (uint16_t)frame_chunk_longest_run(c);
            frame_split_list_update(c);
        }
    }
    build_fallback();
    frame_g.ready = true;
    return KEEL_OK;
}

/* Make chunk c (free or split) a CH_SPLIT chunk, cutting it out of a buddy block. */
static void isolate_chunk(uint32_t c) {
    struct chunk *ch = frame_g.chunks;
    struct frame_pool *p = &frame_g.pools[frame_g.chunk_pool[c]];
    if (ch[c].state == CH_CACHED) {
        uint32_t *head = &p->cache_head;
        if (ch[c].prev != NO_CHUNK) {
            ch[ch[c].prev].next = ch[c].next;
        } else {
            *head = ch[c].next;
        }
        if (ch[c].next != NO_CHUNK) {
            ch[ch[c].next].prev = ch[c].prev;
        }
        p->cache_count--;
    } else if (ch[c].state == CH_BUDDY_HEAD || ch[c].state == CH_BUDDY_TAIL) {
        uint32_t abs = frame_g.base_chunk + c;
        for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++) {
            uint32_t h = (abs & ~((1u << o) - 1)) - frame_g.base_chunk;
            if (h >= frame_g.nchunks || ch[h].state != CH_BUDDY_HEAD || ch[h].order != o) {
                continue;
            }
            /* Unlink block h of order o, then halve it, freeing the half without c. */
            if (ch[h].prev != NO_CHUNK) {
                ch[ch[h].prev].next = ch[h].next;
            } else {
                p->free_head[o] = ch[h].next;
            }
            if (ch[h].next != NO_CHUNK) {
                ch[ch[h].next].prev = ch[h].prev;
            }
            if (p->free_head[o] == NO_CHUNK) {
                p->order_mask &= ~(1u << o);
            }
            ch[h].state = CH_BUDDY_TAIL;
            while (o > 0) {
                o--;
                uint32_t other = (c - h) & (1u << o) ? h : h + (1u << o);
                if (other == h) {
                    h += 1u << o;
                }
                frame_buddy_free_block(other, o);
            }
            break;
        }
    } else {
        return;
    }
    ch[c] = (struct chunk){.next = NO_CHUNK,
                           .prev = NO_CHUNK,
                           .free = CHUNK_FRAMES,
                           .hint = CHUNK_FRAMES,
                           .usable = CHUNK_FRAMES,
                           .state = CH_SPLIT,
                           .order = NO_POOL};
}

kstatus_t frame_reserve(paddr_t base, uint64_t size) {
    unsigned long irq;
    spin_lock_irqsave(&frame_g.lock, &irq);
    kstatus_t st = KEEL_EINVAL;
    uint64_t s = base.pa >> PAGE_SHIFT;
    uint64_t e = (base.pa + size + PAGE_SIZE - 1) >> PAGE_SHIFT;
    if (!frame_g.ready || size == 0 || base.pa + size < base.pa || s < frame_g.base_pfn ||
        e > frame_g.base_pfn + frame_g.nframes) {
        goto out;
    }
    s -= frame_g.base_pfn;
    e -= frame_g.base_pfn;
    /* Allocated = alloc bit without resv bit: refuse before changing anything. */
    for (uint64_t f = s; f < e; f++) {
        uint64_t bit = 1ULL << (f & 63);
        if ((frame_g.alloc_bm[f >> 6] & bit) && !(frame_g.resv_bm[f >> 6] & bit)) {
            st = KEEL_EBUSY;
            goto out;
        }
    }
    while (s < e) {
        uint32_t c = (uint32_t)(s >> CHUNK_SHIFT);
        uint64_t ce = MIN(e, ((uint64_t)c + 1) << CHUNK_SHIFT);
        uint64_t n = count_clear(frame_g.alloc_bm, s, ce - s);
        if (n > 0) {
            struct frame_pool *p = &frame_g.pools[frame_g.chunk_pool[c]];
            isolate_chunk(c);
            for (uint64_t f = s; f < ce; f++) {
                uint64_t bit = 1ULL << (f & 63);
                if (!(frame_g.alloc_bm[f >> 6] & bit)) {
                    frame_g.alloc_bm[f >> 6] |= bit;
                    frame_g.resv_bm[f >> 6] |= bit;
                }
            }
            struct chunk *ch = &frame_g.chunks[c];
            ch->free = (uint16_t)(ch->free - n);
            ch->usable = (uint16_t)(ch->usable - n);
            ch->hint = (uint16_t)frame_chunk_longest_run(c);
            frame_split_list_update(c);
            p->free -= n;
            p->reserved += n;
        }
        s = ce;
    }
    st = KEEL_OK;
out:
    spin_unlock_irqrestore(&frame_g.lock, irq);
    return st;
}

void memory_stats(struct memory_statistics *out) {
    if (out == NULL) {
        return;
    }
    unsigned long irq;
    spin_lock_irqsave(&frame_g.lock, &irq);
    memset(out, 0, sizeof(*out));
    out->node_count = frame_g.node_count;
    for (uint32_t n = 0; n < FRAME_MAX_NODES; n++) {
        for (unsigned z = 0; z < ZONE_COUNT; z++) {
            const struct frame_pool *p = &frame_g.pools[pool_index(n, z)];
            struct frame_counts fc = {.total = p->total,
                                      .free = p->free,
                                      .reserved = p->reserved,
                                      .allocated = p->total - p->free - p->reserved};
            struct frame_counts *t[2] = {&out->zone_stats[z], &out->node_stats[n]};
            for (int i = 0; i < 2; i++) {
                t[i]->total += fc.total;
                t[i]->free += fc.free;
                t[i]->reserved += fc.reserved;
                t[i]->allocated += fc.allocated;
            }
            out->total_frames += fc.total;
            out->free_frames += fc.free;
            out->reserved_frames += fc.reserved;
            out->allocated_frames += fc.allocated;
        }
    }
    out->alloc_failures = frame_g.alloc_failures;
    out->bad_requests = frame_g.bad_requests;
    out->double_frees = frame_g.double_frees;
    out->invalid_frees = frame_g.invalid_frees;
    out->reserved_frees = frame_g.reserved_frees;
    spin_unlock_irqrestore(&frame_g.lock, irq);
}

bool frame_is_allocated(phys_frame_t frame) {
    uint64_t rel = frame.number - frame_g.base_pfn;
    if (!frame_g.ready || frame.number < frame_g.base_pfn || rel >= frame_g.nframes) {
        return false;
    }
    uint64_t bit = 1ULL << (rel & 63);
    return (__atomic_load_n(&frame_g.alloc_bm[rel >> 6], __ATOMIC_RELAXED) & bit) &&
           !(frame_g.resv_bm[rel >> 6] & bit);
}

void frame_span(uint64_t *first, uint64_t *count) {
    *first = frame_g.ready ? frame_g.base_pfn : 0;
    *count = frame_g.ready ? frame_g.nframes : 0;
}

size_t frame_debug_free_blocks(uint32_t node, enum mem_zone zone, unsigned order) {
    size_t n = 0;
    if (node >= FRAME_MAX_NODES || (unsigned)zone >= ZONE_COUNT || order > FRAME_MAX_ORDER) {
        return 0;
    }
    unsigned long irq;
    spin_lock_irqsave(&frame_g.lock, &irq);
    if (frame_g.ready) {
        for (uint32_t c = frame_g.pools[pool_index(node, zone)].free_head[order]; c != NO_CHUNK;
             c = frame_g.chunks[c].next) {
            n++;
        }
    }
    spin_unlock_irqrestore(&frame_g.lock, irq);
    return n;
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            return KEEL_ECORRUPT;                                                                  \
        }                                                                                          \
    } while (0)

static kstatus_t check_chunk(uint32_t c, uint64_t *pool_free) {
    const struct chunk *ch = &frame_g.chunks[c];
    uint64_t rel = (uint64_t)c << CHUNK_SHIFT;
    uint64_t nfree = count_clear(frame_g.alloc_bm, rel, CHUNK_FRAMES);
    uint64_t usable = count_clear(frame_g.resv_bm, rel, CHUNK_FRAMES);
    CHECK(usable == ch->usable);
    if (usable > 0 || ch->state != CH_ABSENT) {
        CHECK(frame_g.chunk_pool[c] != NO_POOL);
    }
    switch (ch->state) {
    case CH_ABSENT:
        CHECK(usable == 0);
        break;
    case CH_BUDDY_HEAD:
    case CH_BUDDY_TAIL:
    case CH_CACHED:
        CHECK(nfree == CHUNK_FRAMES && usable == CHUNK_FRAMES);
        break;
    case CH_LARGE:
        CHECK(nfree == 0 && usable == CHUNK_FRAMES);
        break;
    case CH_SPLIT:
        CHECK(nfree == ch->free);
        CHECK(ch->hint >= frame_chunk_longest_run(c));
        CHECK(ch->free == 0 ? ch->order == NO_POOL : ch->order == log2_floor(ch->hint));
        break;
    default:
        return KEEL_ECORRUPT;
    }
    if (frame_g.chunk_pool[c] != NO_POOL) {
        pool_free[frame_g.chunk_pool[c]] += nfree;
    }
    return KEEL_OK;
}

static kstatus_t check_lists(const struct frame_pool *p, unsigned pi) {
    const struct chunk *ch = frame_g.chunks;
    uint32_t cached = 0;
    for (uint32_t c = p->cache_head; c != NO_CHUNK; c = ch[c].next) {
        CHECK(c < frame_g.nchunks && ch[c].state == CH_CACHED && frame_g.chunk_pool[c] == pi);
        CHECK(++cached <= CHUNK_CACHE);
    }
    CHECK(cached == p->cache_count);
    for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++) {
        CHECK(((p->order_mask >> o) & 1) == (p->free_head[o] != NO_CHUNK));
        for (uint32_t c = p->free_head[o]; c != NO_CHUNK; c = ch[c].next) {
            CHECK(c < frame_g.nchunks && ch[c].state == CH_BUDDY_HEAD && ch[c].order == o);
            CHECK(frame_g.chunk_pool[c] == pi);
            CHECK(((frame_g.base_chunk + c) & ((1u << o) - 1)) == 0);
            for (uint32_t i = 1; i < (1u << o); i++) {
                CHECK(ch[c + i].state == CH_BUDDY_TAIL && frame_g.chunk_pool[c + i] == pi);
            }
            /* Coalescing: the buddy must not be a free block of the same order. */
            uint32_t b = ((frame_g.base_chunk + c) ^ (1u << o)) - frame_g.base_chunk;
            if (o < FRAME_MAX_ORDER && b < frame_g.nchunks && frame_g.chunk_pool[b] == pi) {
                CHECK(!(ch[b].state == CH_BUDDY_HEAD && ch[b].order == o));
            }
        }
    }
    for (unsigned k = 0; k < SPLIT_CLASSES; k++) {
        CHECK(((p->split_mask >> k) & 1) == (p->split_head[k] != NO_CHUNK));
        for (uint32_t c = p->split_head[k]; c != NO_CHUNK; c = ch[c].next) {
            CHECK(c < frame_g.nchunks && ch[c].state == CH_SPLIT && ch[c].order == k);
        }
    }
    return KEEL_OK;
}

kstatus_t frame_check(void) {
    static uint64_t pool_free[POOL_COUNT];
    kstatus_t st = KEEL_OK;
    unsigned long irq;
    spin_lock_irqsave(&frame_g.lock, &irq);
    memset(pool_free, 0, sizeof(pool_free));
    for (uint32_t c = 0; frame_g.ready && c < frame_g.nchunks && st == KEEL_OK; c++) {
        st = check_chunk(c, pool_free);
    }
    for (unsigned i = 0; frame_g.ready && i < POOL_COUNT && st == KEEL_OK; i++) {
        const struct frame_pool *p = &frame_g.pools[i];
        st = check_lists(p, i);
        if (st == KEEL_OK && (pool_free[i] != p->free || p->free + p->reserved > p->total)) {
            st = KEEL_ECORRUPT;
        }
    }
    spin_unlock_irqrestore(&frame_g.lock, irq);
    return st;
}
