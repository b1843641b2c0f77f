/* SPDX-License-Identifier: MIT */
/*
 * AArch64 self tests of the kernel address space the portable VM layer built: mappings
 * made through vmm on vmm_kernel_space really read, write, execute or fault (recoverable
 * probes, so a missing TLB flush shows as a probe that still succeeds), W^X refusals, the
 * kernel sections' permissions in the live tables, guard pages, vmalloc, and counters
 * that balance after a stress run.
 */
#include <arch/cpu.h>
#include <arch/io.h>
#include <arch/mmu.h>
#include <kernel/boot_info.h>
#include <kernel/frame.h>
#include <kernel/heap.h>
#include <kernel/ktest.h>
#include <kernel/string.h>
#include <kernel/vm.h>
#include <kernel/vm_fault.h>
#include <kernel/vmm.h>

#include "aarch64.h"

/* Scratch VAs: a 512 GiB root slot nothing else uses. 4 KiB tests in the first GiB, 2 MiB
 * ones in the second, so neither ever replaces the other's tables. */
#define SCRATCH_4K 0xfffffe0000000000ULL
#define SCRATCH_2M 0xfffffe0040000000ULL
#define SCRATCH_1G 0xfffffe0080000000ULL
#define SIZE_2M    0x200000ULL
#define SIZE_1G    0x40000000ULL
#define A64_RET    0xd65f03c0u /* RET: what an exec probe runs when execution is allowed */

static const uint64_t ro_word = 0x0123456789abcdefULL;
static const uint32_t ro_ret = A64_RET;
static uint32_t rw_ret = A64_RET;
static uint64_t rw_word = 0x1111222233334444ULL;

static bool contains(const char *s, const char *what) {
    size_t n = strlen(what);
    for (; s != NULL && *s != '\0'; s++) {
        if (strncmp(s, what, n) == 0) {
            return true;
        }
    }
    return false;
}

/* Write probe that leaves memory as it was if it (wrongly) succeeds. */
static kstatus_t probe_write_same(uintptr_t va) {
    uint64_t v;
    kstatus_t st = aarch64_probe_read64(va, &v);
    return st != KEEL_OK ? st : aarch64_probe_write64(va, v);
}

/* Make an instruction written through the direct map at p fetchable (D to PoU, I inval). */
static void sync_icache(const void *p) {
    __asm__ volatile("dc cvau, %0\n\tdsb ish\n\tic iallu\n\tdsb ish\n\tisb" ::"r"(p) : "memory");
}

static bool alloc_frames(size_t count, phys_frame_t *f) {
    return allocate_frames_aligned(count, count, ZONE_NORMAL, FRAME_NODE_DEFAULT, 0, f) == KEEL_OK;
}

KTEST(vm_a64_kernel_space_is_live) {
    uint64_t ttbr1, tcr;
    __asm__ volatile("mrs %0, ttbr1_el1" : "=r"(ttbr1));
    __asm__ volatile("mrs %0, tcr_el1" : "=r"(tcr));
    KTEST_EXPECT(vmm_kernel_space != NULL);
    if (vmm_kernel_space == NULL) {
        return;
    }
    KTEST_EXPECT(vmm_kernel_space->kernel);
    KTEST_EXPECT(vmm_kernel_space->fmt == &pt_format_aarch64);
    KTEST_EXPECT_EQ(ttbr1 & PTE_ADDR_MASK, vmm_kernel_space->root.pa);
    KTEST_EXPECT_EQ(tcr & (TCR_EPD0 | TCR_EPD1), TCR_EPD0);
    uint64_t mair;
    __asm__ volatile("mrs %0, mair_el1" : "=r"(mair));
    KTEST_EXPECT_EQ(mair, MAIR_VALUE);
    /* The early tables are retired. */
    KTEST_EXPECT_EQ(aarch64_map(SCRATCH_4K, 0, PAGE_SIZE, PTE_KERNEL_RW), KEEL_ENOTSUP);
}

