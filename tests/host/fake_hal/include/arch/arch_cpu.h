/* SPDX-License-Identifier: MIT */
/* Fake HAL for host tests: inline CPU fast paths on the build machine. */
#ifndef FAKE_ARCH_CPU_H
#define FAKE_ARCH_CPU_H

#include <stdint.h>

/* Interrupt state is a per-thread flag on the host; tests can read it. */
extern _Thread_local unsigned long fake_irq_disabled;

static inline unsigned long arch_irq_save(void) {
    unsigned long old = fake_irq_disabled;
    fake_irq_disabled = 1;
    return old;
}

static inline void arch_irq_restore(unsigned long state) {
    fake_irq_disabled = state;
}

static inline void arch_cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

static inline uint64_t arch_cycle_counter(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return 0;
#endif
}

static inline uintptr_t arch_frame_pointer(void) {
    return (uintptr_t)__builtin_frame_address(0);
}

static inline bool arch_frame_step(uintptr_t fp, uintptr_t *next_fp, uintptr_t *ret_addr) {
    const uintptr_t *frame = (const uintptr_t *)fp;
    *next_fp = frame[0];
    *ret_addr = frame[1];
    return true;
}

#endif /* FAKE_ARCH_CPU_H */
