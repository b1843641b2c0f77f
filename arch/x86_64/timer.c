/* SPDX-License-Identifier: MIT */
/*
 * x86_64 time: the TSC is the counter (the same timebase on every CPU), the LAPIC timer
 * the one-shot interrupt: TSC-deadline mode when CPUID.1:ECX[24] says so (the deadline is
 * a TSC value, nothing to convert), else one-shot count-down mode with a count rate
 * measured against the TSC. The TSC frequency comes from CPUID 0x15 when the CPU states
 * it, else from counting TSC ticks over 10 ms of the ACPI PM timer (3.579545 MHz, FADT).
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/timer.h>
#include <kernel/acpi.h>
#include <kernel/kprintf.h>
#include <kernel/percpu.h>
#include <kernel/panic.h>
#include <kernel/vm.h>

#include "apic.h"
#include "x86.h"

#define X86_MSR_TSC_DEADLINE   0x6e0U
#define CPUID1_ECX_TSCDEADLINE (1U << 24)
#define LVT_MASKED             (1U << 16)
#define LVT_MODE_TSC_DEADLINE  (2U << 17)
#define TIMER_DIV_1            0xbU

/* ACPI PM timer (ACPI 6.5, 4.8.3.3): 3.579545 MHz, 24 or 32 bits wide (FADT flag). */
#define PM_TIMER_HZ          3579545ULL
#define FADT_SIG             "FACP"
#define FADT_PM_TMR_BLK      76
#define FADT_FLAGS           112
#define FADT_X_PM_TMR_BLK    208 /* generic address structure, 12 bytes */
#define FADT_TMR_VAL_EXT     (1U << 8)
#define GAS_SPACE_IO         1
#define CALIBRATE_PM_TICKS   (PM_TIMER_HZ / 100) /* 10 ms */
#define CALIBRATE_SPIN_LIMIT 100000000ULL
#define SAMPLE_TRIES         8

#define NS_PER_S           1000000000ULL
#define DELAY_CHUNK        100000000ULL /* ns per step of x86_delay_ns: no overflow below 10 GHz */
#define COUNT_SHIFT        32
#define COUNT_MARGIN_SHIFT 8            /* one-shot counts are padded by 1/256 against rate error */
#define DIFF_MAX           (1ULL << 31) /* one-shot mode: longer waits end early and are re-armed */

static uint64_t tsc_hz;
static bool tsc_deadline;
static uint64_t lapic_per_tsc; /* one-shot mode: LAPIC counts per TSC tick, << COUNT_SHIFT */
static const char *calibration = "unknown";
static char describe_buf[96];

static bool probe_tsc_deadline(void) {
    uint32_t r[4];
    x86_cpuid(1, 0, r);
    return (r[2] & CPUID1_ECX_TSCDEADLINE) != 0;
}

uint64_t arch_timer_now_ticks(void) {
    return arch_cycle_counter();
}

uint64_t arch_timer_freq_hz(void) {
    if (tsc_hz == 0) {
        panic("arch_timer_freq_hz: the TSC is not calibrated yet (arch_irq_init)");
    }
    return tsc_hz;
}

/*
 * One-shot mode counts LAPIC ticks, whose rate was measured against the TSC; under TCG the
 * two run off different host clocks, so the interrupt can come a little early. The
 * deadline each CPU asked for is kept, and x86_timer_due() re-arms an early interrupt for
 * the rest instead of delivering it, so the contract (never before the deadline) holds.
 */
static uint64_t armed_deadline[PERCPU_MAX];
static uint64_t last_delivery[PERCPU_MAX];

static unsigned timer_cpu(void) {
    struct percpu *pc = arch_this_cpu();
    return pc != NULL ? pc->index : 0;
}

bool x86_timer_due(void) {
    unsigned cpu = timer_cpu();
    uint64_t now = arch_timer_now_ticks();
    uint64_t deadline = armed_deadline[cpu];
    if (!tsc_deadline && deadline != 0 && now < deadline) {
        arch_timer_set_oneshot(deadline); /* early: wait for the rest */
        return false;
    }
    armed_deadline[cpu] = 0;
    last_delivery[cpu] = now;
    return true;
}

uint64_t x86_timer_last_delivery(void) {
    return last_delivery[timer_cpu()];
}

