/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the memory-subsystem host tests: building boot memory maps, bringing
 * the frame allocator up on malloc'd metadata, backing fake physical memory with a host
 * arena (for the heap and page tables), and a seeded random generator.
 */
#ifndef TESTS_HOST_MM_TEST_H
#define TESTS_HOST_MM_TEST_H

#include <kernel/boot_info.h>
#include <kernel/frame.h>

/* A zeroed boot_info on the heap (it is large); free with free(). */
struct boot_info *mmt_boot_info(void);

/* Append a region (aborts the test on overflow). */
void mmt_add(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t type, uint32_t node);

/* frame_init() with freshly malloc'd metadata (kept until the next call). Aborts on error. */
void mmt_frame_init(const struct boot_info *bi);

/*
 * One usable region of `bytes` at physical `base`, backed by a host arena so that the
 * heap and page tables can write to it, and the frame allocator over it. Returns the arena.
 */
void *mmt_backed_init(uint64_t base, uint64_t bytes);

/* Seed from argv[1], else the KEEL_SEED environment variable, else the clock; printed. */
uint64_t mmt_seed(int argc, char **argv, const char *test);
uint64_t mmt_rand(void);
uint64_t mmt_rand_below(uint64_t n);

#endif /* TESTS_HOST_MM_TEST_H */
