/* SPDX-License-Identifier: MIT */
/*
 * riscv64 FP state for include/arch/fpu.h: the F and D extensions' f0-f31 (64 bits each)
 * and fcsr (frm + fflags), 264 bytes. fpu.S saves and loads it; the offsets below are
 * shared with that file and checked against the struct.
 */
#ifndef ARCH_RISCV64_ARCH_FPU_H
#define ARCH_RISCV64_ARCH_FPU_H

#define ARCH_FPU_F0   0   /* f0..f31 at 8 * i */
#define ARCH_FPU_FCSR 256 /* fcsr, zero-extended */
#define ARCH_FPU_SIZE 264

#ifndef __ASSEMBLER__
#include <kernel/compiler.h>
#include <stdint.h>

/* A thread's FP registers while the unit does not hold them (raw bits, NaN boxes kept). */
struct arch_fpu_state {
    uint64_t f[32];
    uint64_t fcsr;
};

STATIC_ASSERT(sizeof(struct arch_fpu_state) == ARCH_FPU_SIZE, "fpu.S layout");
STATIC_ASSERT(__builtin_offsetof(struct arch_fpu_state, fcsr) == ARCH_FPU_FCSR, "fcsr");
STATIC_ASSERT(_Alignof(struct arch_fpu_state) <= 16, "embedded in kmalloc'ed threads");
#endif

#endif /* ARCH_RISCV64_ARCH_FPU_H */
