/* SPDX-License-Identifier: MIT */
/*
 * x86_64 per-CPU pointer: IA32_GS_BASE holds this CPU's struct percpu, whose first word
 * points to itself, so arch_this_cpu() is one load (movq %gs:0). The asm is volatile so
 * the compiler never reuses a value read on another CPU before a migration.
 */
#ifndef ARCH_X86_64_ARCH_SMP_H
#define ARCH_X86_64_ARCH_SMP_H

#include <kernel/types.h>

static inline struct percpu *arch_this_cpu(void) {
    struct percpu *pc;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(pc));
    return pc;
}

#endif /* ARCH_X86_64_ARCH_SMP_H */
