/* SPDX-License-Identifier: MIT */
/*
 * riscv64 inline CPU fast paths for include/arch/cpu.h: interrupt masking through
 * sstatus.SIE, the cycle counter, and the frame-record walk of the RISC-V psABI
 * (with -fno-omit-frame-pointer, s0 points just above {prev fp at -16, ra at -8}).
 */
#ifndef ARCH_RISCV64_ARCH_CPU_H
#define ARCH_RISCV64_ARCH_CPU_H

#include <kernel/types.h>

/* True if [va, va+len) is mapped kernel memory outside the MMIO window (mmu.c). */
bool riscv_kernel_range_ok(uintptr_t va, size_t len);

static inline unsigned long arch_irq_save(void) {
    unsigned long old;
    __asm__ volatile("csrrci %0, sstatus, 2" : "=r"(old)::"memory");
    return old & 2;
}

static inline void arch_irq_restore(unsigned long state) {
    if (state & 2) {
        __asm__ volatile("csrsi sstatus, 2" ::: "memory");
    }
}

/*
 * Set at boot by the "icount" command-line word (irq.c): the kernel runs under QEMU 7.2's
 * -icount loop, which runs one vCPU at a time and can starve the hart another one waits
 * for. Spin-waits then yield the hart (riscv_yield) and remote TLB fences avoid SBI RFENCE
 * (tlb.c). docs/boot-riscv64.md, "QEMU -icount with several harts", has the details.
 */
extern bool riscv_icount;
/* wfi with a supervisor software interrupt pending and masked: a yield, never a sleep. */
void riscv_yield(void);

static inline void arch_cpu_relax(void) {
    if (__builtin_expect(riscv_icount, 0)) {
        riscv_yield();
        return;
    }
    /* Zihintpause "pause" (a FENCE hint: a plain fence on harts without the extension). */
    __asm__ volatile(".4byte 0x0100000f" ::: "memory");
}

/*
 * The cycle CSR; OpenSBI opens it to S-mode through mcounteren. Under QEMU TCG it
 * counts host ticks, under -icount exactly one per guest instruction.
 */
static inline uint64_t arch_cycle_counter(void) {
    uint64_t c;
    __asm__ volatile("rdcycle %0" : "=r"(c)::"memory");
    return c;
}

static inline bool arch_frame_step(uintptr_t fp, uintptr_t *next_fp, uintptr_t *ret_addr) {
    if ((fp & 7) != 0 || fp < 16 || !riscv_kernel_range_ok(fp - 16, 16)) {
        return false;
    }
    const uintptr_t *rec = (const uintptr_t *)(fp - 16);
    *next_fp = rec[0];
    *ret_addr = rec[1];
    return true;
}

static inline uintptr_t arch_frame_pointer(void) {
    return (uintptr_t)__builtin_frame_address(0);
}

#endif /* ARCH_RISCV64_ARCH_CPU_H */
