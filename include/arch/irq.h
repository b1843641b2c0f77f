/* SPDX-License-Identifier: MIT */
/*
 * HAL contract: interrupt controllers and IPIs (x86 LAPIC/x2APIC + IOAPIC from the MADT,
 * GICv2/GICv3, RISC-V PLIC + SBI IPIs, all found through boot_info). The arch's interrupt
 * entry calls the portable handlers in include/kernel/irq.h: irq_handle_device(),
 * irq_handle_ipi(), irq_handle_timer(), and irq_exit() last.
 */
#ifndef ARCH_IRQ_H
#define ARCH_IRQ_H

#include <kernel/boot_info.h>
#include <kernel/types.h>

enum ipi_kind {
    IPI_RESCHEDULE = 0, /* run the scheduler on return from the interrupt */
    IPI_CALL = 1,       /* run the queued cross-CPU calls (smp_call_function, TLB shootdown) */
    IPI_KIND_COUNT = 2,
};

/*
 * Bring up the interrupt controller bi->intc describes (global part). KEEL_ENOTSUP for a
 * controller this arch does not drive; KEEL_ECORRUPT for inconsistent firmware data.
 * Boot CPU, after mm_init (it may map registers with arch_mmio_map), interrupts masked.
 */
__must_check kstatus_t arch_irq_init(const struct boot_info *bi);

/* This CPU's part of the controller (LAPIC, GIC CPU interface/redistributor, PLIC
 * context) and its timer interrupt. Every CPU, at bring-up, interrupts masked. */
void arch_irq_init_cpu(void);

/* Number of device interrupt lines (GSIs / SPIs / PLIC sources); valid lines are
 * 0..count-1 as the controller numbers them. */
unsigned arch_irq_line_count(void);

/* Unmask / mask device line irq, delivered to the boot CPU. KEEL_EINVAL out of range. */
__must_check kstatus_t arch_irq_line_enable(unsigned irq);
void arch_irq_line_disable(unsigned irq);

/* Send an IPI of kind to the CPU whose struct percpu has this index. Any context. */
void arch_ipi_send(unsigned cpu_index, enum ipi_kind kind);

/* Unmask interrupts on this CPU. */
static inline void arch_irq_enable(void);
/* Mask interrupts on this CPU. */
static inline void arch_irq_disable(void);

/*
 * Wait for an interrupt with interrupts unmasked, atomically (sti; hlt / wfi), and return
 * with them masked again after it has been handled. The idle loop. Interrupts masked.
 */
void arch_cpu_idle(void);

#include <arch/arch_irq.h>

#endif /* ARCH_IRQ_H */
