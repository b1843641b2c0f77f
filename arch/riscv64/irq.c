/* SPDX-License-Identifier: MIT */
/*
 * riscv64 interrupts (include/arch/irq.h): device lines through the PLIC (plic.c), IPIs
 * through the SBI IPI extension (a supervisor software interrupt on the target; to self
 * by setting sip.SSIP directly), and the idle wait. Each CPU has a word of pending IPI
 * kinds: a sender sets its bit and rings only when the word was empty.
 */
#include <arch/irq.h>
#include <kernel/cmdline.h>
#include <kernel/irq.h>
#include <kernel/kprintf.h>
#include <kernel/percpu.h>

#include "plic.h"
#include "riscv.h"

#define SBI_IPI_SEND 0

bool riscv_icount;

kstatus_t arch_irq_init(const struct boot_info *bi) {
    kstatus_t st;

    if (bi == NULL) {
        return KEEL_EINVAL;
    }
    riscv_icount = cmdline_find(bi->cmdline, "icount", NULL, NULL);
    riscv_timer_init(bi);
    if (!sbi_probe(SBI_EXT_IPI)) {
        kprintf("riscv64: the SBI has no IPI extension: one hart only\n");
    }
    st = plic_init(bi);
    if (st != KEEL_OK && st != KEEL_ENOTSUP) {
        return st;
    }
    arch_irq_init_cpu();
    return KEEL_OK;
}

/* Idempotent: the boot hart runs it from arch_irq_init and may run it again. */
void arch_irq_init_cpu(void) {
    struct percpu *pc = arch_this_cpu();
    uint32_t ctx;

    if (plic_context_of(pc->hwid, &ctx)) {
        plic_context_init(ctx);
        pc->arch[RV_PCPU_PLIC_CTX] = ctx + 1;
    }
    /* A pending SSIP stays: its bits may already be in the word (a stale one is harmless). */
    csr_set(sie, SIE_SSIE | SIE_SEIE);
}

unsigned arch_irq_line_count(void) {
    return plic_line_count();
}

kstatus_t arch_irq_line_enable(unsigned irq) {
    return plic_enable(irq);
}

void arch_irq_line_disable(unsigned irq) {
    plic_disable(irq);
}

void arch_ipi_send(unsigned cpu_index, enum ipi_kind kind) {
    struct percpu *pc = riscv_cpu(cpu_index);

    if (pc == NULL || (unsigned)kind >= IPI_KIND_COUNT) {
        return;
    }
    unsigned long flags = arch_irq_save(); /* "this hart" must stay this hart */
    uintptr_t old =
        __atomic_fetch_or(&pc->arch[RV_PCPU_IPI_PENDING], 1UL << kind, __ATOMIC_SEQ_CST);
    if (old == 0) { /* else an IPI is on its way and the receiver will see this bit too */
        if (pc == arch_this_cpu()) {
            csr_set(sip, SIE_SSIE);
        } else {
            (void)sbi_call(SBI_EXT_IPI, SBI_IPI_SEND, 1, pc->hwid, 0);
        }
    }
    arch_irq_restore(flags);
}

void riscv_ipi_interrupt(void) {
    struct percpu *pc = arch_this_cpu();

    /* Acknowledge first: a bit set after the exchange rings again. */
    csr_clear(sip, SIE_SSIE);
    uintptr_t pending = __atomic_exchange_n(&pc->arch[RV_PCPU_IPI_PENDING], 0, __ATOMIC_SEQ_CST);
    for (unsigned kind = 0; kind < IPI_KIND_COUNT; kind++) {
        if ((pending & (1UL << kind)) != 0) {
            pc->arch[RV_PCPU_IPI_IRQS]++;
            irq_handle_ipi((enum ipi_kind)kind);
        }
    }
}

void riscv_external_interrupt(void) {
    uintptr_t ctx1 = arch_this_cpu()->arch[RV_PCPU_PLIC_CTX];
    uint32_t irq;

    if (ctx1 == 0) {
        csr_clear(sie, SIE_SEIE); /* no context here: nothing can be claimed */
        return;
    }
    while ((irq = plic_claim((uint32_t)(ctx1 - 1))) != 0) {
        irq_handle_device(irq);
        plic_complete((uint32_t)(ctx1 - 1), irq);
    }
}

/*
 * A wfi that cannot sleep (SSIP set, enabled, masked: it resumes at once), yet QEMU 7.2
 * ends the vCPU's turn on it, so under -icount the awaited hart runs. Our SSIP is taken
 * back unless the IPI word says one is due. Any context; the interrupt mask is kept.
 * Without SSIE in sie (before arch_irq_init_cpu) it is a pause.
 */
void riscv_yield(void) {
    unsigned long flags = arch_irq_save();

    if ((csr_read(sie) & SIE_SSIE) == 0) {
        __asm__ volatile(".4byte 0x0100000f" ::: "memory"); /* pause */
        arch_irq_restore(flags);
        return;
    }
    bool had = (csr_read(sip) & SIE_SSIE) != 0;
    csr_set(sip, SIE_SSIE);
    __asm__ volatile("wfi" ::: "memory");
    if (!had) {
        csr_clear(sip, SIE_SSIE);
        if (__atomic_load_n(&arch_this_cpu()->arch[RV_PCPU_IPI_PENDING], __ATOMIC_SEQ_CST) != 0) {
            csr_set(sip, SIE_SSIE); /* an IPI arrived meanwhile: keep it pending */
        }
    }
    arch_irq_restore(flags);
}

void arch_cpu_idle(void) {
    arch_this_cpu()->arch[RV_PCPU_IDLE_WAITS]++;
    /* wfi wakes on a pending enabled interrupt even with SIE clear; take it, mask again. */
    __asm__ volatile("wfi\n\tcsrsi sstatus, 2\n\tcsrci sstatus, 2" ::: "memory");
}
