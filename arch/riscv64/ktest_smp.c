/* SPDX-License-Identifier: MIT */
/*
 * riscv64 KTESTs of the interrupt, timer, thread-context and SMP machinery: the timer
 * fires at the programmed time (Sstc or SBI), cancel holds it off, IPIs reach this hart
 * and every other one, two contexts switch back and forth with the stack limit following
 * them, the PLIC routes a real device line (the console UART) to the boot hart, and every
 * hart is started and waits in its idle loop. They read the arch's private per-CPU
 * counters (riscv.h), so they do not depend on what the portable handlers count.
 */
#include <arch/io.h>
#include <arch/irq.h>
#include <arch/thread.h>
#include <arch/timer.h>
#include <kernel/cmdline.h>
#include <kernel/fdt.h>
#include <kernel/frame.h>
#include <kernel/ktest.h>
#include <kernel/kprintf.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/thread.h>
#include <kernel/vmm.h>

#include "plic.h"
#include "riscv.h"

#define UART_IER      1
#define UART_IER_THRI 0x02
#define SIP_STIP      (1UL << IRQ_S_TIMER)
#define SIP_SEIP      (1UL << IRQ_S_EXT)
/* An unused kernel VA (ktest_vm.c uses KEEL_KERNEL_BASE + 0x2000_0000). */
#define TLB_SCRATCH   (KEEL_KERNEL_BASE + 0x20100000ULL)

static uint64_t ticks_per_ms(void) {
    return arch_timer_freq_hz() / 1000;
}

/* Spin (interrupts as they are) until *word differs from old or ms pass; true if it did. */
static bool wait_change(const volatile uintptr_t *word, uintptr_t old, uint64_t ms) {
    uint64_t end = arch_timer_now_ticks() + ms * ticks_per_ms();
    while (*word == old) {
        if (arch_timer_now_ticks() > end) {
            return false;
        }
        arch_cpu_relax();
    }
    return true;
}

KTEST(riscv64_timer_fires_at_deadline) {
    unsigned long flags = arch_irq_save();
    struct percpu *pc = arch_this_cpu();
    volatile uintptr_t *count = &pc->arch[RV_PCPU_TIMER_IRQS];
    uintptr_t before = *count;
    uint64_t deadline = arch_timer_now_ticks() + 2 * ticks_per_ms();

    KTEST_EXPECT(arch_timer_freq_hz() >= 1000);
    arch_timer_set_oneshot(deadline);
    KTEST_EXPECT((csr_read(sie) & SIE_STIE) != 0);
    arch_irq_enable();
    bool fired = wait_change(count, before, 5000);
    arch_irq_disable();
    KTEST_EXPECT(fired);
    /* pc, not this CPU: the interrupt was armed there even if we moved meanwhile. */
    uint64_t at = pc->arch[RV_PCPU_TIMER_AT];
    KTEST_EXPECT(at >= deadline);
    KTEST_EXPECT(at - deadline < 1000 * ticks_per_ms()); /* TCG on a busy host is slow */
    arch_irq_restore(flags);
}

KTEST(riscv64_timer_past_deadline_fires_at_once) {
    unsigned long flags = arch_irq_save();
    struct percpu *pc = arch_this_cpu();
    volatile uintptr_t *count = &pc->arch[RV_PCPU_TIMER_IRQS];
    uintptr_t before = *count;
    uint64_t now = arch_timer_now_ticks();

    arch_timer_set_oneshot(now > 0 ? now - 1 : 0);
    arch_irq_enable();
    bool fired = wait_change(count, before, 100);
    arch_irq_disable();
    KTEST_EXPECT(fired);
    arch_irq_restore(flags);
}

