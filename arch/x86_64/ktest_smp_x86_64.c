/* SPDX-License-Identifier: MIT */
/*
 * x86_64 KTESTs of the interrupt, timer, context and SMP layer: the LAPIC timer raises its
 * vector at the programmed TSC time (watched in the IRR with interrupts masked, then
 * delivered), IPIs to self and to every other CPU arrive, an IOAPIC line delivers (the
 * CMOS RTC's periodic interrupt on ISA IRQ 8), a context switch keeps registers, stack
 * alignment and the masked interrupt flag, and every CPU is online, idle and reaches its
 * own struct percpu through GS.
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/smp.h>
#include <arch/thread.h>
#include <arch/timer.h>
#include <arch/x86_pt.h>
#include <kernel/boot_info.h>
#include <kernel/irq.h>
#include <kernel/kprintf.h>
#include <kernel/ktest.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/thread.h>
#include <kernel/vmm.h>

#include "apic.h"
#include "x86.h"

#define LAPIC_IRR(vec) (0x200 + 0x10 * ((vec) / 32))
#define WAIT_NS        1000000000ULL /* give up on an event after 1 s */

/*
 * These tests need kmain's interrupt and CPU bring-up (arch_irq_init, thread_init,
 * smp_boot); in a kernel that stops before it, say so and pass.
 */
static bool irq_layer_up(const char *name) {
    if (smp_online_count() == 0 || arch_irq_line_count() == 0) {
        kprintf("  %s: skipped, interrupts and CPUs are not brought up in this kernel\n", name);
        return false;
    }
    return true;
}

#define REQUIRE_IRQ_LAYER()                                                                        \
    do {                                                                                           \
        if (!irq_layer_up(ktest_ctx->name)) {                                                      \
            return;                                                                                \
        }                                                                                          \
    } while (0)

static uint64_t ns_to_ticks(uint64_t ns) {
    return ns * arch_timer_freq_hz() / 1000000000ULL;
}

static bool irr_pending(unsigned vec) {
    return (x86_apic_read(LAPIC_IRR(vec)) >> (vec % 32)) & 1;
}

/* Let whatever is pending on this CPU be delivered, then mask again. */
static void drain_interrupts(void) {
    arch_irq_enable();
    for (int i = 0; i < 100; i++) {
        arch_cpu_relax();
    }
    arch_irq_disable();
}

/*
 * Cancel this CPU's timer with nothing of it left pending. A tick that was already raised
 * is delivered by the drain and re-arms itself (the portable handler), so repeat until a
 * drain delivers no tick. True on success.
 */
static bool quiesce_timer(struct percpu *pc) {
    for (int i = 0; i < 10; i++) {
        uint64_t before = pc->timer_count;
        arch_timer_cancel();
        drain_interrupts();
        if (pc->timer_count == before) {
            return true;
        }
    }
    return false;
}

KTEST(x86_timer_fires_at_programmed_time) {
    REQUIRE_IRQ_LAYER();
    unsigned long flags = arch_irq_save();
    struct percpu *pc = arch_this_cpu();
    /* Two rounds: a deadline 2 ms ahead, then one already past (fires at once). The time
     * that counts is when the interrupt is delivered: a one-shot count-down that the LAPIC
     * raises early is re-armed by x86_timer_due(), not delivered. */
    for (int round = 0; round < 2; round++) {
        KTEST_EXPECT(quiesce_timer(pc));
        KTEST_EXPECT(!irr_pending(X86_VEC_TIMER));
        uint64_t now = arch_timer_now_ticks();
        uint64_t deadline = round == 0 ? now + ns_to_ticks(2000000) : now - 1;
        uint64_t before = pc->timer_count;
        arch_timer_set_oneshot(deadline);
        uint64_t give_up = now + ns_to_ticks(WAIT_NS);
        while (pc->timer_count == before && arch_timer_now_ticks() < give_up) {
            drain_interrupts(); /* the portable handler runs and re-arms the tick */
        }
        /* Delivered (the re-armed tick may follow at once if an event is already due). */
        KTEST_EXPECT(pc->timer_count >= before + 1);
        uint64_t seen = x86_timer_last_delivery();
        KTEST_EXPECT(seen >= deadline);
        /* Never early; late by at most 50 ms (TCG runs the LAPIC timer off the host clock,
         * and a loaded host may not run the virtual CPU for a few milliseconds). */
        KTEST_EXPECT(seen < (round == 0 ? deadline : now) + ns_to_ticks(50000000));
    }
    arch_irq_restore(flags);
}

