/* SPDX-License-Identifier: MIT */
/*
 * AArch64 timer fast paths for include/arch/timer.h: none are inline; the generic timer
 * (CNTVCT_EL0 and the EL1 virtual timer) is driven from arch/aarch64/timer.c.
 */
#ifndef ARCH_AARCH64_ARCH_TIMER_H
#define ARCH_AARCH64_ARCH_TIMER_H

#endif /* ARCH_AARCH64_ARCH_TIMER_H */
