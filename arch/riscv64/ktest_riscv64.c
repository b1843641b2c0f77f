/* SPDX-License-Identifier: MIT */
/*
 * riscv64 in-kernel self tests: traps that the handler recovers from (breakpoint, load
 * page fault), checks of the live page tables as the hardware walks them (kernel image,
 * direct map, MMIO window, the deliberately unmapped address) and of the frame-record
 * walker. The VM layer's own KTESTs are in ktest_vm.c.
 */
#include <arch/cpu.h>
#include <arch/io.h>
#include <arch/trap.h>
#include <kernel/ktest.h>

#include "riscv.h"

static void expect_trap(unsigned long cause) {
    riscv_trap_expect = (struct riscv_trap_expect){.armed = true, .cause = cause};
}

KTEST(riscv64_breakpoint_recovers) {
    uintptr_t at;

    expect_trap(CAUSE_BREAKPOINT);
    __asm__ volatile("lla %0, 1f\n1: ebreak" : "=r"(at)::"memory");
    KTEST_EXPECT_EQ(riscv_trap_expect.hits, 1);
    KTEST_EXPECT_EQ(riscv_trap_expect.sepc, at);
    KTEST_EXPECT(!riscv_trap_expect.armed);
}

KTEST(riscv64_load_page_fault_recovers) {
    uintptr_t bad = arch_unmapped_address();
    unsigned long v = 0x1234;

    expect_trap(CAUSE_LOAD_PAGE);
    __asm__ volatile("ld %0, 0(%1)" : "+r"(v) : "r"(bad) : "memory");
    KTEST_EXPECT_EQ(riscv_trap_expect.hits, 1);
    KTEST_EXPECT_EQ(riscv_trap_expect.stval, bad);
    KTEST_EXPECT_EQ(v, 0x1234); /* the load was skipped, not performed */
}

KTEST(riscv64_kernel_image_mapping) {
    pte_t e = 0;
    uint64_t sz = 0;

    /* arch_mm_init mapped the image in 4 KiB pages: text R-X, the rest never X. */
    KTEST_EXPECT(riscv_walk(KEEL_KERNEL_BASE, &e, &sz));
    KTEST_EXPECT_EQ(PTE_TO_PA(e), riscv_kernel_phys);
    KTEST_EXPECT_EQ(sz, PAGE_SIZE);
    KTEST_EXPECT((e & (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_G)) ==
                 (PTE_V | PTE_R | PTE_X | PTE_A | PTE_G));
    KTEST_EXPECT((e & PTE_U) == 0);
    /* The last byte of the image (overflow stack) is mapped writable and dirty. */
    uintptr_t last = (uintptr_t)_kernel_end - 1;
    KTEST_EXPECT(riscv_walk(last, &e, &sz));
    KTEST_EXPECT((e & (PTE_W | PTE_D | PTE_X)) == (PTE_W | PTE_D));
    KTEST_EXPECT_EQ(PTE_TO_PA(e) + (last & (sz - 1)), kernel_virt_to_phys((void *)last));
    /* The identity mapping used for the satp switch is gone. */
    KTEST_EXPECT(!riscv_walk((uintptr_t)riscv_kernel_phys, &e, &sz));
}

KTEST(riscv64_direct_map_reads_ram) {
    static volatile uint64_t probe = 0x6b65656c72763634ULL;
    volatile uint64_t *alias = dm_ptr(kernel_virt_to_phys((const void *)&probe));
    pte_t e = 0;
    uint64_t sz = 0;

    KTEST_EXPECT_EQ(*alias, 0x6b65656c72763634ULL);
    *alias = 42;
    KTEST_EXPECT_EQ(probe, 42);
    KTEST_EXPECT(riscv_walk((uintptr_t)alias, &e, &sz));
    KTEST_EXPECT((e & (PTE_R | PTE_W)) == (PTE_R | PTE_W));
    KTEST_EXPECT((e & (PTE_X | PTE_U)) == 0);
    /* 4 KiB next to the image's read-only alias, else megapages or gigapages. */
    KTEST_EXPECT(sz == PAGE_SIZE || sz == SZ_2M || sz == SZ_1G);
}

KTEST(riscv64_mmio_map_attributes) {
    volatile void *va = NULL;
    pte_t e = 0;
    uint64_t sz = 0;
    pte_t te = 0;

    KTEST_EXPECT(riscv_test_dev != NULL);
    if (riscv_test_dev == NULL) {
        return;
    }
    KTEST_EXPECT(riscv_walk((uintptr_t)riscv_test_dev, &te, &sz));
    uint64_t pa = PTE_TO_PA(te) + ((uintptr_t)riscv_test_dev & (PAGE_SIZE - 1));
    KTEST_EXPECT_EQ(arch_mmio_map(PADDR(pa + 4), 8, &va), KEEL_OK);
    KTEST_EXPECT_EQ((uintptr_t)va & (PAGE_SIZE - 1), (pa + 4) & (PAGE_SIZE - 1));
    KTEST_EXPECT((uintptr_t)va >= KEEL_MMIO_BASE);
    KTEST_EXPECT(riscv_walk((uintptr_t)va, &e, &sz));
    KTEST_EXPECT_EQ(sz, PAGE_SIZE);
    KTEST_EXPECT_EQ(PTE_TO_PA(e), PTE_TO_PA(te));
    KTEST_EXPECT((e & (PTE_R | PTE_W)) == (PTE_R | PTE_W));
    KTEST_EXPECT((e & (PTE_X | PTE_U)) == 0);
    KTEST_EXPECT_EQ(arch_mmio_map(PADDR(pa), 0, &va), KEEL_EINVAL);
    KTEST_EXPECT_EQ(arch_mmio_map(PADDR(pa), (size_t)1 << 40, &va), KEEL_EINVAL);
}

