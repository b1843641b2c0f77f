/* SPDX-License-Identifier: MIT */
/*
 * AArch64 self tests (booted with "ktest"): the traps the handler recovers from, the live
 * page tables as the MMU sees them (kernel sections, direct map, device window; the VM
 * layer's own view is tested in ktest_vm_aarch64.c), the frame-record walker on garbage,
 * and the cycle counter.
 */
#include <arch/cpu.h>
#include <arch/io.h>
#include <arch/trap.h>
#include <kernel/boot_info.h>
#include <kernel/ktest.h>

#include "aarch64.h"

#define PAR_ATTR_DEVICE_NGNRE 0x04
#define PAR_ATTR_NORMAL_WB    0xff

static uint64_t data_word = 0x1234abcd5678ef90;
static const uint64_t rodata_word = 0x0badc0ffee0ddf00;

/* PAR_EL1 after translating va for a read (write = false) or a write at EL1. */
static uint64_t translate(uintptr_t va, bool write) {
    uint64_t par;
    unsigned long irq = arch_irq_save();
    if (write) {
        __asm__ volatile("at s1e1w, %1\n\tisb\n\tmrs %0, par_el1" : "=r"(par) : "r"(va) : "memory");
    } else {
        __asm__ volatile("at s1e1r, %1\n\tisb\n\tmrs %0, par_el1" : "=r"(par) : "r"(va) : "memory");
    }
    arch_irq_restore(irq);
    return par;
}

static bool par_ok(uint64_t par) {
    return (par & 1) == 0;
}

static uint64_t par_pa(uint64_t par, uintptr_t va) {
    return (par & PTE_ADDR_MASK) | (va & 0xfff);
}

KTEST(aarch64_brk_is_recoverable) {
    uint64_t before = aarch64_ktest_brk_count;
    __asm__ volatile("brk %0" ::"i"(AARCH64_KTEST_BRK) : "memory");
    __asm__ volatile("brk %0" ::"i"(AARCH64_KTEST_BRK) : "memory");
    KTEST_EXPECT_EQ(aarch64_ktest_brk_count - before, 2);
}

KTEST(aarch64_probe_of_unmapped_address_faults) {
    uint64_t v = 0;
    KTEST_EXPECT_EQ(aarch64_probe_read64(arch_unmapped_address(), &v), KEEL_EFAULT);
    KTEST_EXPECT_EQ(aarch64_probe_read64(0, &v), KEEL_EFAULT); /* TTBR0 walks are off */
    KTEST_EXPECT_EQ(aarch64_probe_read64((uintptr_t)__boot_stack_bottom - 8, &v),
                    KEEL_EFAULT); /* the guard page */
    KTEST_EXPECT_EQ(aarch64_probe_read64((uintptr_t)&data_word, &v), KEEL_OK);
    KTEST_EXPECT_EQ(v, data_word);
}

KTEST(aarch64_kernel_sections_have_their_permissions) {
    uintptr_t text = (uintptr_t)&aarch64_boot_c;
    uintptr_t ro = (uintptr_t)&rodata_word;
    uintptr_t rw = (uintptr_t)&data_word;
    uint64_t desc;
    unsigned level;

    KTEST_EXPECT(par_ok(translate(text, false)));
    KTEST_EXPECT(!par_ok(translate(text, true)));
    KTEST_EXPECT(par_ok(translate(ro, false)));
    KTEST_EXPECT(!par_ok(translate(ro, true)));
    KTEST_EXPECT(par_ok(translate(rw, true)));
    /* Physical addresses follow the load address booti chose. */
    KTEST_EXPECT_EQ(par_pa(translate(rw, false), rw), aarch64_kimg_to_phys(&data_word));
    KTEST_EXPECT_EQ((uintptr_t)__kernel_start, KEEL_KERNEL_BASE);
    KTEST_EXPECT(aarch64_lookup(text, &desc, &level));
    KTEST_EXPECT_EQ(level, 3);
    KTEST_EXPECT_EQ(desc & (PTE_PXN | PTE_UXN), PTE_UXN);
    KTEST_EXPECT(aarch64_lookup(ro, &desc, &level));
    KTEST_EXPECT_EQ(desc & (PTE_PXN | PTE_UXN), PTE_PXN | PTE_UXN);
    KTEST_EXPECT(aarch64_lookup(rw, &desc, &level));
    KTEST_EXPECT_EQ(desc & (PTE_PXN | PTE_UXN | PTE_AP_RO), PTE_PXN | PTE_UXN);
    KTEST_EXPECT_EQ((desc >> 2) & 7, MAIR_IDX_NORMAL);
}

KTEST(aarch64_direct_map_reads_ram) {
    uint64_t pa = aarch64_kimg_to_phys(&data_word);
    volatile uint64_t *alias = (volatile uint64_t *)(uintptr_t)(KEEL_DIRECT_MAP_BASE + pa);
    uint64_t desc;
    unsigned level;

    KTEST_EXPECT_EQ(*alias, data_word);
    *alias = 0x5555aaaa5555aaaa;
    KTEST_EXPECT_EQ(READ_ONCE(data_word), 0x5555aaaa5555aaaa);
    data_word = 0x1234abcd5678ef90;
    KTEST_EXPECT_EQ(*alias, 0x1234abcd5678ef90);
    KTEST_EXPECT(aarch64_lookup((uintptr_t)alias, &desc, &level));
    KTEST_EXPECT(desc & PTE_PXN);
    KTEST_EXPECT_EQ(translate((uintptr_t)alias, false) >> 56, PAR_ATTR_NORMAL_WB);
}

