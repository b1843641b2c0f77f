/* SPDX-License-Identifier: MIT */
/*
 * AArch64 SMP bring-up through PSCI CPU_ON. Placeholder body until it lands.
 */
#include <arch/smp.h>
#include <kernel/panic.h>

#include "aarch64.h"

kstatus_t arch_cpu_start(const struct boot_info *bi, struct percpu *pc, uintptr_t stack_top) {
    (void)bi;
    (void)pc;
    (void)stack_top;
    panic("arch_cpu_start: not implemented yet on aarch64");
}
