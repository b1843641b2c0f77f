/* SPDX-License-Identifier: MIT */
/*
 * Normalises the boot memory map. Firmware maps overlap (a DTB inside RAM, a reserved
 * hole inside usable memory), come unsorted, and do not respect page boundaries; the
 * frame allocator wants one sorted, non-overlapping list where the most restrictive
 * type of every byte wins. All work is done in place in bi->mem.
 */
#include <kernel/memmap.h>
#include <kernel/string.h>

static uint64_t region_end(const struct mem_region *r) {
    return r->base + r->size;
}

/* True if a takes the bytes it shares with b: higher type, then higher node. */
static bool region_beats(const struct mem_region *a, const struct mem_region *b) {
    return a->type > b->type || (a->type == b->type && a->node > b->node);
}

static bool region_same_kind(const struct mem_region *a, const struct mem_region *b) {
    return a->type == b->type && a->node == b->node;
}

static bool region_valid(const struct mem_region *r) {
    return r->size != 0 && r->base + r->size > r->base && r->type >= MEM_USABLE &&
           r->type <= MEM_KERNEL;
}

kstatus_t memmap_add(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t type,
                     uint32_t node) {
    struct mem_region r = {.base = base, .size = size, .type = type, .node = node};

    if (!region_valid(&r)) {
        return KEEL_EINVAL;
    }
    if (bi->mem_count >= BOOT_MAX_MEM_REGIONS) {
        bi->mem_dropped++;
        return KEEL_EEXHAUSTED;
    }
    bi->mem[bi->mem_count++] = r;
    return KEEL_OK;
}

static void remove_at(struct boot_info *bi, uint32_t i) {
    memmove(&bi->mem[i], &bi->mem[i + 1], (bi->mem_count - i - 1) * sizeof(bi->mem[0]));
    bi->mem_count--;
}

/* Insert r keeping bi->mem sorted by base, searching from index `from`; needs a slot. */
static void insert_sorted(struct boot_info *bi, uint32_t from, struct mem_region r) {
    uint32_t j = from;

    while (j < bi->mem_count && bi->mem[j].base <= r.base) {
        j++;
    }
    memmove(&bi->mem[j + 1], &bi->mem[j], (bi->mem_count - j) * sizeof(bi->mem[0]));
    bi->mem[j] = r;
    bi->mem_count++;
}

/* Insertion sort by base: n <= 256 and firmware maps arrive nearly sorted. */
static void sort_by_base(struct boot_info *bi) {
    for (uint32_t i = 1; i < bi->mem_count; i++) {
        struct mem_region r = bi->mem[i];
        uint32_t j = i;

        while (j > 0 && bi->mem[j - 1].base > r.base) {
            bi->mem[j] = bi->mem[j - 1];
            j--;
        }
        bi->mem[j] = r;
    }
}

/*
 * Insert `tail` (the part of region *i beyond a winner inside it). When the map is full,
 * a usable region is sacrificed instead, since forgetting usable RAM is always safe;
 * only if there is none is a non-usable piece lost. Returns KEEL_EEXHAUSTED if anything
 * was dropped. *i is kept pointing at the same region.
 */
static kstatus_t insert_tail(struct boot_info *bi, uint32_t *i, struct mem_region tail) {
    kstatus_t st = KEEL_OK;

    if (bi->mem_count >= BOOT_MAX_MEM_REGIONS) {
        uint32_t victim = bi->mem_count;

        bi->mem_dropped++;
        st = KEEL_EEXHAUSTED;
        if (tail.type == MEM_USABLE) {
            return st;
        }
        for (uint32_t j = bi->mem_count; j-- > 0;) {
            if (bi->mem[j].type == MEM_USABLE && j != *i && j != *i + 1) {
                victim = j;
                break;
            }
        }
        if (victim == bi->mem_count) {
            return st; /* nothing safe to evict: the non-usable tail is lost */
        }
        remove_at(bi, victim);
        if (victim < *i) {
            (*i)--;
        }
    }
    insert_sorted(bi, *i + 1, tail);
    return st;
}

/* Resolve overlaps and merge touching equal neighbours; bi->mem must be sorted. */
static kstatus_t resolve_overlaps(struct boot_info *bi) {
    kstatus_t st = KEEL_OK;
    uint32_t i = 0;

    while (i + 1 < bi->mem_count) {
        struct mem_region *a = &bi->mem[i];
        struct mem_region *b = &bi->mem[i + 1];
        uint64_t a_end = region_end(a);
        uint64_t b_end = region_end(b);

        if (a_end < b->base || (a_end == b->base && !region_same_kind(a, b))) {
            i++; /* disjoint: nothing later (sorted) can reach back into a */
        } else if (region_same_kind(a, b)) {
            a->size = MAX(a_end, b_end) - a->base;
            remove_at(bi, i + 1);
        } else if (region_beats(a, b)) {
            struct mem_region rest = *b;

            remove_at(bi, i + 1);
            if (b_end > a_end) {
                rest.base = a_end;
                rest.size = b_end - a_end;
                insert_sorted(bi, i + 1, rest); /* the slot just freed is reused */
            }
        } else {
            struct mem_region tail = *a;
            kstatus_t tst = KEEL_OK;

            tail.base = b_end;
            tail.size = a_end > b_end ? a_end - b_end : 0;
            if (a->base == b->base) {
                remove_at(bi, i);
                if (tail.size != 0) {
                    tst = insert_tail(bi, &i, tail); /* i now names b */
                }
                if (i > 0) {
                    i--; /* b may merge with the region before it */
                }
            } else {
                a->size = b->base - a->base;
                if (tail.size != 0) {
                    tst = insert_tail(bi, &i, tail);
                }
            }
            if (tst != KEEL_OK) {
                st = tst;
            }
        }
    }
    return st;
}