KTEST(aarch64_mmio_map_gives_device_memory) {
    volatile void *a = NULL;
    volatile void *b = NULL;
    uint64_t desc;
    unsigned level;
    /* Any page will do for the attributes; nothing is read through the mapping. */
    uint64_t pa = aarch64_kimg_to_phys(&data_word) & ~0xfffULL;

    KTEST_EXPECT_EQ(arch_mmio_map(PADDR(pa + 0x10), 8, &a), KEEL_OK);
    KTEST_EXPECT_EQ(arch_mmio_map(PADDR(pa + 0x20), 8, &b), KEEL_OK);
    KTEST_EXPECT_EQ((uintptr_t)b - (uintptr_t)a, 0x10); /* the same window reused */
    KTEST_EXPECT((uintptr_t)a >= KEEL_MMIO_BASE && (uintptr_t)a < KEEL_MMIO_END);
    uint64_t par = translate((uintptr_t)a, false);
    KTEST_EXPECT(par_ok(par));
    KTEST_EXPECT_EQ(par >> 56, PAR_ATTR_DEVICE_NGNRE);
    KTEST_EXPECT_EQ(par_pa(par, (uintptr_t)a), pa + 0x10);
    KTEST_EXPECT(aarch64_lookup((uintptr_t)a, &desc, &level));
    KTEST_EXPECT_EQ(desc & (PTE_PXN | PTE_UXN), PTE_PXN | PTE_UXN);
    KTEST_EXPECT_EQ(arch_mmio_map(PADDR(pa), 0, &a), KEEL_EINVAL);
    KTEST_EXPECT_EQ(arch_mmio_map(PADDR(UINT64_MAX - 4), 16, &a), KEEL_EINVAL);
}

KTEST(aarch64_frame_step_rejects_garbage) {
    uintptr_t next = 0;
    uintptr_t ret = 0;

    KTEST_EXPECT(!arch_frame_step(0, &next, &ret));
    KTEST_EXPECT(!arch_frame_step(0x40000000, &next, &ret)); /* low half */
    KTEST_EXPECT(!arch_frame_step(arch_unmapped_address(), &next, &ret));
    KTEST_EXPECT(!arch_frame_step((uintptr_t)&data_word + 1, &next, &ret)); /* misaligned */
    KTEST_EXPECT(!arch_frame_step(KEEL_MMIO_BASE, &next, &ret));            /* device, never read */
    KTEST_EXPECT(arch_frame_step(arch_frame_pointer(), &next, &ret));
    KTEST_EXPECT(ret >= (uintptr_t)__kernel_start && ret < (uintptr_t)__text_end);
}

KTEST(aarch64_cycle_counter_advances) {
    uint64_t a = arch_cycle_counter();
    for (volatile int i = 0; i < 1000; i++) {
    }
    uint64_t b = arch_cycle_counter();
    KTEST_EXPECT(b > a);
}

KTEST(aarch64_boot_info_from_the_device_tree) {
    const struct boot_info *bi = kmain_boot_info;
    uint64_t mpidr, frq;

    __asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frq));
    KTEST_EXPECT(bi->cpu_count >= 1);
    KTEST_EXPECT(bi->boot_cpu < bi->cpu_count);
    KTEST_EXPECT_EQ(bi->cpus[bi->boot_cpu].hwid, mpidr & 0xff00ffffffULL); /* Aff3..Aff0 */
    KTEST_EXPECT_EQ(bi->console.type, BOOT_CONSOLE_PL011);
    KTEST_EXPECT(bi->intc.type == BOOT_INTC_GICV2 || bi->intc.type == BOOT_INTC_GICV3);
    KTEST_EXPECT(bi->intc.base[0] != 0 && bi->intc.base[1] != 0);
    KTEST_EXPECT_EQ(bi->timer_freq_hz, frq & 0xffffffff);
    KTEST_EXPECT(bi->psci_method == BOOT_PSCI_HVC || bi->psci_method == BOOT_PSCI_SMC);
    KTEST_EXPECT(bi->dtb.pa != 0 && bi->dtb_size >= 40);
    KTEST_EXPECT(IS_ALIGNED(bi->kernel_phys_base.pa, 0x200000));
    KTEST_EXPECT_EQ(bi->kernel_size, (uint64_t)(__kernel_end - __kernel_start));
    KTEST_EXPECT(bi->entry_cycles < arch_cycle_counter());
    bool dtb_reserved = false;
    for (uint32_t i = 0; i < bi->mem_count; i++) {
        const struct mem_region *r = &bi->mem[i];
        if (bi->dtb.pa >= r->base && bi->dtb.pa < r->base + r->size) {
            dtb_reserved = r->type == MEM_DTB;
        }
    }
    KTEST_EXPECT(dtb_reserved);
}
