/* SPDX-License-Identifier: MIT */
/*
 * riscv64 per-CPU pointer for include/arch/smp.h: tp holds this hart's struct percpu
 * from the first kernel instruction on (a static early one until arch_set_this_cpu()).
 * Nothing else uses tp: the kernel has no thread-local storage. Context switches leave
 * tp alone, so a thread that moves to another hart sees that hart's percpu.
 */
#ifndef ARCH_RISCV64_ARCH_SMP_H
#define ARCH_RISCV64_ARCH_SMP_H

struct percpu;

static inline struct percpu *arch_this_cpu(void) {
    struct percpu *pc;
    /* volatile: never reuse a value read before a call that may have migrated us. */
    __asm__ volatile("mv %0, tp" : "=r"(pc));
    return pc;
}

#endif /* ARCH_RISCV64_ARCH_SMP_H */
