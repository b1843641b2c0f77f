/* SPDX-License-Identifier: MIT */
/*
 * GICv3 (Arm IHI 0069): the distributor routes every SPI to the boot CPU (affinity
 * routing, Group 1 Non-secure), each CPU finds its redistributor by affinity, wakes it
 * and enables its SGIs and the timer PPI; the CPU interface is the ICC_* system registers
 * (the entry code let EL1 use them when it owned EL2). QEMU virt without EL3 has a single
 * security state (GICD_CTLR.DS = 1); with two, Non-secure writes to the secure-only
 * bits are ignored, which this code tolerates.
 */
#include <arch/io.h>
#include <arch/cpu.h>
#include <arch/smp.h>
#include <kernel/kprintf.h>

#include "aarch64.h"
#include "gic.h"

#define GICD_CTLR_RWP    BIT(31)
#define GICD_CTLR_ARE    BIT(4)
#define GICD_CTLR_GRP1A  BIT(1)
#define GICD_CTLR_GRP1   BIT(0)
#define GICR_TYPER       0x0008
#define GICR_WAKER       0x0014
#define GICR_TYPER_VLPIS BIT(1)
#define GICR_TYPER_LAST  BIT(4)
#define GICR_WAKER_SLEEP BIT(1)
#define GICR_WAKER_ASLP  BIT(2)
#define GICR_SGI_OFFSET  0x10000 /* SGI_base: the SGI/PPI registers, after RD_base */
#define GICR_FRAME       0x20000 /* RD_base + SGI_base; twice that with VLPIs */
#define GIC_WAIT_LOOPS   1000000

/* ICC_* system registers by encoding (assemblers without the GIC names accept these). */
#define ICC_PMR_EL1     "S3_0_C4_C6_0"
#define ICC_IAR1_EL1    "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1   "S3_0_C12_C12_1"
#define ICC_BPR1_EL1    "S3_0_C12_C12_3"
#define ICC_CTLR_EL1    "S3_0_C12_C12_4"
#define ICC_SRE_EL1     "S3_0_C12_C12_5"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"
#define ICC_SGI1R_EL1   "S3_0_C12_C11_5"

/* percpu->arch[] words this driver uses. */
#define PC_RD_BASE  0 /* this CPU's redistributor RD_base */
#define PC_SGI_BASE 1 /* its SGI_base */

static volatile void *dist;
static volatile uint8_t *redist;
static uint64_t redist_size;