KTEST(riscv64_timer_cancel_holds_it_off) {
    unsigned long flags = arch_irq_save();
    struct percpu *pc = arch_this_cpu();
    uint64_t deadline = arch_timer_now_ticks() + ticks_per_ms();

    arch_timer_set_oneshot(deadline);
    arch_timer_cancel();
    KTEST_EXPECT((csr_read(sie) & SIE_STIE) == 0);
    /*
     * Wait until the passed deadline shows as STIP (QEMU raises it from a host timer, so
     * a little after the time CSR passes it); unmasked for a moment, nothing is taken.
     */
    uint64_t end = deadline + 5000 * ticks_per_ms();
    while ((csr_read(sip) & SIP_STIP) == 0 && arch_timer_now_ticks() < end) {
        arch_cpu_relax();
    }
    KTEST_EXPECT(arch_timer_now_ticks() >= deadline);
    KTEST_EXPECT((csr_read(sip) & SIP_STIP) != 0);
    uintptr_t before = pc->arch[RV_PCPU_TIMER_IRQS];
    arch_irq_enable();
    for (int i = 0; i < 100; i++) {
        arch_cpu_relax();
    }
    arch_irq_disable();
    KTEST_EXPECT_EQ(pc->arch[RV_PCPU_TIMER_IRQS], before);
    arch_irq_restore(flags);
    /* Give the portable tick its deadline back (it re-arms from its own interrupt). */
    arch_timer_set_oneshot(arch_timer_now_ticks() + ticks_per_ms());
}

KTEST(riscv64_ipi_to_self) {
    unsigned long flags = arch_irq_save();
    struct percpu *pc = arch_this_cpu();
    uintptr_t before = pc->arch[RV_PCPU_IPI_IRQS];

    arch_ipi_send(pc->index, IPI_CALL);
    KTEST_EXPECT((pc->arch[RV_PCPU_IPI_PENDING] & (1UL << IPI_CALL)) != 0);
    KTEST_EXPECT((csr_read(sip) & SIE_SSIE) != 0);
    KTEST_EXPECT_EQ(pc->arch[RV_PCPU_IPI_IRQS], before); /* masked: not taken yet */
    arch_irq_enable();
    bool taken = wait_change(&pc->arch[RV_PCPU_IPI_IRQS], before, 100);
    arch_irq_disable();
    KTEST_EXPECT(taken);
    KTEST_EXPECT_EQ(pc->arch[RV_PCPU_IPI_PENDING] & (1UL << IPI_CALL), 0);
    arch_ipi_send(PERCPU_MAX + 1, IPI_CALL); /* a CPU that does not exist: ignored */
    arch_irq_restore(flags);
}

/*
 * riscv_yield (the spin-wait of the "icount" mode) returns at once, leaves the interrupt
 * mask as it found it, takes nothing, and keeps a real IPI pending (its own SSIP is
 * withdrawn, one due to an IPI stays).
 */
KTEST(riscv64_yield_keeps_ipis) {
    unsigned long flags = arch_irq_save();
    struct percpu *pc = arch_this_cpu();

    /* Let anything already pending in, so that SSIP starts clear. */
    arch_irq_enable();
    arch_irq_disable();
    pc = arch_this_cpu(); /* in case a tick moved us meanwhile */
    uintptr_t before = pc->arch[RV_PCPU_IPI_IRQS];
    KTEST_EXPECT((csr_read(sie) & SIE_SSIE) != 0);
    KTEST_EXPECT((csr_read(sip) & SIE_SSIE) == 0);
    riscv_yield();
    KTEST_EXPECT((csr_read(sstatus) & SSTATUS_SIE) == 0);
    KTEST_EXPECT((csr_read(sip) & SIE_SSIE) == 0);
    KTEST_EXPECT_EQ(pc->arch[RV_PCPU_IPI_IRQS], before);

    arch_ipi_send(pc->index, IPI_CALL);
    riscv_yield();
    KTEST_EXPECT((csr_read(sip) & SIE_SSIE) != 0); /* still due */
    KTEST_EXPECT_EQ(pc->arch[RV_PCPU_IPI_IRQS], before);
    arch_irq_enable();
    riscv_yield(); /* unmasked: the IPI is taken here at the latest */
    KTEST_EXPECT((csr_read(sstatus) & SSTATUS_SIE) != 0);
    bool taken = wait_change(&pc->arch[RV_PCPU_IPI_IRQS], before, 100);
    arch_irq_disable();
    KTEST_EXPECT(taken);
    KTEST_EXPECT((csr_read(sip) & SIE_SSIE) == 0);
    arch_irq_restore(flags);
}

