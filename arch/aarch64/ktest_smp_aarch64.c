/* SPDX-License-Identifier: MIT */
/*
 * AArch64 self tests of the interrupt, timer, thread and SMP machinery (booted with
 * "ktest"): the generic timer fires at the programmed time and reaches the IRQ path, IPIs
 * to this CPU and to others arrive, a raw context switch keeps callee-saved registers and
 * starts a context as arch_context_init promises, every CPU is online with its own
 * TPIDR_EL1, and thread stacks are placed for the vectors' overflow check.
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/mmu.h>
#include <arch/smp.h>
#include <arch/thread.h>
#include <arch/timer.h>
#include <kernel/boot_info.h>
#include <kernel/irq.h>
#include <kernel/ktest.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/thread.h>
#include <kernel/vmm.h>

#include "aarch64.h"

#define CNTV_CTL_ISTATUS BIT(2)

static uint64_t ticks_per_ms(void) {
    return arch_timer_freq_hz() / 1000;
}

static bool timer_condition_met(void) {
    uint64_t ctl;
    __asm__ volatile("isb\n\tmrs %0, cntv_ctl_el0" : "=r"(ctl)::"memory");
    return (ctl & CNTV_CTL_ISTATUS) != 0;
}

/* Spin with interrupts enabled until *counter moves past before, at most ms; true if so. */
static bool wait_for_count(const volatile uint64_t *counter, uint64_t before, uint64_t ms) {
    uint64_t end = arch_timer_now_ticks() + ms * ticks_per_ms();
    arch_irq_enable();
    while (*counter == before && arch_timer_now_ticks() < end) {
        arch_cpu_relax();
    }
    arch_irq_disable();
    return *counter != before;
}

/* Poll with the IRQ masked until the timer condition holds; the counter then, or 0. */
static uint64_t poll_timer_condition(uint64_t give_up) {
    while (arch_timer_now_ticks() < give_up) {
        if (timer_condition_met()) {
            return arch_timer_now_ticks();
        }
    }
    return 0;
}

/*
 * Mostly with interrupts masked, so the scheduler's own tick cannot interfere: the
 * condition is met not before the deadline and soon after it (bounds that tolerate a
 * virtual CPU the host stalls), the GIC then has the PPI
 * pending, and unmasking takes it through the vectors to irq_handle_timer (which re-arms
 * the scheduler's next event). A past deadline fires at once; a cancelled one never.
 */
KTEST(aarch64_timer_fires_at_the_programmed_time) {
    unsigned intid = aarch64_timer_intid();
    KTEST_EXPECT(arch_timer_freq_hz() >= 1000000); /* QEMU: 62.5 MHz */
    unsigned long irq = arch_irq_save();
    struct percpu *pc = arch_this_cpu();

    uint64_t deadline = arch_timer_now_ticks() + 20 * ticks_per_ms();
    arch_timer_set_oneshot(deadline);
    bool early = timer_condition_met();
    KTEST_EXPECT(!early || arch_timer_now_ticks() >= deadline); /* a stalled vCPU is late */
    uint64_t seen = poll_timer_condition(deadline + 2000 * ticks_per_ms());
    KTEST_EXPECT(seen >= deadline);
    KTEST_EXPECT(seen - deadline < 500 * ticks_per_ms()); /* generous: TCG on a busy host */
    uint64_t end = arch_timer_now_ticks() + 100 * ticks_per_ms();
    while (!aarch64_irq_ppi_pending(intid) && arch_timer_now_ticks() < end) {
    }
    KTEST_EXPECT(aarch64_irq_ppi_pending(intid));
    uint64_t before = pc->timer_count;
    KTEST_EXPECT(wait_for_count(&pc->timer_count, before, 1000));
    arch_irq_disable();
    pc = arch_this_cpu(); /* irq_exit may have moved this thread */

    arch_timer_set_oneshot(arch_timer_now_ticks() - 1);
    KTEST_EXPECT(timer_condition_met());
    arch_timer_set_oneshot(arch_timer_now_ticks() + ticks_per_ms());
    arch_timer_cancel();
    uint64_t quiet_until = arch_timer_now_ticks() + 5 * ticks_per_ms();
    while (arch_timer_now_ticks() < quiet_until) {
    }
    KTEST_EXPECT(!aarch64_irq_ppi_pending(intid));

    /* Give the tick back: fire now; the handler re-arms the scheduler's next event. */
    before = pc->timer_count;
    arch_timer_set_oneshot(arch_timer_now_ticks());
    KTEST_EXPECT(wait_for_count(&pc->timer_count, before, 1000));
    arch_irq_restore(irq);
}

