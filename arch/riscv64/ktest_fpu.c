/* SPDX-License-Identifier: MIT */
/*
 * riscv64 KTESTs of lazy FP (fpu.c, fpu.S, trap_entry.S): which instructions count as
 * FP, that the first one in a thread traps and turns sstatus.FS on (and a non-FP illegal
 * instruction does not), and that threads preempted by an interrupt with the unit on keep
 * their registers (trap return takes FS from the hart, not from the frame). Without F
 * and D, FP instructions must stay illegal instructions. The portable ones: fpu_*.
 */
#include <arch/fpu.h>
#include <arch/irq.h>
#include <kernel/fpu.h>
#include <kernel/kprintf.h>
#include <kernel/ktest.h>
#include <kernel/percpu.h>
#include <kernel/sched.h>
#include <kernel/sync.h>
#include <kernel/thread.h>
#include <kernel/timer.h>

#include "riscv.h"

#define JOIN_NS   (200 * NSEC_PER_SEC) /* a hang detector only */
#define HANDOVERS 100

/* Initialised once: a finished thread may still be inside up(&done) when the next test
 * starts, and sema_init() under it would break its lock. Each test takes back its units. */
static semaphore_t done;
static bool done_ready;

static void done_init(void) {
    if (!done_ready) {
        sema_init(&done, 0);
        done_ready = true;
    }
}

static bool join(unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        if (down_timeout(&done, JOIN_NS) != KEEL_OK) {
            return false;
        }
    }
    return true;
}

static unsigned long fs_now(void) {
    return csr_read(sstatus) & SSTATUS_FS;
}

static uint64_t traps_here(void) {
    struct fpu_stats s;
    unsigned long f = arch_irq_save();
    fpu_stats_get(this_cpu_index(), &s);
    arch_irq_restore(f);
    return s.traps;
}

KTEST(riscv64_fpu_decode) {
    static const struct {
        uint32_t insn;
        bool fp;
    } cases[] = {
        {0x00053007, true},  /* fld ft0, 0(a0) */
        {0x00a53027, true},  /* fsd fa0, 0(a0) */
        {0x02b57553, true},  /* fadd.d fa0, fa0, fa1 */
        {0x08c5f543, true},  /* fmadd.s fa0, fa1, fa2, ft1 */
        {0xe2050553, true},  /* fmv.x.d a0, fa0 */
        {0x00302573, true},  /* csrr a0, fcsr (frcsr) */
        {0x00201073, true},  /* csrw frm, zero (fsrm) */
        {0x0010d073, true},  /* csrwi fflags, 1 */
        {0x2402, true},      /* c.fldsp fs0, 0(sp) */
        {0xa022, true},      /* c.fsdsp fs0, 0(sp) */
        {0x2108, true},      /* c.fld fa0, 0(a0) */
        {0xa108, true},      /* c.fsd fa0, 0(a0) */
        {0x00053503, false}, /* ld a0, 0(a0) */
        {0x6108, false},     /* c.ld a0, 0(a0) */
        {0xe108, false},     /* c.sd a0, 0(a0) */
        {0x2505, false},     /* c.addiw a0, 1 (quadrant 1, funct3 1) */
        {0xc0001073, false}, /* unimp (csrrw zero, cycle, zero) */
        {0x10002573, false}, /* csrr a0, sstatus */
        {0x00000073, false}, /* ecall */
        {0x0000, false},     /* c.unimp */
        {0x00400073, false}, /* funct3 4 on CSR 0x004: reserved, not a CSR access */
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        if (riscv_insn_is_fp(cases[i].insn) != cases[i].fp) {
            kprintf("riscv64_fpu_decode: %#x should%s count as FP\n", cases[i].insn,
                    cases[i].fp ? "" : " not");
            KTEST_EXPECT(false);
        }
    }
}

/* What a fresh thread saw around its first FP instruction. */
static struct {
    unsigned long fs_before, fs_after;
    uint64_t traps;
    unsigned long fcsr;
    unsigned long illegal_hits;
} seen;

/* The first FP instruction of a new thread: frcsr (32 bits) or c.fldsp (16 bits). */
static void first_fp(void *arg) {
    unsigned long fcsr = 0x55;
    preempt_disable(); /* no switch (and no other thread's trap on this hart) in between */
    uint64_t t0 = traps_here();

    seen.fs_before = fs_now();
    riscv_trap_expect =
        (struct riscv_trap_expect){.armed = !riscv_fpu_present, .cause = CAUSE_ILLEGAL_INSN};
    if (arg == NULL) {
        __asm__ volatile("csrr %0, 0x003" : "+r"(fcsr)::"memory"); /* frcsr */
    } else {
        __asm__ volatile(".2byte 0x2402" ::: "memory"); /* c.fldsp fs0, 0(sp) */
    }
    riscv_trap_expect.armed = false;
    seen.illegal_hits = riscv_trap_expect.hits;
    seen.fs_after = fs_now();
    seen.fcsr = fcsr;
    seen.traps = traps_here() - t0; /* no switch in between: the same hart's counter */
    preempt_enable();
    up(&done);
}

