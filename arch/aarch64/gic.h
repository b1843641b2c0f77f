/* SPDX-License-Identifier: MIT */
/*
 * The two GIC drivers behind irq.c: GICv3 (distributor + redistributors, system-register
 * CPU interface) and GICv2 (distributor + memory-mapped CPU interface). INTIDs: 0-15 SGIs
 * (our IPIs: SGI n = enum ipi_kind n), 16-31 PPIs (the timer), 32+ SPIs (device line n is
 * INTID 32 + n, as the device tree numbers SPIs). Private to arch/aarch64/.
 */
#ifndef AARCH64_GIC_H
#define AARCH64_GIC_H

#include <arch/irq.h>
#include <kernel/boot_info.h>
#include <kernel/percpu.h>
#include <kernel/types.h>

#define GIC_SPI_BASE       32
#define GIC_INTID_SPURIOUS 1020 /* 1020-1023: no interrupt to acknowledge */
#define GIC_PRIO_DEFAULT   0xa0
#define GIC_PMR_ALL        0xf0

/* Distributor registers common to both versions (offsets from its base). */
#define GICD_CTLR       0x0000
#define GICD_TYPER      0x0004
#define GICD_IGROUPR    0x0080
#define GICD_ISENABLER  0x0100
#define GICD_ICENABLER  0x0180
#define GICD_ISPENDR    0x0200
#define GICD_ICPENDR    0x0280
#define GICD_ICACTIVER  0x0380
#define GICD_IPRIORITYR 0x0400
#define GICD_ITARGETSR  0x0800 /* v2 only */
#define GICD_SGIR       0x0f00 /* v2 only */
#define GICD_IROUTER    0x6000 /* v3 only: 64-bit per INTID */

struct gic_ops {
    const char *name;
    /* Global part: map the registers, quiesce and configure every SPI. Boot CPU. */
    kstatus_t (*init)(const struct boot_info *bi);
    /* This CPU's part: SGIs/PPIs, CPU interface, the timer PPI enabled. */
    void (*init_cpu)(struct percpu *pc, unsigned timer_intid);
    /* Acknowledge: the raw IAR value (INTID in the low bits) / end it. */
    uint32_t (*ack)(void);
    void (*eoi)(uint32_t iar);
    /* Unmask / mask an SPI (by INTID). */
    void (*spi_set)(unsigned intid, bool enable);
    /* True if SGI/PPI intid is pending on this CPU (tests). */
    bool (*ppi_pending)(unsigned intid);
    /* Raise SGI sgi on the CPU pc. */
    void (*send_sgi)(const struct percpu *pc, unsigned sgi);
    /* The INTID bits of an IAR value. */
    uint32_t intid_mask;
    /* Number of SPIs the distributor implements. */
    unsigned spi_count;
};

extern struct gic_ops gicv2_ops, gicv3_ops;

/* 32-bit MMIO helpers (device memory; the mapping is Device-nGnRE). */
static inline uint32_t gic_read32(volatile void *base, uintptr_t off) {
    return *(volatile uint32_t *)((volatile uint8_t *)base + off);
}
static inline void gic_write32(volatile void *base, uintptr_t off, uint32_t v) {
    *(volatile uint32_t *)((volatile uint8_t *)base + off) = v;
}
static inline void gic_write8(volatile void *base, uintptr_t off, uint8_t v) {
    *((volatile uint8_t *)base + off) = v;
}

#endif /* AARCH64_GIC_H */
