/* SPDX-License-Identifier: MIT */
/*
 * x86_64 time: the TSC as the counter, and the LAPIC timer for one-shot interrupts.
 */
#include <arch/cpu.h>
#include <arch/timer.h>
#include <kernel/panic.h>

#include "x86.h"

uint64_t arch_timer_now_ticks(void) {
    return arch_cycle_counter();
}

uint64_t arch_timer_freq_hz(void) {
    panic("arch_timer_freq_hz: not implemented yet on x86_64");
}

void arch_timer_set_oneshot(uint64_t deadline_ticks) {
    (void)deadline_ticks;
    panic("arch_timer_set_oneshot: not implemented yet on x86_64");
}

void arch_timer_cancel(void) {
    panic("arch_timer_cancel: not implemented yet on x86_64");
}