KTEST(x86_timer_cancel_stops_it) {
    REQUIRE_IRQ_LAYER();
    unsigned long flags = arch_irq_save();
    KTEST_EXPECT(quiesce_timer(arch_this_cpu()));
    KTEST_EXPECT(!irr_pending(X86_VEC_TIMER));
    /* Far enough ahead that a host which stalls the virtual CPU cannot let it expire
     * between the two calls; then wait past it. */
    arch_timer_set_oneshot(arch_timer_now_ticks() + ns_to_ticks(20000000));
    arch_timer_cancel();
    uint64_t end = arch_timer_now_ticks() + ns_to_ticks(40000000);
    while (arch_timer_now_ticks() < end) {
        arch_cpu_relax();
    }
    KTEST_EXPECT(!irr_pending(X86_VEC_TIMER));
    arch_timer_set_oneshot(arch_timer_now_ticks()); /* hand the tick back to the kernel */
    drain_interrupts();
    arch_irq_restore(flags);
}

KTEST(x86_ipi_to_self) {
    REQUIRE_IRQ_LAYER();
    unsigned long flags = arch_irq_save();
    struct percpu *pc = arch_this_cpu();
    for (unsigned kind = 0; kind < IPI_KIND_COUNT; kind++) {
        drain_interrupts();
        uint64_t before = pc->ipi_count[kind];
        arch_ipi_send(pc->index, (enum ipi_kind)kind);
        uint64_t give_up = arch_timer_now_ticks() + ns_to_ticks(WAIT_NS);
        while (!irr_pending(X86_VEC_IPI_BASE + kind) && arch_timer_now_ticks() < give_up) {
            arch_cpu_relax();
        }
        KTEST_EXPECT(irr_pending(X86_VEC_IPI_BASE + kind));
        KTEST_EXPECT_EQ(pc->ipi_count[kind], before); /* masked: not delivered yet */
        drain_interrupts();
        KTEST_EXPECT_EQ(pc->ipi_count[kind], before + 1);
    }
    arch_irq_restore(flags);
}

KTEST(x86_ipi_to_every_other_cpu) {
    REQUIRE_IRQ_LAYER();
    unsigned self = this_cpu_index();
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        struct percpu *pc = percpu_get(i);
        if (pc == NULL || i == self || !__atomic_load_n(&pc->online, __ATOMIC_ACQUIRE)) {
            continue;
        }
        for (int round = 0; round < 3; round++) {
            uint64_t before = __atomic_load_n(&pc->ipi_count[IPI_RESCHEDULE], __ATOMIC_ACQUIRE);
            arch_ipi_send(i, IPI_RESCHEDULE);
            uint64_t give_up = arch_timer_now_ticks() + ns_to_ticks(WAIT_NS);
            while (__atomic_load_n(&pc->ipi_count[IPI_RESCHEDULE], __ATOMIC_ACQUIRE) == before &&
                   arch_timer_now_ticks() < give_up) {
                arch_cpu_relax();
            }
            KTEST_EXPECT(__atomic_load_n(&pc->ipi_count[IPI_RESCHEDULE], __ATOMIC_ACQUIRE) >
                         before);
        }
    }
}

/* ---- an IOAPIC line: the CMOS RTC's periodic interrupt (ISA IRQ 8) ---- */

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define RTC_REG_A  0x0a
#define RTC_REG_B  0x0b
#define RTC_REG_C  0x0c
#define RTC_PIE    0x40
#define RTC_IRQ    8
#define RTC_RATE   6 /* 32768 >> (6 - 1) = 1024 Hz */

