/* SPDX-License-Identifier: MIT */
/*
 * Fake HAL controls for host tests of threads, interrupts and SMP (smp_fake.c): the
 * interrupt lines' state, where IPIs and CPU starts go, and counters of what the
 * portable code asked the "hardware" to do.
 */
#ifndef FAKE_SMP_H
#define FAKE_SMP_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/irq.h>
#include <kernel/boot_info.h>

#define FAKE_IRQ_LINES 64

/* Line mask state as arch_irq_line_enable/disable left it (true = unmasked). */
extern bool fake_irq_line_enabled[FAKE_IRQ_LINES];
/* arch_irq_init_cpu() calls, arch_tlb_flush_local() calls, arch_cpu_idle() calls. */
extern unsigned fake_irq_init_cpu_calls;
extern uint64_t fake_tlb_local_flushes;
extern uint64_t fake_idle_calls;

/* Where arch_ipi_send() delivers (NULL: the IPI is counted and dropped). */
extern void (*fake_ipi_hook)(unsigned cpu_index, enum ipi_kind kind);
/* What arch_cpu_idle() runs (NULL: return at once). Called with interrupts masked. */
extern void (*fake_idle_hook)(void);
/* What arch_cpu_start() does (NULL: KEEL_ENOTSUP). */
extern kstatus_t (*fake_cpu_start_hook)(const struct boot_info *bi, struct percpu *pc,
                                        uintptr_t stack_top);
/* IPIs sent, by kind. */
extern uint64_t fake_ipis_sent[IPI_KIND_COUNT];

/* Reset all of the above (lines masked, hooks NULL, counters 0). */
void fake_smp_reset(void);

#endif /* FAKE_SMP_H */
