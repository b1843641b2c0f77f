/* SPDX-License-Identifier: MIT */
/* Helpers shared by the memory-subsystem host tests (see mm_test.h). */
#include "mm_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <arch/arch_mmu.h>

static void *meta;
static void *arena;
static size_t arena_bytes;
static uint64_t rng_state;

struct boot_info *mmt_boot_info(void) {
    struct boot_info *bi = calloc(1, sizeof(*bi));
    if (bi == NULL) {
        abort();
    }
    return bi;
}

void mmt_add(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t type, uint32_t node) {
    if (bi->mem_count >= BOOT_MAX_MEM_REGIONS) {
        abort();
    }
    bi->mem[bi->mem_count++] = (struct mem_region){base, size, type, node};
}

void mmt_frame_init(const struct boot_info *bi) {
    size_t bytes = frame_metadata_bytes(bi);
    free(meta);
    meta = malloc(bytes);
    if (meta == NULL || frame_init(bi, meta, bytes) != KEEL_OK) {
        fprintf(stderr, "mmt_frame_init: frame_init failed\n");
        abort();
    }
}

void *mmt_backed_init(uint64_t base, uint64_t bytes) {
    if (arena != NULL) {
        munmap(arena, arena_bytes);
    }
    arena = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (arena == MAP_FAILED) {
        abort();
    }
    arena_bytes = bytes;
    fake_direct_map_base = (uintptr_t)arena - (uintptr_t)base;
    struct boot_info *bi = mmt_boot_info();
    mmt_add(bi, base, bytes, MEM_USABLE, 0);
    mmt_frame_init(bi);
    free(bi);
    return arena;
}

static uint64_t splitmix(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t mmt_seed(int argc, char **argv, const char *test) {
    const char *env = getenv("KEEL_SEED");
    uint64_t seed;
    if (argc > 1) {
        seed = strtoull(argv[1], NULL, 0);
    } else if (env != NULL && *env != '\0') {
        seed = strtoull(env, NULL, 0);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec;
    }
    printf("%s: seed %llu (rerun with KEEL_SEED=%llu)\n", test, (unsigned long long)seed,
           (unsigned long long)seed);
    fflush(stdout);
    rng_state = seed;
    return seed;
}

uint64_t mmt_rand(void) {
    return splitmix();
}

uint64_t mmt_rand_below(uint64_t n) {
    return n == 0 ? 0 : splitmix() % n;
}
