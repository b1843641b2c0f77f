/* SPDX-License-Identifier: MIT */
/*
 * HAL contract: the MMU. The portable VM layer (include/kernel/vmm.h) does the page-table
 * walking; an arch supplies its entry format and TLB hooks, and builds the kernel's own
 * address space at boot.
 */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <kernel/boot_info.h>
#include <kernel/types.h>

/*
 * Called by mm_init() once the frame allocator and the heap are up: build the kernel
 * address space with the portable VM layer (kernel sections with exact permissions, the
 * direct map, device windows), switch to it, set vmm_kernel_space and give vmalloc its
 * window. Errors are fatal at boot. Boot CPU only, interrupts masked.
 */
__must_check kstatus_t arch_mm_init(const struct boot_info *bi);

/*
 * Flush [va, va+size) of the kernel address space from this CPU's TLB (size 0: all of
 * it). Run on the other CPUs by tlb_shootdown(). Interrupts masked.
 */
void arch_tlb_flush_local(uint64_t va, uint64_t size);

#include <arch/arch_mmu.h>

#endif /* ARCH_MMU_H */
