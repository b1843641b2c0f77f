/* SPDX-License-Identifier: MIT */
/*
 * Fake HAL FP/SIMD state for host tests: each fake CPU has FAKE_FPU_REGS "registers" and
 * an enable flag; touching them while disabled calls fake_fpu_trap_hook (the trap).
 */
#ifndef FAKE_ARCH_FPU_H
#define FAKE_ARCH_FPU_H

#include <stdbool.h>
#include <stdint.h>

#define FAKE_FPU_REGS 8

struct arch_fpu_state {
    uint64_t reg[FAKE_FPU_REGS];
    uint64_t control;
};

/* The "trap": a test installs fpu_trap; NULL aborts. Refusals are counted. */
extern bool (*fake_fpu_trap_hook)(void);
extern unsigned long fake_fpu_refused;
/* Whether the calling fake CPU's unit is enabled, and its register 0 (for tests). */
bool fake_fpu_enabled(void);

#endif /* FAKE_ARCH_FPU_H */
