/* SPDX-License-Identifier: MIT */
/*
 * Fake HAL interrupt masking for host tests: the same thread-local flag as
 * arch_irq_save()/arch_irq_restore() in arch_cpu.h, so tests can check the state.
 */
#ifndef FAKE_ARCH_IRQ_H
#define FAKE_ARCH_IRQ_H

extern _Thread_local unsigned long fake_irq_disabled;

static inline void arch_irq_enable(void) {
    fake_irq_disabled = 0;
}

static inline void arch_irq_disable(void) {
    fake_irq_disabled = 1;
}

#endif /* FAKE_ARCH_IRQ_H */
