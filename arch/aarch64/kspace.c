/* SPDX-License-Identifier: MIT */
/*
 * The kernel's own address space on AArch64. Once the frame allocator and the heap are
 * up, arch_mm_init() builds it with the portable VM layer (pt_format_aarch64): kernel
 * sections with exact permissions, the direct map of RAM, the device windows; then moves
 * TTBR1_EL1 onto it. Also the TLB maintenance every address space uses.
 */
#include <arch/cpu.h>
#include <arch/mmu.h>
#include <kernel/kprintf.h>
#include <kernel/pte.h>
#include <kernel/vm_fault.h>
#include <kernel/vmm.h>

#include "aarch64.h"

#define TLBI_VA_MASK ((1ULL << 44) - 1) /* TLBI operand bits 43:0 hold VA[55:12] */
#define TLBI_ASID(a) ((uint64_t)((a)&0xffff) << 48)

/*
 * vm_tlb_ops.flush: one entry (leaf or table) covering [va, va + size) was removed or
 * changed (break-before-make). DSB ISHST makes the cleared entry visible to walkers; one
 * TLBI VAE1IS at any address inside drops a whole block and the walk-cache entries used
 * to translate that address (Arm ARM D8.13); DSB ISH waits for it, ISB resynchronises
 * this CPU. That covers a 4 KiB or 2 MiB leaf and a removed last-level table (its leaves
 * were flushed when they went). A 1 GiB entry may have been a table with tables below,
 * whose walk-cache entries other addresses used: everything of the space goes (kernel:
 * VMALLE1IS; user: ASIDE1IS). Kernel entries are global; user spaces are tagged with
 * as->arch_tag (0 until ASIDs exist). SMP: the IS (inner shareable) forms are broadcast
 * by the hardware to every CPU, so no IPI shootdown is needed; the scheduler issue adds
 * ASID allocation (arch_tag) and an ASIDE1IS on ASID reuse, here.
 */
static void tlb_flush(struct vm_space *as, vaddr_t va, uint64_t size) {
    uint64_t asid = TLBI_ASID(as->kernel ? 0 : as->arch_tag);
    if (size <= PT_LEVEL_SIZE(1)) {
        uint64_t op = ((va.va >> PAGE_SHIFT) & TLBI_VA_MASK) | asid;
        __asm__ volatile("dsb ishst\n\t"
                         "tlbi vae1is, %0\n\t"
                         "dsb ish\n\t"
                         "isb" ::"r"(op)
                         : "memory");
    } else if (as->kernel) {
        __asm__ volatile("dsb ishst\n\ttlbi vmalle1is\n\tdsb ish\n\tisb" ::: "memory");
    } else {
        __asm__ volatile("dsb ishst\n\ttlbi aside1is, %0\n\tdsb ish\n\tisb" ::"r"(asid) : "memory");
    }
}

/* vm_tlb_ops.sync: invalid-to-valid entries need no TLBI, only to reach the walker. */
static void tlb_sync(struct vm_space *as) {
    (void)as;
    __asm__ volatile("dsb ishst\n\tisb" ::: "memory");
}

const struct vm_tlb_ops aarch64_tlb_ops = {.flush = tlb_flush, .sync = tlb_sync};

/* Map [start, end) of the kernel image at its link address with flags. */
static kstatus_t map_image_part(struct vm_space *ks, const char *start, const char *end,
                                uint32_t flags) {
    if (end <= start) {
        return KEEL_OK;
    }
    return vmm_map(ks, VADDR(start), PADDR(aarch64_kimg_to_phys(start)), (uint64_t)(end - start),
                   flags);
}

/*
 * The image section by section (kernel.ld): text R-X, .ksyms/.rodata/ktest/kbench R,
 * .data/.bss RW, the overflow and boot stacks RW; the guard pages below the two stacks
 * and the alignment padding before the boot stack's guard stay unmapped.
 */
static kstatus_t map_image(struct vm_space *ks) {
    static const uint32_t rx = VM_READ | VM_EXEC | VM_GLOBAL;
    static const uint32_t ro = VM_READ | VM_GLOBAL;
    static const uint32_t rw = VM_READ | VM_WRITE | VM_GLOBAL;
    kstatus_t st = map_image_part(ks, __kernel_start, __text_end, rx);

    if (st == KEEL_OK) {
        st = map_image_part(ks, __text_end, __rodata_end, ro);
    }
    if (st == KEEL_OK) {
        st = map_image_part(ks, __rodata_end, __overflow_stack_guard, rw);
    }
    if (st == KEEL_OK) {
        st = map_image_part(ks, __overflow_stack_bottom, __overflow_stack_top, rw);
    }
    if (st == KEEL_OK) {
        st = map_image_part(ks, __boot_stack_bottom, __boot_stack_top, rw);
    }
    return st;
}

/* True when [base, base + size) lies inside one direct-mapped RAM range. */
static bool in_ram(uint64_t base, uint64_t size) {
    const struct aarch64_range *r;
    unsigned n = aarch64_ram_ranges(&r);
    for (unsigned i = 0; i < n; i++) {
        if (base >= r[i].start && base + size <= r[i].end) {
            return true;
        }
    }
    return false;
}