/* Every CPU of the boot info is online, started per SBI HSM, and (others) idle. */
KTEST(riscv64_every_hart_online_and_idle) {
    const struct boot_info *bi = kmain_boot_info;
    unsigned self = this_cpu_index();

    KTEST_EXPECT(bi != NULL && bi->cpu_count >= 1);
    for (unsigned i = 0; bi != NULL && i < bi->cpu_count; i++) {
        struct percpu *pc = riscv_cpu(i);
        KTEST_EXPECT(pc != NULL);
        if (pc == NULL) {
            continue;
        }
        KTEST_EXPECT_EQ(pc->index, i);
        KTEST_EXPECT_EQ(pc->hwid, bi->cpus[i].hwid);
        KTEST_EXPECT_EQ(__atomic_load_n(&pc->online, __ATOMIC_ACQUIRE), 1);
        KTEST_EXPECT_EQ(riscv_hart_status(pc->hwid), 0); /* HSM: STARTED */
        if (i == self) {
            continue;
        }
        /* An IPI wakes it: it handles it and goes back into its idle wait. */
        uintptr_t ipis = pc->arch[RV_PCPU_IPI_IRQS];
        uintptr_t waits = pc->arch[RV_PCPU_IDLE_WAITS];
        arch_ipi_send(i, IPI_CALL);
        KTEST_EXPECT(wait_change(&pc->arch[RV_PCPU_IPI_IRQS], ipis, 2000));
        KTEST_EXPECT(wait_change(&pc->arch[RV_PCPU_IDLE_WAITS], waits, 2000));
    }
}

/*
 * _start was claimed once, by the boot hart; every other hart took its start request back
 * and is online. Under "selftest=hart_at_start" each came in at _start (sent on by
 * entry.S); otherwise one may have too, when OpenSBI 1.1's race let it in there (seen
 * under host load), so that is only counted. Under "selftest=hart_at_start_parked" the
 * hart started at _start without a request stopped itself: HSM STOPPED, never online.
 */
KTEST(riscv64_late_hart_start_requests) {
    const struct boot_info *bi = kmain_boot_info;

    KTEST_EXPECT(bi != NULL);
    if (bi == NULL) {
        return;
    }
    KTEST_EXPECT_EQ(__atomic_load_n(&riscv_boot_claim, __ATOMIC_ACQUIRE), riscv_boot_hart + 1);
    bool at_start = cmdline_value_is(bi->cmdline, "selftest", "hart_at_start");
    bool parked = cmdline_value_is(bi->cmdline, "selftest", "hart_at_start_parked");
    KTEST_EXPECT_EQ(riscv_selftest_parked_cpu != UINT32_MAX, parked && bi->cpu_count > 1);
    for (unsigned i = 0; i < bi->cpu_count && i < RISCV_START_REQUESTS; i++) {
        struct percpu *pc = riscv_cpu(i);
        KTEST_EXPECT(pc != NULL);
        KTEST_EXPECT_EQ(__atomic_load_n(&riscv_start_requests[i].hwid_plus1, __ATOMIC_ACQUIRE), 0);
        if (pc == NULL || i == bi->boot_cpu) {
            continue;
        }
        if (i == riscv_selftest_parked_cpu) {
            KTEST_EXPECT_EQ(__atomic_load_n(&pc->online, __ATOMIC_ACQUIRE), 0);
            KTEST_EXPECT_EQ(riscv_hart_status(pc->hwid), 1); /* HSM: STOPPED */
            KTEST_EXPECT(!riscv_hart_entered_at_start(i));
            continue;
        }
        KTEST_EXPECT_EQ(__atomic_load_n(&pc->online, __ATOMIC_ACQUIRE), 1);
        if (at_start) {
            KTEST_EXPECT(riscv_hart_entered_at_start(i));
        } else if (riscv_hart_entered_at_start(i)) {
            kprintf("riscv64_late_hart_start_requests: hart %llu came in through _start\n",
                    (unsigned long long)pc->hwid);
        }
    }
}

static struct arch_context ctx_main, ctx_other;
static volatile unsigned ctx_rounds;
static uintptr_t ctx_seen_arg, ctx_seen_limit, ctx_seen_fp, ctx_seen_prev_fp;

static void ctx_thread(void *arg) {
    uintptr_t fp = arch_frame_pointer();
    uintptr_t prev = 1, ret;

    ctx_seen_arg = (uintptr_t)arg;
    ctx_seen_limit = riscv_stack_limit();
    ctx_seen_fp = fp;
    if (arch_frame_step(fp, &prev, &ret)) {
        ctx_seen_prev_fp = prev; /* 0: the frame chain ends at the thread's start */
    }
    for (;;) {
        ctx_rounds++;
        arch_context_switch(&ctx_other, &ctx_main);
    }
}