void arch_timer_set_oneshot(uint64_t deadline_ticks) {
    armed_deadline[timer_cpu()] = deadline_ticks != 0 ? deadline_ticks : 1;
    if (tsc_deadline) {
        /* A deadline in the past fires at once; 0 would disarm, so ask for 1 instead. */
        x86_wrmsr(X86_MSR_TSC_DEADLINE, deadline_ticks != 0 ? deadline_ticks : 1);
        return;
    }
    uint64_t now = arch_timer_now_ticks();
    uint64_t diff = deadline_ticks > now ? deadline_ticks - now : 0;
    if (diff > DIFF_MAX) {
        diff = DIFF_MAX;
    }
    uint64_t count = (diff * lapic_per_tsc) >> COUNT_SHIFT;
    count += (count >> COUNT_MARGIN_SHIFT) + 1; /* round up: never before the deadline */
    if (count > 0xffffffffULL) {
        count = 0xffffffffULL;
    }
    x86_apic_write(LAPIC_TIMER_INIT, count != 0 ? (uint32_t)count : 1);
}

void arch_timer_cancel(void) {
    armed_deadline[timer_cpu()] = 0;
    if (tsc_deadline) {
        x86_wrmsr(X86_MSR_TSC_DEADLINE, 0);
    } else {
        x86_apic_write(LAPIC_TIMER_INIT, 0);
    }
}

void x86_timer_init_cpu(void) {
    tsc_deadline = probe_tsc_deadline();
    x86_apic_write(LAPIC_TIMER_INIT, 0);
    x86_apic_write(LAPIC_TIMER_DIV, TIMER_DIV_1);
    /* TSC-deadline: writing the LVT before the deadline MSR (SDM 10.5.4.1). */
    x86_apic_write(LAPIC_LVT_TIMER, (tsc_deadline ? LVT_MODE_TSC_DEADLINE : 0) | X86_VEC_TIMER);
    if (tsc_deadline) {
        x86_wrmsr(X86_MSR_TSC_DEADLINE, 0);
    }
}