KTEST(vm_a64_kernel_sections_have_exact_permissions) {
    struct vm_space *ks = vmm_kernel_space;
    uintptr_t text = (uintptr_t)&aarch64_boot_c;
    uintptr_t ro = (uintptr_t)&ro_word;
    uintptr_t rw = (uintptr_t)&rw_word;
    paddr_t pa;
    uint32_t fl;
    uint64_t ps;

    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(text), &pa, &fl, &ps), KEEL_OK);
    KTEST_EXPECT_EQ(fl, VM_READ | VM_EXEC | VM_GLOBAL);
    KTEST_EXPECT_EQ(pa.pa, aarch64_kimg_to_phys((const void *)text));
    KTEST_EXPECT_EQ(ps, PAGE_SIZE);
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(ro), NULL, &fl, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(fl, VM_READ | VM_GLOBAL);
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(rw), NULL, &fl, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(fl, VM_READ | VM_WRITE | VM_GLOBAL);
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(__boot_stack_bottom), NULL, &fl, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(fl, VM_READ | VM_WRITE | VM_GLOBAL);

    /* The hardware agrees: writes to text and rodata fault as permission faults. */
    KTEST_EXPECT_EQ(probe_write_same(text), KEEL_EFAULT);
    KTEST_EXPECT(contains(aarch64_probe_reason, "write to a read-only page"));
    KTEST_EXPECT_EQ(probe_write_same(ro), KEEL_EFAULT);
    KTEST_EXPECT(contains(aarch64_probe_reason, "write to a read-only page"));
    KTEST_EXPECT_EQ(probe_write_same(rw), KEEL_OK);
    /* Nothing outside text executes: rodata, data, the direct map. */
    KTEST_EXPECT_EQ(aarch64_probe_exec((uintptr_t)&ro_ret), KEEL_EFAULT);
    KTEST_EXPECT(contains(aarch64_probe_reason, "execute of a non-executable page"));
    KTEST_EXPECT_EQ(aarch64_probe_exec((uintptr_t)&rw_ret), KEEL_EFAULT);
    uintptr_t alias = (uintptr_t)phys_to_virt(PADDR(aarch64_kimg_to_phys(&rw_ret)));
    KTEST_EXPECT_EQ(aarch64_probe_exec(alias), KEEL_EFAULT);
    KTEST_EXPECT(contains(aarch64_probe_reason, "execute of a non-executable page"));
    /* Every text page is R-X, every page from text end to the data R. */
    bool ok = true;
    for (const char *p = __kernel_start; p < __rodata_end; p += PAGE_SIZE) {
        uint32_t want = p < __text_end ? VM_READ | VM_EXEC | VM_GLOBAL : VM_READ | VM_GLOBAL;
        ok = ok && vmm_query(ks, VADDR(p), NULL, &fl, NULL) == KEEL_OK && fl == want;
    }
    KTEST_EXPECT(ok);
}

/* The page size vmm_map's greedy choice gives x inside [start, end) when [cut0, cut1) is
 * mapped separately: the largest aligned block around x that neither range edge nor cut
 * splits. */
static uint64_t expected_block(uint64_t x, uint64_t start, uint64_t end, uint64_t cut0,
                               uint64_t cut1) {
    for (uint64_t s = SIZE_1G; s >= SIZE_2M; s >>= 9) {
        uint64_t b = ALIGN_DOWN(x, s);
        if (b >= start && b + s <= end && !(cut0 > b && cut0 < b + s) &&
            !(cut1 > b && cut1 < b + s)) {
            return s;
        }
    }
    return PAGE_SIZE;
}

