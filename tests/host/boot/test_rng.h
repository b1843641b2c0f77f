/* SPDX-License-Identifier: MIT */
/*
 * Seeded random numbers for the boot parser tests: the seed comes from argv[1] or the
 * KEEL_SEED environment variable (else the clock) and is printed, so a failing run can
 * be repeated exactly.
 */
#ifndef BOOT_TEST_RNG_H
#define BOOT_TEST_RNG_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t test_rng_state;

/* Pick and print the seed for this run (argv[1] > KEEL_SEED > clock). */
static inline uint64_t test_seed_init(int argc, char **argv, const char *name) {
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
    test_rng_state = seed ? seed : 0x9e3779b97f4a7c15ull;
    return seed;
}

/* xorshift64*: fast, good enough for test input. */
static inline uint64_t test_rand(void) {
    test_rng_state ^= test_rng_state >> 12;
    test_rng_state ^= test_rng_state << 25;
    test_rng_state ^= test_rng_state >> 27;
    return test_rng_state * 0x2545f4914f6cdd1dull;
}

/* Uniform-ish in [0, n); n > 0. */
static inline uint64_t test_rand_below(uint64_t n) {
    return test_rand() % n;
}

#endif /* BOOT_TEST_RNG_H */
