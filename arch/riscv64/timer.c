/* SPDX-License-Identifier: MIT */
/*
 * riscv64 timer (include/arch/timer.h): the time CSR at the device tree's
 * timebase-frequency; one-shot deadlines through SBI TIME set_timer. Placeholder
 * frequency until boot records it.
 */
#include <arch/timer.h>

#include "riscv.h"

#define SBI_EXT_TIME 0x54494d45
#define SBI_TIME_SET 0
#define SIE_STIE     (1UL << 5)

uint64_t riscv_timebase_hz = 10000000; /* QEMU virt; boot.c sets it from the DTB */

uint64_t arch_timer_now_ticks(void) {
    uint64_t t;
    __asm__ volatile("rdtime %0" : "=r"(t)::"memory");
    return t;
}

uint64_t arch_timer_freq_hz(void) {
    return riscv_timebase_hz;
}

void arch_timer_set_oneshot(uint64_t deadline_ticks) {
    (void)sbi_call(SBI_EXT_TIME, SBI_TIME_SET, deadline_ticks, 0, 0);
    __asm__ volatile("csrs sie, %0" ::"r"(SIE_STIE) : "memory");
}

void arch_timer_cancel(void) {
    __asm__ volatile("csrc sie, %0" ::"r"(SIE_STIE) : "memory");
}
