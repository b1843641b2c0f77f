/* SPDX-License-Identifier: MIT */
/*
 * riscv64 arch_mm_init(): moves the kernel from entry.S's boot tables (one RWX mapping
 * of the image) onto an address space built by the portable VM layer: image sections
 * with exact permissions and unmapped guard pages below the stacks, the direct map of
 * RAM (the image's own alias read-only), the device windows, then the satp switch.
 */
#include <arch/mmu.h>
#include <kernel/cmdline.h>
#include <kernel/kprintf.h>
#include <kernel/vm_fault.h>
#include <kernel/vmm.h>

#include "riscv.h"

#define K_TEXT (VM_READ | VM_EXEC | VM_GLOBAL)
#define K_RO   (VM_READ | VM_GLOBAL)
#define K_RW   (VM_READ | VM_WRITE | VM_GLOBAL)

/* Map the image pages covering [start, end) at their link addresses. */
static kstatus_t map_image(struct vm_space *ks, const char *start, const char *end,
                           uint32_t flags) {
    uintptr_t s = ALIGN_DOWN((uintptr_t)start, PAGE_SIZE);
    uintptr_t e = ALIGN_UP((uintptr_t)end, PAGE_SIZE);

    if (e <= s) {
        return KEEL_OK;
    }
    return vmm_map(ks, VADDR(s), PADDR(kernel_virt_to_phys((const void *)s)), e - s, flags);
}

/* Image sections: text R-X, ksyms/rodata/ktest/kbench R, data/bss RW minus the guards. */
static kstatus_t map_kernel_image(struct vm_space *ks) {
    kstatus_t st = map_image(ks, _kernel_start, _text_end, K_TEXT);
    if (st == KEEL_OK) {
        st = map_image(ks, _ro_start, _ro_end, K_RO);
    }
    if (st == KEEL_OK) {
        st = map_image(ks, _data_start, _boot_stack_guard, K_RW);
    }
    if (st == KEEL_OK) {
        st = map_image(ks, _boot_stack_bottom, _overflow_stack_guard, K_RW);
    }
    if (st == KEEL_OK) {
        st = map_image(ks, _overflow_stack_bottom, _kernel_end, K_RW);
    }
    return st;
}

/* One run of RAM into the direct map, rounded out to 2 MiB so large pages fit. */
static kstatus_t direct_map_run(uint64_t base, uint64_t size, void *ctx) {
    struct vm_space *ks = ctx;
    uint64_t lo = ALIGN_DOWN(base, SZ_2M);
    uint64_t hi = ALIGN_UP(base + size, SZ_2M);

    if (hi > KEEL_DIRECT_MAP_SIZE) {
        return KEEL_ERANGE;
    }
    return vmm_map(ks, VADDR(KEEL_DIRECT_MAP_BASE + lo), PADDR(lo), hi - lo, K_RW);
}

static kstatus_t map_direct(struct vm_space *ks, const struct boot_info *bi) {
    kstatus_t st = riscv_ram_runs(bi, direct_map_run, ks);
    if (st != KEEL_OK) {
        return st;
    }
    /* The direct-map alias of text and rodata: read-only, so no alias writes code. */
    uint64_t ro_len = (uint64_t)(_ro_end - _kernel_start);
    return vmm_protect(ks, VADDR(KEEL_DIRECT_MAP_BASE + riscv_kernel_phys), ro_len, K_RO);
}

/* Sv48 unless the hart lacks it or "mmu=sv39" asks; Svpbmt when listed and working. */
static const struct pt_format *pick_format(const struct boot_info *bi, bool *probe_ok) {
    bool sv39 = riscv_satp_mode == SATP_MODE_SV39 || cmdline_value_is(bi->cmdline, "mmu", "sv39");

    /* Probe only what the device tree claims: other vendors give bits 63:59 meanings. */
    *probe_ok = riscv_dt_svpbmt && riscv_probe_svpbmt();
    if (sv39) {
        return *probe_ok ? &pt_format_sv39_svpbmt : &pt_format_sv39;
    }
    return *probe_ok ? &pt_format_sv48_svpbmt : &pt_format_sv48;
}

/* Load ks into satp: mode from its format, then drop every cached translation. */
static void switch_to(const struct vm_space *ks) {
    uint64_t mode = ks->fmt->levels == 3 ? SATP_MODE_SV39 : SATP_MODE_SV48;

    __asm__ volatile("sfence.vma" ::: "memory");
    csr_write(satp, (mode << SATP_MODE_SHIFT) | (ks->root.pa >> PAGE_SHIFT));
    __asm__ volatile("sfence.vma" ::: "memory");
    riscv_satp_mode = mode;
}

/* "selftest=stack_overflow": recurse until the boot stack runs into its guard page. */
static __noinline uint64_t overflow_stack(uint64_t depth) {
    volatile uint64_t pad[32];

    pad[0] = depth;
    if (depth > (1u << 20)) { /* never: 16 KiB of stack holds a few dozen frames */
        return pad[0];
    }
    return overflow_stack(depth + 1) + pad[0];
}

kstatus_t arch_mm_init(const struct boot_info *bi) {
    bool svpbmt;
    const struct pt_format *fmt = pick_format(bi, &svpbmt);
    struct vm_space *ks;

    kstatus_t st = vm_space_create(fmt, &riscv_tlb_ops, true, NULL, &ks);
    if (st != KEEL_OK) {
        return st;
    }
    st = map_kernel_image(ks);
    if (st == KEEL_OK) {
        st = map_direct(ks, bi);
    }
    if (st == KEEL_OK) {
        st = riscv_mmio_replay(ks);
    }
    if (st == KEEL_OK) {
        /* Every root entry from vmalloc to the top, so user spaces share them. */
        st = vm_space_preallocate(ks, VADDR(KEEL_VMALLOC_BASE), 0 - KEEL_VMALLOC_BASE);
    }
    if (st != KEEL_OK) {
        vm_space_destroy(ks);
        return st;
    }
    switch_to(ks);
    vmm_kernel_space = ks;
    st = vm_fault_add_guard(VADDR(_boot_stack_guard), PAGE_SIZE);
    if (st == KEEL_OK) {
        st = vm_fault_add_guard(VADDR(_overflow_stack_guard), PAGE_SIZE);
    }
    if (st == KEEL_OK) {
        st = vmalloc_init(VADDR(KEEL_VMALLOC_BASE), KEEL_VMALLOC_SIZE);
    }
    if (st != KEEL_OK) {
        return st;
    }
    kprintf("Paging: %s (Svpbmt in the device tree: %s, working: %s), %llu table pages\n",
            fmt->name, riscv_dt_svpbmt ? "yes" : "no", svpbmt ? "yes" : "no",
            (unsigned long long)ks->table_pages);
    if (cmdline_value_is(bi->cmdline, "selftest", "stack_overflow")) {
        kprintf("selftest: overflowing the boot stack on purpose; a KERNEL FAULT must follow\n");
        (void)overflow_stack(0);
    }
    return KEEL_OK;
}
