/* SPDX-License-Identifier: MIT */
/*
 * arch_mm_init on x86_64: move the kernel off the loader's boot tables onto an address
 * space built by the portable VM layer (sections with exact permissions, the direct map
 * of RAM in the largest pages, the device windows), after the CPU set-up the x86 entry
 * format needs (EFER.NXE, PAT entry 1 = WC, CR4.PGE). Also the kernel stacks' guard pages.
 */
#include <arch/mmu.h>
#include <arch/x86_pt.h>
#include <kernel/cmdline.h>
#include <kernel/kprintf.h>
#include <kernel/vm_fault.h>
#include <kernel/vmm.h>

#include "x86.h"

#define CPUID1_EDX_PGE      (1U << 13)
#define CPUID1_EDX_PAT      (1U << 16)
#define CPUID81_EDX_NX      (1U << 20)
#define STACK_GUARDS        4
#define KERNEL_STACK_GUARD  X86_PAGE_4K
#define SELFTEST_DEPTH_STOP 0xffffffffu

/* The guard page below each stack of the image (boot stack, #DF, NMI, #MC). */
static uint64_t stack_guards[STACK_GUARDS];

bool x86_in_stack_guard(uint64_t va) {
    for (unsigned i = 0; i < STACK_GUARDS; i++) {
        if (stack_guards[i] != 0 && va - stack_guards[i] < KERNEL_STACK_GUARD) {
            return true;
        }
    }
    return false;
}

/* What pt_format_x86_64 needs from the CPU: XD honoured, PAT 1 = WC; PGE for VM_GLOBAL. */
static kstatus_t cpu_setup(void) {
    uint32_t r[4];
    bool nx = false;
    x86_cpuid(0x80000000U, 0, r);
    if (r[0] >= 0x80000001U) {
        x86_cpuid(0x80000001U, 0, r);
        nx = (r[3] & CPUID81_EDX_NX) != 0;
    }
    x86_cpuid(1, 0, r);
    if (!nx || !(r[3] & CPUID1_EDX_PAT) || !(r[3] & CPUID1_EDX_PGE)) {
        kprintf("x86_64: the CPU lacks NX, PAT or PGE (CPUID 1 edx %#x): cannot enforce W^X\n",
                r[3]);
        return KEEL_ENOTSUP;
    }
    x86_wrmsr(X86_MSR_EFER, x86_rdmsr(X86_MSR_EFER) | X86_EFER_NXE);
    /* No live mapping selects PAT entry 1 yet (the loader uses 0 and 3), so no alias
     * changes type; the CR3 switch that follows flushes the TLB. */
    x86_wrmsr(X86_MSR_PAT, X86_PAT_KEEL);
    return KEEL_OK;
}

/* Map [start, end) of the kernel image (page aligned by kernel.ld) at its physical home. */
static kstatus_t map_image(struct vm_space *ks, const char *start, const char *end,
                           uint32_t flags) {
    uint64_t pa = x86_kernel_phys + (uint64_t)(start - __kernel_start);
    return vmm_map(ks, VADDR((uintptr_t)start), PADDR(pa), (uint64_t)(end - start),
                   flags | VM_GLOBAL);
}

static bool is_ram_type(uint32_t type) {
    return type == MEM_USABLE || type == MEM_ACPI_RECLAIM || type == MEM_FIRMWARE ||
           type == MEM_ACPI_NVS || type == MEM_KERNEL || type == MEM_INITRD || type == MEM_DTB;
}

static kstatus_t map_direct_range(struct vm_space *ks, uint64_t base, uint64_t end,
                                  uint64_t *mapped) {
    if (end > KEEL_DIRECT_MAP_SIZE) {
        kprintf("x86_64: RAM above the 64 TiB direct map ignored from %#llx\n",
                (unsigned long long)KEEL_DIRECT_MAP_SIZE);
        end = KEEL_DIRECT_MAP_SIZE;
    }
    if (base >= end) {
        return KEEL_OK;
    }
    *mapped += end - base;
    return vmm_map(ks, VADDR(KEEL_DIRECT_MAP_BASE + base), PADDR(base), end - base,
                   VM_READ | VM_WRITE | VM_GLOBAL);
}

/*
 * The direct map: every RAM-like region of the (sorted) map, adjacent ones merged so
 * that vmm_map can use 1 GiB and 2 MiB pages across region boundaries. Reserved ranges
 * and MMIO stay unmapped: devices are reached through arch_mmio_map.
 */
static kstatus_t map_direct(struct vm_space *ks, const struct boot_info *bi, uint64_t *mapped) {
    uint64_t run_base = 0;
    uint64_t run_end = 0;
    for (uint32_t i = 0; i < bi->mem_count; i++) {
        const struct mem_region *r = &bi->mem[i];
        if (!is_ram_type(r->type) || r->size == 0) {
            continue;
        }
        uint64_t base = ALIGN_DOWN(r->base, X86_PAGE_4K);
        uint64_t end = ALIGN_UP(r->base + r->size, X86_PAGE_4K);
        if (run_end != 0 && base <= run_end) {
            run_end = end > run_end ? end : run_end;
            continue;
        }
        kstatus_t st = map_direct_range(ks, run_base, run_end, mapped);
        if (st != KEEL_OK) {
            return st;
        }
        run_base = base;
        run_end = end;
    }
    return map_direct_range(ks, run_base, run_end, mapped);
}

