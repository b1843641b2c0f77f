/* SPDX-License-Identifier: MIT */
/*
 * AArch64 body of struct arch_fpu_state (include/arch/fpu.h): the 32 Advanced SIMD/FP
 * registers V0-V31 (128 bits each) and the FPSR/FPCR control and status registers, as
 * fpu.S stores them with stp/ldp of q-register pairs. SVE/SME state is not covered: the
 * kernel leaves CPACR_EL1.ZEN/SMEN trapping them. Offsets are fixed (checked in fpu.c).
 */
#ifndef ARCH_AARCH64_ARCH_FPU_H
#define ARCH_AARCH64_ARCH_FPU_H

#include <kernel/types.h>

#define AARCH64_FPU_VREGS 32

struct arch_fpu_state {
    _Alignas(16) uint64_t v[AARCH64_FPU_VREGS * 2]; /* Vn = {v[2n] low, v[2n+1] high}, 0 */
    uint64_t fpsr;                                  /* offset 512 */
    uint64_t fpcr;                                  /* offset 520 */
};

#endif /* ARCH_AARCH64_ARCH_FPU_H */
