/* SPDX-License-Identifier: MIT */
/*
 * x86_64 interrupt fast paths (include/arch/irq.h) and the IDT vector plan: exceptions
 * 0-31, device lines (IOAPIC GSIs) from X86_VEC_DEVICE_BASE, then the LAPIC timer, the
 * IPIs and the spurious vector at the top, where the LAPIC's priority classes are highest.
 */
#ifndef ARCH_X86_64_ARCH_IRQ_H
#define ARCH_X86_64_ARCH_IRQ_H

#include <kernel/types.h>

#define X86_VEC_DEVICE_BASE  0x20 /* GSI n arrives on vector 0x20 + n */
#define X86_VEC_DEVICE_COUNT 0xb0 /* GSIs 0..175 at most */
#define X86_VEC_TIMER        0xf0
#define X86_VEC_IPI_BASE     0xf1 /* + enum ipi_kind */
#define X86_VEC_SPURIOUS     0xff

static inline void arch_irq_enable(void) {
    __asm__ volatile("sti" : : : "memory");
}

static inline void arch_irq_disable(void) {
    __asm__ volatile("cli" : : : "memory");
}

#endif /* ARCH_X86_64_ARCH_IRQ_H */