KTEST(riscv64_context_switch_round_trip) {
    unsigned long flags = arch_irq_save();
    char *stack = vmalloc(THREAD_STACK_SIZE);
    KTEST_EXPECT(stack != NULL);
    if (stack == NULL) {
        arch_irq_restore(flags);
        return;
    }
    uintptr_t top = (uintptr_t)stack + THREAD_STACK_SIZE;
    uintptr_t my_limit = riscv_stack_limit();
    /* Live across the switches: the compiler keeps these in callee-saved registers. */
    volatile uint64_t seed = 0x9e3779b97f4a7c15ULL;
    uint64_t a = seed, b = a * 3, c = b ^ 0x55, d = c + a, e = d * 7, f = e - b;

    ctx_rounds = 0;
    ctx_seen_prev_fp = 1;
    arch_context_init(&ctx_other, top, ctx_thread, (void *)0x5eed);
    KTEST_EXPECT_EQ(ctx_other.sp, top);
    KTEST_EXPECT_EQ(ctx_other.s[0], 0);
    KTEST_EXPECT_EQ(ctx_other.stack_limit, (uintptr_t)stack);
    for (unsigned i = 1; i <= 5; i++) {
        arch_context_switch(&ctx_main, &ctx_other);
        KTEST_EXPECT_EQ(ctx_rounds, i);
        KTEST_EXPECT_EQ(riscv_stack_limit(), my_limit);
    }
    KTEST_EXPECT_EQ(ctx_seen_arg, 0x5eed);
    KTEST_EXPECT_EQ(ctx_seen_limit, (uintptr_t)stack);
    KTEST_EXPECT(ctx_seen_fp > (uintptr_t)stack && ctx_seen_fp <= top);
    KTEST_EXPECT_EQ(ctx_seen_prev_fp, 0);
    KTEST_EXPECT_EQ(a, seed);
    KTEST_EXPECT_EQ(f, (((seed * 3) ^ 0x55) + seed) * 7 - seed * 3);
    KTEST_EXPECT_EQ(ctx_other.stack_limit, (uintptr_t)stack);
    vfree(stack);
    arch_irq_restore(flags);
}

/* The PLIC line of the console UART, from the device tree (0 if unknown). */
static uint32_t console_line(const struct boot_info *bi) {
    struct fdt fdt;
    fdt_node_t n = FDT_NONE;
    uint64_t base, size;
    uint32_t irq;

    if (fdt_init(&fdt, dm_ptr(bi->dtb.pa), bi->dtb_size) != KEEL_OK) {
        return 0;
    }
    while (fdt_find_compatible(&fdt, n, "ns16550a", &n) == KEEL_OK) {
        if (fdt_get_reg(&fdt, n, 0, &base, &size) == KEEL_OK && base == bi->console.base &&
            fdt_get_u32(&fdt, n, "interrupts", &irq) == KEEL_OK) {
            return irq;
        }
    }
    return 0;
}

/*
 * A real device interrupt through the PLIC, with this hart's interrupts masked: the UART's
 * "transmitter empty" interrupt is pending at the PLIC and in this (the target) hart's
 * sip.SEIP; its context claims it; masking the line clears SEIP again.
 */
