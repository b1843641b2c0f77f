/* SPDX-License-Identifier: MIT */
/*
 * A million random frame-allocator operations checked against a byte-per-frame reference
 * model: every allocation must be free, aligned and inside an allowed zone/node pool;
 * every KEEL_ENOMEM must be justified by the model; injected bad frees must be refused
 * with the right code and counted; internal invariants are checked along the way, and
 * after freeing everything the buddy lists must be exactly as after init.
 * Seed: argv[1] or KEEL_SEED. Steps: KEEL_STEPS (default 1000000).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mm_test.h"

#define MiB (1024ULL * 1024)

enum { M_HOLE = 0, M_FREE_NEW, M_ALLOC, M_FREED, M_RESV };

static struct boot_info *bi;
static uint64_t first, nframes, nchunks;
static uint8_t *st;            /* per frame */
static uint16_t *cfree;        /* per chunk: free frames in the model */
static uint16_t *cusable;      /* per chunk: usable frames */
static int *cpool;             /* per chunk: pool (node * 3 + zone) or -1 */
static uint64_t expect_err[3]; /* EPERM, EEXIST, EINVAL refusals expected */
static size_t blocks_after_init[FRAME_MAX_NODES][ZONE_COUNT][FRAME_MAX_ORDER + 1];

struct run {
    uint64_t pfn, n;
};
static struct run *live;
static size_t nlive;

static const uint8_t dist[2][2] = {{10, 21}, {21, 10}};

static void build_map(void) {
    bi = mmt_boot_info();
    mmt_add(bi, 0x1000, 0x9e000, MEM_USABLE, 0);
    mmt_add(bi, 0x9f000, 0x1000, MEM_RESERVED, 0);
    mmt_add(bi, 0x100000, 0x700000, MEM_USABLE, 0);
    mmt_add(bi, 0x800000, 0x123000, MEM_KERNEL, 0);
    mmt_add(bi, 0x923000, 0x26dd000, MEM_USABLE, 0); /* crosses 16 MiB */
    mmt_add(bi, 0xfe000000, 0x1000000, MEM_MMIO, 0);
    mmt_add(bi, 0x100000000ULL, 32 * MiB, MEM_USABLE, 1);
    mmt_add(bi, 0x102000000ULL, 0x3000, MEM_ACPI_RECLAIM, 1);
    mmt_add(bi, 0x102003000ULL, 32 * MiB - 0x3000, MEM_USABLE, 1);
    bi->numa.node_count = 2;
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            bi->numa.distance[i][j] = dist[i][j];
        }
    }
}

static int zone_of_pfn(uint64_t pfn) {
    uint64_t pa = pfn << 12;
    return pa < ZONE_DMA_LIMIT ? ZONE_DMA : pa < ZONE_DMA32_LIMIT ? ZONE_DMA32 : ZONE_NORMAL;
}

static void build_model(void) {
    frame_span(&first, &nframes);
    nchunks = nframes / 512;
    st = calloc(nframes, 1);
    cfree = calloc(nchunks, sizeof(*cfree));
    cusable = calloc(nchunks, sizeof(*cusable));
    cpool = malloc(nchunks * sizeof(*cpool));
    for (uint64_t c = 0; c < nchunks; c++) {
        cpool[c] = -1;
    }
    for (uint32_t i = 0; i < bi->mem_count; i++) {
        const struct mem_region *r = &bi->mem[i];
        uint64_t s = r->base >> 12, e = (r->base + r->size + 4095) >> 12;
        for (uint64_t p = s; p < e; p++) {
            if (p < first || p >= first + nframes) {
                continue;
            }
            uint64_t rel = p - first;
            if (r->type == MEM_USABLE) {
                st[rel] = M_FREE_NEW;
                cfree[rel / 512]++;
                cusable[rel / 512]++;
                if (cpool[rel / 512] < 0) {
                    cpool[rel / 512] = (int)(r->node * 3 + (uint32_t)zone_of_pfn(p));
                }
            } else if (r->type != MEM_MMIO) {
                st[rel] = M_RESV;
            }
        }
    }
}

/* Pools a request may use, as the allocator's fallback order: own node first. */
static int allowed(int pool, int zone, int node, bool strict) {
    if (pool < 0) {
        return 0;
    }
    int pn = pool / 3, pz = pool % 3;
    return pz <= zone && (!strict || pn == node);
}

static bool small_possible(uint64_t n, uint64_t a, int zone, int node, bool strict) {
    for (uint64_t c = 0; c < nchunks; c++) {
        if (cfree[c] < n || !allowed(cpool[c], zone, node, strict)) {
            continue;
        }
        uint64_t run = 0;
        for (uint64_t i = 0; i < 512; i++) {
            uint8_t s = st[c * 512 + i];
            if (s == M_FREE_NEW || s == M_FREED) {
                if (run == 0 && ((first + c * 512 + i) & (a - 1)) != 0) {
                    continue;
                }
                if (++run == n) {
                    return true;
                }
            } else {
                run = 0;
            }
        }
    }
    return false;
}

