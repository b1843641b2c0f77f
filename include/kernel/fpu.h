/* SPDX-License-Identifier: MIT */
/*
 * Lazy FP/SIMD switching, the portable half (src/proc/fpu.c; arch half: arch/fpu.h).
 * Every thread starts without FP/SIMD state. Its first FP/SIMD instruction after being
 * switched in traps; fpu_trap() enables the unit and, unless this CPU's registers still
 * hold the thread's state, loads it. When a thread that used the unit is switched out,
 * its registers are saved (so it may run on another CPU next) and the unit is disabled;
 * a thread that never touches it costs one flag test per switch.
 */
#ifndef KERNEL_FPU_H
#define KERNEL_FPU_H

#include <kernel/thread.h>
#include <kernel/types.h>

/*
 * The arch trap handler's "FP/SIMD disabled" case. true: handled, return to the
 * instruction (it runs now). false: not a context that may use FP/SIMD (interrupt
 * handler, idle thread, before threading), report it as a fatal fault.
 */
bool fpu_trap(void);

/* Why fpu_trap() refused, for the fault report ("in an interrupt handler", ...). */
const char *fpu_refusal_reason(void);

/* Thread layer: a new thread has no FP/SIMD state yet. */
void fpu_thread_init(struct thread *t);

/* fpu_switch_out() for a prev that used the unit in this run: save its registers and
 * disable the unit. Interrupts masked. */
void fpu_switch_out_live(struct thread *prev);

/* Thread layer, at a switch away from prev on this CPU (interrupts masked): save prev's
 * registers if it used the unit in this run, and disable the unit. Inline: the switch of
 * a thread that did not use the unit pays one flag test. */
static inline void fpu_switch_out(struct thread *prev) {
    if (prev->fpu_live) {
        fpu_switch_out_live(prev);
    }
}

/* Thread layer: per-CPU set-up (arch_fpu_cpu_init) before the CPU's first thread runs. */
void fpu_cpu_init(void);

/* Per-CPU counters (for tests and the debug dump). */
struct fpu_stats {
    uint64_t traps;    /* fpu_trap() calls that enabled the unit */
    uint64_t restores; /* of those, the ones that had to load registers */
    uint64_t saves;    /* switches that saved a thread's registers */
};
void fpu_stats_get(unsigned cpu, struct fpu_stats *out);

#endif /* KERNEL_FPU_H */
