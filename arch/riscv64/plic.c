/* SPDX-License-Identifier: MIT */
/*
 * The RISC-V PLIC (platform-level interrupt controller, riscv-plic-spec 1.0.0) for
 * device lines. Found through the device tree: "riscv,ndev" sources, and the contexts
 * from "interrupts-extended" (<cpu-intc phandle, 9> is a hart's S-mode context, 11 its
 * M-mode one, which belongs to the firmware). Every line is routed to the boot hart (or,
 * when this PLIC does not serve it, to the first hart it does serve).
 */
#include <arch/io.h>
#include <kernel/fdt.h>
#include <kernel/spinlock.h>

#include "plic.h"
#include "riscv.h"

/* Register map (riscv-plic-spec, "Memory Map"). */
#define PLIC_PRIORITY(src)    (0x0 + 4 * (src))
#define PLIC_ENABLE(ctx, src) (0x2000 + 0x80 * (ctx) + 4 * ((src) / 32))
#define PLIC_THRESHOLD(ctx)   (0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx)       (0x200004 + 0x1000 * (ctx))
#define PLIC_MAX_SOURCES      1024
#define PLIC_MAX_CONTEXTS     15872
#define PLIC_CELL_S_EXTERNAL  9

struct plic_hart {
    uint64_t hwid;
    uint32_t ctx;
};

static volatile uint8_t *plic_base;
static uint32_t plic_sources; /* riscv,ndev: valid lines are 1..plic_sources */
static struct plic_hart harts[BOOT_MAX_CPUS];
static uint32_t hart_count;
static struct plic_hart target; /* the hart device lines are routed to */
static spinlock_t enable_lock = SPINLOCK_INIT;

static uint32_t rd(uint32_t off) {
    return *(volatile uint32_t *)(plic_base + off);
}

static void wr(uint32_t off, uint32_t v) {
    *(volatile uint32_t *)(plic_base + off) = v;
}

/* The hart id behind a CPU-local interrupt controller node (a child of /cpus/cpu@N). */
static bool intc_hart(const struct fdt *fdt, uint32_t phandle, uint64_t *hwid) {
    fdt_node_t intc, cpu;
    uint64_t unused;

    if (fdt_find_phandle(fdt, phandle, &intc) != KEEL_OK) {
        return false;
    }
    cpu = fdt_parent(fdt, intc);
    return cpu != FDT_NONE && fdt_get_reg(fdt, cpu, 0, hwid, &unused) == KEEL_OK;
}

/* Record the S-mode context of every hart from interrupts-extended; highest context. */
static kstatus_t parse_contexts(const struct fdt *fdt, fdt_node_t node, uint32_t *max_ctx) {
    const void *prop;
    uint32_t len;

    if (fdt_get_prop(fdt, node, "interrupts-extended", &prop, &len) != KEEL_OK || len % 8 != 0) {
        return KEEL_ECORRUPT;
    }
    const uint8_t *p = prop;
    *max_ctx = 0;
    for (uint32_t i = 0; i < len / 8 && i < PLIC_MAX_CONTEXTS; i++) {
        uint32_t phandle = (uint32_t)fdt_read_cells(p + 8 * i, 1);
        uint32_t cell = (uint32_t)fdt_read_cells(p + 8 * i + 4, 1);
        uint64_t hwid;
        if (cell != PLIC_CELL_S_EXTERNAL || !intc_hart(fdt, phandle, &hwid) ||
            hart_count == ARRAY_SIZE(harts)) {
            continue;
        }
        harts[hart_count++] = (struct plic_hart){.hwid = hwid, .ctx = i};
        *max_ctx = i > *max_ctx ? i : *max_ctx;
    }
    return hart_count > 0 ? KEEL_OK : KEEL_ECORRUPT;
}

/* The first enabled node compatible with compat whose first reg starts at base. */
static bool find_plic(const struct fdt *fdt, const char *compat, uint64_t base, fdt_node_t *node,
                      uint64_t *size) {
    fdt_node_t n = FDT_NONE;
    uint64_t b;

    while (fdt_find_compatible(fdt, n, compat, &n) == KEEL_OK) {
        if (fdt_is_enabled(fdt, n) && fdt_get_reg(fdt, n, 0, &b, size) == KEEL_OK && b == base) {
            *node = n;
            return true;
        }
    }
    return false;
}