/* Every IPI kind reaches this CPU and every other online one (their counters move). */
KTEST(aarch64_ipi_to_self_and_to_every_other_cpu) {
    unsigned long irq = arch_irq_save();
    struct percpu *me = arch_this_cpu();
    uint64_t before = me->ipi_count[IPI_RESCHEDULE];
    arch_ipi_send(me->index, IPI_RESCHEDULE);
    KTEST_EXPECT(wait_for_count(&me->ipi_count[IPI_RESCHEDULE], before, 1000));
    arch_irq_restore(irq);

    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        struct percpu *pc = percpu_get(i);
        if (pc == NULL || pc == me || !pc->online) {
            continue;
        }
        for (unsigned kind = 0; kind < IPI_KIND_COUNT; kind++) {
            uint64_t n = __atomic_load_n(&pc->ipi_count[kind], __ATOMIC_RELAXED);
            arch_ipi_send(i, (enum ipi_kind)kind);
            uint64_t end = arch_timer_now_ticks() + 1000 * ticks_per_ms();
            while (__atomic_load_n(&pc->ipi_count[kind], __ATOMIC_RELAXED) == n &&
                   arch_timer_now_ticks() < end) {
                arch_cpu_relax();
            }
            KTEST_EXPECT(__atomic_load_n(&pc->ipi_count[kind], __ATOMIC_RELAXED) != n);
        }
    }
    /* Out of range: ignored, not delivered anywhere. */
    arch_ipi_send(PERCPU_MAX, IPI_RESCHEDULE);
}

static struct arch_context ktest_main_ctx, ktest_side_ctx;
static volatile uint64_t side_runs, side_fp_at_start, side_daif, side_sp;

/* Runs on its own context: checks its start, then ping-pongs with the test. */
static void side_fn(void *arg) {
    uintptr_t *frame = __builtin_frame_address(0);
    side_fp_at_start = frame[0]; /* the caller's x29 that our frame record saved */
    __asm__ volatile("mrs %0, daif" : "=r"(side_daif));
    side_sp = (uintptr_t)frame;
    for (;;) {
        side_runs += (uintptr_t)arg;
        /* Clobber every callee-saved register; the switch must not leak them back. */
        __asm__ volatile("mov x19, #0x19\n\tmov x20, #0x20\n\tmov x21, #0x21\n\t"
                         "mov x22, #0x22\n\tmov x23, #0x23\n\tmov x24, #0x24\n\t"
                         "mov x25, #0x25\n\tmov x26, #0x26\n\tmov x27, #0x27\n\tmov x28, #0x28" ::
                             : "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27",
                               "x28");
        arch_context_switch(&ktest_side_ctx, &ktest_main_ctx);
    }
}

KTEST(aarch64_context_switch_between_two_contexts) {
    void *stack = vmalloc_aligned(THREAD_STACK_SIZE, ARCH_THREAD_STACK_ALIGN);
    KTEST_EXPECT(stack != NULL);
    if (stack == NULL) {
        return;
    }
    KTEST_EXPECT_EQ((uintptr_t)stack % ARCH_THREAD_STACK_ALIGN, 0);
    uintptr_t top = (uintptr_t)stack + THREAD_STACK_SIZE;
    arch_context_init(&ktest_side_ctx, top, side_fn, (void *)3);
    side_runs = 0;

    /* Values the compiler keeps in callee-saved registers across the switches. */
    volatile uint64_t seed = 0x9e3779b97f4a7c15;
    uint64_t a = seed, b = a * 3, c = b ^ 0x55, d = c + 7, e = d * 5, f = e ^ a, g = f + b,
             h = g * 11, i = h ^ c, j = i + d;
    uint64_t expect = a + b + c + d + e + f + g + h + i + j;
    unsigned long irq = arch_irq_save();
    for (int round = 0; round < 3; round++) {
        arch_context_switch(&ktest_main_ctx, &ktest_side_ctx);
        a += 1;
        expect += 1;
    }
    arch_irq_restore(irq);
    KTEST_EXPECT_EQ(a + b + c + d + e + f + g + h + i + j, expect);
    KTEST_EXPECT_EQ(side_runs, 9);
    KTEST_EXPECT_EQ(side_fp_at_start, 0); /* backtraces stop at the thread's first frame */
    KTEST_EXPECT(side_daif & BIT(7));     /* started with IRQs masked */
    KTEST_EXPECT(side_sp < top && side_sp >= (uintptr_t)stack);
    vfree(stack);
}

