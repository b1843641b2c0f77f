/* SPDX-License-Identifier: MIT */
/*
 * Private to arch/riscv64: the PLIC driver (plic.c) behind arch_irq_* in irq.c.
 * Contexts are the PLIC's numbering (one per hart and privilege mode).
 */
#ifndef RISCV64_PLIC_H
#define RISCV64_PLIC_H

#include <kernel/boot_info.h>
#include <kernel/types.h>

/*
 * Find the PLIC bi->intc names in the device tree, map it, learn its sources and each
 * hart's S-mode context, mask everything. KEEL_ENOTSUP: no PLIC; KEEL_ECORRUPT: the
 * node is missing or inconsistent. Boot CPU, after mm_init.
 */
__must_check kstatus_t plic_init(const struct boot_info *bi);

/* The hart device lines are routed to and its context; false before plic_init. */
bool plic_target(uint64_t *hwid, uint32_t *ctx);

/* The S-mode context of hart hwid; false if the PLIC does not serve it. */
bool plic_context_of(uint64_t hwid, uint32_t *ctx);

/* Threshold 0 for ctx (its enabled sources all get through). Each hart at bring-up. */
void plic_context_init(uint32_t ctx);

/* riscv,ndev + 1 (line 0 does not exist), or 0 before plic_init. */
unsigned plic_line_count(void);

/* Route line irq to the target hart at priority 1 / mask it. KEEL_EINVAL: bad line. */
__must_check kstatus_t plic_enable(unsigned irq);
void plic_disable(unsigned irq);

/* Claim the highest pending line of ctx (0: none) and signal its completion. IRQs off. */
uint32_t plic_claim(uint32_t ctx);
void plic_complete(uint32_t ctx, uint32_t irq);

/* The pending bit of line irq (0 for a bad line). */
uint32_t plic_pending(unsigned irq);

#endif /* RISCV64_PLIC_H */