kstatus_t plic_init(const struct boot_info *bi) {
    struct fdt fdt;
    fdt_node_t node;
    uint64_t base, size;
    uint32_t max_ctx;
    volatile void *va;
    kstatus_t st;

    if (bi->intc.type != BOOT_INTC_PLIC || bi->dtb.pa == 0) {
        return KEEL_ENOTSUP;
    }
    st = fdt_init(&fdt, dm_ptr(bi->dtb.pa), bi->dtb_size);
    if (st != KEEL_OK) {
        return st;
    }
    /* The node bi->intc came from: a PLIC compatible with that base address. */
    base = bi->intc.base[0];
    if (!find_plic(&fdt, "riscv,plic0", base, &node, &size) &&
        !find_plic(&fdt, "sifive,plic-1.0.0", base, &node, &size)) {
        return KEEL_ECORRUPT;
    }
    if (fdt_get_u32(&fdt, node, "riscv,ndev", &plic_sources) != KEEL_OK || plic_sources == 0 ||
        plic_sources >= PLIC_MAX_SOURCES) {
        return KEEL_ECORRUPT;
    }
    st = parse_contexts(&fdt, node, &max_ctx);
    if (st != KEEL_OK) {
        return st;
    }
    uint64_t need = PLIC_CLAIM(max_ctx) + 4;
    if (size < need) {
        return KEEL_ECORRUPT;
    }
    /*
     * Lines go to the boot hart. With several sockets QEMU gives each its own PLIC, which
     * serves only that socket's harts, and the boot hart may sit in another socket: then
     * they go to the first hart this PLIC serves.
     */
    target = harts[0];
    for (uint32_t i = 0; i < hart_count; i++) {
        if (harts[i].hwid == riscv_boot_hart) {
            target = harts[i];
        }
    }
    st = arch_mmio_map(PADDR(base), need, &va);
    if (st != KEEL_OK) {
        return st;
    }
    plic_base = (volatile uint8_t *)va;
    /* Every source off and at priority 0 (never delivered) until a line is enabled. */
    for (uint32_t i = 0; i < hart_count; i++) {
        for (uint32_t src = 0; src <= plic_sources; src += 32) {
            wr(PLIC_ENABLE(harts[i].ctx, src), 0);
        }
        wr(PLIC_THRESHOLD(harts[i].ctx), 0);
    }
    for (uint32_t src = 1; src <= plic_sources; src++) {
        wr(PLIC_PRIORITY(src), 0);
    }
    return KEEL_OK;
}

bool plic_target(uint64_t *hwid, uint32_t *ctx) {
    if (plic_base == NULL) {
        return false;
    }
    *hwid = target.hwid;
    *ctx = target.ctx;
    return true;
}

bool plic_context_of(uint64_t hwid, uint32_t *ctx) {
    for (uint32_t i = 0; i < hart_count; i++) {
        if (harts[i].hwid == hwid) {
            *ctx = harts[i].ctx;
            return true;
        }
    }
    return false;
}

unsigned plic_line_count(void) {
    return plic_base != NULL ? plic_sources + 1 : 0;
}

kstatus_t plic_enable(unsigned irq) {
    unsigned long flags;

    if (plic_base == NULL || irq == 0 || irq > plic_sources) {
        return KEEL_EINVAL;
    }
    spin_lock_irqsave(&enable_lock, &flags);
    wr(PLIC_PRIORITY(irq), 1);
    wr(PLIC_ENABLE(target.ctx, irq), rd(PLIC_ENABLE(target.ctx, irq)) | 1u << (irq % 32));
    spin_unlock_irqrestore(&enable_lock, flags);
    return KEEL_OK;
}

void plic_disable(unsigned irq) {
    unsigned long flags;

    if (plic_base == NULL || irq == 0 || irq > plic_sources) {
        return;
    }
    spin_lock_irqsave(&enable_lock, &flags);
    wr(PLIC_ENABLE(target.ctx, irq), rd(PLIC_ENABLE(target.ctx, irq)) & ~(1u << (irq % 32)));
    spin_unlock_irqrestore(&enable_lock, flags);
}

void plic_context_init(uint32_t ctx) {
    if (plic_base != NULL) {
        wr(PLIC_THRESHOLD(ctx), 0);
    }
}

uint32_t plic_claim(uint32_t ctx) {
    return rd(PLIC_CLAIM(ctx));
}

void plic_complete(uint32_t ctx, uint32_t irq) {
    wr(PLIC_CLAIM(ctx), irq);
}

uint32_t plic_pending(unsigned irq) {
    if (plic_base == NULL || irq == 0 || irq > plic_sources) {
        return 0;
    }
    return (rd(0x1000 + 4 * (irq / 32)) >> (irq % 32)) & 1;
}
