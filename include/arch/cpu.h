/* SPDX-License-Identifier: MIT */
/*
 * HAL contract: the CPU. Every arch implements these in arch/<arch>/; the inline fast
 * paths and struct bodies come from its arch/arch_cpu.h. No weak defaults: a missing
 * port is a link error.
 */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <kernel/types.h>

/* Name of the architecture as printed in the banner ("x86_64", "aarch64", "riscv64"). */
extern const char arch_name[];

/* Stop this CPU for good with interrupts masked. Any context. */
__noreturn void arch_halt(void);

/*
 * Power the machine off and report status to the emulator or test harness:
 * 0 means success, anything else failure. Falls back to arch_halt() when the
 * platform cannot power off. Any context.
 */
__noreturn void arch_power_off(int status);

/* Mask interrupts on this CPU and return the previous state for arch_irq_restore(). */
static inline unsigned long arch_irq_save(void);
static inline void arch_irq_restore(unsigned long state);

/* Spin-wait hint (pause / yield / nop). */
static inline void arch_cpu_relax(void);

/* Free-running cycle counter; under QEMU -icount it advances once per instruction. */
static inline uint64_t arch_cycle_counter(void);

/* Frame-pointer walk step: from frame fp, give the caller's frame and return address. */
static inline bool arch_frame_step(uintptr_t fp, uintptr_t *next_fp, uintptr_t *ret_addr);

/* Current frame pointer. */
static inline uintptr_t arch_frame_pointer(void);

#include <arch/arch_cpu.h>

#endif /* ARCH_CPU_H */
