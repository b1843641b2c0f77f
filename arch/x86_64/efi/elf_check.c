/* SPDX-License-Identifier: MIT */
/*
 * ELF64 checks for the kernel file the loader reads from disk. The file is untrusted
 * input: every offset and size is checked against the file and for overflow before
 * use, and the segments must fit the layout the page tables assume.
 */
#include <arch/arch_mmu.h>

#include "loader.h"

#define EI_NIDENT   16
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define EV_CURRENT  1
#define ET_EXEC     2
#define EM_X86_64   62
#define PT_LOAD     1
#define PT_DYNAMIC  2
#define PT_INTERP   3
#define PT_TLS      7
#define PF_X        1
#define PF_W        2
#define PAGE        4096ULL
#define MAX_PHDRS   64
#define MAX_SPAN    (1ULL << 30) /* the kernel image region is 2 GiB; 1 GiB is plenty */

struct elf64_ehdr {
    uint8_t e_ident[EI_NIDENT];
    uint16_t e_type;
    uint16_t e_machine;
    uint32_t e_version;
    uint64_t e_entry;
    uint64_t e_phoff;
    uint64_t e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize;
    uint16_t e_phentsize;
    uint16_t e_phnum;
    uint16_t e_shentsize;
    uint16_t e_shnum;
    uint16_t e_shstrndx;
};

struct elf64_phdr {
    uint32_t p_type;
    uint32_t p_flags;
    uint64_t p_offset;
    uint64_t p_vaddr;
    uint64_t p_paddr;
    uint64_t p_filesz;
    uint64_t p_memsz;
    uint64_t p_align;
};

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header");

static void copy_bytes(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++) {
        d[i] = s[i];
    }
}

static const char *check_header(const uint8_t *file, uint64_t size, struct elf64_ehdr *eh) {
    if (size < sizeof(*eh)) {
        return "file too small for an ELF header";
    }
    copy_bytes(eh, file, sizeof(*eh));
    if (eh->e_ident[0] != 0x7f || eh->e_ident[1] != 'E' || eh->e_ident[2] != 'L' ||
        eh->e_ident[3] != 'F') {
        return "not an ELF file (bad magic)";
    }
    if (eh->e_ident[4] != ELFCLASS64) {
        return "not a 64-bit ELF file";
    }
    if (eh->e_ident[5] != ELFDATA2LSB || eh->e_ident[6] != EV_CURRENT) {
        return "not a little-endian ELF version 1 file";
    }
    if (eh->e_machine != EM_X86_64) {
        return "ELF machine is not x86_64";
    }
    if (eh->e_type != ET_EXEC || eh->e_version != EV_CURRENT) {
        return "ELF file is not a static executable (ET_EXEC)";
    }
    if (eh->e_phentsize != sizeof(struct elf64_phdr) || eh->e_phnum == 0 ||
        eh->e_phnum > MAX_PHDRS) {
        return "bad ELF program header size or count";
    }
    uint64_t ph_bytes = (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr);
    if (eh->e_phoff > size || ph_bytes > size - eh->e_phoff) {
        return "ELF program headers lie outside the file";
    }
    return NULL;
}

static const char *check_segment(const struct elf64_phdr *ph, uint64_t size) {
    if (ph->p_filesz > ph->p_memsz) {
        return "ELF segment has filesz > memsz";
    }
    if (ph->p_offset > size || ph->p_filesz > size - ph->p_offset) {
        return "ELF segment data lies outside the file";
    }
    if (ph->p_vaddr < KEEL_KERNEL_BASE || ph->p_memsz > ~0ULL - ph->p_vaddr ||
        ph->p_vaddr + ph->p_memsz > ~0ULL - PAGE + 1) {
        return "ELF segment outside the kernel image region (0xffffffff80000000+)";
    }
    if (ph->p_align > 1 && ((ph->p_align & (ph->p_align - 1)) != 0 ||
                            ph->p_vaddr % ph->p_align != ph->p_offset % ph->p_align)) {
        return "ELF segment alignment is inconsistent";
    }
    if (ph->p_vaddr % PAGE != 0) {
        return "ELF segment is not page aligned";
    }
    if ((ph->p_flags & PF_W) && (ph->p_flags & PF_X)) {
        return "ELF segment is both writable and executable";
    }
    return NULL;
}

const char *elf_check(const uint8_t *file, uint64_t size, struct elf_image *img) {
    struct elf64_ehdr eh;
    const char *why = check_header(file, size, &eh);
    if (why != NULL) {
        return why;
    }

    img->count = 0;
    img->entry = eh.e_entry;
    img->vmin = ~0ULL;
    img->vmax = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        struct elf64_phdr ph;
        copy_bytes(&ph, file + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
        if (ph.p_type == PT_DYNAMIC || ph.p_type == PT_INTERP || ph.p_type == PT_TLS) {
            return "ELF file needs dynamic linking or TLS";
        }
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0) {
            continue;
        }
        why = check_segment(&ph, size);
        if (why != NULL) {
            return why;
        }
        if (img->count == ELF_MAX_SEGMENTS) {
            return "too many ELF segments";
        }
        uint64_t end = (ph.p_vaddr + ph.p_memsz + PAGE - 1) & ~(PAGE - 1);
        for (unsigned j = 0; j < img->count; j++) {
            const struct elf_segment *o = &img->seg[j];
            uint64_t oend = (o->vaddr + o->memsz + PAGE - 1) & ~(PAGE - 1);
            if (ph.p_vaddr < oend && o->vaddr < end) {
                return "ELF segments overlap";
            }
        }
        struct elf_segment *s = &img->seg[img->count++];
        s->vaddr = ph.p_vaddr;
        s->memsz = ph.p_memsz;
        s->offset = ph.p_offset;
        s->filesz = ph.p_filesz;
        s->writable = (ph.p_flags & PF_W) != 0;
        s->executable = (ph.p_flags & PF_X) != 0;
        img->vmin = ph.p_vaddr < img->vmin ? ph.p_vaddr : img->vmin;
        img->vmax = end > img->vmax ? end : img->vmax;
    }
    if (img->count == 0) {
        return "ELF file has no loadable segment";
    }
    if (img->vmax - img->vmin > MAX_SPAN) {
        return "ELF image spans more than 1 GiB";
    }
    for (unsigned j = 0; j < img->count; j++) {
        const struct elf_segment *s = &img->seg[j];
        if (s->executable && img->entry >= s->vaddr && img->entry - s->vaddr < s->filesz) {
            return NULL;
        }
    }
    return "ELF entry point is not inside an executable segment";
}