KTEST(riscv64_unmapped_address_faults) {
    pte_t e = 0;
    uint64_t sz = 0;

    KTEST_EXPECT(arch_unmapped_address() >= KEEL_KERNEL_BASE);
    KTEST_EXPECT(!riscv_walk(arch_unmapped_address(), &e, &sz));
}

KTEST(riscv64_frame_step_checks) {
    uintptr_t next = 0, ret = 0;

    KTEST_EXPECT(!arch_frame_step(0, &next, &ret));
    KTEST_EXPECT(!arch_frame_step(0x1234, &next, &ret));
    KTEST_EXPECT(!arch_frame_step(arch_unmapped_address() + 16, &next, &ret));
    KTEST_EXPECT(!arch_frame_step(arch_frame_pointer() + 1, &next, &ret));
    KTEST_EXPECT(riscv_test_dev == NULL ||
                 !arch_frame_step((uintptr_t)riscv_test_dev + 16, &next, &ret));
    KTEST_EXPECT(arch_frame_step(arch_frame_pointer(), &next, &ret));
    KTEST_EXPECT(next > arch_frame_pointer());
    KTEST_EXPECT(ret >= (uintptr_t)_text_start && ret < (uintptr_t)_text_end);
}

KTEST(riscv64_direct_map_covers_ram) {
    const struct boot_info *bi = kmain_boot_info;
    pte_t e = 0;
    uint64_t sz = 0;

    KTEST_EXPECT(bi != NULL);
    for (uint32_t i = 0; bi != NULL && i < bi->mem_count; i++) {
        const struct mem_region *r = &bi->mem[i];
        if (r->type != MEM_USABLE) {
            continue;
        }
        uintptr_t first = (uintptr_t)dm_ptr(r->base);
        uintptr_t last = (uintptr_t)dm_ptr(r->base + r->size - 8);
        KTEST_EXPECT(riscv_walk(first, &e, &sz) && (e & (PTE_W | PTE_X)) == PTE_W);
        KTEST_EXPECT(riscv_walk(last, &e, &sz) && (e & (PTE_W | PTE_X)) == PTE_W);
        KTEST_EXPECT(riscv_kernel_range_ok(first, 8) && riscv_kernel_range_ok(last, 8));
        (void)*(volatile uint64_t *)last; /* would be a fatal load page fault */
    }
    /* Nothing past the end of RAM is mapped (2 MiB granularity). */
    const struct mem_region *top = bi != NULL ? &bi->mem[bi->mem_count - 1] : NULL;
    if (top != NULL) {
        uint64_t past = ALIGN_UP(top->base + top->size, SZ_2M);
        KTEST_EXPECT(!riscv_walk((uintptr_t)dm_ptr(past), &e, &sz));
    }
}

KTEST(riscv64_libgcc_bit_helpers) {
    /* volatile: keep the compiler from folding the builtins at compile time. */
    volatile uint64_t v[] = {1, 0x8000000000000000ULL, 0x00f0000000000100ULL, ~0ULL};
    static const int clz[] = {63, 0, 8, 0};
    static const int ctz[] = {0, 63, 8, 0};
    static const int pop[] = {1, 1, 5, 64};

    for (unsigned i = 0; i < ARRAY_SIZE(clz); i++) {
        KTEST_EXPECT_EQ(__builtin_clzll(v[i]), clz[i]);
        KTEST_EXPECT_EQ(__builtin_ctzll(v[i]), ctz[i]);
        KTEST_EXPECT_EQ(__builtin_popcountll(v[i]), pop[i]);
    }
    volatile uint32_t w = 0x00010000;
    KTEST_EXPECT_EQ(__builtin_clz(w), 15);
    KTEST_EXPECT_EQ(__builtin_ctz(w), 16);
    KTEST_EXPECT_EQ(__builtin_popcount(w), 1);
}

KTEST(riscv64_boot_hart_listed) {
    const struct boot_info *bi = kmain_boot_info;

    KTEST_EXPECT(bi != NULL && bi->boot_cpu < bi->cpu_count);
    if (bi != NULL && bi->boot_cpu < bi->cpu_count) {
        KTEST_EXPECT_EQ(bi->cpus[bi->boot_cpu].hwid, riscv_boot_hart);
    }
    KTEST_EXPECT(bi != NULL && bi->timer_freq_hz != 0);
    KTEST_EXPECT(bi != NULL && bi->intc.type == BOOT_INTC_PLIC && bi->intc.base[0] != 0);
}