KTEST(vm_a64_direct_map_uses_largest_pages) {
    const struct aarch64_range *r;
    unsigned n = aarch64_ram_ranges(&r);
    uint64_t ro0 = aarch64_kimg_to_phys(__kernel_start);
    uint64_t ro1 = aarch64_kimg_to_phys(__rodata_end);
    KTEST_EXPECT(n >= 1);
    for (unsigned i = 0; i < n; i++) {
        /* The middle of each range, and its last page. */
        uint64_t xs[2] = {ALIGN_DOWN(r[i].start + (r[i].end - r[i].start) / 2, (uint64_t)PAGE_SIZE),
                          r[i].end - PAGE_SIZE};
        for (unsigned j = 0; j < 2; j++) {
            uint64_t x = xs[j];
            paddr_t pa;
            uint32_t fl;
            uint64_t ps;
            KTEST_EXPECT_EQ(
                vmm_query(vmm_kernel_space, VADDR(KEEL_DIRECT_MAP_BASE + x), &pa, &fl, &ps),
                KEEL_OK);
            KTEST_EXPECT_EQ(pa.pa, x);
            KTEST_EXPECT_EQ(fl, VM_READ | VM_WRITE | VM_GLOBAL);
            KTEST_EXPECT_EQ(ps, expected_block(x, r[i].start, r[i].end, ro0, ro1));
            uint64_t desc;
            unsigned level;
            KTEST_EXPECT(aarch64_lookup(KEEL_DIRECT_MAP_BASE + x, &desc, &level));
            KTEST_EXPECT_EQ(desc & (PTE_PXN | PTE_UXN), PTE_PXN | PTE_UXN);
        }
        /* A range of 8 MiB or more is never mapped page by page in its middle. */
        if (r[i].end - r[i].start >= 4 * SIZE_2M) {
            uint64_t ps = 0;
            KTEST_EXPECT_EQ(
                vmm_query(vmm_kernel_space, VADDR(KEEL_DIRECT_MAP_BASE + xs[0]), NULL, NULL, &ps),
                KEEL_OK);
            KTEST_EXPECT(ps >= SIZE_2M);
        }
    }
}

