/* SPDX-License-Identifier: MIT */
/*
 * riscv64 interrupts (include/arch/irq.h): the PLIC for device lines, SBI IPI for
 * inter-hart interrupts, and the idle wait. Placeholder bodies until the PLIC lands.
 */
#include <arch/irq.h>
#include <kernel/panic.h>

#include "riscv.h"

kstatus_t arch_irq_init(const struct boot_info *bi) {
    (void)bi;
    panic("arch_irq_init: not implemented yet on riscv64");
}

void arch_irq_init_cpu(void) {
    panic("arch_irq_init_cpu: not implemented yet on riscv64");
}

unsigned arch_irq_line_count(void) {
    return 0;
}

kstatus_t arch_irq_line_enable(unsigned irq) {
    (void)irq;
    return KEEL_EINVAL;
}

void arch_irq_line_disable(unsigned irq) {
    (void)irq;
}

void arch_ipi_send(unsigned cpu_index, enum ipi_kind kind) {
    panic("arch_ipi_send(%u, %d): not implemented yet on riscv64", cpu_index, (int)kind);
}

void arch_cpu_idle(void) {
    /* wfi wakes on a pending enabled interrupt even with SIE clear; take it, mask again. */
    __asm__ volatile("wfi\n\tcsrsi sstatus, 2\n\tcsrci sstatus, 2" ::: "memory");
}
