/* SPDX-License-Identifier: MIT */
/*
 * riscv64 kernel address-space layout (Sv39, also valid under Sv48: every kernel
 * address below lies in the top 256 GiB, which both modes reach through the same
 * level-2 table). See docs/boot-riscv64.md for the table.
 */
#ifndef ARCH_RISCV64_ARCH_MMU_H
#define ARCH_RISCV64_ARCH_MMU_H

/* All RAM, mapped R/W at its physical address plus this base (254 GiB at most). */
#define KEEL_DIRECT_MAP_BASE 0xffffffc000000000ULL
/* The direct map ends where the kernel image region begins. */
#define KEEL_DIRECT_MAP_SIZE (KEEL_KERNEL_BASE - KEEL_DIRECT_MAP_BASE)
/* The kernel image, linked here and loaded (2 MiB aligned) wherever firmware put it. */
#define KEEL_KERNEL_BASE     0xffffffff80000000ULL
/* Device windows handed out by arch_mmio_map(): the last 1 GiB of the address space. */
#define KEEL_MMIO_BASE       0xffffffffc0000000ULL

#endif /* ARCH_RISCV64_ARCH_MMU_H */
