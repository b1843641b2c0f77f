/* SPDX-License-Identifier: MIT */
/*
 * Host benchmarks of the capability system, one JSON line per metric (design.md section
 * 7). Fast operations are timed in batches with CLOCK_MONOTONIC and reported per
 * operation; median and p99 are taken over the batch samples.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <kernel/cap.h>

#define ALL KEEL_RIGHTS_ALL
#define HOT 64 /* handles cycled through by the validate benchmarks */

static int object;
static volatile long sink;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Print one result line; samples are nanoseconds per operation. */
static void report(const char *name, double *samples, size_t n) {
    qsort(samples, n, sizeof(samples[0]), cmp_double);
    double median = samples[n / 2];
    double p99 = samples[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
    printf("{\"bench\":\"%s\",\"arch\":\"host\",\"unit\":\"ns\",\"median\":%llu,\"p99\":%llu,"
           "\"n\":%zu}\n",
           name, (unsigned long long)(median + 0.5), (unsigned long long)(p99 + 0.5), n);
    fflush(stdout);
}

static void die(const char *what, kstatus_t st) {
    fprintf(stderr, "bench_cap: %s failed: %d\n", what, st);
    exit(1);
}

static void check(kstatus_t st, const char *what) {
    if (st != KEEL_OK) {
        die(what, st);
    }
}

static struct cap_space *mk_space(uint32_t capacity) {
    struct cap_space *s = NULL;
    check(cap_space_create(capacity, capacity, &s), "cap_space_create");
    return s;
}

/* Validate batches over `hs` (mask + 1 handles, cycled). */
static void bench_validate(const char *name, struct cap_space *s, const keel_handle_t *hs,
                           size_t mask, uint32_t rights, kstatus_t expect) {
    enum { BATCH = 1000, SAMPLES = 10000 };
    static double samples[SAMPLES];
    long acc = 0;
    for (int i = 0; i < BATCH; i++) { /* warm up, and check the expected outcome */
        if (cap_validate(s, hs[i & mask], KEEL_OBJ_MEMORY, rights) != expect) {
            die(name, -1);
        }
    }
    size_t k = 0;
    for (size_t n = 0; n < SAMPLES; n++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH; i++) {
            acc += cap_validate(s, hs[k++ & mask], KEEL_OBJ_MEMORY, rights);
        }
        samples[n] = (double)(now_ns() - t0) / BATCH;
    }
    sink = acc;
    report(name, samples, SAMPLES);
}

static void bench_validate_all(void) {
    static keel_handle_t hot[HOT];
    struct cap_space *s = mk_space(HOT);
    for (int i = 0; i < HOT; i++) {
        check(cap_create(s, KEEL_OBJ_MEMORY, &object, KEEL_RIGHT_READ, &hot[i]), "create");
    }
    bench_validate("cap_validate", s, hot, HOT - 1, KEEL_RIGHT_READ, KEEL_OK);
    bench_validate("cap_validate_denied", s, hot, HOT - 1, KEEL_RIGHT_WRITE, KEEL_EPERM);
    cap_space_destroy(s);

    /* The same, in a space holding 1,000,000 live capabilities. */
    enum { MILLION = 1000000 };
    keel_handle_t *all = malloc(sizeof(*all) * MILLION);
    if (all == NULL) {
        die("malloc", KEEL_ENOMEM);
    }
    s = mk_space(MILLION);
    for (int i = 0; i < MILLION; i++) {
        check(cap_create(s, KEEL_OBJ_MEMORY, &object, KEEL_RIGHT_READ, &all[i]), "create");
    }
    for (int i = 0; i < HOT; i++) { /* a working set spread over the whole table */
        hot[i] = all[rnd() % MILLION];
    }
    bench_validate("cap_validate_1m", s, hot, HOT - 1, KEEL_RIGHT_READ, KEEL_OK);
    /* Random handles over all 1M: mostly cache and TLB misses, shown for honesty. */
    enum { RAND = 1 << 20 };
    keel_handle_t *r = malloc(sizeof(*r) * RAND);
    if (r == NULL) {
        die("malloc", KEEL_ENOMEM);
    }
    for (int i = 0; i < RAND; i++) {
        r[i] = all[rnd() % MILLION];
    }
    bench_validate("cap_validate_1m_random", s, r, RAND - 1, KEEL_RIGHT_READ, KEEL_OK);
    free(r);
    cap_space_destroy(s);
    free(all);
}

static void bench_derive(void) {
    enum { BATCH = 100, SAMPLES = 10000 };
    static double samples[SAMPLES];
    struct cap_space *s = mk_space(BATCH + 1);
    keel_handle_t root = 0;
    keel_handle_t h = 0;
    check(cap_create(s, KEEL_OBJ_MEMORY, &object, ALL, &root), "create");
    for (size_t n = 0; n < SAMPLES; n++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH; i++) {
            check(cap_derive(s, root, KEEL_RIGHT_READ, 0, &h), "derive");
        }
        samples[n] = (double)(now_ns() - t0) / BATCH;
        check(cap_revoke(s, root), "revoke");
    }
    report("cap_derive", samples, SAMPLES);
    cap_space_destroy(s);
}

static void bench_revoke_1(void) {
    enum { BATCH = 100, SAMPLES = 5000 };
    static double samples[SAMPLES];
    static keel_handle_t roots[BATCH];
    struct cap_space *s = mk_space(2 * BATCH);
    keel_handle_t h = 0;
    for (int i = 0; i < BATCH; i++) {
        check(cap_create(s, KEEL_OBJ_MEMORY, &object, ALL, &roots[i]), "create");
    }
    for (size_t n = 0; n < SAMPLES; n++) {
        for (int i = 0; i < BATCH; i++) {
            check(cap_derive(s, roots[i], ALL, 0, &h), "derive");
        }
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH; i++) {
            check(cap_revoke(s, roots[i]), "revoke");
        }
        samples[n] = (double)(now_ns() - t0) / BATCH;
    }
    report("cap_revoke_1", samples, SAMPLES);
    cap_space_destroy(s);
}

/* Revoke a random tree of `size` descendants; one timed revoke per sample. */
static void bench_revoke_tree(const char *name, uint32_t size, size_t samples_n) {
    double *samples = malloc(sizeof(double) * samples_n);
    keel_handle_t *hs = malloc(sizeof(keel_handle_t) * (size + 1));
    if (samples == NULL || hs == NULL) {
        die("malloc", KEEL_ENOMEM);
    }
    struct cap_space *s = mk_space(size + 1);
    check(cap_create(s, KEEL_OBJ_MEMORY, &object, ALL, &hs[0]), "create");
    for (size_t n = 0; n < samples_n; n++) {
        for (uint32_t i = 1; i <= size; i++) {
            check(cap_derive(s, hs[rnd() % i], ALL, 0, &hs[i]), "derive");
        }
        uint64_t t0 = now_ns();
        check(cap_revoke(s, hs[0]), "revoke");
        samples[n] = (double)(now_ns() - t0);
    }
    report(name, samples, samples_n);
    cap_space_destroy(s);
    free(hs);
    free(samples);
}

int main(void) {
    bench_validate_all();
    bench_derive();
    bench_revoke_1();
    bench_revoke_tree("cap_revoke_1000", 1000, 2000);
    bench_revoke_tree("cap_revoke_100000", 100000, 40);
    return 0;
}