KTEST(riscv64_plic_routes_uart_line) {
    const struct boot_info *bi = kmain_boot_info;
    volatile void *va;
    uint32_t ctx;

    KTEST_EXPECT(arch_irq_line_count() > 1);
    KTEST_EXPECT_EQ(arch_irq_line_enable(0), KEEL_EINVAL);
    KTEST_EXPECT_EQ(arch_irq_line_enable(arch_irq_line_count()), KEEL_EINVAL);
    uint32_t line = console_line(bi);
    KTEST_EXPECT(line != 0 && line < arch_irq_line_count());
    uint64_t target;
    KTEST_EXPECT(plic_target(&target, &ctx));
    /*
     * The device part needs this hart to be the one lines go to (the boot hart unless a
     * multi-socket machine's PLIC does not serve it): another hart would take the
     * interrupt itself.
     */
    if (line == 0 || line >= arch_irq_line_count() || target != arch_this_cpu()->hwid ||
        arch_mmio_map(PADDR(bi->console.base), PAGE_SIZE, &va) != KEEL_OK) {
        KTEST_EXPECT(target == arch_this_cpu()->hwid || target != riscv_boot_hart);
        return;
    }
    volatile uint8_t *ier8 = (volatile uint8_t *)va + (UART_IER << bi->console.reg_shift);
    volatile uint32_t *ier32 = (volatile uint32_t *)(uintptr_t)ier8;
    bool wide = bi->console.reg_width == 4;

    unsigned long flags = arch_irq_save();
    KTEST_EXPECT_EQ(arch_irq_line_enable(line), KEEL_OK);
    if (wide) {
        *ier32 = UART_IER_THRI;
    } else {
        *ier8 = UART_IER_THRI;
    }
    uint64_t end = arch_timer_now_ticks() + 100 * ticks_per_ms();
    while (plic_pending(line) == 0 && arch_timer_now_ticks() < end) {
        arch_cpu_relax();
    }
    KTEST_EXPECT_EQ(plic_pending(line), 1);
    KTEST_EXPECT((csr_read(sip) & SIP_SEIP) != 0);
    KTEST_EXPECT_EQ(plic_claim(ctx), line);
    if (wide) {
        *ier32 = 0;
    } else {
        *ier8 = 0;
    }
    plic_complete(ctx, line);
    arch_irq_line_disable(line);
    KTEST_EXPECT((csr_read(sip) & SIP_SEIP) == 0);
    arch_irq_restore(flags);
}

static volatile uint64_t remote_seen;

/* On another hart: read the scratch page (caching its translation there). */
static void remote_read(void *arg) {
    (void)arg;
    remote_seen = *(volatile uint64_t *)TLB_SCRATCH;
}

/*
 * Remap a kernel page while another hart holds its translation in its TLB (QEMU keeps it
 * until that hart fences): the VM layer's flush must reach it (SBI RFENCE, or the IPI
 * shootdown under "icount"), so its next read sees the new frame. Every other online hart.
 */
KTEST(riscv64_tlb_remap_seen_by_other_harts) {
    struct vm_space *ks = vmm_kernel_space;
    phys_frame_t f[2];
    unsigned self = this_cpu_index();

    if (smp_online_count() < 2) {
        KTEST_EXPECT_EQ(riscv_other_harts, 0);
        return;
    }
    KTEST_EXPECT_EQ(allocate_frames(1, ZONE_NORMAL, &f[0]), KEEL_OK);
    KTEST_EXPECT_EQ(allocate_frames(1, ZONE_NORMAL, &f[1]), KEEL_OK);
    *(volatile uint64_t *)dm_ptr(frame_to_paddr(f[0]).pa) = 0x1111;
    *(volatile uint64_t *)dm_ptr(frame_to_paddr(f[1]).pa) = 0x2222;
    for (unsigned cpu = 0; cpu < PERCPU_MAX; cpu++) {
        struct percpu *pc = riscv_cpu(cpu);
        if (cpu == self || pc == NULL || !pc->online) {
            continue;
        }
        KTEST_EXPECT_EQ(vmm_map(ks, VADDR(TLB_SCRATCH), frame_to_paddr(f[0]), PAGE_SIZE,
                                VM_READ | VM_WRITE | VM_GLOBAL),
                        KEEL_OK);
        remote_seen = 0;
        smp_call_function((cpumask_t)1 << cpu, remote_read, NULL, true);
        KTEST_EXPECT_EQ(remote_seen, 0x1111);
        KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(TLB_SCRATCH), PAGE_SIZE), KEEL_OK);
        KTEST_EXPECT_EQ(vmm_map(ks, VADDR(TLB_SCRATCH), frame_to_paddr(f[1]), PAGE_SIZE,
                                VM_READ | VM_WRITE | VM_GLOBAL),
                        KEEL_OK);
        smp_call_function((cpumask_t)1 << cpu, remote_read, NULL, true);
        KTEST_EXPECT_EQ(remote_seen, 0x2222);
        KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(TLB_SCRATCH), PAGE_SIZE), KEEL_OK);
    }
    KTEST_EXPECT_EQ(free_frames(f[0], 1), KEEL_OK);
    KTEST_EXPECT_EQ(free_frames(f[1], 1), KEEL_OK);
}
