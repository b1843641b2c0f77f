/* SPDX-License-Identifier: MIT */
/*
 * x86_64 interrupt controllers: the local APIC of each CPU (x2APIC MSRs when the CPU has
 * them, else the xAPIC MMIO page) and the IOAPIC for device lines, both from the MADT
 * (bi->intc). IPIs go through the local APIC's interrupt command register.
 */
#include <arch/irq.h>
#include <kernel/panic.h>

#include "x86.h"

kstatus_t arch_irq_init(const struct boot_info *bi) {
    (void)bi;
    panic("arch_irq_init: not implemented yet on x86_64");
}

void arch_irq_init_cpu(void) {
    panic("arch_irq_init_cpu: not implemented yet on x86_64");
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
    (void)cpu_index;
    (void)kind;
    panic("arch_ipi_send: not implemented yet on x86_64");
}
