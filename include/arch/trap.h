/* SPDX-License-Identifier: MIT */
/*
 * HAL contract: traps. Vectors are installed before anything can fault; an unexpected
 * exception ends in trap_fatal() (src/lib/panic.c), which prints the cause, the faulting
 * address, the registers and a backtrace, then halts.
 */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

#include <kernel/types.h>

struct trap_frame; /* body in arch/arch_trap.h */

/* Install this CPU's exception vectors. Boot only, interrupts masked. */
void arch_trap_init(void);

/* Print every register of the frame, one kprintf line per group. */
void arch_trap_dump_regs(const struct trap_frame *tf);

/* Program counter and frame pointer at the time of the trap. */
uintptr_t arch_trap_pc(const struct trap_frame *tf);
uintptr_t arch_trap_fp(const struct trap_frame *tf);

/*
 * An address that is never mapped in the kernel half, for the deliberate-fault self
 * test: reading it must trap.
 */
uintptr_t arch_unmapped_address(void);

#include <arch/arch_trap.h>

#endif /* ARCH_TRAP_H */
