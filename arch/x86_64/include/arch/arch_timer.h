/* SPDX-License-Identifier: MIT */
/*
 * x86_64 timer fast paths (include/arch/timer.h): none yet. The counter is the invariant
 * TSC and the one-shot interrupt the LAPIC timer (TSC-deadline mode when CPUID has it);
 * both live in arch/x86_64/timer.c.
 */
#ifndef ARCH_X86_64_ARCH_TIMER_H
#define ARCH_X86_64_ARCH_TIMER_H

#include <kernel/types.h>

#endif /* ARCH_X86_64_ARCH_TIMER_H */
