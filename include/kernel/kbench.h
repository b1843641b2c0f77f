/* SPDX-License-Identifier: MIT */
/*
 * KBENCH: in-kernel benchmarks. KBENCH(name) declares one; booting with "bench" on the
 * command line runs them all after the boot figures and prints one JSON line each
 * (design.md section 7). Under QEMU -icount shift=0 the cycle counter advances once per
 * instruction, so figures are instructions and repeat run to run.
 */
#ifndef KERNEL_KBENCH_H
#define KERNEL_KBENCH_H

#include <kernel/types.h>

struct kbench {
    const char *name;
    void (*fn)(void);
} __aligned(16);

#define KBENCH(bname)                                                                              \
    static void kbench_fn_##bname(void);                                                           \
    static const struct kbench kbench_desc_##bname                                                 \
        __attribute__((used, section("kbench"), aligned(16))) = {#bname, kbench_fn_##bname};       \
    static void kbench_fn_##bname(void)

#define KBENCH_MAX_SAMPLES 1024

/*
 * Report n samples (cycle-counter deltas; the array is sorted in place) as one JSON line
 * with median and p99, unit "instructions".
 */
void kbench_report(const char *name, uint64_t *samples, unsigned n);

/* Sort v[0..n) ascending in place (insertion sort: small sample sets). */
void kbench_sort_u64(uint64_t *v, unsigned n);

/* Run every KBENCH. */
void kbench_run_all(void);

#endif /* KERNEL_KBENCH_H */
