/* SPDX-License-Identifier: MIT */
/*
 * AArch64 lazy FP/SIMD, C side (include/arch/fpu.h): CPACR_EL1.FPEN turns the unit on
 * and off for this CPU; a disabled unit traps the next FP/SIMD instruction with EC 0x07,
 * which trap.c hands to fpu_trap(). The registers themselves are moved by fpu.S.
 */
#include <arch/fpu.h>
#include <kernel/string.h>

#include "aarch64.h"

STATIC_ASSERT(__builtin_offsetof(struct arch_fpu_state, fpsr) == 512, "fpu.S fpsr offset");
STATIC_ASSERT(__builtin_offsetof(struct arch_fpu_state, fpcr) == 520, "fpu.S fpcr offset");
STATIC_ASSERT(sizeof(struct arch_fpu_state) == 528, "fpu.S state size");
STATIC_ASSERT(_Alignof(struct arch_fpu_state) == 16, "stp/ldp of q registers want 16");

/* A CPACR_EL1 write takes effect for later instructions only after a context sync. */
static inline void cpacr_write(uint64_t v) {
    __asm__ volatile("msr cpacr_el1, %0\n\tisb" ::"r"(v) : "memory");
}

/* Per CPU, interrupts masked: FP/SIMD traps to EL1 from now on. CPTR_EL2 (entry.S, on the
 * boot and PSCI paths alike) never traps it to EL2, so save/restore need nothing more. */
void arch_fpu_cpu_init(void) {
    cpacr_write(CPACR_EL1_FP_TRAP);
}

/* This CPU runs FP/SIMD instructions without trapping. Interrupts masked. */
void arch_fpu_enable(void) {
    cpacr_write(CPACR_EL1_FP_ON);
}

/* This CPU's next FP/SIMD instruction traps (EC 0x07). Interrupts masked. */
void arch_fpu_disable(void) {
    cpacr_write(CPACR_EL1_FP_TRAP);
}

/* A thread's first state: V0-V31 and FPSR zero, FPCR 0 (round to nearest, no flush to
 * zero, no default NaN, exception traps disabled). Any context. */
void arch_fpu_state_init(struct arch_fpu_state *st) {
    memset(st, 0, sizeof(*st));
}

/* What a saved state covers, for the KTEST and boot logs. */
const char *arch_fpu_describe(void) {
    return "AdvSIMD/FP V0-V31+FPSR+FPCR (528 bytes, CPACR_EL1.FPEN)";
}
