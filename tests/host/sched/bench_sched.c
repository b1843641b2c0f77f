/* SPDX-License-Identifier: MIT */
/*
 * Host benchmarks of the scheduler policy and timers, one JSON line per metric:
 * sched_pick_next (put the current thread back and choose the next among 64 queued on
 * one CPU), sched_wake_enqueue (wake a blocked thread onto a run queue), timer_add_del
 * (arm and disarm one timer among 1024 pending). Timed in batches with CLOCK_MONOTONIC.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <kernel/sched.h>
#include <kernel/timer.h>

#define BATCH   256
#define SAMPLES 20000

static double samples[SAMPLES];

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, size_t n) {
    qsort(samples, n, sizeof(samples[0]), cmp_double);
    double median = samples[n / 2];
    double p99 = samples[(n * 99) / 100];
    printf("{\"bench\":\"%s\",\"arch\":\"host\",\"unit\":\"ns\",\"median\":%llu,\"p99\":%llu,"
           "\"n\":%zu}\n",
           name, (unsigned long long)(median + 0.5), (unsigned long long)(p99 + 0.5), n);
    fflush(stdout);
}

static void die(const char *what) {
    fprintf(stderr, "bench_sched: %s failed\n", what);
    exit(1);
}

#define NT 64
static struct sched_entity ents[NT];

static void bench_pick_next(void) {
    if (sched_init(1) != KEEL_OK) {
        die("sched_init");
    }
    uint64_t t = 0;
    for (int i = 0; i < NT; i++) {
        sched_entity_init(&ents[i], (uint64_t)i);
        if (sched_add(&ents[i], 10 * (unsigned)(1 + i % 4), t) != KEEL_OK) {
            die("sched_add");
        }
    }
    for (size_t s = 0; s < SAMPLES; s++) {
        uint64_t t0 = now_ns();
        for (int k = 0; k < BATCH; k++) {
            t += 10000; /* 10 us of simulated run each time */
            if (sched_pick_next(0, t) == NULL) {
                die("pick");
            }
        }
        samples[s] = (double)(now_ns() - t0) / BATCH;
    }
    report("sched_pick_next", SAMPLES);
}

static void bench_wake(void) {
    if (sched_init(4) != KEEL_OK) {
        die("sched_init");
    }
    uint64_t t = 0;
    for (int i = 0; i < NT; i++) {
        sched_entity_init(&ents[i], (uint64_t)i);
        ents[i].affinity = CPUMASK_CPU(0);
        if (sched_add(&ents[i], SCHED_PRIO_NORMAL, t) != KEEL_OK) {
            die("sched_add");
        }
    }
    for (size_t s = 0; s < SAMPLES; s++) {
        /* block BATCH threads (not timed), then time waking them */
        struct sched_entity *blocked[BATCH];
        int nb = 0;
        while (nb < BATCH && nb < NT) {
            struct sched_entity *e = sched_pick_next(0, ++t);
            bool b;
            if (e == NULL || sched_block(0, e, SCHED_BLOCK_IPC, TIME_NEVER, t, &b) != KEEL_OK) {
                die("block");
            }
            blocked[nb++] = e;
        }
        (void)sched_pick_next(0, t);
        uint64_t t0 = now_ns();
        for (int k = 0; k < nb; k++) {
            if (sched_wake(blocked[k], KEEL_OK, t, NULL) != KEEL_OK) {
                die("wake");
            }
        }
        samples[s] = (double)(now_ns() - t0) / nb;
    }
    report("sched_wake_enqueue", SAMPLES);
}

static void noop(void *data, uint64_t now) {
    (void)data;
    (void)now;
}

#define NTIMERS 1024
static struct ktimer timers[NTIMERS + BATCH];

static void bench_timer_add_del(void) {
    timer_subsystem_init(1);
    for (int i = 0; i < NTIMERS + BATCH; i++) {
        timer_init(&timers[i], noop, NULL);
    }
    uint64_t r = 88172645463325252ull;
    for (int i = 0; i < NTIMERS; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        if (add_timer(&timers[i], r % 1000000000ull) != KEEL_OK) {
            die("add_timer");
        }
    }
    for (size_t s = 0; s < SAMPLES; s++) {
        uint64_t t0 = now_ns();
        for (int k = 0; k < BATCH; k++) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            struct ktimer *tm = &timers[NTIMERS + k];
            if (add_timer(tm, r % 1000000000ull) != KEEL_OK || del_timer(tm) != 1) {
                die("add/del");
            }
        }
        samples[s] = (double)(now_ns() - t0) / BATCH;
    }
    report("timer_add_del", SAMPLES);
}

int main(void) {
    bench_pick_next();
    bench_wake();
    bench_timer_add_del();
    return 0;
}
