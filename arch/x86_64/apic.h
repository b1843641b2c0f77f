/* SPDX-License-Identifier: MIT */
/*
 * Between the x86_64 interrupt-controller, timer and SMP files (not part of the HAL): local
 * APIC register access in whichever mode apic.c chose, the interrupt command register for
 * IPIs and INIT/SIPI, and the timer's set-up hooks that arch_irq_init calls.
 */
#ifndef ARCH_X86_64_APIC_H
#define ARCH_X86_64_APIC_H

#include <kernel/boot_info.h>
#include <kernel/types.h>

/* LAPIC timer registers (xAPIC offsets; apic.c maps them to x2APIC MSRs). */
#define LAPIC_LVT_TIMER  0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR  0x390
#define LAPIC_TIMER_DIV  0x3e0

/* ICR fields for x86_apic_send_icr. */
#define X86_ICR_INIT         (5U << 8)
#define X86_ICR_STARTUP      (6U << 8)
#define X86_ICR_LEVEL_ASSERT (1U << 14)
#define X86_ICR_LEVEL_TRIG   (1U << 15)

/* This CPU's local APIC register reg (xAPIC offset). Interrupts masked or not. */
uint32_t x86_apic_read(uint32_t reg);
void x86_apic_write(uint32_t reg, uint32_t v);

/* End of interrupt on this CPU's local APIC. Interrupt context. */
void x86_apic_eoi(void);

/* True when the local APICs run in x2APIC mode (MSR access, 32-bit ids). */
bool x86_apic_is_x2apic(void);

/* This CPU's APIC id (x2APIC: 32 bits; xAPIC: 8). After arch_irq_init_cpu. */
uint32_t x86_apic_id(void);

/* Record that CPU index has this APIC id, for arch_ipi_send. Any context. */
void x86_apic_note_cpu(unsigned index, uint32_t apic_id);

/* Send an IPI (vector and delivery mode in icr_lo) to APIC id dest. KEEL_ETIMEOUT if an
 * xAPIC never accepts the previous one. Any context. */
__must_check kstatus_t x86_apic_send_icr(uint32_t dest, uint32_t icr_lo);

/* timer.c: find the TSC frequency (CPUID 0x15 or the ACPI PM timer) and choose the LAPIC
 * timer mode. KEEL_ENOTSUP when there is no invariant way to calibrate. Boot CPU. */
__must_check kstatus_t x86_timer_init(const struct boot_info *bi);

/* timer.c: program this CPU's LAPIC timer LVT (masked until the first one-shot). */
void x86_timer_init_cpu(void);

/* timer.c: one line for the boot log ("TSC 2.9 GHz (PM timer), TSC-deadline"). */
const char *x86_timer_describe(void);

/* timer.c: called for each timer interrupt, interrupts masked. False when a one-shot
 * count-down fired before its deadline (then it is re-armed for the rest and must not be
 * delivered); true otherwise, recording the time of delivery. */
bool x86_timer_due(void);

/* timer.c: TSC value at this CPU's last delivered timer interrupt. */
uint64_t x86_timer_last_delivery(void);

/* timer.c: busy-wait ns nanoseconds on the TSC. After x86_timer_init. */
void x86_delay_ns(uint64_t ns);

#endif /* ARCH_X86_64_APIC_H */