KTEST(vm_a64_direct_map_alias_of_the_image_is_read_only) {
    uintptr_t text = (uintptr_t)phys_to_virt(PADDR(aarch64_kimg_to_phys(&aarch64_boot_c)));
    uintptr_t ro = (uintptr_t)phys_to_virt(PADDR(aarch64_kimg_to_phys(&ro_word)));
    uintptr_t rw = (uintptr_t)phys_to_virt(PADDR(aarch64_kimg_to_phys(&rw_word)));
    uint32_t fl = 0;
    uint64_t v = 0;

    KTEST_EXPECT_EQ(aarch64_probe_read64(ro, &v), KEEL_OK);
    KTEST_EXPECT_EQ(v, ro_word);
    KTEST_EXPECT_EQ(probe_write_same(text), KEEL_EFAULT);
    KTEST_EXPECT(contains(aarch64_probe_reason, "write to a read-only page"));
    KTEST_EXPECT_EQ(probe_write_same(ro), KEEL_EFAULT);
    KTEST_EXPECT_EQ(vmm_query(vmm_kernel_space, VADDR(text), NULL, &fl, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(fl, VM_READ | VM_GLOBAL);
    KTEST_EXPECT_EQ(probe_write_same(rw), KEEL_OK);
    KTEST_EXPECT_EQ(vmm_query(vmm_kernel_space, VADDR(rw), NULL, &fl, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(fl, VM_READ | VM_WRITE | VM_GLOBAL);
}

KTEST(vm_a64_map_unmap_protect_4k) {
    struct vm_space *ks = vmm_kernel_space;
    uintptr_t va = SCRATCH_4K + 0x5000;
    phys_frame_t f;
    uint64_t v = 0;

    KTEST_EXPECT(alloc_frames(1, &f));
    volatile uint64_t *direct = phys_to_virt(frame_to_paddr(f));
    volatile uint64_t *mapped = (volatile uint64_t *)va;
    direct[0] = 0x600dcafe600dcafeULL;

    KTEST_EXPECT_EQ(aarch64_probe_read64(va, &v), KEEL_EFAULT);
    KTEST_EXPECT(contains(aarch64_probe_reason, "not mapped"));
    KTEST_EXPECT_EQ(
        vmm_map(ks, VADDR(va), frame_to_paddr(f), PAGE_SIZE, VM_READ | VM_WRITE | VM_GLOBAL),
        KEEL_OK);
    KTEST_EXPECT_EQ(aarch64_probe_read64(va, &v), KEEL_OK);
    KTEST_EXPECT_EQ(v, 0x600dcafe600dcafeULL);
    mapped[1] = 0x1234;
    KTEST_EXPECT_EQ(direct[1], 0x1234);

    /* Read-only: the write faults (the old writable TLB entry must be gone), reads work. */
    KTEST_EXPECT_EQ(vmm_protect(ks, VADDR(va), PAGE_SIZE, VM_READ | VM_GLOBAL), KEEL_OK);
    KTEST_EXPECT_EQ(aarch64_probe_write64(va, 1), KEEL_EFAULT);
    KTEST_EXPECT(contains(aarch64_probe_reason, "write to a read-only page"));
    KTEST_EXPECT_EQ(aarch64_probe_read64(va, &v), KEEL_OK);
    KTEST_EXPECT_EQ(v, 0x600dcafe600dcafeULL);
    KTEST_EXPECT_EQ(vmm_protect(ks, VADDR(va), PAGE_SIZE, VM_READ | VM_WRITE | VM_GLOBAL), KEEL_OK);
    KTEST_EXPECT_EQ(aarch64_probe_write64(va, 2), KEEL_OK);
    KTEST_EXPECT_EQ(direct[0], 2);

    /* Executable: R-X runs the RET, back to RW it faults again. */
    ((volatile uint32_t *)direct)[0] = A64_RET;
    sync_icache((const void *)direct);
    KTEST_EXPECT_EQ(aarch64_probe_exec(va), KEEL_EFAULT);
    KTEST_EXPECT_EQ(vmm_protect(ks, VADDR(va), PAGE_SIZE, VM_READ | VM_EXEC | VM_GLOBAL), KEEL_OK);
    KTEST_EXPECT_EQ(aarch64_probe_exec(va), KEEL_OK);
    KTEST_EXPECT_EQ(aarch64_probe_write64(va, 3), KEEL_EFAULT);
    KTEST_EXPECT_EQ(vmm_protect(ks, VADDR(va), PAGE_SIZE, VM_READ | VM_WRITE | VM_GLOBAL), KEEL_OK);
    KTEST_EXPECT_EQ(aarch64_probe_exec(va), KEEL_EFAULT);

    /* Unmapped: the access faults even though the translation was just used. */
    paddr_t pa;
    KTEST_EXPECT_EQ(vmm_unmap_page(ks, VADDR(va), &pa), KEEL_OK);
    KTEST_EXPECT_EQ(pa.pa, frame_to_paddr(f).pa);
    KTEST_EXPECT_EQ(aarch64_probe_read64(va, &v), KEEL_EFAULT);
    KTEST_EXPECT(contains(aarch64_probe_reason, "not mapped"));
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(va), NULL, NULL, NULL), KEEL_ENOTFOUND);
    KTEST_EXPECT_EQ(free_frames(f, 1), KEEL_OK);
}

KTEST(vm_a64_2m_block_split_by_unmap) {
    struct vm_space *ks = vmm_kernel_space;
    phys_frame_t f;
    uint64_t v = 0;
    uint64_t ps = 0;

    KTEST_EXPECT(alloc_frames(SIZE_2M / PAGE_SIZE, &f));
    uint64_t *direct = phys_to_virt(frame_to_paddr(f));
    for (unsigned i = 0; i < SIZE_2M / PAGE_SIZE; i++) {
        direct[i * PAGE_SIZE / 8] = 0xb10c000000000000ULL | i;
    }
    KTEST_EXPECT_EQ(
        vmm_map(ks, VADDR(SCRATCH_2M), frame_to_paddr(f), SIZE_2M, VM_READ | VM_WRITE | VM_GLOBAL),
        KEEL_OK);
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(SCRATCH_2M + 0x3000), NULL, NULL, &ps), KEEL_OK);
    KTEST_EXPECT_EQ(ps, SIZE_2M);
    KTEST_EXPECT_EQ(aarch64_probe_read64(SCRATCH_2M + 7 * PAGE_SIZE, &v), KEEL_OK);
    KTEST_EXPECT_EQ(v, 0xb10c000000000007ULL);

    /* Unmapping one page in the middle splits the block (break-before-make). */
    KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(SCRATCH_2M + 7 * PAGE_SIZE), PAGE_SIZE), KEEL_OK);
    KTEST_EXPECT_EQ(aarch64_probe_read64(SCRATCH_2M + 7 * PAGE_SIZE, &v), KEEL_EFAULT);
    KTEST_EXPECT_EQ(aarch64_probe_read64(SCRATCH_2M + 6 * PAGE_SIZE, &v), KEEL_OK);
    KTEST_EXPECT_EQ(v, 0xb10c000000000006ULL);
    KTEST_EXPECT_EQ(aarch64_probe_read64(SCRATCH_2M + 511 * PAGE_SIZE, &v), KEEL_OK);
    KTEST_EXPECT_EQ(v, 0xb10c0000000001ffULL);
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(SCRATCH_2M + 0x3000), NULL, NULL, &ps), KEEL_OK);
    KTEST_EXPECT_EQ(ps, PAGE_SIZE);
    KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(SCRATCH_2M), SIZE_2M), KEEL_OK);
    KTEST_EXPECT_EQ(aarch64_probe_read64(SCRATCH_2M + 6 * PAGE_SIZE, &v), KEEL_EFAULT);
    /* The emptied table gives way to a 2 MiB block again. */
    KTEST_EXPECT_EQ(
        vmm_map_page(ks, VADDR(SCRATCH_2M), frame_to_paddr(f), SIZE_2M, VM_READ | VM_GLOBAL),
        KEEL_OK);
    KTEST_EXPECT_EQ(aarch64_probe_read64(SCRATCH_2M + 9 * PAGE_SIZE, &v), KEEL_OK);
    KTEST_EXPECT_EQ(v, 0xb10c000000000009ULL);
    KTEST_EXPECT_EQ(vmm_unmap_page(ks, VADDR(SCRATCH_2M), NULL), KEEL_OK);
    KTEST_EXPECT_EQ(aarch64_probe_read64(SCRATCH_2M + 9 * PAGE_SIZE, &v), KEEL_EFAULT);
    KTEST_EXPECT_EQ(free_frames(f, SIZE_2M / PAGE_SIZE), KEEL_OK);
}

