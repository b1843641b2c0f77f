/* SPDX-License-Identifier: MIT */
/*
 * AArch64 CPU fast paths for include/arch/cpu.h: interrupt masking through DAIF, the
 * cycle counter (PMCCNTR_EL0, which QEMU runs at 1 GHz of virtual time, so one count per
 * instruction under -icount shift=0; CNTVCT_EL0 when there is no PMU) and frame-record
 * walking (AAPCS64: x29 points at {previous x29, x30}).
 */
#ifndef ARCH_ARCH_CPU_H
#define ARCH_ARCH_CPU_H

#include <arch/arch_mmu.h>
#include <stdbool.h>
#include <stdint.h>

/* True when the entry code found and enabled the PMU cycle counter. */
extern bool aarch64_cycles_from_pmu;

static inline unsigned long arch_irq_save(void) {
    unsigned long daif;
    __asm__ volatile("mrs %0, daif\n\tmsr daifset, #3" : "=r"(daif)::"memory");
    return daif;
}

static inline void arch_irq_restore(unsigned long state) {
    __asm__ volatile("msr daif, %0" ::"r"(state) : "memory");
}

static inline void arch_cpu_relax(void) {
    __asm__ volatile("yield" ::: "memory");
}

static inline uint64_t arch_cycle_counter(void) {
    uint64_t v;
    if (aarch64_cycles_from_pmu) {
        __asm__ volatile("mrs %0, pmccntr_el0" : "=r"(v));
    } else {
        __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v)::"memory");
    }
    return v;
}

static inline uintptr_t arch_frame_pointer(void) {
    return (uintptr_t)__builtin_frame_address(0);
}

/*
 * True if a read of va would hit Normal write-back memory mapped for the kernel: asks
 * the MMU (AT S1E1R) instead of touching va, so garbage never faults and device
 * registers are never read. Clobbers PAR_EL1.
 */
static inline bool aarch64_va_is_readable_ram(uintptr_t va) {
    uint64_t par;
    __asm__ volatile("at s1e1r, %1\n\tisb\n\tmrs %0, par_el1" : "=r"(par) : "r"(va) : "memory");
    return (par & 1) == 0 && (par >> 56) == 0xff;
}

static inline bool arch_frame_step(uintptr_t fp, uintptr_t *next_fp, uintptr_t *ret_addr) {
    if (fp < (uintptr_t)KEEL_DIRECT_MAP_BASE || (fp & 7) != 0 || fp > UINTPTR_MAX - 16) {
        return false;
    }
    if (!aarch64_va_is_readable_ram(fp) || !aarch64_va_is_readable_ram(fp + 8)) {
        return false;
    }
    const volatile uintptr_t *frame = (const volatile uintptr_t *)fp;
    *next_fp = frame[0];
    *ret_addr = frame[1];
    return true;
}

#endif /* ARCH_ARCH_CPU_H */