static kstatus_t map_kernel(struct vm_space *ks, const struct boot_info *bi, uint64_t *direct) {
    kstatus_t st = map_image(ks, __text_start, __text_end, VM_READ | VM_EXEC);
    if (st == KEEL_OK) {
        /* .ksyms, .rodata, kbench and ktest */
        st = map_image(ks, __rodata_start, __rodata_end, VM_READ);
    }
    if (st == KEEL_OK) {
        st = map_image(ks, __data_start, __data_end, VM_READ | VM_WRITE);
    }
    const char *stacks[STACK_GUARDS][2] = {
        {__boot_stack_bottom, __boot_stack_top},
        {__ist_df_bottom, __ist_df_top},
        {__ist_nmi_bottom, __ist_nmi_top},
        {__ist_mc_bottom, __ist_mc_top},
    };
    for (unsigned i = 0; i < STACK_GUARDS && st == KEEL_OK; i++) {
        st = map_image(ks, stacks[i][0], stacks[i][1], VM_READ | VM_WRITE);
        stack_guards[i] = (uintptr_t)stacks[i][0] - KERNEL_STACK_GUARD;
    }
    if (st == KEEL_OK) {
        st = map_direct(ks, bi, direct);
    }
    if (st == KEEL_OK) {
        /* The direct-map alias of text and read-only data must not be a way around W^X. */
        st = vmm_protect(ks, VADDR(KEEL_DIRECT_MAP_BASE + x86_kernel_phys),
                         (uint64_t)(__rodata_end - __kernel_start), VM_READ | VM_GLOBAL);
    }
    if (st == KEEL_OK) {
        st = x86_mmio_adopt(ks);
    }
    /* Root entries for every kernel window now, so user spaces created later share them. */
    if (st == KEEL_OK) {
        st = vm_space_preallocate(ks, VADDR(X86_VMALLOC_BASE), X86_VMALLOC_SIZE);
    }
    if (st == KEEL_OK) {
        st = vm_space_preallocate(ks, VADDR(X86_MMIO_WINDOW_BASE), X86_MMIO_WINDOW_SIZE);
    }
    if (st == KEEL_OK) {
        st = vm_space_preallocate(ks, VADDR(X86_SCRATCH_BASE), X86_SCRATCH_SIZE);
    }
    return st;
}

/* "selftest=stack_overflow": recurse until the boot stack's guard page stops it. */
static volatile unsigned overflow_stop = SELFTEST_DEPTH_STOP;

static __noinline unsigned overflow_stack(unsigned depth) {
    volatile uint8_t frame[256];
    frame[0] = (uint8_t)depth;
    if (depth == overflow_stop) {
        return frame[0];
    }
    return overflow_stack(depth + 1) + frame[0];
}

kstatus_t arch_mm_init(const struct boot_info *bi) {
    struct vm_space *ks = NULL;
    uint64_t direct = 0;
    kstatus_t st = cpu_setup();
    if (st == KEEL_OK) {
        st = vm_space_create(&pt_format_x86_64, &x86_tlb_ops, true, NULL, &ks);
    }
    if (st == KEEL_OK) {
        st = map_kernel(ks, bi, &direct);
    }
    if (st != KEEL_OK) {
        kprintf("x86_64: cannot build the kernel address space: error %d\n", st);
        return st;
    }
    /* PGE is still off, so this drops every boot-table translation; enabling PGE after
     * flushes again, and from then on the kernel's global entries survive CR3 loads. */
    x86_write_cr3(ks->root.pa);
    x86_write_cr4(x86_read_cr4() | X86_CR4_PGE);
    vmm_kernel_space = ks;

    for (unsigned i = 0; i < STACK_GUARDS && st == KEEL_OK; i++) {
        st = vm_fault_add_guard(VADDR(stack_guards[i]), KERNEL_STACK_GUARD);
    }
    if (st == KEEL_OK) {
        st = vmalloc_init(VADDR(X86_VMALLOC_BASE), X86_VMALLOC_SIZE);
    }
    if (st != KEEL_OK) {
        return st;
    }
    kprintf("x86_64: kernel address space at %#llx: %llu table pages, direct map %llu MiB\n",
            (unsigned long long)ks->root.pa, (unsigned long long)ks->table_pages,
            (unsigned long long)(direct >> 20));
    if (cmdline_value_is(bi->cmdline, "selftest", "stack_overflow")) {
        kprintf("selftest: overflowing the boot stack on purpose\n");
        kprintf("selftest: survived depth %u\n", overflow_stack(0));
    }
    return KEEL_OK;
}
