/* SPDX-License-Identifier: MIT */
/*
 * Lazy FP/SIMD switching (include/kernel/fpu.h). Per CPU we remember whose registers the
 * unit holds (owner) and whether it is enabled now (live). A thread's fpu_cpu says on
 * which CPU its registers were last loaded; owner == t and t->fpu_cpu == this CPU means
 * the registers are still t's, so the trap only re-enables the unit. A thread switched
 * out with the unit live has its registers saved at once, so it can run anywhere next.
 */
#include <arch/fpu.h>
#include <kernel/fpu.h>
#include <kernel/percpu.h>
#include <kernel/string.h>
#include <kernel/thread.h>

struct fpu_cpu {
    struct thread *owner; /* whose registers the unit holds (compared, never followed) */
    bool live;            /* the unit is enabled: the running thread used it */
    const char *refusal;  /* why the last trap was refused */
    struct fpu_stats stats;
};

static struct fpu_cpu fpu_cpus[PERCPU_MAX];

void fpu_cpu_init(void) {
    struct fpu_cpu *fc = &fpu_cpus[this_cpu_index()];
    arch_fpu_cpu_init();
    fc->owner = NULL;
    fc->live = false;
}

void fpu_thread_init(struct thread *t) {
    t->fpu_cpu = -1;
    t->fpu_valid = false;
}

bool fpu_trap(void) {
    struct percpu *pc = arch_this_cpu();
    if (pc == NULL) {
        return false;
    }
    struct fpu_cpu *fc = &fpu_cpus[pc->index];
    struct thread *t = pc->current;
    if (t == NULL) {
        fc->refusal = "before threads run";
        return false;
    }
    if (pc->irq_depth > 0) {
        fc->refusal = "in an interrupt handler";
        return false;
    }
    if (t == pc->idle) {
        fc->refusal = "in an idle thread";
        return false;
    }
    if (fc->live) {
        fc->refusal = "with the unit already enabled (arch trap decoding?)";
        return false;
    }
    arch_fpu_enable();
    if (fc->owner != t || t->fpu_cpu != (int32_t)pc->index) {
        if (!t->fpu_valid) {
            arch_fpu_state_init(&t->fpu);
            t->fpu_valid = true;
        }
        arch_fpu_restore(&t->fpu);
        fc->owner = t;
        t->fpu_cpu = (int32_t)pc->index;
        fc->stats.restores++;
    }
    fc->live = true;
    fc->stats.traps++;
    return true;
}

const char *fpu_refusal_reason(void) {
    struct percpu *pc = arch_this_cpu();
    const char *r = pc != NULL ? fpu_cpus[pc->index].refusal : NULL;
    return r != NULL ? r : "before per-CPU data exists";
}

/* Out of line, so that the common case below (the unit was not used) needs no stack
 * frame: clang does not shrink-wrap, and saved its registers on every switch. */
static __noinline void fpu_save_live(struct thread *prev) {
    struct fpu_cpu *fc = &fpu_cpus[this_cpu_index()];
    arch_fpu_save(&prev->fpu);
    arch_fpu_disable();
    fc->live = false;
    fc->stats.saves++;
}

void fpu_switch_out(struct thread *prev) {
    if (__builtin_expect(fpu_cpus[this_cpu_index()].live, 0)) {
        fpu_save_live(prev);
    }
}

void fpu_stats_get(unsigned cpu, struct fpu_stats *out) {
    if (cpu >= PERCPU_MAX) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = fpu_cpus[cpu].stats;
}