/* Direct-map [start, end) with flags (nothing when empty). */
static kstatus_t map_direct_part(struct vm_space *ks, uint64_t start, uint64_t end,
                                 uint32_t flags) {
    if (end <= start) {
        return KEEL_OK;
    }
    return vmm_map(ks, VADDR(KEEL_DIRECT_MAP_BASE + start), PADDR(start), end - start, flags);
}

/*
 * The direct map: every RAM range the boot code found (contiguous /memory ranges merged,
 * so vmm_map uses 1 GiB and 2 MiB blocks wherever alignment allows), RW, never X. The
 * alias of the image's text and read-only data is read-only too, so code and constants
 * cannot be changed behind their own mappings' backs. A DTB or initrd a loader put
 * outside RAM gets its pages mapped read-only there too.
 */
static kstatus_t map_direct(struct vm_space *ks, const struct boot_info *bi) {
    static const uint32_t rw = VM_READ | VM_WRITE | VM_GLOBAL;
    static const uint32_t ro = VM_READ | VM_GLOBAL;
    uint64_t ro_start = aarch64_kimg_to_phys(__kernel_start);
    uint64_t ro_end = aarch64_kimg_to_phys(__rodata_end);
    const struct aarch64_range *r;
    unsigned n = aarch64_ram_ranges(&r);
    kstatus_t st = KEEL_OK;

    for (unsigned i = 0; i < n && st == KEEL_OK; i++) {
        uint64_t a = MAX(r[i].start, MIN(ro_start, r[i].end));
        uint64_t b = MAX(a, MIN(ro_end, r[i].end));
        st = map_direct_part(ks, r[i].start, a, rw);
        if (st == KEEL_OK) {
            st = map_direct_part(ks, a, b, ro);
        }
        if (st == KEEL_OK) {
            st = map_direct_part(ks, b, r[i].end, rw);
        }
    }
    for (uint32_t i = 0; i < bi->mem_count && st == KEEL_OK; i++) {
        const struct mem_region *m = &bi->mem[i];
        if ((m->type != MEM_DTB && m->type != MEM_INITRD) || in_ram(m->base, m->size)) {
            continue;
        }
        uint64_t start = ALIGN_DOWN(m->base, (uint64_t)PAGE_SIZE);
        uint64_t end = ALIGN_UP(m->base + m->size, (uint64_t)PAGE_SIZE);
        for (uint64_t pa = start; pa < end && pa < KEEL_DIRECT_MAP_MAX && st == KEEL_OK;
             pa += PAGE_SIZE) {
            if (vmm_query(ks, VADDR(KEEL_DIRECT_MAP_BASE + pa), NULL, NULL, NULL) != KEEL_OK) {
                st = vmm_map(ks, VADDR(KEEL_DIRECT_MAP_BASE + pa), PADDR(pa), PAGE_SIZE,
                             VM_READ | VM_GLOBAL);
            }
        }
    }
    return st;
}

static kstatus_t build(struct vm_space *ks, const struct boot_info *bi) {
    kstatus_t st = map_image(ks);
    if (st == KEEL_OK) {
        st = map_direct(ks, bi);
    }
    if (st == KEEL_OK) {
        st = aarch64_mmio_carry_over(ks);
    }
    if (st == KEEL_OK) {
        /* Split roots (TTBR0/TTBR1): nothing shares this root, but the window's level-1
         * table up front keeps vmalloc from allocating one on its first call. */
        st = vm_space_preallocate(ks, VADDR(KEEL_VMALLOC_BASE),
                                  KEEL_VMALLOC_END - KEEL_VMALLOC_BASE);
    }
    return st;
}

kstatus_t arch_mm_init(const struct boot_info *bi) {
    struct vm_space *ks;
    kstatus_t st = vm_space_create(&pt_format_aarch64, &aarch64_tlb_ops, true, NULL, &ks);
    if (st != KEEL_OK) {
        return st;
    }
    st = build(ks, bi);
    if (st != KEEL_OK) {
        kprintf("mm: cannot build the kernel address space: error %d\n", st);
        vm_space_destroy(ks);
        return st;
    }

    unsigned long irq = arch_irq_save();
    aarch64_switch_ttbr1(ks->root.pa, KEEL_KERNEL_BASE - aarch64_kimg_to_phys(__kernel_start));
    aarch64_drop_identity_map();
    aarch64_early_tables_retired();
    vmm_kernel_space = ks;
    arch_irq_restore(irq);

    /* The early tables stay where they are: part of the image's .bss (MEM_KERNEL). */
    st = vm_fault_add_guard(VADDR(__boot_stack_guard), PAGE_SIZE);
    if (st == KEEL_OK) {
        st = vm_fault_add_guard(VADDR(__overflow_stack_guard), PAGE_SIZE);
    }
    if (st == KEEL_OK) {
        st = vmalloc_init(VADDR(KEEL_VMALLOC_BASE), KEEL_VMALLOC_END - KEEL_VMALLOC_BASE);
    }
    if (st == KEEL_OK) {
        kprintf("MMU: kernel address space on TTBR1 (root %#llx, %llu table pages)\n",
                (unsigned long long)ks->root.pa, (unsigned long long)ks->table_pages);
    }
    return st;
}
