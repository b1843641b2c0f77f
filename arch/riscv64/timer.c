/* SPDX-License-Identifier: MIT */
/*
 * riscv64 timer (include/arch/timer.h): the time CSR, which counts at the device tree's
 * timebase-frequency on every hart. One-shot deadlines go to stimecmp when the hart has
 * Sstc and the firmware opened it (menvcfg.STCE; probed), else to SBI TIME set_timer.
 * Either way sie.STIE is the on/off switch: the interrupt masks it until the next
 * deadline, since a deadline in the past keeps the interrupt pending.
 */
#include <arch/timer.h>
#include <kernel/cmdline.h>
#include <kernel/irq.h>
#include <kernel/kprintf.h>
#include <kernel/percpu.h>

#include "riscv.h"

#define SBI_TIME_SET 0
#define CSR_STIMECMP "0x14d"
#define DEFAULT_HZ   10000000 /* QEMU virt, when the device tree does not say */

uint64_t riscv_timebase_hz = DEFAULT_HZ;
bool riscv_dt_sstc;
bool riscv_timer_sstc;

/* Can S-mode touch stimecmp? Illegal instruction if the firmware left STCE clear. */
static bool probe_sstc(void) {
    unsigned long hits = riscv_trap_expect.hits;

    riscv_trap_expect.cause = CAUSE_ILLEGAL_INSN;
    riscv_trap_expect.armed = true;
    __asm__ volatile("csrw " CSR_STIMECMP ", %0" ::"r"(UINT64_MAX) : "memory");
    riscv_trap_expect.armed = false;
    return riscv_trap_expect.hits == hits;
}

void riscv_timer_init(const struct boot_info *bi) {
    if (bi->timer_freq_hz != 0) {
        riscv_timebase_hz = bi->timer_freq_hz;
    }
    riscv_timer_sstc =
        riscv_dt_sstc && !cmdline_value_is(bi->cmdline, "timer", "sbi") && probe_sstc();
    arch_timer_cancel();
    kprintf("Timer: %s, %llu Hz (Sstc in the device tree: %s)\n",
            riscv_timer_sstc ? "stimecmp (Sstc)" : "SBI TIME set_timer",
            (unsigned long long)riscv_timebase_hz, riscv_dt_sstc ? "yes" : "no");
}

uint64_t arch_timer_now_ticks(void) {
    uint64_t t;
    __asm__ volatile("rdtime %0" : "=r"(t)::"memory");
    return t;
}

uint64_t arch_timer_freq_hz(void) {
    return riscv_timebase_hz;
}

void arch_timer_set_oneshot(uint64_t deadline_ticks) {
    if (riscv_timer_sstc) {
        __asm__ volatile("csrw " CSR_STIMECMP ", %0" ::"r"(deadline_ticks) : "memory");
    } else {
        (void)sbi_call(SBI_EXT_TIME, SBI_TIME_SET, deadline_ticks, 0, 0);
    }
    csr_set(sie, SIE_STIE);
}

void arch_timer_cancel(void) {
    csr_clear(sie, SIE_STIE);
}

void riscv_timer_interrupt(void) {
    struct percpu *pc = arch_this_cpu();

    csr_clear(sie, SIE_STIE);
    pc->arch[RV_PCPU_TIMER_AT] = arch_timer_now_ticks();
    pc->arch[RV_PCPU_TIMER_IRQS]++;
    irq_handle_timer();
}
