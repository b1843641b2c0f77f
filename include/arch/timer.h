/* SPDX-License-Identifier: MIT */
/*
 * HAL contract: the per-CPU timer. Each arch provides a free-running counter that is
 * synchronised across CPUs, its frequency, and a one-shot interrupt on this CPU. The
 * portable time code (src/time/) turns them into nanoseconds and kernel timers.
 */
#ifndef ARCH_TIMER_H
#define ARCH_TIMER_H

#include <kernel/types.h>

/*
 * The counter now (x86 TSC or LAPIC-derived, Arm CNTVCT_EL0, RISC-V time CSR). Monotonic,
 * the same timebase on every CPU. Any context.
 */
uint64_t arch_timer_now_ticks(void);

/* Counter frequency in Hz (1 Hz .. 10 GHz); constant after boot. Any context. */
uint64_t arch_timer_freq_hz(void);

/*
 * Raise this CPU's timer interrupt once the counter reaches deadline_ticks (at once when
 * it is already past); replaces any earlier deadline on this CPU. IRQs off.
 */
void arch_timer_set_oneshot(uint64_t deadline_ticks);

/* Cancel this CPU's pending one-shot deadline, if any. IRQs off. */
void arch_timer_cancel(void);

#include <arch/arch_timer.h>

#endif /* ARCH_TIMER_H */
