/* SPDX-License-Identifier: MIT */
/*
 * AArch64 interrupts: the GIC (v2 or v3, from the device tree through boot_info) and the
 * IRQ path the vectors take. Placeholder bodies until the GIC driver lands.
 */
#include <arch/irq.h>
#include <kernel/panic.h>

#include "aarch64.h"

kstatus_t arch_irq_init(const struct boot_info *bi) {
    (void)bi;
    panic("arch_irq_init: not implemented yet on aarch64");
}

void arch_irq_init_cpu(void) {
    panic("arch_irq_init_cpu: not implemented yet on aarch64");
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
    panic("arch_ipi_send: not implemented yet on aarch64");
}
