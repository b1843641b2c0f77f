/* SPDX-License-Identifier: MIT */
/*
 * x86_64 page-table entry bits (Intel SDM vol. 3, 4.5), shared by the EFI loader that
 * builds the boot tables and the kernel that walks and extends them.
 */
#ifndef ARCH_X86_64_X86_PT_H
#define ARCH_X86_64_X86_PT_H

#define X86_PTE_P    (1ULL << 0)  /* present */
#define X86_PTE_W    (1ULL << 1)  /* writable */
#define X86_PTE_U    (1ULL << 2)  /* user accessible */
#define X86_PTE_PWT  (1ULL << 3)  /* write-through; with PCD: PAT entry 3 = UC */
#define X86_PTE_PCD  (1ULL << 4)  /* cache disable */
#define X86_PTE_A    (1ULL << 5)  /* accessed */
#define X86_PTE_D    (1ULL << 6)  /* dirty */
#define X86_PTE_PS   (1ULL << 7)  /* 2 MiB (PD) or 1 GiB (PDPT) page */
#define X86_PTE_G    (1ULL << 8)  /* global */
#define X86_PTE_NX   (1ULL << 63) /* no execute (needs EFER.NXE) */
#define X86_PTE_ADDR 0x000ffffffffff000ULL

#define X86_PAGE_4K (1ULL << 12)
#define X86_PAGE_2M (1ULL << 21)
#define X86_PAGE_1G (1ULL << 30)

/* Index of va in the table at the level whose pages are (1 << shift) bytes. */
#define X86_PT_INDEX(va, shift) (((va) >> (shift)) & 511)

/* Loader -> kernel handoff: rdi = boot_info (direct-map address), rsi = this value. */
#define X86_HANDOFF_MAGIC 0x4b45454c55454649ULL /* "KEELUEFI" */

#endif /* ARCH_X86_64_X86_PT_H */
