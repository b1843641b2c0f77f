/* SPDX-License-Identifier: MIT */
/*
 * AArch64 interrupt masking fast paths for include/arch/irq.h: PSTATE.I through DAIFClr /
 * DAIFSet. Only IRQs are unmasked: the GIC signals everything we use (Group 1 on GICv3,
 * Group 0 without FIQEn on GICv2) as IRQ, so FIQ stays masked as a tripwire.
 */
#ifndef ARCH_AARCH64_ARCH_IRQ_H
#define ARCH_AARCH64_ARCH_IRQ_H

static inline void arch_irq_enable(void) {
    __asm__ volatile("msr daifclr, #2" ::: "memory");
}

static inline void arch_irq_disable(void) {
    __asm__ volatile("msr daifset, #2" ::: "memory");
}

#endif /* ARCH_AARCH64_ARCH_IRQ_H */
