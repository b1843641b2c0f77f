/* SPDX-License-Identifier: MIT */
/*
 * KTESTs of the boot contract as the arch filled it: the memory map is normalised
 * (sorted, no overlap, usable RAM page-aligned), the kernel image is reserved and at
 * least one CPU and a console were found.
 */
#include <kernel/boot_info.h>
#include <kernel/ktest.h>
#include <kernel/memmap.h>

KTEST(boot_memmap_normalised) {
    const struct boot_info *bi = kmain_boot_info;
    KTEST_EXPECT(bi->mem_count > 0);
    for (uint32_t i = 0; i < bi->mem_count; i++) {
        const struct mem_region *r = &bi->mem[i];
        KTEST_EXPECT(r->size != 0);
        KTEST_EXPECT(r->base + r->size > r->base);
        if (r->type == MEM_USABLE) {
            KTEST_EXPECT(IS_ALIGNED(r->base, PAGE_SIZE));
            KTEST_EXPECT(IS_ALIGNED(r->size, PAGE_SIZE));
        }
        if (i > 0) {
            const struct mem_region *p = &bi->mem[i - 1];
            KTEST_EXPECT(p->base + p->size <= r->base); /* sorted, disjoint */
            bool touching = p->base + p->size == r->base;
            KTEST_EXPECT(!(touching && p->type == r->type && p->node == r->node)); /* merged */
        }
    }
    KTEST_EXPECT(memmap_usable_bytes(bi) > 0);
}

KTEST(boot_kernel_reserved) {
    const struct boot_info *bi = kmain_boot_info;
    uint64_t k = bi->kernel_phys_base.pa;
    bool found = false;
    for (uint32_t i = 0; i < bi->mem_count; i++) {
        const struct mem_region *r = &bi->mem[i];
        if (k >= r->base && k < r->base + r->size) {
            found = true;
            KTEST_EXPECT_EQ(r->type, MEM_KERNEL);
            KTEST_EXPECT(k + bi->kernel_size <= r->base + r->size);
        }
    }
    KTEST_EXPECT(found);
}

KTEST(boot_cpus_and_console) {
    const struct boot_info *bi = kmain_boot_info;
    KTEST_EXPECT(bi->cpu_count >= 1);
    KTEST_EXPECT(bi->cpu_count <= BOOT_MAX_CPUS);
    KTEST_EXPECT(bi->boot_cpu < bi->cpu_count);
    KTEST_EXPECT(bi->console.type != BOOT_CONSOLE_NONE);
    KTEST_EXPECT(bi->firmware != NULL);
}