static unsigned order_of(uint64_t n, uint64_t a) {
    uint64_t chunks = (n + 511) / 512;
    unsigned o = 0;
    while ((1ULL << o) < chunks) {
        o++;
    }
    while (a > 512 && (512ULL << o) < a) {
        o++;
    }
    return o;
}

static bool large_possible(uint64_t n, uint64_t a, int zone, int node, bool strict) {
    unsigned o = order_of(n, a);
    uint64_t bs = 1ULL << o;
    uint64_t base_chunk = first / 512;
    for (uint64_t abs = (base_chunk + bs - 1) & ~(bs - 1); abs + bs <= base_chunk + nchunks;
         abs += bs) {
        uint64_t c0 = abs - base_chunk;
        bool ok = allowed(cpool[c0], zone, node, strict);
        for (uint64_t c = c0; ok && c < c0 + bs; c++) {
            ok = cpool[c] == cpool[c0] && cusable[c] == 512 && cfree[c] == 512;
        }
        if (ok) {
            return true;
        }
    }
    return false;
}

static void mark(uint64_t pfn, uint64_t n, uint8_t to) {
    for (uint64_t p = pfn; p < pfn + n; p++) {
        uint64_t rel = p - first;
        if (to == M_ALLOC) {
            cfree[rel / 512]--;
        } else {
            cfree[rel / 512]++;
        }
        st[rel] = to;
    }
}

static uint64_t pick_size(void) {
    uint64_t r = mmt_rand_below(100);
    return r < 40   ? 1
           : r < 70 ? 2 + mmt_rand_below(15)
           : r < 87 ? 17 + mmt_rand_below(495)
           : r < 97 ? 512 + mmt_rand_below(1537)
                    : 2049 + mmt_rand_below(6144);
}

static bool verify_enomem = true;
static uint64_t enomem_seen, enomem_checked;

static void do_alloc(void) {
    uint64_t n = pick_size();
    uint64_t a = mmt_rand_below(100) < 85 ? 1 : 1ULL << mmt_rand_below(12);
    uint64_t zr = mmt_rand_below(4);
    int zone = zr < 2 ? ZONE_NORMAL : zr == 2 ? ZONE_DMA32 : ZONE_DMA;
    int node = (int)mmt_rand_below(2);
    bool strict = mmt_rand_below(5) == 0;
    phys_frame_t f;
    kstatus_t r = allocate_frames_aligned(n, a, (enum mem_zone)zone, (uint32_t)node,
                                          strict ? FRAME_STRICT_NODE : 0, &f);
    if (r == KEEL_ENOMEM) {
        enomem_seen++;
        if (verify_enomem) {
            enomem_checked++;
            bool small = n < 512 && a <= 512;
            bool possible = small ? small_possible(n, a, zone, node, strict)
                                  : large_possible(n, a, zone, node, strict);
            if (possible) {
                fail_msg("ENOMEM for n=%llu align=%llu zone=%d node=%d strict=%d, but the model "
                         "has room",
                         (unsigned long long)n, (unsigned long long)a, zone, node, strict);
            }
        }
        return;
    }
    assert_int_equal(r, KEEL_OK);
    assert_int_equal(f.number % a, 0);
    assert_true(f.number >= first && f.number + n <= first + nframes);
    uint64_t rel = f.number - first;
    int pool0 = cpool[rel / 512];
    assert_true(allowed(pool0, zone, node, strict));
    if (n < 512 && a <= 512) {
        assert_int_equal(rel / 512, (rel + n - 1) / 512); /* small runs stay in one chunk */
    }
    for (uint64_t i = 0; i < n; i++) {
        uint8_t s = st[rel + i];
        if (s != M_FREE_NEW && s != M_FREED) {
            fail_msg("frame %#llx handed out in state %d", (unsigned long long)(f.number + i), s);
        }
        if ((i & 511) == 0 || i == n - 1) {
            assert_int_equal(cpool[(rel + i) / 512], pool0);
        }
    }
    mark(f.number, n, M_ALLOC);
    live[nlive++] = (struct run){f.number, n};
}

static void do_free(void) {
    if (nlive == 0) {
        return;
    }
    size_t i = mmt_rand_below(nlive);
    struct run r = live[i];
    uint64_t mode = mmt_rand_below(8);
    if (mode == 0 && r.n > 2) {
        /* Free a middle piece: the run becomes two live runs. */
        uint64_t off = 1 + mmt_rand_below(r.n - 2);
        uint64_t len = 1 + mmt_rand_below(r.n - off - 1);
        assert_int_equal(free_frames((phys_frame_t){r.pfn + off}, len), KEEL_OK);
        mark(r.pfn + off, len, M_FREED);
        live[i] = (struct run){r.pfn, off};
        live[nlive++] = (struct run){r.pfn + off + len, r.n - off - len};
        return;
    }
    assert_int_equal(free_frames((phys_frame_t){r.pfn}, r.n), KEEL_OK);
    mark(r.pfn, r.n, M_FREED);
    live[i] = live[--nlive];
}