/* Shrink usable regions to whole pages; drop those left empty. */
static void round_usable(struct boot_info *bi) {
    uint32_t out = 0;

    for (uint32_t i = 0; i < bi->mem_count; i++) {
        struct mem_region r = bi->mem[i];

        if (r.type == MEM_USABLE) {
            uint64_t end = ALIGN_DOWN(region_end(&r), (uint64_t)PAGE_SIZE);

            if (r.base > UINT64_MAX - (PAGE_SIZE - 1)) {
                continue; /* no whole page can start this high */
            }
            r.base = ALIGN_UP(r.base, (uint64_t)PAGE_SIZE);
            if (end <= r.base) {
                continue;
            }
            r.size = end - r.base;
        }
        bi->mem[out++] = r;
    }
    bi->mem_count = out;
}

/* Merge touching neighbours of the same type and node (the map is sorted, disjoint). */
static void merge_touching(struct boot_info *bi) {
    uint32_t out = 0;

    for (uint32_t i = 0; i < bi->mem_count; i++) {
        struct mem_region *prev = out > 0 ? &bi->mem[out - 1] : NULL;

        if (prev != NULL && region_same_kind(prev, &bi->mem[i]) &&
            region_end(prev) == bi->mem[i].base) {
            prev->size += bi->mem[i].size;
        } else {
            bi->mem[out++] = bi->mem[i];
        }
    }
    bi->mem_count = out;
}

kstatus_t memmap_normalize(struct boot_info *bi) {
    uint32_t out = 0;
    kstatus_t st;

    if (bi->mem_count > BOOT_MAX_MEM_REGIONS) {
        bi->mem_count = BOOT_MAX_MEM_REGIONS;
    }
    /* Entries written directly (not via memmap_add) are checked here too. */
    for (uint32_t i = 0; i < bi->mem_count; i++) {
        if (region_valid(&bi->mem[i])) {
            bi->mem[out++] = bi->mem[i];
        }
    }
    bi->mem_count = out;
    sort_by_base(bi);
    st = resolve_overlaps(bi);
    round_usable(bi);
    merge_touching(bi);
    return st;
}

kstatus_t memmap_set_node(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t node) {
    uint64_t end = base + size;
    uint32_t n = bi->mem_count;
    kstatus_t st = KEEL_OK;

    if (size == 0 || end < base) {
        return KEEL_EINVAL;
    }
    for (uint32_t i = 0; i < n && i < BOOT_MAX_MEM_REGIONS; i++) {
        struct mem_region *r = &bi->mem[i];
        uint64_t r_end = region_end(r);
        uint32_t need = (r->base < base) + (r_end > end);

        if (r_end <= base || r->base >= end || r->node == node) {
            continue;
        }
        if (bi->mem_count + need > BOOT_MAX_MEM_REGIONS) {
            st = KEEL_EEXHAUSTED;
            continue;
        }
        if (r->base < base) {
            bi->mem[bi->mem_count++] = (struct mem_region){
                .base = r->base, .size = base - r->base, .type = r->type, .node = r->node};
            r->size -= base - r->base;
            r->base = base;
        }
        if (r_end > end) {
            bi->mem[bi->mem_count++] = (struct mem_region){
                .base = end, .size = r_end - end, .type = r->type, .node = r->node};
            r->size = end - r->base;
        }
        r->node = node;
    }
    return st;
}

kstatus_t memmap_apply_numa(struct boot_info *bi) {
    kstatus_t st = KEEL_OK;
    uint32_t n = MIN(bi->numa.range_count, (uint32_t)BOOT_MAX_NUMA_RANGES);

    for (uint32_t i = 0; i < n; i++) {
        const struct boot_numa_range *nr = &bi->numa.range[i];
        kstatus_t rst = memmap_set_node(bi, nr->base, nr->size, nr->node);

        if (rst != KEEL_OK && st == KEEL_OK) {
            st = rst;
        }
    }
    kstatus_t nst = memmap_normalize(bi);
    return st != KEEL_OK ? st : nst;
}

uint64_t memmap_usable_bytes(const struct boot_info *bi) {
    uint64_t total = 0;
    uint32_t n = MIN(bi->mem_count, (uint32_t)BOOT_MAX_MEM_REGIONS);

    for (uint32_t i = 0; i < n; i++) {
        if (bi->mem[i].type == MEM_USABLE) {
            uint64_t s = bi->mem[i].size;
            total = total > UINT64_MAX - s ? UINT64_MAX : total + s;
        }
    }
    return total;
}

const char *mem_type_name(uint32_t type) {
    static const char *const names[] = {
        [MEM_USABLE] = "usable",     [MEM_ACPI_RECLAIM] = "acpi-reclaim",
        [MEM_FIRMWARE] = "firmware", [MEM_ACPI_NVS] = "acpi-nvs",
        [MEM_RESERVED] = "reserved", [MEM_MMIO] = "mmio",
        [MEM_BAD] = "bad",           [MEM_DTB] = "dtb",
        [MEM_INITRD] = "initrd",     [MEM_KERNEL] = "kernel",
    };

    if (type >= ARRAY_SIZE(names) || names[type] == NULL) {
        return "unknown";
    }
    return names[type];
}
