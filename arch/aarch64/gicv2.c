/* SPDX-License-Identifier: MIT */
/*
 * GICv2 (Arm IHI 0048): the distributor sends every SPI to the boot CPU (GICD_ITARGETSR),
 * each CPU enables its banked SGIs and the timer PPI and turns on its memory-mapped CPU
 * interface. Everything is Group 0, which without FIQEn is signalled as IRQ. At most 8
 * CPUs; a CPU's interface number is read from the banked GICD_ITARGETSR0 at bring-up.
 */
#include <arch/cpu.h>
#include <arch/io.h>

#include "aarch64.h"
#include "gic.h"

#define GICC_CTLR 0x0000
#define GICC_PMR  0x0004
#define GICC_BPR  0x0008
#define GICC_IAR  0x000c
#define GICC_EOIR 0x0010

#define PC_TARGET 0 /* percpu->arch[]: this CPU's interface bit (GICD_ITARGETSR / SGIR) */

static volatile void *dist;
static volatile void *cpuif;

/* The banked GICD_ITARGETSR0-7 read back the calling CPU's own interface bit. */
static uint8_t this_cpu_target(void) {
    uint32_t t = 0;
    for (unsigned i = 0; i < 8 && t == 0; i++) {
        t = gic_read32(dist, GICD_ITARGETSR + 4 * i);
    }
    return (uint8_t)(t | t >> 8 | t >> 16 | t >> 24);
}

static kstatus_t v2_init(const struct boot_info *bi) {
    volatile void *d, *c;
    kstatus_t st = arch_mmio_map(PADDR(bi->intc.base[0]), 0x1000, &d);
    if (st == KEEL_OK) {
        st = arch_mmio_map(PADDR(bi->intc.base[1]), 0x2000, &c);
    }
    if (st != KEEL_OK) {
        return st;
    }
    dist = d;
    cpuif = c;

    uint32_t lines = ((gic_read32(dist, GICD_TYPER) & 0x1f) + 1) * 32;
    if (lines > GIC_INTID_SPURIOUS) {
        lines = GIC_INTID_SPURIOUS;
    }
    gicv2_ops.spi_count = lines - GIC_SPI_BASE;

    gic_write32(dist, GICD_CTLR, 0);
    uint8_t target = this_cpu_target();
    for (uint32_t i = GIC_SPI_BASE; i < lines; i += 32) {
        gic_write32(dist, GICD_ICENABLER + i / 8, 0xffffffff);
        gic_write32(dist, GICD_ICPENDR + i / 8, 0xffffffff);
        gic_write32(dist, GICD_ICACTIVER + i / 8, 0xffffffff);
        gic_write32(dist, GICD_IGROUPR + i / 8, 0);
    }
    for (uint32_t i = GIC_SPI_BASE; i < lines; i++) {
        gic_write8(dist, GICD_IPRIORITYR + i, GIC_PRIO_DEFAULT);
        gic_write8(dist, GICD_ITARGETSR + i, target);
    }
    gic_write32(dist, GICD_CTLR, 1);
    return KEEL_OK;
}

static void v2_init_cpu(struct percpu *pc, unsigned timer_intid) {
    pc->arch[PC_TARGET] = this_cpu_target();
    gic_write32(dist, GICD_ICENABLER, 0xffffffff);
    gic_write32(dist, GICD_ICPENDR, 0xffffffff);
    gic_write32(dist, GICD_IGROUPR, 0);
    for (unsigned i = 0; i < 32; i++) {
        gic_write8(dist, GICD_IPRIORITYR + i, GIC_PRIO_DEFAULT);
    }
    uint32_t enable = (1u << IPI_KIND_COUNT) - 1;
    if (timer_intid < 32) {
        enable |= 1u << timer_intid;
    }
    gic_write32(dist, GICD_ISENABLER, enable);
    gic_write32(cpuif, GICC_PMR, GIC_PMR_ALL);
    gic_write32(cpuif, GICC_BPR, 0);
    gic_write32(cpuif, GICC_CTLR, 1);
}

static uint32_t v2_ack(void) {
    return gic_read32(cpuif, GICC_IAR);
}

/* The whole IAR goes back: for an SGI it names the CPU that sent it. */
static void v2_eoi(uint32_t iar) {
    gic_write32(cpuif, GICC_EOIR, iar);
}

static void v2_spi_set(unsigned intid, bool enable) {
    gic_write32(dist, (enable ? GICD_ISENABLER : GICD_ICENABLER) + (intid / 32) * 4,
                1u << (intid % 32));
}

/* GICD_ISPENDR0 is banked: this CPU's SGIs and PPIs. */
static bool v2_ppi_pending(unsigned intid) {
    return intid < 32 && (gic_read32(dist, GICD_ISPENDR) >> intid) & 1;
}

/* GICD_SGIR: TargetListFilter 0 (the list), CPUTargetList[23:16], INTID[3:0]. */
static void v2_send_sgi(const struct percpu *pc, unsigned sgi) {
    uint32_t v = (uint32_t)(pc->arch[PC_TARGET] & 0xff) << 16 | (sgi & 15);
    __asm__ volatile("dsb ishst" ::: "memory");
    gic_write32(dist, GICD_SGIR, v);
}

struct gic_ops gicv2_ops = {
    .name = "GICv2",
    .init = v2_init,
    .init_cpu = v2_init_cpu,
    .ack = v2_ack,
    .eoi = v2_eoi,
    .spi_set = v2_spi_set,
    .intid_mask = 0x3ff,
    .ppi_pending = v2_ppi_pending,
    .send_sgi = v2_send_sgi,
};
