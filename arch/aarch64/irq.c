/* SPDX-License-Identifier: MIT */
/*
 * AArch64 interrupts: picks the GIC driver boot_info names (v3 or v2), implements the
 * include/arch/irq.h contract on top of it, and is the IRQ path of the vectors: acknowledge,
 * dispatch to the portable handlers (IPIs, the timer, device lines), end the interrupt,
 * then irq_exit(), which may switch threads on this same kernel stack.
 */
#include <arch/irq.h>
#include <arch/timer.h>
#include <arch/trap.h>
#include <kernel/irq.h>
#include <kernel/kprintf.h>
#include <kernel/percpu.h>

#include "aarch64.h"
#include "gic.h"

#define TIMER_PPI_DEFAULT 27 /* EL1 virtual timer: PPI 11 (Arm BSA recommendation) */

static struct gic_ops *gic;
static unsigned timer_intid = TIMER_PPI_DEFAULT;

void aarch64_set_timer_intid(unsigned intid) {
    timer_intid = intid;
}

unsigned aarch64_timer_intid(void) {
    return timer_intid;
}

bool aarch64_irq_ppi_pending(unsigned intid) {
    return gic != NULL && gic->ppi_pending(intid);
}

kstatus_t arch_irq_init(const struct boot_info *bi) {
    struct gic_ops *ops;
    switch (bi->intc.type) {
    case BOOT_INTC_GICV3:
        ops = &gicv3_ops;
        break;
    case BOOT_INTC_GICV2:
        ops = &gicv2_ops;
        break;
    default:
        return KEEL_ENOTSUP;
    }
    if (bi->intc.base[0] == 0 || bi->intc.base[1] == 0 || bi->cpu_count == 0 ||
        bi->boot_cpu >= bi->cpu_count) {
        return KEEL_ECORRUPT;
    }
    kstatus_t st = ops->init(bi);
    if (st != KEEL_OK) {
        return st;
    }
    gic = ops;
    kprintf("irq: %s, distributor %#llx, %u SPIs, timer INTID %u\n", ops->name,
            (unsigned long long)bi->intc.base[0], ops->spi_count, timer_intid);
    return KEEL_OK;
}

void arch_irq_init_cpu(void) {
    arch_timer_cancel();
    if (gic != NULL) {
        gic->init_cpu(arch_this_cpu(), timer_intid);
    }
}

unsigned arch_irq_line_count(void) {
    return gic != NULL ? gic->spi_count : 0;
}

kstatus_t arch_irq_line_enable(unsigned irq) {
    if (gic == NULL || irq >= gic->spi_count) {
        return KEEL_EINVAL;
    }
    gic->spi_set(GIC_SPI_BASE + irq, true);
    return KEEL_OK;
}

void arch_irq_line_disable(unsigned irq) {
    if (gic != NULL && irq < gic->spi_count) {
        gic->spi_set(GIC_SPI_BASE + irq, false);
    }
}

void arch_ipi_send(unsigned cpu_index, enum ipi_kind kind) {
    struct percpu *pc = percpu_get(cpu_index);
    if (gic == NULL || pc == NULL || (unsigned)kind >= IPI_KIND_COUNT) {
        return;
    }
    gic->send_sgi(pc, (unsigned)kind);
}

/*
 * The vectors' IRQ slot (EL1 or EL0, interrupts masked). SGIs end before their handler
 * (the next one may be sent meanwhile); the level-sensitive timer is disabled first, so
 * ending it does not re-pend it; device lines end after their handlers quieted the device.
 */
void aarch64_irq_entry(struct trap_frame *tf) {
    (void)tf;
    irq_enter();
    uint32_t iar = gic->ack();
    uint32_t intid = iar & gic->intid_mask;
    if (intid < 16) {
        gic->eoi(iar);
        if (intid < IPI_KIND_COUNT) {
            irq_handle_ipi((enum ipi_kind)intid);
        }
    } else if (intid == timer_intid) {
        arch_timer_cancel();
        gic->eoi(iar);
        irq_handle_timer();
    } else if (intid >= GIC_SPI_BASE && intid < GIC_SPI_BASE + gic->spi_count) {
        irq_handle_device(intid - GIC_SPI_BASE);
        gic->eoi(iar);
    } else if (intid < GIC_INTID_SPURIOUS) {
        gic->eoi(iar); /* a PPI nobody enabled */
    }
    irq_exit();
}