static uint8_t cmos_read(uint8_t reg) {
    x86_outb(CMOS_INDEX, reg);
    return x86_inb(CMOS_DATA);
}

static void cmos_write(uint8_t reg, uint8_t v) {
    x86_outb(CMOS_INDEX, reg);
    x86_outb(CMOS_DATA, v);
}

static void rtc_handler(unsigned irq, void *data) {
    (void)irq;
    (void)cmos_read(RTC_REG_C); /* acknowledge, or the RTC raises no more */
    __atomic_fetch_add((volatile uint64_t *)data, 1, __ATOMIC_RELAXED);
}

KTEST(x86_ioapic_line_delivers_rtc) {
    REQUIRE_IRQ_LAYER();
    static volatile uint64_t fired;
    fired = 0;
    KTEST_EXPECT(arch_irq_line_count() > RTC_IRQ);
    unsigned long flags = arch_irq_save();
    cmos_write(RTC_REG_A, (uint8_t)((cmos_read(RTC_REG_A) & 0xf0) | RTC_RATE));
    (void)cmos_read(RTC_REG_C);
    kstatus_t st = request_irq(RTC_IRQ, rtc_handler, 0, "rtc", (void *)&fired);
    KTEST_EXPECT_EQ(st, KEEL_OK);
    cmos_write(RTC_REG_B, cmos_read(RTC_REG_B) | RTC_PIE);
    arch_irq_restore(flags);
    uint64_t give_up = arch_timer_now_ticks() + ns_to_ticks(WAIT_NS);
    while (__atomic_load_n(&fired, __ATOMIC_RELAXED) < 3 && arch_timer_now_ticks() < give_up) {
        arch_cpu_relax();
    }
    KTEST_EXPECT(__atomic_load_n(&fired, __ATOMIC_RELAXED) >= 3);
    flags = arch_irq_save();
    cmos_write(RTC_REG_B, cmos_read(RTC_REG_B) & ~RTC_PIE);
    (void)cmos_read(RTC_REG_C);
    if (st == KEEL_OK) {
        free_irq(RTC_IRQ, (void *)&fired);
    }
    arch_irq_restore(flags);
    KTEST_EXPECT_EQ(arch_irq_line_enable(arch_irq_line_count()), KEEL_EINVAL);
}

/* ---- context switch ---- */

struct ctx_test {
    struct arch_context main_ctx;
    struct arch_context side_ctx;
    uint64_t rounds;
    uint64_t side_value;
    uintptr_t side_rbp;
    uintptr_t side_saved_rbp;
    uint64_t side_rflags;
};

static void side_fn(void *arg) {
    struct ctx_test *t = arg;
    uintptr_t rbp = (uintptr_t)__builtin_frame_address(0);
    t->side_rbp = rbp;
    t->side_saved_rbp = *(uintptr_t *)rbp; /* 0: the backtrace stops here */
    __asm__ volatile("pushfq\n\tpopq %0" : "=r"(t->side_rflags));
    for (;;) {
        t->side_value = t->rounds * 3 + 1;
        arch_context_switch(&t->side_ctx, &t->main_ctx);
    }
}

KTEST(x86_context_switch_round_trip) {
    static struct ctx_test t;
    uint8_t *stack = vmalloc(THREAD_STACK_SIZE);
    KTEST_EXPECT(stack != NULL);
    if (stack == NULL) {
        return;
    }
    unsigned long flags = arch_irq_save();
    arch_context_init(&t.side_ctx, (uintptr_t)(stack + THREAD_STACK_SIZE), side_fn, &t);
    /* Values the compiler keeps in callee-saved registers across the switches. */
    uint64_t a = 0x1111, b = 0x2222, c = 0x3333, d = 0x4444;
    for (t.rounds = 0; t.rounds < 100; t.rounds++) {
        arch_context_switch(&t.main_ctx, &t.side_ctx);
        KTEST_EXPECT_EQ(t.side_value, t.rounds * 3 + 1);
        a += 1;
        b += 2;
        c += 3;
        d += 4;
        __asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d));
    }
    KTEST_EXPECT_EQ(a, 0x1111 + 100);
    KTEST_EXPECT_EQ(b, 0x2222 + 200);
    KTEST_EXPECT_EQ(c, 0x3333 + 300);
    KTEST_EXPECT_EQ(d, 0x4444 + 400);
    KTEST_EXPECT_EQ(t.side_rbp & 15, 0); /* entered as if called: rsp+8 16-byte aligned */
    KTEST_EXPECT_EQ(t.side_saved_rbp, 0);
    KTEST_EXPECT_EQ(t.side_rflags & X86_RFLAGS_IF, 0); /* started with interrupts masked */
    KTEST_EXPECT(t.side_rbp < (uintptr_t)(stack + THREAD_STACK_SIZE) &&
                 t.side_rbp > (uintptr_t)stack);
    arch_irq_restore(flags);
    vfree(stack);
}