/*
 * A 1 GiB block over an emptied table tree (the whole-space TLB flush path). The block
 * maps the 1 GiB of PA around the image read-only, for a moment; only RAM is read.
 */
KTEST(vm_a64_1g_block_replaces_tables) {
    struct vm_space *ks = vmm_kernel_space;
    phys_frame_t f;
    uint64_t v = 0;
    uint64_t ps = 0;

    KTEST_EXPECT(alloc_frames(1, &f));
    *(volatile uint64_t *)phys_to_virt(frame_to_paddr(f)) = 0x7777;
    KTEST_EXPECT_EQ(
        vmm_map(ks, VADDR(SCRATCH_1G + 0x3000), frame_to_paddr(f), PAGE_SIZE, VM_READ | VM_GLOBAL),
        KEEL_OK);
    KTEST_EXPECT_EQ(aarch64_probe_read64(SCRATCH_1G + 0x3000, &v), KEEL_OK);
    KTEST_EXPECT_EQ(v, 0x7777);
    KTEST_EXPECT_EQ(vmm_unmap_page(ks, VADDR(SCRATCH_1G + 0x3000), NULL), KEEL_OK);
    uint64_t tables = ks->table_pages;

    uint64_t pa = aarch64_kimg_to_phys(&rw_word);
    uint64_t base = ALIGN_DOWN(pa, SIZE_1G);
    KTEST_EXPECT_EQ(vmm_map_page(ks, VADDR(SCRATCH_1G), PADDR(base), SIZE_1G, VM_READ | VM_GLOBAL),
                    KEEL_OK);
    KTEST_EXPECT_EQ(ks->table_pages, tables - 2); /* its level-2 and level-3 tables freed */
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(SCRATCH_1G + 0x3000), NULL, NULL, &ps), KEEL_OK);
    KTEST_EXPECT_EQ(ps, SIZE_1G);
    KTEST_EXPECT_EQ(aarch64_probe_read64(SCRATCH_1G + (pa - base), &v), KEEL_OK);
    KTEST_EXPECT_EQ(v, rw_word);
    KTEST_EXPECT_EQ(aarch64_probe_write64(SCRATCH_1G + (pa - base), v), KEEL_EFAULT);
    KTEST_EXPECT_EQ(vmm_unmap_page(ks, VADDR(SCRATCH_1G), NULL), KEEL_OK);
    KTEST_EXPECT_EQ(aarch64_probe_read64(SCRATCH_1G + (pa - base), &v), KEEL_EFAULT);
    KTEST_EXPECT_EQ(free_frames(f, 1), KEEL_OK);
}

