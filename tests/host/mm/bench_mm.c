/* SPDX-License-Identifier: MIT */
/*
 * Host benchmarks of the memory subsystem, one JSON line each (design.md section 7):
 * frame alloc+free of 1, 8 and 512 frames with 1 GiB and with 64 GiB managed (the
 * latter unbacked fake RAM), and kmalloc+kfree of 32, 256 and 4096 bytes. A sample is
 * the mean of a batch of BATCH alloc+free pairs timed with CLOCK_MONOTONIC; median and
 * p99 are over n samples. A background of live allocations keeps the allocator from
 * running on an empty map.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <kernel/frame.h>
#include <kernel/heap.h>

#include "mm_test.h"

#define SAMPLES 100000
#define BATCH   16

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t samples[SAMPLES];

static void report(const char *name) {
    qsort(samples, SAMPLES, sizeof(samples[0]), cmp_u64);
    printf("{\"bench\":\"%s\",\"arch\":\"host\",\"unit\":\"ns\",\"median\":%llu,\"p99\":%llu,"
           "\"n\":%d}\n",
           name, (unsigned long long)samples[SAMPLES / 2],
           (unsigned long long)samples[SAMPLES * 99 / 100], SAMPLES);
    fflush(stdout);
}

/* Some live allocations of mixed sizes, as a running kernel would have. */
static void background(void) {
    for (int i = 0; i < 4000; i++) {
        phys_frame_t f;
        size_t n = i % 10 == 0 ? 512 + (size_t)mmt_rand_below(1024) : 1 + mmt_rand_below(16);
        if (allocate_frames(n, ZONE_NORMAL, &f) == KEEL_OK && i % 2 == 0) {
            if (free_frames(f, n) != KEEL_OK) {
                abort();
            }
        }
    }
}

static void bench_frames(size_t count, const char *name) {
    for (int s = -1000; s < SAMPLES; s++) {
        uint64_t t0 = now_ns();
        for (int b = 0; b < BATCH; b++) {
            phys_frame_t f;
            if (allocate_frames(count, ZONE_NORMAL, &f) != KEEL_OK ||
                free_frames(f, count) != KEEL_OK) {
                fprintf(stderr, "%s: allocation failed\n", name);
                exit(1);
            }
        }
        uint64_t dt = now_ns() - t0;
        if (s >= 0) {
            samples[s] = (dt + BATCH / 2) / BATCH;
        }
    }
    report(name);
}

static void bench_kmalloc(size_t size, const char *name) {
    for (int s = -1000; s < SAMPLES; s++) {
        uint64_t t0 = now_ns();
        for (int b = 0; b < BATCH; b++) {
            void *p = kmalloc(size, 0);
            if (p == NULL) {
                fprintf(stderr, "%s: allocation failed\n", name);
                exit(1);
            }
            kfree(p);
        }
        uint64_t dt = now_ns() - t0;
        if (s >= 0) {
            samples[s] = (dt + BATCH / 2) / BATCH;
        }
    }
    report(name);
}

int main(void) {
    struct boot_info *bi = mmt_boot_info();
    mmt_add(bi, 0x40000000ULL, 1ULL << 30, MEM_USABLE, 0);
    mmt_frame_init(bi);
    background();
    bench_frames(1, "frame_alloc_1");
    bench_frames(8, "frame_alloc_8");
    bench_frames(512, "frame_alloc_512");

    bi->mem_count = 0;
    mmt_add(bi, 0x40000000ULL, 64ULL << 30, MEM_USABLE, 0);
    mmt_frame_init(bi);
    background();
    bench_frames(1, "frame_alloc_1_64g");
    bench_frames(8, "frame_alloc_8_64g");
    bench_frames(512, "frame_alloc_512_64g");
    free(bi);

    mmt_backed_init(0x40000000ULL, 64ULL << 20);
    if (heap_init() != KEEL_OK) {
        return 1;
    }
    bench_kmalloc(32, "kmalloc_32");
    bench_kmalloc(256, "kmalloc_256");
    bench_kmalloc(4096, "kmalloc_4096");
    return 0;
}