/* ---- every CPU ---- */

static volatile uint32_t percpu_ok[PERCPU_MAX];

static void check_this_cpu(void *arg) {
    (void)arg;
    struct percpu *pc = arch_this_cpu();
    bool ok = pc != NULL && pc->self == pc && pc == percpu_get(pc->index) &&
              pc->hwid == x86_apic_id() && (x86_read_cr4() & X86_CR4_PGE) != 0 &&
              (x86_rdmsr(X86_MSR_EFER) & X86_EFER_NXE) != 0 &&
              x86_rdmsr(X86_MSR_PAT) == X86_PAT_KEEL;
    __atomic_store_n(&percpu_ok[pc->index], ok ? 1u : 2u, __ATOMIC_RELEASE);
}

KTEST(x86_every_cpu_online_and_idle) {
    REQUIRE_IRQ_LAYER();
    const struct boot_info *bi = kmain_boot_info;
    unsigned enabled = 0;
    for (unsigned i = 0; i < bi->cpu_count && i < PERCPU_MAX; i++) {
        if (!bi->cpus[i].enabled) {
            continue;
        }
        enabled++;
        struct percpu *pc = percpu_get(i);
        KTEST_EXPECT(pc != NULL);
        if (pc == NULL) {
            continue;
        }
        KTEST_EXPECT_EQ(pc->online, 1);
        KTEST_EXPECT_EQ(pc->hwid, bi->cpus[i].hwid);
        if (i == this_cpu_index()) {
            continue;
        }
        /* Nothing else runs there during the tests: it sits in its idle loop. */
        uint64_t give_up = arch_timer_now_ticks() + ns_to_ticks(WAIT_NS);
        while (__atomic_load_n(&pc->current, __ATOMIC_ACQUIRE) != pc->idle &&
               arch_timer_now_ticks() < give_up) {
            arch_cpu_relax();
        }
        KTEST_EXPECT(__atomic_load_n(&pc->current, __ATOMIC_ACQUIRE) == pc->idle);
    }
    KTEST_EXPECT_EQ(smp_online_count(), enabled);
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        percpu_ok[i] = 0;
    }
    smp_call_function(smp_online_mask(), check_this_cpu, NULL, true);
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        struct percpu *pc = percpu_get(i);
        if (pc != NULL && pc->online) {
            KTEST_EXPECT_EQ(percpu_ok[i], 1);
        }
    }
}

KTEST(x86_trampoline_block_reserved) {
    const struct boot_info *bi = kmain_boot_info;
    KTEST_EXPECT(bi->ap_trampoline_size >= 4 * X86_PAGE_4K);
    KTEST_EXPECT(bi->ap_trampoline.pa + bi->ap_trampoline_size <= 0x100000);
    bool kernel = false;
    for (uint32_t i = 0; i < bi->mem_count; i++) {
        const struct mem_region *r = &bi->mem[i];
        if (r->base <= bi->ap_trampoline.pa &&
            bi->ap_trampoline.pa + bi->ap_trampoline_size <= r->base + r->size) {
            kernel = r->type == MEM_KERNEL;
        }
    }
    KTEST_EXPECT(kernel);
}
