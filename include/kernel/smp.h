/* SPDX-License-Identifier: MIT */
/*
 * Bringing the other CPUs up, and running functions on them: smp_call_function() over
 * IPIs, and TLB shootdown on top of it for the memory layer.
 */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <kernel/boot_info.h>
#include <kernel/percpu.h>
#include <kernel/sched.h>

/*
 * Start every CPU in bi->cpus other than the boot CPU and wait (bounded) for each to come
 * online; prints "CPUs online: N". A CPU that does not come up is reported and left out.
 * Returns the number online. Boot CPU, after thread_init.
 */
unsigned smp_boot(const struct boot_info *bi);

/* Entry of a secondary CPU from arch code (see arch_cpu_start). Never returns. */
__noreturn void smp_secondary_main(struct percpu *pc);

/*
 * Run fn(arg) on every online CPU in mask (the caller's own included if set), from an
 * IPI; with wait, return only after all have finished. Any context with interrupts
 * enabled, or the boot path before other CPUs are online. fn may also run from a CPU's
 * spin-wait (smp_poll_calls), so it must take no lock such a wait may be for (vm_space).
 */
void smp_call_function(cpumask_t mask, void (*fn)(void *arg), void *arg, bool wait);

/*
 * Flush [va, va+size) of the kernel address space (or everything with size 0) from the
 * TLBs of every other online CPU and wait for them: the arch's vm_tlb_ops.flush calls this
 * after its local flush when more than one CPU is online.
 */
void tlb_shootdown(uint64_t va, uint64_t size);

/* The CPUs online now (bit n = percpu index n). Any context. */
cpumask_t smp_online_mask(void);

/* Shootdown requests CPU cpu has served (its arch_tlb_flush_local runs), for tests. */
uint64_t smp_tlb_shootdowns_served(unsigned cpu);

/* Run the cross-CPU calls queued for this CPU (the IPI_CALL handler). IRQs masked. */
void smp_handle_call_ipi(void);

/*
 * Run the cross-CPU calls queued for this CPU, if any (one relaxed load when there are
 * none). For spin-waits with interrupts masked on a lock whose holder may be waiting for
 * this CPU's answer, e.g. a TLB shootdown under the kernel space lock
 * (spin_lock_irqsave_poll). IRQs masked; the calls run must not need what the caller holds.
 */
void smp_poll_calls(void);

#endif /* KERNEL_SMP_H */