/* MPIDR affinity (as the device tree's cpu reg holds it) -> GICR_TYPER[63:32] layout. */
static uint32_t affinity_value(uint64_t mpidr) {
    return (uint32_t)(((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff));
}

static void wait_rwp(void) {
    for (unsigned i = 0; i < GIC_WAIT_LOOPS && (gic_read32(dist, GICD_CTLR) & GICD_CTLR_RWP); i++) {
        arch_cpu_relax();
    }
}

static kstatus_t v3_init(const struct boot_info *bi) {
    volatile void *d, *r;
    uint64_t rsize = bi->intc.size[1] != 0 ? bi->intc.size[1] : (uint64_t)GICR_FRAME;
    if (rsize > (32ULL << 20)) {
        rsize = 32ULL << 20; /* BOOT_MAX_CPUS frames of 256 KiB at most */
    }
    kstatus_t st = arch_mmio_map(PADDR(bi->intc.base[0]), 0x10000, &d);
    if (st == KEEL_OK) {
        st = arch_mmio_map(PADDR(bi->intc.base[1]), rsize, &r);
    }
    if (st != KEEL_OK) {
        return st;
    }
    dist = d;
    redist = (volatile uint8_t *)r;
    redist_size = rsize;

    uint32_t lines = ((gic_read32(dist, GICD_TYPER) & 0x1f) + 1) * 32;
    if (lines > GIC_INTID_SPURIOUS) {
        lines = GIC_INTID_SPURIOUS;
    }
    gicv3_ops.spi_count = lines - GIC_SPI_BASE;

    gic_write32(dist, GICD_CTLR, 0);
    wait_rwp();
    /* GICD_IROUTER holds Aff3 at 39:32 and Aff2..Aff0 at 23:0, as MPIDR does. */
    uint64_t route = bi->cpus[bi->boot_cpu].hwid & 0xff00ffffffULL;
    for (uint32_t i = GIC_SPI_BASE; i < lines; i += 32) {
        gic_write32(dist, GICD_ICENABLER + i / 8, 0xffffffff);
        gic_write32(dist, GICD_ICPENDR + i / 8, 0xffffffff);
        gic_write32(dist, GICD_ICACTIVER + i / 8, 0xffffffff);
        gic_write32(dist, GICD_IGROUPR + i / 8, 0xffffffff);
    }
    for (uint32_t i = GIC_SPI_BASE; i < lines; i++) {
        gic_write8(dist, GICD_IPRIORITYR + i, GIC_PRIO_DEFAULT);
        *(volatile uint64_t *)((volatile uint8_t *)dist + GICD_IROUTER + 8 * i) = route;
    }
    wait_rwp();
    gic_write32(dist, GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_GRP1A | GICD_CTLR_GRP1);
    wait_rwp();
    return KEEL_OK;
}

/* This CPU's redistributor: the frame whose GICR_TYPER affinity is ours. NULL if none. */
static volatile uint8_t *find_redist(uint32_t aff) {
    for (uint64_t off = 0; off + GICR_FRAME <= redist_size;) {
        volatile uint8_t *rd = redist + off;
        uint64_t typer = *(volatile uint64_t *)(rd + GICR_TYPER);
        if ((uint32_t)(typer >> 32) == aff) {
            return rd;
        }
        if (typer & GICR_TYPER_LAST) {
            break;
        }
        off += (typer & GICR_TYPER_VLPIS) ? 2 * GICR_FRAME : GICR_FRAME;
    }
    return NULL;
}

static void v3_init_cpu(struct percpu *pc, unsigned timer_intid) {
    uint64_t mpidr;
    __asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
    uint32_t aff = affinity_value(mpidr & 0xff00ffffffULL);
    volatile uint8_t *rd = find_redist(aff);
    if (rd == NULL) {
        kprintf("gicv3: no redistributor for CPU %u (affinity %#x)\n", pc->index, aff);
        return;
    }
    pc->arch[PC_RD_BASE] = (uintptr_t)rd;
    pc->arch[PC_SGI_BASE] = (uintptr_t)(rd + GICR_SGI_OFFSET);

    uint32_t waker = gic_read32(rd, GICR_WAKER) & ~GICR_WAKER_SLEEP;
    gic_write32(rd, GICR_WAKER, waker);
    for (unsigned i = 0; i < GIC_WAIT_LOOPS && (gic_read32(rd, GICR_WAKER) & GICR_WAKER_ASLP);
         i++) {
        arch_cpu_relax();
    }

    volatile uint8_t *sgi = rd + GICR_SGI_OFFSET;
    gic_write32(sgi, GICD_ICENABLER, 0xffffffff);
    gic_write32(sgi, GICD_ICPENDR, 0xffffffff);
    gic_write32(sgi, GICD_IGROUPR, 0xffffffff);
    for (unsigned i = 0; i < 32; i++) {
        gic_write8(sgi, GICD_IPRIORITYR + i, GIC_PRIO_DEFAULT);
    }
    uint32_t enable = (1u << IPI_KIND_COUNT) - 1;
    if (timer_intid < 32) {
        enable |= 1u << timer_intid;
    }
    gic_write32(sgi, GICD_ISENABLER, enable);

    uint64_t sre;
    __asm__ volatile("mrs %0, " ICC_SRE_EL1 : "=r"(sre));
    __asm__ volatile("msr " ICC_SRE_EL1 ", %0\n\tisb" ::"r"(sre | 1) : "memory");
    __asm__ volatile("msr " ICC_PMR_EL1 ", %0\n\t"
                     "msr " ICC_BPR1_EL1 ", xzr\n\t"
                     "msr " ICC_CTLR_EL1 ", xzr\n\t"
                     "msr " ICC_IGRPEN1_EL1 ", %1\n\t"
                     "isb" ::"r"((uint64_t)GIC_PMR_ALL),
                     "r"((uint64_t)1)
                     : "memory");
}

static uint32_t v3_ack(void) {
    uint64_t iar;
    __asm__ volatile("mrs %0, " ICC_IAR1_EL1 "\n\tdsb sy" : "=r"(iar)::"memory");
    return (uint32_t)iar & 0xffffff;
}

static void v3_eoi(uint32_t iar) {
    __asm__ volatile("msr " ICC_EOIR1_EL1 ", %0\n\tisb" ::"r"((uint64_t)iar) : "memory");
}

static void v3_spi_set(unsigned intid, bool enable) {
    gic_write32(dist, (enable ? GICD_ISENABLER : GICD_ICENABLER) + (intid / 32) * 4,
                1u << (intid % 32));
    if (!enable) {
        wait_rwp();
    }
}

static bool v3_ppi_pending(unsigned intid) {
    volatile void *sgi = (volatile void *)arch_this_cpu()->arch[PC_SGI_BASE];
    return sgi != NULL && intid < 32 && (gic_read32(sgi, GICD_ISPENDR) >> intid) & 1;
}

/* ICC_SGI1R_EL1: TargetList[15:0] Aff1[23:16] INTID[27:24] Aff2[39:32] RS[47:44] Aff3[55:48]. */
static void v3_send_sgi(const struct percpu *pc, unsigned sgi) {
    uint64_t mpidr = pc->hwid;
    uint64_t aff0 = mpidr & 0xff;
    uint64_t v = (1ULL << (aff0 & 15)) | ((mpidr >> 8) & 0xff) << 16 | (uint64_t)(sgi & 15) << 24 |
                 ((mpidr >> 16) & 0xff) << 32 | (aff0 >> 4) << 44 | ((mpidr >> 32) & 0xff) << 48;
    /* Stores to normal memory (the call queue) reach the target before the SGI does. */
    __asm__ volatile("dsb ishst\n\tmsr " ICC_SGI1R_EL1 ", %0\n\tisb" ::"r"(v) : "memory");
}

struct gic_ops gicv3_ops = {
    .name = "GICv3",
    .init = v3_init,
    .init_cpu = v3_init_cpu,
    .ack = v3_ack,
    .eoi = v3_eoi,
    .spi_set = v3_spi_set,
    .intid_mask = 0xffffff,
    .ppi_pending = v3_ppi_pending,
    .send_sgi = v3_send_sgi,
};
