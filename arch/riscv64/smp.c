/* SPDX-License-Identifier: MIT */
/*
 * riscv64 CPUs (include/arch/smp.h): tp is the per-CPU pointer, and secondary harts are
 * started through SBI HSM hart_start. Placeholder start until the HSM path lands.
 */
#include <arch/smp.h>
#include <kernel/panic.h>

#include "riscv.h"

void arch_set_this_cpu(struct percpu *pc) {
    __asm__ volatile("mv tp, %0" ::"r"(pc) : "memory");
}

kstatus_t arch_cpu_start(const struct boot_info *bi, struct percpu *pc, uintptr_t stack_top) {
    (void)bi;
    (void)pc;
    (void)stack_top;
    panic("arch_cpu_start: not implemented yet on riscv64");
}
