/* SPDX-License-Identifier: MIT */
/*
 * x86_64 CPUs: the per-CPU pointer in IA32_GS_BASE, idling with sti; hlt, and starting
 * the other CPUs (INIT-SIPI-SIPI through the local APIC).
 */
#include <arch/irq.h>
#include <arch/smp.h>
#include <kernel/panic.h>

#include "x86.h"

#define X86_MSR_GS_BASE 0xc0000101U

void arch_set_this_cpu(struct percpu *pc) {
    x86_wrmsr(X86_MSR_GS_BASE, (uint64_t)(uintptr_t)pc);
}

void arch_cpu_idle(void) {
    /* sti holds interrupts off for one more instruction, so no wake-up slips in before hlt. */
    __asm__ volatile("sti\n\thlt\n\tcli" : : : "memory");
}

kstatus_t arch_cpu_start(const struct boot_info *bi, struct percpu *pc, uintptr_t stack_top) {
    (void)bi;
    (void)pc;
    (void)stack_top;
    panic("arch_cpu_start: not implemented yet on x86_64");
}
