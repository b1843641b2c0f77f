/* SPDX-License-Identifier: MIT */
/*
 * AArch64 SMP bring-up through PSCI CPU_ON (the conduit the device tree's /psci node
 * names). Each started CPU gets a small boot block (its translation regime, stack and
 * struct percpu) that it reads with the MMU off in aarch64_secondary_entry (entry.S), so
 * the block is cleaned to the point of coherency first, and its own overflow stack.
 */
#include <arch/irq.h>
#include <arch/smp.h>
#include <arch/timer.h>
#include <kernel/kprintf.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/vmm.h>

#include "aarch64.h"

struct aarch64_secondary_boot {
    uint64_t ttbr1;
    uint64_t tcr;
    uint64_t mair;
    uint64_t stack_top;
    uint64_t percpu;
    uint64_t flags;
} __aligned(SB_SIZE);

STATIC_ASSERT(__builtin_offsetof(struct aarch64_secondary_boot, ttbr1) == SB_TTBR1, "SB_TTBR1");
STATIC_ASSERT(__builtin_offsetof(struct aarch64_secondary_boot, tcr) == SB_TCR, "SB_TCR");
STATIC_ASSERT(__builtin_offsetof(struct aarch64_secondary_boot, mair) == SB_MAIR, "SB_MAIR");
STATIC_ASSERT(__builtin_offsetof(struct aarch64_secondary_boot, stack_top) == SB_STACK, "SB_STACK");
STATIC_ASSERT(__builtin_offsetof(struct aarch64_secondary_boot, percpu) == SB_PERCPU, "SB_PERCPU");
STATIC_ASSERT(__builtin_offsetof(struct aarch64_secondary_boot, flags) == SB_FLAGS, "SB_FLAGS");
STATIC_ASSERT(sizeof(struct aarch64_secondary_boot) == SB_SIZE, "SB_SIZE");

STATIC_ASSERT(__builtin_offsetof(struct percpu, arch[PERCPU_OVERFLOW_SLOT]) == PERCPU_OVERFLOW_TOP,
              "vectors.S finds the overflow stack there");

extern char aarch64_secondary_entry[];

static struct aarch64_secondary_boot boot_blocks[BOOT_MAX_CPUS];
/* Each secondary's overflow stack (one page; vmalloc leaves the page below unmapped). */
static void *overflow_stacks[BOOT_MAX_CPUS];

/* Clean [p, p + size) to the point of coherency: a CPU with its MMU off reads memory. */
static void clean_to_poc(const void *p, size_t size) {
    uint64_t ctr;
    __asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
    uintptr_t line = 4u << ((ctr >> 16) & 0xf);
    for (uintptr_t a = (uintptr_t)p & ~(line - 1); a < (uintptr_t)p + size; a += line) {
        __asm__ volatile("dc cvac, %0" ::"r"(a) : "memory");
    }
    __asm__ volatile("dsb sy" ::: "memory");
}

kstatus_t arch_cpu_start(const struct boot_info *bi, struct percpu *pc, uintptr_t stack_top) {
    if (bi->psci_method == BOOT_PSCI_NONE) {
        return KEEL_ENOTSUP;
    }
    if (pc->index >= BOOT_MAX_CPUS || (stack_top & 15) != 0 || vmm_kernel_space == NULL) {
        return KEEL_EINVAL;
    }
    if (overflow_stacks[pc->index] == NULL) {
        overflow_stacks[pc->index] = vmalloc(PAGE_SIZE);
        if (overflow_stacks[pc->index] == NULL) {
            return KEEL_ENOMEM;
        }
    }
    pc->arch[PERCPU_OVERFLOW_SLOT] = (uintptr_t)overflow_stacks[pc->index] + PAGE_SIZE;
    struct aarch64_secondary_boot *b = &boot_blocks[pc->index];
    uint64_t tcr, mair;
    __asm__ volatile("mrs %0, tcr_el1\n\tmrs %1, mair_el1" : "=r"(tcr), "=r"(mair));
    b->ttbr1 = vmm_kernel_space->root.pa;
    b->tcr = tcr;
    b->mair = mair;
    b->stack_top = stack_top;
    b->percpu = (uint64_t)(uintptr_t)pc;
    b->flags = aarch64_cycles_from_pmu ? BOOTF_HAVE_PMU : 0;
    clean_to_poc(b, sizeof(*b));

    int64_t r =
        aarch64_psci_call(PSCI_CPU_ON_64, pc->hwid, aarch64_kimg_to_phys(aarch64_secondary_entry),
                          aarch64_kimg_to_phys(b));
    switch (r) {
    case PSCI_SUCCESS:
        return KEEL_OK;
    case PSCI_ALREADY_ON:
    case PSCI_ON_PENDING:
        return KEEL_EBUSY;
    case PSCI_NOT_SUPPORTED:
        return KEEL_ENOTSUP;
    default:
        return KEEL_EINVAL; /* invalid parameters or address, denied, internal failure */
    }
}

void aarch64_secondary_c(struct percpu *pc) {
    arch_timer_cancel();
    smp_secondary_main(pc);
}
