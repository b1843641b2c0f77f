/* SPDX-License-Identifier: MIT */
/*
 * x86_64 KTESTs of lazy FP/SIMD (fpu.c, run with "ktest=fpu"): every CPU has the unit set
 * up alike (CR0, CR4, XCR0) and disabled until a thread's first FP/SIMD instruction, and
 * a new thread starts from the architectural default state, not from the registers of
 * the thread that used the unit before it. The portable tests are in tests/kernel.
 */
#include <arch/cpu.h>
#include <arch/fpu.h>
#include <kernel/ktest.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/sync.h>
#include <kernel/thread.h>
#include <kernel/timer.h>

#include "x86.h"

#define JOIN_NS        (200 * NSEC_PER_SEC) /* a hang detector only */
#define CPUID1_ECX_AVX (1U << 28)
#define FSW_TOP        0x3800U /* x87 status word: top-of-stack index */
#define DEFAULT_FCW    0x037fU
#define DEFAULT_MXCSR  0x1f80U
#define CR4_FPU_BITS   (X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT)
#define CR0_FPU_ALWAYS (X86_CR0_MP | X86_CR0_NE)
#define DIRTY_SEED     0xd1d1d1d1ULL
#define CPU_CHECK_SEED 0xc0c0ULL

static semaphore_t filled, go, done;

/* ---- every CPU alike ---- */

struct cpu_fpu_report {
    uint64_t cr0_before, cr0_after, cr4, xcr0;
    bool ran, check_ok;
};
static struct cpu_fpu_report cpu_reports[PERCPU_MAX];

static void cpu_probe_fn(void *arg) {
    struct cpu_fpu_report *r = arg;
    preempt_disable(); /* a switch would disable the unit again between the reads */
    r->cr0_before = x86_read_cr0();
    r->cr4 = x86_read_cr4();
    r->xcr0 = (r->cr4 & X86_CR4_OSXSAVE) != 0 ? x86_xgetbv(0) : 0;
    arch_fpu_test_fill(CPU_CHECK_SEED + this_cpu_index());
    r->cr0_after = x86_read_cr0();
    r->check_ok = arch_fpu_test_check(CPU_CHECK_SEED + this_cpu_index());
    r->ran = true;
    preempt_enable();
    up(&done);
}

KTEST(fpu_x86_every_cpu_set_up) {
    cpumask_t online = smp_online_mask();
    unsigned n = 0;
    uint32_t id[4];
    sema_init(&done, 0);
    memset(cpu_reports, 0, sizeof(cpu_reports));
    for (unsigned c = 0; c < PERCPU_MAX; c++) {
        if ((online & CPUMASK_CPU(c)) == 0) {
            continue;
        }
        KTEST_EXPECT_EQ(thread_create("fpucpu", cpu_probe_fn, &cpu_reports[c], SCHED_PRIO_HIGH,
                                      CPUMASK_CPU(c), NULL),
                        KEEL_OK);
        n++;
    }
    for (unsigned i = 0; i < n; i++) {
        KTEST_EXPECT_EQ(down_timeout(&done, JOIN_NS), KEEL_OK);
    }
    /* With XSAVE and AVX on the CPU, the state covers AVX (QEMU -cpu max has both). */
    x86_cpuid(1, 0, id);
    if (x86_fpu_xcr0 != 0 && (id[2] & CPUID1_ECX_AVX) != 0) {
        KTEST_EXPECT_EQ(x86_fpu_xcr0, X86_XCR0_X87 | X86_XCR0_SSE | X86_XCR0_AVX);
    }
    for (unsigned c = 0; c < PERCPU_MAX; c++) {
        if ((online & CPUMASK_CPU(c)) == 0) {
            continue;
        }
        const struct cpu_fpu_report *r = &cpu_reports[c];
        KTEST_EXPECT(r->ran);
        /* Disabled (TS) until the first FP instruction, enabled after its trap. */
        KTEST_EXPECT_EQ(r->cr0_before & (X86_CR0_EM | X86_CR0_TS | CR0_FPU_ALWAYS),
                        X86_CR0_TS | CR0_FPU_ALWAYS);
        KTEST_EXPECT_EQ(r->cr0_after & (X86_CR0_EM | X86_CR0_TS | CR0_FPU_ALWAYS), CR0_FPU_ALWAYS);
        KTEST_EXPECT_EQ(r->cr4 & CR4_FPU_BITS, CR4_FPU_BITS);
        KTEST_EXPECT_EQ(r->xcr0, x86_fpu_xcr0);
        KTEST_EXPECT(r->check_ok);
    }
}

/* ---- a new thread's registers ---- */

static struct x86_fpu_regs fresh_regs;
static volatile bool dirty_ok;

static void dirty_fn(void *arg) {
    (void)arg;
    arch_fpu_test_fill(DIRTY_SEED);
    up(&filled);
    kstatus_t st = down(&go); /* the fresh thread runs on this CPU meanwhile */
    dirty_ok = st == KEEL_OK && arch_fpu_test_check(DIRTY_SEED);
    up(&done);
}

static void fresh_fn(void *arg) {
    (void)arg;
    memset(&fresh_regs, 0x5a, sizeof(fresh_regs));
    x86_fpu_regs_store(&fresh_regs, (x86_fpu_xcr0 & X86_XCR0_AVX) != 0);
    up(&done);
}

KTEST(fpu_x86_new_thread_default_state) {
    unsigned cpu = this_cpu_index();
    bool avx = (x86_fpu_xcr0 & X86_XCR0_AVX) != 0;
    sema_init(&filled, 0);
    sema_init(&go, 0);
    sema_init(&done, 0);
    dirty_ok = false;
    KTEST_EXPECT_EQ(thread_create("dirty", dirty_fn, NULL, SCHED_PRIO_HIGH, CPUMASK_CPU(cpu), NULL),
                    KEEL_OK);
    KTEST_EXPECT_EQ(down_timeout(&filled, JOIN_NS), KEEL_OK);
    KTEST_EXPECT_EQ(thread_create("fresh", fresh_fn, NULL, SCHED_PRIO_HIGH, CPUMASK_CPU(cpu), NULL),
                    KEEL_OK);
    KTEST_EXPECT_EQ(down_timeout(&done, JOIN_NS), KEEL_OK);
    up(&go);
    KTEST_EXPECT_EQ(down_timeout(&done, JOIN_NS), KEEL_OK);
    KTEST_EXPECT(dirty_ok);

    unsigned nonzero = 0;
    for (unsigned i = 0; i < 16; i++) {
        for (unsigned l = 0; l < (avx ? 4u : 2u); l++) {
            nonzero += fresh_regs.ymm[i][l] != 0;
        }
    }
    KTEST_EXPECT_EQ(nonzero, 0);
    KTEST_EXPECT_EQ(fresh_regs.ftw, 0);           /* the x87 stack is empty */
    KTEST_EXPECT_EQ(fresh_regs.fsw & FSW_TOP, 0); /* and TOP at 0 */
    KTEST_EXPECT_EQ(fresh_regs.fcw, DEFAULT_FCW);
    KTEST_EXPECT_EQ(fresh_regs.mxcsr, DEFAULT_MXCSR);
}
