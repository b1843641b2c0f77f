/* SPDX-License-Identifier: MIT */
/*
 * AArch64 kernel address-space layout (48-bit VAs, TTBR1_EL1 holds the upper half).
 * docs/boot-aarch64.md has the whole table; the portable code needs the two bases.
 * Plain numbers (no C types) so the entry assembly can include this too.
 */
#ifndef ARCH_ARCH_MMU_H
#define ARCH_ARCH_MMU_H

/* Physical address pa is at KEEL_DIRECT_MAP_BASE + pa for all RAM (DTB memory nodes). */
#define KEEL_DIRECT_MAP_BASE 0xffff000000000000
/* The kernel image is linked here; it runs wherever booti put it physically. */
#define KEEL_KERNEL_BASE     0xffffffff80000000
/*
 * vmalloc() window: one 512 GiB root-table slot (TTBR1 level-0 entry 510), whose level-1
 * table arch_mm_init() preallocates. Below the device window, above the unmapped hole.
 */
#define KEEL_VMALLOC_BASE    0xffffff0000000000
#define KEEL_VMALLOC_END     0xffffff8000000000
/* arch_mmio_map() hands out addresses from [KEEL_MMIO_BASE, KEEL_MMIO_END). */
#define KEEL_MMIO_BASE       0xfffffffe00000000
#define KEEL_MMIO_END        0xffffffff80000000
/* Physical addresses the direct map can cover: 128 TiB, below the unmapped hole. */
#define KEEL_DIRECT_MAP_MAX  0x0000800000000000

#endif /* ARCH_ARCH_MMU_H */
