/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the scheduler host tests: seeded random numbers (KEEL_SEED or argv[1],
 * printed), a pool of entities, and a simulated clock driving several CPUs.
 */
#ifndef SCHED_TEST_H
#define SCHED_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <kernel/sched.h>

#define MS NSEC_PER_MSEC
#define US NSEC_PER_USEC

static uint64_t st_rng = 0x9e3779b97f4a7c15ull;

/* Pick and print the seed (argv[1] > KEEL_SEED > clock). */
static inline uint64_t st_seed_init(int argc, char **argv, const char *name) {
    const char *env = getenv("KEEL_SEED");
    uint64_t seed;
    if (argc > 1) {
        seed = strtoull(argv[1], NULL, 0);
    } else if (env != NULL && env[0] != '\0') {
        seed = strtoull(env, NULL, 0);
    } else {
        seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
    }
    printf("%s: seed %" PRIu64 " (repeat with KEEL_SEED=%" PRIu64 ")\n", name, seed, seed);
    fflush(stdout);
    st_rng = seed != 0 ? seed : 0x9e3779b97f4a7c15ull;
    return seed;
}

/* splitmix64 */
static inline uint64_t st_rand(void) {
    uint64_t z = (st_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t st_below(uint64_t n) {
    return n == 0 ? 0 : st_rand() % n;
}

/* Run CPU cpu's current entity until `until`, ticking every `tick` ns; returns the time. */
static inline struct sched_entity *st_pick(unsigned cpu, uint64_t now) {
    return sched_pick_next(cpu, now);
}

#endif /* SCHED_TEST_H */
