/* SPDX-License-Identifier: MIT */
/*
 * Physical <-> kernel-virtual conversion through the direct map of all RAM. The arch
 * supplies KEEL_DIRECT_MAP_BASE in <arch/arch_mmu.h>; everything else is portable, so
 * the heap and the page-table walker reach physical memory the same way on every arch
 * (and on the host, where the fake HAL points the "direct map" at a host arena).
 */
#ifndef KERNEL_VM_H
#define KERNEL_VM_H

#include <arch/arch_mmu.h>
#include <kernel/types.h>

/* Kernel pointer to physical address pa (direct map). Any context. */
static inline void *phys_to_virt(paddr_t pa) {
    return (void *)(uintptr_t)((uintptr_t)KEEL_DIRECT_MAP_BASE + (uintptr_t)pa.pa);
}

/* Physical address of a direct-map pointer (not of kernel-image or vmalloc addresses). */
static inline paddr_t virt_to_phys(const void *p) {
    return PADDR((uintptr_t)p - (uintptr_t)KEEL_DIRECT_MAP_BASE);
}

#endif /* KERNEL_VM_H */
