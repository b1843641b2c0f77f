/* SPDX-License-Identifier: MIT */
/*
 * HAL contract: CPUs. Each CPU reaches its struct percpu in O(1) (x86 GS base, AArch64
 * TPIDR_EL1, RISC-V tp), and the boot CPU starts the others through the firmware's
 * method (x86 INIT-SIPI-SIPI, PSCI CPU_ON, SBI HSM hart_start).
 */
#ifndef ARCH_SMP_H
#define ARCH_SMP_H

#include <kernel/boot_info.h>
#include <kernel/types.h>

struct percpu; /* include/kernel/percpu.h */

/* This CPU's struct percpu (inline in <arch/arch_smp.h>). Any context, after bring-up. */
static inline struct percpu *arch_this_cpu(void);

/* Make pc this CPU's struct percpu. Once per CPU, at bring-up, interrupts masked. */
void arch_set_this_cpu(struct percpu *pc);

/*
 * Start the CPU bi->cpus[pc->index] (hardware id pc->hwid). It must come up in the kernel
 * address space with its vectors installed, its stack at stack_top, arch_set_this_cpu(pc)
 * done and interrupts masked, and call smp_secondary_main(pc), which never returns.
 * Returns once the firmware or the hardware accepted the request; the portable side then
 * waits (bounded) for the CPU to report online. KEEL_ENOTSUP: no start method known;
 * KEEL_EBUSY: the firmware says it is already on; KEEL_EINVAL: the firmware rejected the
 * id or address; KEEL_ENOMEM: no memory for the CPU's arch state (e.g. its overflow stack).
 * Boot CPU, after mm_init and arch_irq_init.
 */
__must_check kstatus_t arch_cpu_start(const struct boot_info *bi, struct percpu *pc,
                                      uintptr_t stack_top);

#include <arch/arch_smp.h>

#endif /* ARCH_SMP_H */