KTEST(vm_a64_wx_refused) {
    struct vm_space *ks = vmm_kernel_space;
    phys_frame_t f;
    KTEST_EXPECT(alloc_frames(1, &f));
    paddr_t pa = frame_to_paddr(f);
    uintptr_t va = SCRATCH_4K + 0x9000;

    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(va), pa, PAGE_SIZE, VM_READ | VM_WRITE | VM_EXEC),
                    KEEL_EPERM);
    KTEST_EXPECT_EQ(vmm_map_page(ks, VADDR(va), pa, PAGE_SIZE, VM_READ | VM_WRITE | VM_EXEC),
                    KEEL_EPERM);
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(va), pa, PAGE_SIZE, VM_READ | VM_DEVICE | VM_EXEC),
                    KEEL_EPERM);
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(va), pa, PAGE_SIZE, VM_READ | VM_USER), KEEL_EINVAL);
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(va), NULL, NULL, NULL), KEEL_ENOTFOUND);
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(va), pa, PAGE_SIZE, VM_READ | VM_EXEC), KEEL_OK);
    KTEST_EXPECT_EQ(vmm_protect(ks, VADDR(va), PAGE_SIZE, VM_READ | VM_WRITE | VM_EXEC),
                    KEEL_EPERM);
    uint32_t fl = 0;
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(va), NULL, &fl, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(fl, VM_READ | VM_EXEC);
    /* The text cannot be made writable either. */
    KTEST_EXPECT_EQ(
        vmm_protect(ks, VADDR(__kernel_start), PAGE_SIZE, VM_READ | VM_WRITE | VM_EXEC | VM_GLOBAL),
        KEEL_EPERM);
    KTEST_EXPECT_EQ(vmm_unmap_page(ks, VADDR(va), NULL), KEEL_OK);
    KTEST_EXPECT_EQ(free_frames(f, 1), KEEL_OK);
}

KTEST(vm_a64_guard_pages_caught_and_reported) {
    uint64_t v;
    const char *reason = NULL;

    KTEST_EXPECT_EQ(aarch64_probe_read64((uintptr_t)__boot_stack_bottom - 8, &v), KEEL_EFAULT);
    KTEST_EXPECT(contains(aarch64_probe_reason, "in a guard page"));
    KTEST_EXPECT_EQ(aarch64_probe_write64((uintptr_t)__boot_stack_guard, 0), KEEL_EFAULT);
    KTEST_EXPECT(contains(aarch64_probe_reason, "in a guard page"));
    KTEST_EXPECT_EQ(aarch64_probe_read64((uintptr_t)__overflow_stack_bottom - 16, &v), KEEL_EFAULT);
    KTEST_EXPECT(contains(aarch64_probe_reason, "in a guard page"));
    KTEST_EXPECT_EQ(vm_fault(vmm_kernel_space, VADDR(__boot_stack_guard), VM_FAULT_WRITE, &reason),
                    KEEL_EFAULT);
    KTEST_EXPECT(contains(reason, "in a guard page"));
    KTEST_EXPECT_EQ(vmm_query(vmm_kernel_space, VADDR(__boot_stack_guard), NULL, NULL, NULL),
                    KEEL_ENOTFOUND);
    /* The stack we run on is the boot stack, right above that guard. */
    uintptr_t sp = arch_frame_pointer();
    KTEST_EXPECT(sp >= (uintptr_t)__boot_stack_bottom && sp < (uintptr_t)__boot_stack_top);
}

