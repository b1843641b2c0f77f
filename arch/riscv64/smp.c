/* SPDX-License-Identifier: MIT */
/*
 * riscv64 CPUs (include/arch/smp.h): tp is the per-CPU pointer (riscv_early_percpu from
 * entry.S until arch_set_this_cpu), and secondary harts are started through SBI HSM
 * hart_start at riscv_secondary_entry (entry.S), which turns on the kernel's satp, takes
 * its stack and percpu from a struct riscv_hart_boot and calls smp_secondary_main().
 */
#include <arch/smp.h>
#include <arch/trap.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/thread.h>

#include "riscv.h"

#define SBI_HSM_HART_START      0
#define SBI_HSM_HART_GET_STATUS 2
#define SBI_ERR_INVALID_PARAM   (-3)
#define SBI_ERR_ALREADY_AVAIL   (-6)

STATIC_ASSERT(__builtin_offsetof(struct percpu, arch_scratch) == PERCPU_STACK_LIMIT_OFF,
              "trap_entry.S and context.S read the stack limit here");
STATIC_ASSERT(__builtin_offsetof(struct percpu, arch) == PERCPU_ARCH_OFF,
              "trap_entry.S parks the overflowing sp in arch[0]");

/* What riscv_secondary_entry reads; offsets mirrored in entry.S (HART_BOOT_*). */
struct riscv_hart_boot {
    uint64_t self; /* virtual address of this struct (the hart gets the physical one) */
    uint64_t satp;
    uint64_t sp;
    uint64_t tp;
    uint64_t limit;
    uint64_t entry;
};
STATIC_ASSERT(sizeof(struct riscv_hart_boot) == 48, "entry.S HART_BOOT_* offsets");

/* entry.S */
void riscv_secondary_entry(void);

struct percpu riscv_early_percpu;
static struct riscv_hart_boot hart_boot[PERCPU_MAX];
static struct percpu *cpus[PERCPU_MAX];

uintptr_t riscv_stack_limit(void) {
    return arch_this_cpu()->arch_scratch;
}

void riscv_set_stack_limit(uintptr_t limit) {
    arch_this_cpu()->arch_scratch = limit;
}

uintptr_t *riscv_percpu_word(unsigned w) {
    return &arch_this_cpu()->arch[w];
}

struct percpu *riscv_cpu(unsigned index) {
    return index < PERCPU_MAX ? __atomic_load_n(&cpus[index], __ATOMIC_ACQUIRE) : NULL;
}

static void register_cpu(struct percpu *pc) {
    if (pc->index < PERCPU_MAX) {
        __atomic_store_n(&cpus[pc->index], pc, __ATOMIC_RELEASE);
    }
}

/* The early percpu's stack limit and arch words (PLIC context...) carry over. */
void arch_set_this_cpu(struct percpu *pc) {
    struct percpu *old = arch_this_cpu();

    pc->self = pc;
    if (old != NULL && old != pc) {
        pc->arch_scratch = old->arch_scratch;
        for (unsigned i = 0; i < ARRAY_SIZE(pc->arch); i++) {
            pc->arch[i] = old->arch[i];
        }
    }
    register_cpu(pc);
    __asm__ volatile("mv tp, %0" ::"r"(pc) : "memory");
}

long riscv_hart_status(uint64_t hwid) {
    struct sbiret r = sbi_call(SBI_EXT_HSM, SBI_HSM_HART_GET_STATUS, hwid, 0, 0);
    return r.error != 0 ? r.error : r.value;
}

kstatus_t riscv_hart_start(struct percpu *pc, uintptr_t stack_top,
                           void (*entry)(struct percpu *pc)) {
    static int hsm = -1;

    if (pc == NULL || entry == NULL || pc->index >= PERCPU_MAX || (stack_top & 15) != 0 ||
        stack_top < THREAD_STACK_SIZE) {
        return KEEL_EINVAL;
    }
    if (hsm < 0) {
        hsm = sbi_probe(SBI_EXT_HSM) ? 1 : 0;
    }
    if (hsm == 0) {
        return KEEL_ENOTSUP;
    }
    struct riscv_hart_boot *hb = &hart_boot[pc->index];
    pc->self = pc;
    pc->arch_scratch = stack_top - THREAD_STACK_SIZE;
    *hb = (struct riscv_hart_boot){
        .self = (uintptr_t)hb,
        .satp = csr_read(satp),
        .sp = stack_top,
        .tp = (uintptr_t)pc,
        .limit = stack_top - THREAD_STACK_SIZE,
        .entry = (uintptr_t)entry,
    };
    register_cpu(pc);
    /* From its start on it may cache kernel translations: TLB fences must reach it. */
    __atomic_fetch_add(&riscv_other_harts, 1, __ATOMIC_SEQ_CST); /* also orders hb */
    struct sbiret r = sbi_call(SBI_EXT_HSM, SBI_HSM_HART_START, pc->hwid,
                               kernel_virt_to_phys((const void *)(uintptr_t)riscv_secondary_entry),
                               kernel_virt_to_phys(hb));
    if (r.error != 0) {
        __atomic_fetch_sub(&riscv_other_harts, 1, __ATOMIC_SEQ_CST);
        return r.error == SBI_ERR_ALREADY_AVAIL ? KEEL_EBUSY : KEEL_EINVAL;
    }
    return KEEL_OK;
}

/* First C code of a secondary hart: vectors as on the boot hart, then the portable side. */
static void secondary_main(struct percpu *pc) {
    arch_trap_init();
    smp_secondary_main(pc);
}

kstatus_t arch_cpu_start(const struct boot_info *bi, struct percpu *pc, uintptr_t stack_top) {
    if (bi == NULL || pc == NULL || pc->index >= bi->cpu_count ||
        bi->cpus[pc->index].hwid != pc->hwid) {
        return KEEL_EINVAL;
    }
    return riscv_hart_start(pc, stack_top, secondary_main);
}