/* Every CPU records what it sees: its per-CPU pointer and its MPIDR. */
static volatile uint64_t seen_mpidr[PERCPU_MAX];
static struct percpu *volatile seen_pc[PERCPU_MAX];

static void record_cpu(void *arg) {
    (void)arg;
    struct percpu *pc = arch_this_cpu();
    uint64_t mpidr;
    __asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
    if (pc->index < PERCPU_MAX) {
        seen_pc[pc->index] = pc;
        seen_mpidr[pc->index] = mpidr & 0xff00ffffffULL;
    }
}

KTEST(aarch64_every_cpu_online_with_its_own_percpu) {
    const struct boot_info *bi = kmain_boot_info;
    unsigned enabled = 0;
    for (unsigned i = 0; i < bi->cpu_count && i < PERCPU_MAX; i++) {
        enabled += bi->cpus[i].enabled != 0;
    }
    KTEST_EXPECT_EQ(smp_online_count(), enabled);
    cpumask_t all = 0;
    for (unsigned i = 0; i < bi->cpu_count && i < PERCPU_MAX; i++) {
        struct percpu *pc = percpu_get(i);
        KTEST_EXPECT(pc != NULL);
        if (pc == NULL) {
            continue;
        }
        KTEST_EXPECT_EQ(pc->online, 1);
        KTEST_EXPECT_EQ(pc->hwid, bi->cpus[i].hwid);
        KTEST_EXPECT(pc->idle != NULL);
        seen_pc[i] = NULL;
        all |= CPUMASK_CPU(i);
    }
    smp_call_function(all, record_cpu, NULL, true);
    for (unsigned i = 0; i < bi->cpu_count && i < PERCPU_MAX; i++) {
        KTEST_EXPECT(seen_pc[i] == percpu_get(i));
        KTEST_EXPECT_EQ(seen_mpidr[i], bi->cpus[i].hwid);
    }
}

KTEST(aarch64_thread_stacks_fit_the_overflow_check) {
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        struct percpu *pc = percpu_get(i);
        if (pc == NULL || pc->idle == NULL || pc->idle->stack == NULL) {
            continue;
        }
        uintptr_t base = (uintptr_t)pc->idle->stack;
        KTEST_EXPECT_EQ(base % ARCH_THREAD_STACK_ALIGN, 0);
        KTEST_EXPECT_EQ(pc->idle->stack_size, (size_t)KERNEL_STACK_SIZE);
    }
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    KTEST_EXPECT((sp & BIT(KERNEL_STACK_OVERFLOW_BIT)) == 0);
}

KTEST(aarch64_irq_lines_range_checked) {
    unsigned n = arch_irq_line_count();
    KTEST_EXPECT(n >= 32 && n <= 988);
    KTEST_EXPECT_EQ(arch_irq_line_enable(n), KEEL_EINVAL);
    KTEST_EXPECT_EQ(arch_irq_line_enable(~0u), KEEL_EINVAL);
    arch_irq_line_disable(n); /* ignored */
}

KTEST(aarch64_local_tlb_flush_keeps_mappings_usable) {
    volatile uint64_t *p = vmalloc(PAGE_SIZE);
    KTEST_EXPECT(p != NULL);
    if (p == NULL) {
        return;
    }
    *p = 42;
    unsigned long irq = arch_irq_save();
    arch_tlb_flush_local((uintptr_t)p, PAGE_SIZE);
    KTEST_EXPECT_EQ(*p, 42);
    arch_tlb_flush_local((uintptr_t)p, 1ULL << 30); /* many pages: the whole TLB */
    arch_tlb_flush_local(0, 0);
    KTEST_EXPECT_EQ(*p, 42);
    arch_irq_restore(irq);
    vfree((void *)p);
}