KTEST(vm_a64_vmalloc_and_its_guard_page) {
    struct vmalloc_stats before, mid, after;
    uint64_t v;
    vmalloc_get_stats(&before);
    uint8_t *p = vmalloc(3 * PAGE_SIZE - 100);
    KTEST_EXPECT(p != NULL);
    if (p == NULL) {
        return;
    }
    KTEST_EXPECT((uintptr_t)p >= KEEL_VMALLOC_BASE && (uintptr_t)p < KEEL_VMALLOC_END);
    for (unsigned i = 0; i < 3 * PAGE_SIZE; i++) {
        p[i] = (uint8_t)(i * 7);
    }
    bool ok = true;
    for (unsigned i = 0; i < 3 * PAGE_SIZE; i++) {
        ok = ok && p[i] == (uint8_t)(i * 7);
    }
    KTEST_EXPECT(ok);
    uint32_t fl = 0;
    KTEST_EXPECT_EQ(vmm_query(vmm_kernel_space, VADDR(p + PAGE_SIZE), NULL, &fl, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(fl, VM_READ | VM_WRITE | VM_GLOBAL);
    KTEST_EXPECT_EQ(aarch64_probe_read64((uintptr_t)p + 3 * PAGE_SIZE, &v), KEEL_EFAULT);
    KTEST_EXPECT(contains(aarch64_probe_reason, "not mapped"));
    KTEST_EXPECT_EQ(aarch64_probe_exec((uintptr_t)p), KEEL_EFAULT);
    vmalloc_get_stats(&mid);
    KTEST_EXPECT_EQ(mid.areas, before.areas + 1);
    KTEST_EXPECT_EQ(mid.pages, before.pages + 3);
    vfree(p);
    KTEST_EXPECT_EQ(aarch64_probe_read64((uintptr_t)p, &v), KEEL_EFAULT);
    vfree(p); /* refused and counted */
    vmalloc_get_stats(&after);
    KTEST_EXPECT_EQ(after.areas, before.areas);
    KTEST_EXPECT_EQ(after.pages, before.pages);
    KTEST_EXPECT_EQ(after.bad_frees, before.bad_frees + 1);
}

KTEST(vm_a64_mmio_windows_through_vmm) {
    volatile void *a = NULL;
    uint64_t pa = aarch64_kimg_to_phys(&rw_word) & ~0xfffULL;
    paddr_t got;
    uint32_t fl = 0;

    /* A page far from any earlier request: a new window, mapped by the VM layer. */
    KTEST_EXPECT_EQ(arch_mmio_map(PADDR(pa + 0x100000), 16, &a), KEEL_OK);
    KTEST_EXPECT_EQ(vmm_query(vmm_kernel_space, VADDR(a), &got, &fl, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(got.pa, pa + 0x100000);
    KTEST_EXPECT_EQ(fl, VM_READ | VM_WRITE | VM_DEVICE | VM_GLOBAL);
    /* The console's window from before the switch was carried over. */
    const struct boot_info *bi = kmain_boot_info;
    KTEST_EXPECT_EQ(arch_mmio_map(PADDR(bi->console.base), 4, &a), KEEL_OK);
    KTEST_EXPECT_EQ(vmm_query(vmm_kernel_space, VADDR(a), &got, &fl, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(got.pa, bi->console.base);
    KTEST_EXPECT(fl & VM_DEVICE);
}

/* One round of the stress: maps, kmalloc, vmalloc; everything released at the end. */
static bool stress_round(uint32_t *x, phys_frame_t f4, phys_frame_t f2) {
    struct vm_space *ks = vmm_kernel_space;
    void *small[16] = {0};
    bool ok = true;
    for (unsigned step = 0; step < 64; step++) {
        *x = *x * 1103515245u + 12345u;
        uint64_t slot = (*x >> 8) & 15;
        uintptr_t va4 = SCRATCH_4K + 0x100000 + slot * PAGE_SIZE;
        uintptr_t va2 = SCRATCH_2M + SIZE_2M * (1 + (slot & 3));
        ok = ok && vmm_map(ks, VADDR(va4), frame_to_paddr(f4), PAGE_SIZE,
                           VM_READ | VM_WRITE | VM_GLOBAL) == KEEL_OK;
        ok = ok &&
             vmm_map(ks, VADDR(va2), frame_to_paddr(f2), SIZE_2M, VM_READ | VM_GLOBAL) == KEEL_OK;
        *(volatile uint64_t *)va4 = step;
        ok = ok && *(volatile uint64_t *)(va2 + PAGE_SIZE * slot) == 0;
        if (small[slot] == NULL) {
            small[slot] = kmalloc(16 + slot * 97, 0);
            ok = ok && small[slot] != NULL;
        } else {
            kfree(small[slot]);
            small[slot] = NULL;
        }
        void *big = vmalloc((1 + slot) * PAGE_SIZE);
        ok = ok && big != NULL;
        if (big != NULL) {
            memset(big, 0x5a, (1 + slot) * PAGE_SIZE);
            vfree(big);
        }
        ok = ok && vmm_unmap(ks, VADDR(va4), PAGE_SIZE) == KEEL_OK;
        ok = ok && vmm_unmap_page(ks, VADDR(va2), NULL) == KEEL_OK;
    }
    for (unsigned i = 0; i < ARRAY_SIZE(small); i++) {
        kfree(small[i]);
    }
    return ok;
}

KTEST(vm_a64_stats_balance_after_stress) {
    struct memory_statistics m0, m1;
    struct heap_stats h0, h1;
    struct vmalloc_stats v0, v1;
    phys_frame_t f4, f2;
    uint32_t x = 0x6b65656c;

    KTEST_EXPECT(alloc_frames(1, &f4));
    KTEST_EXPECT(alloc_frames(SIZE_2M / PAGE_SIZE, &f2));
    memset(phys_to_virt(frame_to_paddr(f2)), 0, SIZE_2M);
    /* Warm-up: the scratch tables and slab pages the round needs come into being. */
    KTEST_EXPECT(stress_round(&x, f4, f2));
    uint64_t tables = vmm_kernel_space->table_pages;
    memory_stats(&m0);
    heap_stats(&h0);
    vmalloc_get_stats(&v0);
    for (unsigned r = 0; r < 8; r++) {
        KTEST_EXPECT(stress_round(&x, f4, f2));
    }
    memory_stats(&m1);
    heap_stats(&h1);
    vmalloc_get_stats(&v1);
    KTEST_EXPECT_EQ(m1.free_frames, m0.free_frames);
    KTEST_EXPECT_EQ(m1.allocated_frames, m0.allocated_frames);
    KTEST_EXPECT_EQ(h1.current_allocated, h0.current_allocated);
    KTEST_EXPECT_EQ(h1.allocation_count - h0.allocation_count, h1.free_count - h0.free_count);
    KTEST_EXPECT_EQ(h1.bad_frees, h0.bad_frees);
    KTEST_EXPECT_EQ(v1.areas, v0.areas);
    KTEST_EXPECT_EQ(v1.pages, v0.pages);
    KTEST_EXPECT_EQ(v1.failures, v0.failures);
    KTEST_EXPECT_EQ(vmm_kernel_space->table_pages, tables);
    KTEST_EXPECT_EQ(free_frames(f4, 1), KEEL_OK);
    KTEST_EXPECT_EQ(free_frames(f2, SIZE_2M / PAGE_SIZE), KEEL_OK);
}
