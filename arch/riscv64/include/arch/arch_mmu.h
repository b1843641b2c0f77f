/* SPDX-License-Identifier: MIT */
/*
 * riscv64 kernel address-space layout. One layout for Sv39 and Sv48: every kernel
 * address below lies in the top 256 GiB, which both modes reach through one level-2
 * table (the Sv39 root, slot 511 of the Sv48 root). See docs/boot-riscv64.md.
 */
#ifndef ARCH_RISCV64_ARCH_MMU_H
#define ARCH_RISCV64_ARCH_MMU_H

/* All RAM, mapped R/W at its physical address plus this base (252 GiB at most). */
#define KEEL_DIRECT_MAP_BASE 0xffffffc000000000ULL
/* The direct map ends where the vmalloc window begins. */
#define KEEL_DIRECT_MAP_SIZE (KEEL_VMALLOC_BASE - KEEL_DIRECT_MAP_BASE)
/*
 * vmalloc()'s window (kernel stacks and other virtually contiguous memory): 2 GiB right
 * below the kernel image. Its level-1 tables are preallocated at boot (one page per GiB
 * under Sv39) so that user spaces, which copy the kernel's root entries, see it.
 */
#define KEEL_VMALLOC_BASE    0xffffffff00000000ULL
#define KEEL_VMALLOC_SIZE    (KEEL_KERNEL_BASE - KEEL_VMALLOC_BASE)
/* The kernel image, linked here and loaded (2 MiB aligned) wherever firmware put it. */
#define KEEL_KERNEL_BASE     0xffffffff80000000ULL
/* Device windows handed out by arch_mmio_map(): the last 1 GiB of the address space. */
#define KEEL_MMIO_BASE       0xffffffffc0000000ULL
#define KEEL_MMIO_SIZE       0x40000000ULL

#endif /* ARCH_RISCV64_ARCH_MMU_H */
