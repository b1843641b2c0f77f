/* SPDX-License-Identifier: MIT */
/*
 * Fake HAL per-CPU pointer for host tests: one simulated CPU per host thread, so the
 * pointer is thread-local. arch_set_this_cpu() (smp_fake.c) sets it.
 */
#ifndef FAKE_ARCH_SMP_H
#define FAKE_ARCH_SMP_H

struct percpu;

extern _Thread_local struct percpu *fake_this_cpu;

static inline struct percpu *arch_this_cpu(void) {
    return fake_this_cpu;
}

#endif /* FAKE_ARCH_SMP_H */
