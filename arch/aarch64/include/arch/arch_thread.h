/* SPDX-License-Identifier: MIT */
/*
 * AArch64 body of struct arch_context (include/arch/thread.h): the AAPCS64 callee-saved
 * general registers x19-x28, the frame pointer x29, the resume address x30 and SP. The
 * kernel is built general-registers-only, so no FP/SIMD state is part of a kernel switch.
 * Offsets are fixed: context.S stores and loads them (checked in thread.c).
 */
#ifndef ARCH_AARCH64_ARCH_THREAD_H
#define ARCH_AARCH64_ARCH_THREAD_H

#include <kernel/types.h>

struct arch_context {
    uint64_t x[10]; /* x19..x28, offset 0 */
    uint64_t fp;    /* x29, offset 80 */
    uint64_t lr;    /* x30: where the switch returns to, offset 88 */
    uint64_t sp;    /* offset 96 */
};

/*
 * Kernel stacks must be 16 KiB aligned to 32 KiB: the vectors test bit 14 of SP to catch
 * an overflow before they store anything (vectors.S). Thread stacks honour this.
 */
#define ARCH_THREAD_STACK_ALIGN (32 * 1024)

#endif /* ARCH_AARCH64_ARCH_THREAD_H */
