/* SPDX-License-Identifier: MIT */
/*
 * riscv64 inline interrupt masking for include/arch/irq.h: sstatus.SIE gates every
 * supervisor interrupt (timer, software/IPI, external/PLIC) on this hart.
 */
#ifndef ARCH_RISCV64_ARCH_IRQ_H
#define ARCH_RISCV64_ARCH_IRQ_H

static inline void arch_irq_enable(void) {
    __asm__ volatile("csrsi sstatus, 2" ::: "memory");
}

static inline void arch_irq_disable(void) {
    __asm__ volatile("csrci sstatus, 2" ::: "memory");
}

#endif /* ARCH_RISCV64_ARCH_IRQ_H */
