/* SPDX-License-Identifier: MIT */
/*
 * AArch64 threads and CPUs, C side: the first context of a thread (context.S switches
 * it), the per-CPU pointer in TPIDR_EL1, this CPU's local TLB flush for shootdown, and
 * the idle wait.
 */
#include <arch/irq.h>
#include <arch/mmu.h>
#include <arch/smp.h>
#include <arch/thread.h>
#include <kernel/panic.h>

#include "aarch64.h"

STATIC_ASSERT(__builtin_offsetof(struct arch_context, fp) == 80, "context.S fp/lr offset");
STATIC_ASSERT(__builtin_offsetof(struct arch_context, sp) == 96, "context.S sp offset");

/* Local TLBIs beyond this many pages: drop the whole TLB instead. */
#define TLB_FLUSH_MAX_PAGES 64

void aarch64_thread_start(void);
__noreturn void aarch64_thread_returned(void);

void arch_context_init(struct arch_context *ctx, uintptr_t stack_top, void (*fn)(void *arg),
                       void *arg) {
    *ctx = (struct arch_context){0};
    ctx->x[0] = (uint64_t)(uintptr_t)fn;  /* x19 */
    ctx->x[1] = (uint64_t)(uintptr_t)arg; /* x20 */
    ctx->fp = 0;
    ctx->lr = (uint64_t)(uintptr_t)aarch64_thread_start;
    ctx->sp = stack_top & ~(uintptr_t)15;
}

/* A thread's entry function returned, which the contract forbids. */
void aarch64_thread_returned(void) {
    panic("a kernel thread's entry function returned");
}

void arch_set_this_cpu(struct percpu *pc) {
    __asm__ volatile("msr tpidr_el1, %0" ::"r"(pc) : "memory");
}

/*
 * Non-broadcast TLBIs: kernel entries are global, so VAAE1 (any ASID, every level, walk
 * caches included) per page, or VMALLE1 for everything.
 */
void arch_tlb_flush_local(uint64_t va, uint64_t size) {
    uint64_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;

    if (size == 0 || pages > TLB_FLUSH_MAX_PAGES) {
        __asm__ volatile("dsb nshst\n\ttlbi vmalle1\n\tdsb nsh\n\tisb" ::: "memory");
        return;
    }
    __asm__ volatile("dsb nshst" ::: "memory");
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t op = ((va >> PAGE_SHIFT) + i) & ((1ULL << 44) - 1);
        __asm__ volatile("tlbi vaae1, %0" ::"r"(op) : "memory");
    }
    __asm__ volatile("dsb nsh\n\tisb" ::: "memory");
}

/*
 * WFI wakes on a pending interrupt even while PSTATE.I masks it, so waiting first and
 * unmasking after cannot lose a wake-up; the interrupt is taken between the two DAIF
 * writes.
 */
void arch_cpu_idle(void) {
    __asm__ volatile("dsb sy\n\t"
                     "wfi\n\t"
                     "msr daifclr, #2\n\t"
                     "isb\n\t"
                     "msr daifset, #2" ::
                         : "memory");
}
