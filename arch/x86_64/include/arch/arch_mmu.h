/* SPDX-License-Identifier: MIT */
/*
 * x86_64 kernel address-space layout (4-level paging, 48-bit virtual addresses). The
 * EFI loader builds the boot page tables to this layout; arch_mm_init (kspace.c) then
 * rebuilds it with the portable VM layer. docs/boot-x86_64.md and docs/memory.md have
 * the table. Plain macros so the loader can include it too.
 */
#ifndef ARCH_X86_64_ARCH_MMU_H
#define ARCH_X86_64_ARCH_MMU_H

/* All RAM at KEEL_DIRECT_MAP_BASE + physical address (the boot tables also map MMIO
 * holes below 4 GiB; the kernel's own tables map only RAM). */
#define KEEL_DIRECT_MAP_BASE 0xffff800000000000ULL /* PML4 slot 256 */
#define KEEL_DIRECT_MAP_SIZE 0x0000400000000000ULL /* 64 TiB: slots 256..383 */

/* vmalloc() areas, each followed by an unmapped guard page (PML4 slot 384). */
#define X86_VMALLOC_BASE 0xffffc00000000000ULL
#define X86_VMALLOC_SIZE 0x0000008000000000ULL /* 512 GiB: the whole slot */

/* Never mapped: arch_unmapped_address() points here (PML4 slot 508). */
#define X86_GUARD_BASE 0xfffffe0000000000ULL

/* arch_mmio_map() windows: 4 KiB uncached, never-executable pages (PML4 slot 509). */
#define X86_MMIO_WINDOW_BASE 0xfffffe8000000000ULL
#define X86_MMIO_WINDOW_SIZE 0x0000000040000000ULL /* 1 GiB used of the slot */

/* Scratch addresses for the self tests' map/unmap/protect checks (PML4 slot 510). */
#define X86_SCRATCH_BASE 0xffffff0000000000ULL
#define X86_SCRATCH_SIZE 0x0000000040000000ULL /* 1 GiB */

/* The kernel image, linked here (the top 2 GiB; -mcmodel=kernel). */
#define KEEL_KERNEL_BASE 0xffffffff80000000ULL

#endif /* ARCH_X86_64_ARCH_MMU_H */
