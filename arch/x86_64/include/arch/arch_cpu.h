/* SPDX-License-Identifier: MIT */
/*
 * x86_64 inline fast paths for include/arch/cpu.h: interrupt flag, pause, TSC and the
 * frame-pointer walk (System V frame record: [rbp] = caller's rbp, [rbp+8] = return
 * address).
 */
#ifndef ARCH_X86_64_ARCH_CPU_H
#define ARCH_X86_64_ARCH_CPU_H

#include <kernel/types.h>

#define X86_RFLAGS_IF (1UL << 9)

static inline unsigned long arch_irq_save(void) {
    unsigned long flags;
    __asm__ volatile("pushfq\n\tpopq %0\n\tcli" : "=r"(flags) : : "memory");
    return flags & X86_RFLAGS_IF;
}

static inline void arch_irq_restore(unsigned long state) {
    if (state & X86_RFLAGS_IF) {
        __asm__ volatile("sti" : : : "memory");
    }
}

static inline void arch_cpu_relax(void) {
    __asm__ volatile("pause" : : : "memory");
}

static inline uint64_t arch_cycle_counter(void) {
    uint32_t lo;
    uint32_t hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline uintptr_t arch_frame_pointer(void) {
    return (uintptr_t)__builtin_frame_address(0);
}

/*
 * True if [addr, addr + len) lies in memory the kernel has mapped for sure: the kernel
 * image (which holds the boot and exception stacks) or the direct map of RAM. Lets the
 * backtracer reject garbage frame pointers without faulting. Any context.
 */
bool x86_kernel_readable(uintptr_t addr, size_t len);

static inline bool arch_frame_step(uintptr_t fp, uintptr_t *next_fp, uintptr_t *ret_addr) {
    if ((fp & 7) != 0 || !x86_kernel_readable(fp, 2 * sizeof(uintptr_t))) {
        return false;
    }
    const uintptr_t *frame = (const uintptr_t *)fp;
    *next_fp = frame[0];
    *ret_addr = frame[1];
    return true;
}

#endif /* ARCH_X86_64_ARCH_CPU_H */