static void do_bad_free(void) {
    uint64_t kind = mmt_rand_below(4);
    if (kind == 3) {
        uint64_t pfn = first + nframes + mmt_rand_below(1000);
        assert_int_equal(free_frames((phys_frame_t){pfn}, 1), KEEL_EINVAL);
        expect_err[2]++;
        return;
    }
    static const uint8_t want[3] = {M_RESV, M_FREED, M_FREE_NEW};
    static const kstatus_t code[3] = {KEEL_EPERM, KEEL_EEXIST, KEEL_EINVAL};
    for (int tries = 0; tries < 32; tries++) {
        uint64_t rel = mmt_rand_below(nframes);
        uint8_t s = st[rel];
        if (s == want[kind] || (kind == 0 && s == M_HOLE)) {
            assert_int_equal(free_frames((phys_frame_t){first + rel}, 1), code[kind]);
            expect_err[kind]++;
            return;
        }
    }
}

static void compare_stats(void) {
    assert_int_equal(frame_check(), KEEL_OK);
    struct memory_statistics ms;
    memory_stats(&ms);
    uint64_t zfree[3] = {0}, nfree[2] = {0};
    for (uint64_t rel = 0; rel < nframes; rel++) {
        if (st[rel] == M_FREE_NEW || st[rel] == M_FREED) {
            int pool = cpool[rel / 512];
            zfree[pool % 3]++;
            nfree[pool / 3]++;
        }
    }
    for (int z = 0; z < 3; z++) {
        assert_int_equal(ms.zone_stats[z].free, zfree[z]);
    }
    for (int n = 0; n < 2; n++) {
        assert_int_equal(ms.node_stats[n].free, nfree[n]);
    }
    assert_int_equal(ms.reserved_frees, expect_err[0]);
    assert_int_equal(ms.double_frees, expect_err[1]);
    assert_int_equal(ms.invalid_frees, expect_err[2]);
    assert_int_equal(ms.total_frames, ms.free_frames + ms.allocated_frames + ms.reserved_frames);
}

static void snapshot_blocks(size_t out[FRAME_MAX_NODES][ZONE_COUNT][FRAME_MAX_ORDER + 1]) {
    for (uint32_t n = 0; n < 2; n++) {
        for (unsigned z = 0; z < ZONE_COUNT; z++) {
            for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++) {
                out[n][z][o] = frame_debug_free_blocks(n, (enum mem_zone)z, o);
            }
        }
    }
}

static void test_random_ops(void **state) {
    (void)state;
    build_map();
    mmt_frame_init(bi);
    build_model();
    snapshot_blocks(blocks_after_init);
    live = malloc(nframes * sizeof(*live));
    const char *steps_env = getenv("KEEL_STEPS");
    uint64_t steps = steps_env != NULL ? strtoull(steps_env, NULL, 0) : 1000000;
    uint64_t nalloc = 0, nfree = 0;
    for (uint64_t step = 0; step < steps; step++) {
        /* Alternate filling and draining phases so memory runs out regularly. */
        uint64_t p_alloc = ((step / 40000) & 1) ? 35 : 68;
        uint64_t r = mmt_rand_below(100);
        if (r < 3) {
            do_bad_free();
        } else if (r < 3 + p_alloc) {
            do_alloc();
            nalloc++;
        } else {
            do_free();
            nfree++;
        }
        if (step % 20000 == 0) {
            compare_stats();
        }
    }
    compare_stats();
    printf("random: %llu steps, %llu allocs (%llu ENOMEM, %llu verified), %llu frees, "
           "%zu live\n",
           (unsigned long long)steps, (unsigned long long)nalloc, (unsigned long long)enomem_seen,
           (unsigned long long)enomem_checked, (unsigned long long)nfree, nlive);
    assert_true(enomem_seen > 0); /* exhaustion was reached */
    while (nlive > 0) {
        do_free();
    }
    frame_drain_caches();
    compare_stats();
    size_t now[FRAME_MAX_NODES][ZONE_COUNT][FRAME_MAX_ORDER + 1] = {{{0}}};
    snapshot_blocks(now);
    assert_memory_equal(now, blocks_after_init, sizeof(now));
    free(live);
    free(st);
    free(cfree);
    free(cusable);
    free(cpool);
    free(bi);
}

int main(int argc, char **argv) {
    mmt_seed(argc > 1 ? 2 : 1, argv, "test_frame_random");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
