/* SPDX-License-Identifier: MIT */
/*
 * riscv64 timer for include/arch/timer.h: the time CSR (rdtime) counts at the device
 * tree's timebase-frequency on every hart; the one-shot deadline goes to SBI TIME
 * set_timer, or straight to stimecmp on harts with Sstc (timer.c). No inline fast paths.
 */
#ifndef ARCH_RISCV64_ARCH_TIMER_H
#define ARCH_RISCV64_ARCH_TIMER_H

#endif /* ARCH_RISCV64_ARCH_TIMER_H */
