/* SPDX-License-Identifier: MIT */
/*
 * riscv64 CPUs (include/arch/smp.h): tp is the per-CPU pointer (riscv_early_percpu from
 * entry.S until arch_set_this_cpu), and secondary harts are started through SBI HSM
 * hart_start at riscv_secondary_entry (entry.S), which turns on the kernel's satp, takes
 * its stack and percpu from a struct riscv_hart_boot and calls smp_secondary_main().
 * Each start is also posted in riscv_start_requests, so a hart that the firmware lets in
 * at _start instead (OpenSBI 1.1 HSM race, docs/boot-riscv64.md) still finds its way.
 */
#include <arch/smp.h>
#include <arch/trap.h>
#include <kernel/cmdline.h>
#include <kernel/kprintf.h>
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
    uint64_t via_start; /* set by entry.S when the hart came in through _start */
};
STATIC_ASSERT(sizeof(struct riscv_hart_boot) == 56, "entry.S HART_BOOT_* offsets");
STATIC_ASSERT(sizeof(struct riscv_start_request) == 16, "entry.S START_REQUEST_SIZE");
STATIC_ASSERT(RISCV_START_REQUESTS == PERCPU_MAX, "entry.S START_REQUESTS: one per CPU");

/* entry.S */
void riscv_secondary_entry(void);
void _start(void);

/*
 * Boot self-tests of the late-hart path: "selftest=hart_at_start" starts every other hart
 * at _start with the DTB as its argument, which is what OpenSBI 1.1's race does;
 * "selftest=hart_at_start_parked" does it to the first one without posting its request.
 */
enum start_selftest { START_NORMAL, START_AT_ENTRY, START_AT_ENTRY_UNLISTED };
static enum start_selftest start_selftest;
static uint64_t start_selftest_dtb;
unsigned riscv_selftest_parked_cpu = UINT32_MAX;

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
    /* The request a hart that arrives at _start looks for: address first, then hart id. */
    struct riscv_start_request *req = &riscv_start_requests[pc->index];
    __atomic_store_n(&req->boot_pa, kernel_virt_to_phys(hb), __ATOMIC_RELAXED);
    uint64_t saddr = kernel_virt_to_phys((const void *)(uintptr_t)riscv_secondary_entry);
    uint64_t opaque = kernel_virt_to_phys(hb);
    if (start_selftest != START_NORMAL) {
        saddr = kernel_virt_to_phys((const void *)(uintptr_t)_start);
        opaque = start_selftest_dtb;
    }
    if (start_selftest == START_AT_ENTRY_UNLISTED) {
        start_selftest = START_NORMAL; /* only the first one */
        riscv_selftest_parked_cpu = pc->index;
    } else {
        __atomic_store_n(&req->hwid_plus1, pc->hwid + 1, __ATOMIC_RELEASE);
    }
    /* From its start on it may cache kernel translations: TLB fences must reach it. */
    __atomic_fetch_add(&riscv_other_harts, 1, __ATOMIC_SEQ_CST); /* also orders hb, req */
    struct sbiret r = sbi_call(SBI_EXT_HSM, SBI_HSM_HART_START, pc->hwid, saddr, opaque);
    if (r.error != 0) {
        __atomic_store_n(&req->hwid_plus1, 0, __ATOMIC_RELEASE);
        __atomic_fetch_sub(&riscv_other_harts, 1, __ATOMIC_SEQ_CST);
        return r.error == SBI_ERR_ALREADY_AVAIL ? KEEL_EBUSY : KEEL_EINVAL;
    }
    return KEEL_OK;
}

bool riscv_hart_entered_at_start(unsigned index) {
    return index < PERCPU_MAX && __atomic_load_n(&hart_boot[index].via_start, __ATOMIC_ACQUIRE);
}

/*
 * First C code of a secondary hart: vectors as on the boot hart, its start request taken
 * back (a later arrival at _start is then parked), then the portable side.
 */
static void secondary_main(struct percpu *pc) {
    arch_trap_init();
    __atomic_store_n(&riscv_start_requests[pc->index].hwid_plus1, 0, __ATOMIC_RELEASE);
    if (riscv_hart_entered_at_start(pc->index)) {
        kprintf("smp: hart %llu entered the kernel at _start, not at its start address "
                "(OpenSBI 1.1 HSM race?); sent on to the secondary entry\n",
                (unsigned long long)pc->hwid);
    }
    smp_secondary_main(pc);
}

kstatus_t arch_cpu_start(const struct boot_info *bi, struct percpu *pc, uintptr_t stack_top) {
    if (bi == NULL || pc == NULL || pc->index >= bi->cpu_count ||
        bi->cpus[pc->index].hwid != pc->hwid) {
        return KEEL_EINVAL;
    }
    static bool selftest_read;
    if (!selftest_read) {
        selftest_read = true;
        start_selftest_dtb = bi->dtb.pa;
        if (cmdline_value_is(bi->cmdline, "selftest", "hart_at_start")) {
            start_selftest = START_AT_ENTRY;
        } else if (cmdline_value_is(bi->cmdline, "selftest", "hart_at_start_parked")) {
            start_selftest = START_AT_ENTRY_UNLISTED;
        }
        if (start_selftest != START_NORMAL) {
            kprintf("selftest: starting %s at _start with the DTB as its argument\n",
                    start_selftest == START_AT_ENTRY ? "every other hart" : "one hart, unasked,");
        }
    }
    return riscv_hart_start(pc, stack_top, secondary_main);
}