static uint32_t inl(uint16_t port) {
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* ACPI tables through the direct map. */
static const void *acpi_map(void *ctx, uint64_t phys, size_t len) {
    (void)ctx;
    if (len == 0 || phys + len < phys || phys + len > KEEL_DIRECT_MAP_SIZE ||
        !x86_kernel_readable((uintptr_t)(KEEL_DIRECT_MAP_BASE + phys), len)) {
        return NULL;
    }
    return phys_to_virt(PADDR(phys));
}

static uint64_t le_n(const uint8_t *p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

/* The PM timer's I/O port and width mask from the FADT; false if there is none. */
static bool pm_timer_find(const struct boot_info *bi, uint16_t *port, uint32_t *mask) {
    const struct acpi_sdt_header *fadt = NULL;
    if (bi->acpi_rsdp.pa == 0 ||
        acpi_find_table(bi->acpi_rsdp.pa, acpi_map, NULL, FADT_SIG, &fadt) != KEEL_OK ||
        fadt->length < FADT_PM_TMR_BLK + 4) {
        return false;
    }
    const uint8_t *t = (const uint8_t *)fadt;
    uint64_t p = le_n(t + FADT_PM_TMR_BLK, 4);
    if (fadt->length >= FADT_X_PM_TMR_BLK + 12 && t[FADT_X_PM_TMR_BLK] == GAS_SPACE_IO &&
        le_n(t + FADT_X_PM_TMR_BLK + 4, 8) != 0) {
        p = le_n(t + FADT_X_PM_TMR_BLK + 4, 8);
    }
    if (p == 0 || p > 0xfffc) {
        return false;
    }
    bool wide = fadt->length >= FADT_FLAGS + 4 && (le_n(t + FADT_FLAGS, 4) & FADT_TMR_VAL_EXT);
    *port = (uint16_t)p;
    *mask = wide ? 0xffffffffU : 0xffffffU;
    return true;
}

/* One reading of the PM timer and the LAPIC count at (nearly) one TSC instant. */
struct clock_sample {
    uint32_t pm;
    uint32_t lapic;
    uint64_t tsc;
};

/*
 * The reads sit between two TSC reads; of a few tries keep the tightest, so a virtual CPU
 * the host stalls mid-read (TCG on a busy machine) cannot skew the calibration.
 */
static struct clock_sample sample(uint16_t port, uint32_t mask) {
    struct clock_sample best = {0, 0, 0};
    uint64_t best_width = UINT64_MAX;
    for (int i = 0; i < SAMPLE_TRIES; i++) {
        uint64_t t0 = arch_cycle_counter();
        uint32_t pm = inl(port) & mask;
        uint32_t lapic = tsc_deadline ? 0 : x86_apic_read(LAPIC_TIMER_CUR);
        uint64_t t1 = arch_cycle_counter();
        if (t1 - t0 < best_width) {
            best_width = t1 - t0;
            best = (struct clock_sample){pm, lapic, t0 + (t1 - t0) / 2};
        }
    }
    return best;
}

/*
 * Count TSC ticks (and, for one-shot mode, LAPIC timer counts) over about
 * CALIBRATE_PM_TICKS of the PM timer. KEEL_ETIMEOUT if the PM timer does not move.
 */
static kstatus_t calibrate_pm(uint16_t port, uint32_t mask, uint64_t *tsc_hz_out,
                              uint64_t *lapic_delta, uint64_t *tsc_delta) {
    if (!tsc_deadline) {
        x86_apic_write(LAPIC_LVT_TIMER, LVT_MASKED | X86_VEC_TIMER);
        x86_apic_write(LAPIC_TIMER_INIT, 0xffffffffU);
    }
    struct clock_sample s0 = sample(port, mask);
    uint64_t spins = 0;
    while ((((inl(port) & mask) - s0.pm) & mask) < CALIBRATE_PM_TICKS) {
        if (++spins == CALIBRATE_SPIN_LIMIT) {
            return KEEL_ETIMEOUT;
        }
    }
    struct clock_sample s1 = sample(port, mask);
    uint64_t pm_elapsed = (s1.pm - s0.pm) & mask;
    *tsc_delta = s1.tsc - s0.tsc;
    *tsc_hz_out = *tsc_delta * PM_TIMER_HZ / pm_elapsed;
    *lapic_delta = (uint64_t)(s0.lapic - s1.lapic);
    if (!tsc_deadline) {
        x86_apic_write(LAPIC_TIMER_INIT, 0);
        x86_apic_write(LAPIC_LVT_TIMER, X86_VEC_TIMER);
    }
    return KEEL_OK;
}

kstatus_t x86_timer_init(const struct boot_info *bi) {
    uint16_t port = 0;
    uint32_t mask = 0;
    uint64_t tsc_delta = 0;
    uint64_t lapic_delta = 0;
    uint64_t pm_tsc_hz = 0;
    bool have_pm = pm_timer_find(bi, &port, &mask);
    if (have_pm) {
        kstatus_t st = calibrate_pm(port, mask, &pm_tsc_hz, &lapic_delta, &tsc_delta);
        if (st != KEEL_OK) {
            kprintf("x86_64: the ACPI PM timer at port %#x does not count\n", port);
            have_pm = false;
        }
    }
    if (bi->timer_freq_hz != 0) {
        tsc_hz = bi->timer_freq_hz; /* CPUID 0x15: stated by the CPU */
        calibration = "CPUID 0x15";
    } else if (have_pm && pm_tsc_hz != 0) {
        tsc_hz = pm_tsc_hz;
        calibration = "ACPI PM timer";
    } else {
        kprintf("x86_64: no way to measure the TSC (no CPUID 0x15, no ACPI PM timer)\n");
        return KEEL_ENOTSUP;
    }
    if (!tsc_deadline) {
        if (!have_pm || lapic_delta == 0 || tsc_delta == 0) {
            kprintf("x86_64: no TSC-deadline timer and no PM timer to measure the LAPIC timer\n");
            return KEEL_ENOTSUP;
        }
        lapic_per_tsc = (lapic_delta << COUNT_SHIFT) / tsc_delta;
    }
    ksnprintf(describe_buf, sizeof(describe_buf), "TSC %llu kHz (%s), LAPIC timer %s",
              (unsigned long long)(tsc_hz / 1000), calibration,
              tsc_deadline ? "TSC-deadline" : "one-shot");
    return KEEL_OK;
}

const char *x86_timer_describe(void) {
    return describe_buf;
}

void x86_delay_ns(uint64_t ns) {
    while (ns > 0) {
        uint64_t step = ns < DELAY_CHUNK ? ns : DELAY_CHUNK;
        uint64_t end = arch_cycle_counter() + step * tsc_hz / NS_PER_S;
        while (arch_cycle_counter() < end) {
            arch_cpu_relax();
        }
        ns -= step;
    }
}
