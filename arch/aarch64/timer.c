/* SPDX-License-Identifier: MIT */
/*
 * The Arm generic timer: CNTVCT_EL0 is the system counter (the same on every CPU; the
 * entry code zeroes CNTVOFF_EL2 when it owns EL2), and the EL1 virtual timer
 * (CNTV_CVAL_EL0 / CNTV_CTL_EL0, PPI 11 = INTID 27 unless the device tree says otherwise)
 * is each CPU's one-shot. The interrupt is level-sensitive: the IRQ path disables the
 * timer before the portable handler re-arms it (irq.c).
 */
#include <arch/timer.h>

#include "aarch64.h"

#define CNT_CTL_ENABLE BIT(0)

static uint64_t timer_freq;

void aarch64_timer_set_freq(uint64_t freq_hz) {
    timer_freq = freq_hz;
}

uint64_t arch_timer_now_ticks(void) {
    uint64_t v;
    __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v)::"memory");
    return v;
}

uint64_t arch_timer_freq_hz(void) {
    if (timer_freq == 0) {
        uint64_t f;
        __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
        timer_freq = f & 0xffffffff;
    }
    return timer_freq;
}

void arch_timer_set_oneshot(uint64_t deadline_ticks) {
    __asm__ volatile("msr cntv_cval_el0, %0\n\t"
                     "msr cntv_ctl_el0, %1\n\t"
                     "isb" ::"r"(deadline_ticks),
                     "r"((uint64_t)CNT_CTL_ENABLE)
                     : "memory");
}

void arch_timer_cancel(void) {
    __asm__ volatile("msr cntv_ctl_el0, xzr\n\tisb" ::: "memory");
}
