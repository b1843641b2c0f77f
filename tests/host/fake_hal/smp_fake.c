/* SPDX-License-Identifier: MIT */
/*
 * The fake HAL's threads, CPUs and interrupt controller for host tests of src/proc/,
 * src/irq/ and src/smp/: contexts are ucontexts (real stack switches), a CPU is a host
 * thread, and IPIs, CPU starts and idle waits go to hooks a test installs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arch/irq.h>
#include <arch/mmu.h>
#include <arch/smp.h>
#include <arch/thread.h>
#include <kernel/thread.h>

#include "fake_smp.h"

_Thread_local struct percpu *fake_this_cpu;

bool fake_irq_line_enabled[FAKE_IRQ_LINES];
unsigned fake_irq_init_cpu_calls;
uint64_t fake_tlb_local_flushes;
uint64_t fake_idle_calls;
uint64_t fake_ipis_sent[IPI_KIND_COUNT];
void (*fake_ipi_hook)(unsigned cpu_index, enum ipi_kind kind);
void (*fake_idle_hook)(void);
kstatus_t (*fake_cpu_start_hook)(const struct boot_info *bi, struct percpu *pc,
                                 uintptr_t stack_top);

/* The context being entered for the first time (set just before swapcontext). */
static _Thread_local struct arch_context *fake_entering;

void fake_smp_reset(void) {
    memset(fake_irq_line_enabled, 0, sizeof(fake_irq_line_enabled));
    fake_irq_init_cpu_calls = 0;
    __atomic_store_n(&fake_tlb_local_flushes, 0, __ATOMIC_RELAXED);
    fake_idle_calls = 0;
    memset(fake_ipis_sent, 0, sizeof(fake_ipis_sent));
    fake_ipi_hook = NULL;
    fake_idle_hook = NULL;
    fake_cpu_start_hook = NULL;
}

static void fake_context_start(void) {
    struct arch_context *ctx = fake_entering;
    ctx->fn(ctx->arg);
    fprintf(stderr, "fake HAL: a thread's entry function returned\n");
    abort();
}

void arch_context_init(struct arch_context *ctx, uintptr_t stack_top, void (*fn)(void *arg),
                       void *arg) {
    memset(ctx, 0, sizeof(*ctx));
    if (getcontext(&ctx->uc) != 0) {
        abort();
    }
    ctx->fn = fn;
    ctx->arg = arg;
    ctx->uc.uc_stack.ss_sp = (void *)(stack_top - THREAD_STACK_SIZE);
    ctx->uc.uc_stack.ss_size = THREAD_STACK_SIZE;
    ctx->uc.uc_link = NULL;
    makecontext(&ctx->uc, fake_context_start, 0);
}

void arch_context_switch(struct arch_context *from, struct arch_context *to) {
    fake_entering = to;
    if (swapcontext(&from->uc, &to->uc) != 0) {
        abort();
    }
}

void arch_set_this_cpu(struct percpu *pc) {
    fake_this_cpu = pc;
}

kstatus_t arch_cpu_start(const struct boot_info *bi, struct percpu *pc, uintptr_t stack_top) {
    if (fake_cpu_start_hook == NULL) {
        return KEEL_ENOTSUP;
    }
    return fake_cpu_start_hook(bi, pc, stack_top);
}

kstatus_t arch_irq_init(const struct boot_info *bi) {
    (void)bi;
    return KEEL_OK;
}

void arch_irq_init_cpu(void) {
    __atomic_fetch_add(&fake_irq_init_cpu_calls, 1, __ATOMIC_RELAXED);
}

unsigned arch_irq_line_count(void) {
    return FAKE_IRQ_LINES;
}

kstatus_t arch_irq_line_enable(unsigned irq) {
    if (irq >= FAKE_IRQ_LINES) {
        return KEEL_EINVAL;
    }
    fake_irq_line_enabled[irq] = true;
    return KEEL_OK;
}

void arch_irq_line_disable(unsigned irq) {
    if (irq < FAKE_IRQ_LINES) {
        fake_irq_line_enabled[irq] = false;
    }
}

void arch_ipi_send(unsigned cpu_index, enum ipi_kind kind) {
    if ((unsigned)kind < IPI_KIND_COUNT) {
        __atomic_fetch_add(&fake_ipis_sent[kind], 1, __ATOMIC_RELAXED);
    }
    if (fake_ipi_hook != NULL) {
        fake_ipi_hook(cpu_index, kind);
    }
}

void arch_cpu_idle(void) {
    fake_idle_calls++;
    if (fake_idle_hook != NULL) {
        fake_idle_hook();
    }
    arch_irq_disable();
}

void arch_tlb_flush_local(uint64_t va, uint64_t size) {
    (void)va;
    (void)size;
    __atomic_fetch_add(&fake_tlb_local_flushes, 1, __ATOMIC_RELAXED);
}