static void run_first_fp(struct ktest_ctx *ktest_ctx, void *which) {
    seen = (typeof(seen)){0};
    done_init();
    KTEST_EXPECT_EQ(thread_create("first_fp", first_fp, which, SCHED_PRIO_NORMAL,
                                  CPUMASK_CPU(this_cpu_index()), NULL),
                    KEEL_OK);
    KTEST_EXPECT(join(1));
    KTEST_EXPECT_EQ(seen.fs_before, SSTATUS_FS_OFF); /* every thread starts with FS Off */
    if (riscv_fpu_present) {
        KTEST_EXPECT_EQ(seen.traps, 1);
        KTEST_EXPECT(seen.fs_after != SSTATUS_FS_OFF);
        KTEST_EXPECT_EQ(seen.illegal_hits, 0);
        if (which == NULL) {
            KTEST_EXPECT_EQ(seen.fcsr, 0); /* arch_fpu_state_init: RNE, no flags */
        }
    } else {
        /* No F/D: an illegal instruction as before, the unit stays off. */
        KTEST_EXPECT_EQ(seen.traps, 0);
        KTEST_EXPECT_EQ(seen.fs_after, SSTATUS_FS_OFF);
        KTEST_EXPECT_EQ(seen.illegal_hits, 1);
    }
}

KTEST(riscv64_fpu_first_use_traps) {
    run_first_fp(ktest_ctx, NULL);
}

KTEST(riscv64_fpu_first_use_traps_compressed) {
    run_first_fp(ktest_ctx, (void *)1);
}

/* A really illegal instruction with FS Off stays one: no FP trap, FS unchanged. */
KTEST(riscv64_fpu_illegal_is_not_fp) {
    unsigned long fs = fs_now();
    uint64_t t0 = traps_here();

    riscv_trap_expect = (struct riscv_trap_expect){.armed = true, .cause = CAUSE_ILLEGAL_INSN};
    __asm__ volatile("unimp" ::: "memory");
    KTEST_EXPECT_EQ(riscv_trap_expect.hits, 1);
    KTEST_EXPECT(!riscv_trap_expect.armed);
    KTEST_EXPECT_EQ(fs_now(), fs);
    KTEST_EXPECT_EQ(traps_here(), t0);
}

/*
 * Two threads that hand the CPU to each other only through an interrupt: each marks
 * itself yielding and sends itself a reschedule IPI, which switches in irq_exit(), so
 * each resumes through a trap frame saved with FS on while the other thread's registers
 * are in the unit. A trap return that took FS from the frame would let it run on them.
 */
static volatile unsigned turn;
static volatile bool finished[2];
static unsigned spin_bad[2], spin_rounds[2];

/* Give the CPU up from an interrupt (the IPI is taken when interrupts come back on). */
static void preempt_self(void) {
    unsigned long f = arch_irq_save();
    unsigned cpu = this_cpu_index();
    if (sched_yield_cpu(cpu, get_monotonic_time()) == KEEL_OK) {
        arch_ipi_send(cpu, IPI_RESCHEDULE);
    }
    arch_irq_restore(f);
}

static void spinner(void *arg) {
    unsigned me = (unsigned)(uintptr_t)arg;
    uint64_t seed = 0xf00d0000u + me;
    uint64_t give_up = get_monotonic_time() + JOIN_NS / 2;

    arch_fpu_test_fill(seed);
    for (unsigned r = 0; r < HANDOVERS; r++) {
        turn = 1 - me;
        while (turn != me && !finished[1 - me] && get_monotonic_time() < give_up) {
            preempt_self();
            if (!arch_fpu_test_check(seed)) {
                spin_bad[me]++;
                arch_fpu_test_fill(seed);
            }
        }
        spin_rounds[me]++;
    }
    finished[me] = true;
    up(&done);
}

KTEST(riscv64_fpu_preempted_keeps_registers) {
    unsigned cpu = this_cpu_index();
    struct fpu_stats s0, s1;

    if (!riscv_fpu_present) {
        kprintf("riscv64_fpu_preempted_keeps_registers: no F and D, nothing to switch\n");
        return;
    }
    done_init();
    turn = 0;
    for (unsigned i = 0; i < 2; i++) {
        finished[i] = false;
        spin_bad[i] = spin_rounds[i] = 0;
    }
    fpu_stats_get(cpu, &s0);
    for (unsigned i = 0; i < 2; i++) {
        KTEST_EXPECT_EQ(thread_create("spin_fp", spinner, (void *)(uintptr_t)i, SCHED_PRIO_NORMAL,
                                      CPUMASK_CPU(cpu), NULL),
                        KEEL_OK);
    }
    KTEST_EXPECT(join(2));
    fpu_stats_get(cpu, &s1);
    KTEST_EXPECT_EQ(spin_bad[0], 0);
    KTEST_EXPECT_EQ(spin_bad[1], 0);
    KTEST_EXPECT_EQ(spin_rounds[0], HANDOVERS);
    KTEST_EXPECT_EQ(spin_rounds[1], HANDOVERS);
    /* Nearly every handover loads the other thread's registers. */
    KTEST_EXPECT(s1.restores - s0.restores >= HANDOVERS);
    kprintf("riscv64_fpu_preempted_keeps_registers: %llu traps, %llu restores\n",
            (unsigned long long)(s1.traps - s0.traps),
            (unsigned long long)(s1.restores - s0.restores));
}
