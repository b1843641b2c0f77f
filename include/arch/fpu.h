/* SPDX-License-Identifier: MIT */
/*
 * HAL contract: lazy FP/SIMD state. Kernel code is built without FP/SIMD registers; a
 * thread that executes an FP/SIMD instruction traps ("FPU disabled": x86 #NM via CR0.TS,
 * AArch64 EC 0x07 via CPACR_EL1.FPEN, RISC-V illegal instruction with sstatus.FS = Off),
 * the arch trap handler calls fpu_trap() (kernel/fpu.h), and the portable layer
 * (src/proc/fpu.c) enables the unit and loads the thread's registers. A switch saves
 * them only when the outgoing thread used the unit during its run. docs/scheduling.md.
 */
#ifndef ARCH_FPU_H
#define ARCH_FPU_H

#include <kernel/types.h>

/*
 * Body in <arch/arch_fpu.h>: struct arch_fpu_state, the saved FP/SIMD registers and
 * control/status words of one thread, embedded in struct thread. Its alignment must not
 * exceed KMALLOC_ALIGN (threads come from kmalloc).
 */
#include <arch/arch_fpu.h>

/*
 * Per-CPU set-up, on every CPU before its first thread runs (the portable layer calls it
 * from thread_init and thread_idle_run): make FP/SIMD usable by the save/restore code
 * below and leave the unit disabled, so the first use traps. Interrupts masked.
 */
void arch_fpu_cpu_init(void);

/* Let FP/SIMD instructions run on this CPU / make the next one trap. Interrupts masked. */
void arch_fpu_enable(void);
void arch_fpu_disable(void);

/* Store this CPU's FP/SIMD registers into st / load them from st. Unit enabled, IRQs masked. */
void arch_fpu_save(struct arch_fpu_state *st);
void arch_fpu_restore(const struct arch_fpu_state *st);

/* The state a thread starts with: data registers zero, default control (round to
 * nearest, floating-point exceptions masked where the arch has masks). Any context. */
void arch_fpu_state_init(struct arch_fpu_state *st);

/*
 * For KTESTs: fill every FP/SIMD data register with values derived from seed (distinct
 * per register and per seed), and check that they still hold them (true when all do).
 * Both execute FP/SIMD instructions, so in a thread with the unit disabled they trap
 * first; the check compares inside the FP/SIMD unit or moves values out one by one.
 */
void arch_fpu_test_fill(uint64_t seed);
bool arch_fpu_test_check(uint64_t seed);

/* A short name of what the state covers, for the boot log ("x87+SSE (fxsave)", ...). */
const char *arch_fpu_describe(void);

#endif /* ARCH_FPU_H */
