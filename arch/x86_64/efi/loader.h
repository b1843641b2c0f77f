/* SPDX-License-Identifier: MIT */
/*
 * Internals of the Keel EFI loader (BOOTX64.EFI) shared by its files: the ELF checker,
 * the page-table builder and the trampoline. Nothing here calls UEFI, so the checks
 * stay plain C over byte buffers.
 */
#ifndef KEEL_EFI_LOADER_H
#define KEEL_EFI_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 16

/* A PT_LOAD segment that passed the checks. */
struct elf_segment {
    uint64_t vaddr;  /* page aligned, in the kernel image region */
    uint64_t memsz;  /* > 0 */
    uint64_t offset; /* file offset of the filesz bytes to copy */
    uint64_t filesz; /* <= memsz; the rest is zeroed */
    bool writable;
    bool executable;
};

struct elf_image {
    uint64_t entry;
    uint64_t vmin; /* lowest segment address (page aligned) */
    uint64_t vmax; /* end of the highest segment, page aligned up */
    unsigned count;
    struct elf_segment seg[ELF_MAX_SEGMENTS];
};

/*
 * Check that file[0..size) is a kernel we can load: ELF64, little endian, x86_64,
 * ET_EXEC, program headers and segments inside the file, page-aligned non-overlapping
 * PT_LOAD segments in the kernel region, none writable and executable, the entry in an
 * executable segment. Returns NULL and fills *img, or a message saying what is wrong.
 */
const char *elf_check(const uint8_t *file, uint64_t size, struct elf_image *img);

/* Page-table builder: tables come from a zeroed pool of `cap` pages at `base`. */
struct pt_pool {
    uint64_t base; /* physical (= loader virtual: UEFI identity-maps memory) */
    uint64_t used;
    uint64_t cap;
    uint64_t nx; /* X86_PTE_NX, or 0 when the CPU lacks NX */
};

/*
 * Map [va, va + size) to pa with pages of page_size bytes (4 KiB, 2 MiB or 1 GiB; all
 * three addresses and size aligned to it) and the leaf flags. Mapping a page again
 * with the same entry is allowed. Returns NULL or what went wrong (pool exhausted,
 * conflict with an existing mapping).
 */
const char *pt_map(struct pt_pool *pool, uint64_t pml4, uint64_t va, uint64_t pa, uint64_t size,
                   uint64_t page_size, uint64_t flags);

/* Allocate one zeroed table page from the pool; 0 when exhausted. */
uint64_t pt_alloc(struct pt_pool *pool);

/*
 * In trampoline.S: set EFER.NXE (if nxe), CR0.WP, load cr3 and jump to entry with
 * rdi = boot_info, rsi = magic. Its code pages must be identity mapped in the new
 * tables. Interrupts off; never returns.
 */
__attribute__((noreturn)) void keel_efi_enter_kernel(uint64_t cr3, uint64_t bi, uint64_t entry,
                                                     uint64_t magic, uint64_t nxe);
extern const char keel_efi_trampoline_start[], keel_efi_trampoline_end[];

#endif /* KEEL_EFI_LOADER_H */
