/* SPDX-License-Identifier: MIT */
/*
 * AArch64 per-CPU pointer: TPIDR_EL1 holds this CPU's struct percpu, so arch_this_cpu()
 * is one MRS. The asm is volatile so the compiler never reuses a value read before the
 * thread migrated to another CPU.
 */
#ifndef ARCH_AARCH64_ARCH_SMP_H
#define ARCH_AARCH64_ARCH_SMP_H

#include <kernel/types.h>

static inline struct percpu *arch_this_cpu(void) {
    struct percpu *pc;
    __asm__ volatile("mrs %0, tpidr_el1" : "=r"(pc));
    return pc;
}

#endif /* ARCH_AARCH64_ARCH_SMP_H */
