/* SPDX-License-Identifier: MIT */
/*
 * x86_64 self tests of the kernel address space arch_mm_init built (run with
 * "ktest=x86_vm"): the CPU set-up, section permissions as the live tables hold them,
 * map/unmap/protect at scratch addresses checked by real accesses and faults (so a
 * missing INVLPG shows), W^X refusals, guard pages, vmalloc and balanced statistics.
 */
#include <arch/cpu.h>
#include <arch/mmu.h>
#include <arch/trap.h>
#include <arch/x86_pt.h>
#include <kernel/boot_info.h>
#include <kernel/frame.h>
#include <kernel/heap.h>
#include <kernel/kprintf.h>
#include <kernel/ktest.h>
#include <kernel/string.h>
#include <kernel/vm.h>
#include <kernel/vm_fault.h>
#include <kernel/vmm.h>

#include "x86.h"

#define KFLAGS_RW  (VM_READ | VM_WRITE | VM_GLOBAL)
#define KFLAGS_RO  (VM_READ | VM_GLOBAL)
#define KFLAGS_RX  (VM_READ | VM_EXEC | VM_GLOBAL)
#define SCRATCH    X86_SCRATCH_BASE
#define STRESS_VAS 64
#define RET_OPCODE 0xc3

extern const char __start_ktest[], __start_kbench[];

static volatile uint8_t data_ret = RET_OPCODE; /* a ret in .data: must not execute */

static bool contains(const char *s, const char *what) {
    size_t n = strlen(what);
    for (; s != NULL && *s != '\0'; s++) {
        if (strncmp(s, what, n) == 0) {
            return true;
        }
    }
    return false;
}

static uint64_t image_phys(uintptr_t va) {
    return x86_kernel_phys + (va - (uintptr_t)__kernel_start);
}

/* count frames aligned to align frames; FRAME_NONE (never a frame address) when out. */
#define FRAME_NONE 1u

static paddr_t frame_pa(size_t count, size_t align) {
    phys_frame_t f;
    if (allocate_frames_aligned(count, align, ZONE_NORMAL, FRAME_NODE_DEFAULT, 0, &f) != KEEL_OK) {
        return PADDR(FRAME_NONE);
    }
    return frame_to_paddr(f);
}

static void frame_release(paddr_t pa, size_t count) {
    if (pa.pa != FRAME_NONE && free_frames(paddr_to_frame(pa), count) != KEEL_OK) {
        kprintf("ktest: frames at %#llx not returned\n", (unsigned long long)pa.pa);
    }
}

KTEST(x86_vm_cpu_setup) {
    struct vm_space *ks = vmm_kernel_space;
    KTEST_EXPECT(ks != NULL);
    KTEST_EXPECT(ks->fmt == &pt_format_x86_64 && ks->tlb == &x86_tlb_ops && ks->kernel);
    KTEST_EXPECT_EQ(x86_read_cr3() & X86_PTE_ADDR, ks->root.pa);
    KTEST_EXPECT(x86_read_cr4() & X86_CR4_PGE);
    KTEST_EXPECT(x86_rdmsr(X86_MSR_EFER) & X86_EFER_NXE);
    uint64_t pat = x86_rdmsr(X86_MSR_PAT);
    KTEST_EXPECT_EQ(pat, X86_PAT_KEEL);
    KTEST_EXPECT_EQ(pat & 0x7, X86_PAT_WB);
    KTEST_EXPECT_EQ((pat >> 8) & 0x7, X86_PAT_WC);
    KTEST_EXPECT_EQ((pat >> 24) & 0x7, X86_PAT_UC);
}

/* vmm_query and the raw entry agree on what the live tables say about va. */
static void expect_mapped(struct ktest_ctx *ktest_ctx, uintptr_t va, uint32_t want) {
    uint64_t want_pa = image_phys(va);
    paddr_t pa;
    uint32_t flags = 0;
    KTEST_EXPECT_EQ(vmm_query(vmm_kernel_space, VADDR(va), &pa, &flags, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(flags, want);
    KTEST_EXPECT_EQ(pa.pa, want_pa);
    uint64_t pte = 0;
    uint64_t size = 0;
    KTEST_EXPECT_EQ(x86_pt_lookup(va, &pte, &size), KEEL_OK);
    KTEST_EXPECT_EQ(pte & X86_PTE_G, X86_PTE_G);
    KTEST_EXPECT_EQ(pte & X86_PTE_NX, (want & VM_EXEC) ? 0 : X86_PTE_NX);
    KTEST_EXPECT_EQ(pte & X86_PTE_W, (want & VM_WRITE) ? X86_PTE_W : 0);
}

KTEST(x86_vm_sections_exact) {
    expect_mapped(ktest_ctx, (uintptr_t)__text_start, KFLAGS_RX);
    expect_mapped(ktest_ctx, (uintptr_t)__text_end - 1, KFLAGS_RX);
    expect_mapped(ktest_ctx, (uintptr_t)__rodata_start, KFLAGS_RO); /* .ksyms */
    expect_mapped(ktest_ctx, (uintptr_t)__start_ktest, KFLAGS_RO);
    expect_mapped(ktest_ctx, (uintptr_t)__start_kbench, KFLAGS_RO);
    expect_mapped(ktest_ctx, (uintptr_t) "rodata", KFLAGS_RO);
    expect_mapped(ktest_ctx, (uintptr_t)&data_ret, KFLAGS_RW);
    expect_mapped(ktest_ctx, (uintptr_t)__data_end - 1, KFLAGS_RW);
    expect_mapped(ktest_ctx, (uintptr_t)__boot_stack_bottom, KFLAGS_RW);
    expect_mapped(ktest_ctx, (uintptr_t)__ist_df_top - 1, KFLAGS_RW);

    /* Text and read-only data really refuse writes; data really refuses execution. */
    struct x86_trap_expect exp;
    const uintptr_t ro[] = {(uintptr_t)__text_start + 128, (uintptr_t)__rodata_start,
                            (uintptr_t)__start_ktest, (uintptr_t)__rodata_end - 1};
    for (unsigned i = 0; i < ARRAY_SIZE(ro); i++) {
        uint8_t before = *(volatile uint8_t *)ro[i];
        KTEST_EXPECT(x86_probe(&exp, ro[i], X86_PROBE_WRITE));
        KTEST_EXPECT_EQ(exp.cr2, ro[i]);
        KTEST_EXPECT_EQ(exp.error & (X86_PF_P | X86_PF_W), X86_PF_P | X86_PF_W);
        KTEST_EXPECT(contains(exp.reason, "write to a read-only page"));
        KTEST_EXPECT_EQ(*(volatile uint8_t *)ro[i], before);
    }
    /* Nor through their direct-map alias. */
    const uintptr_t alias[] = {(uintptr_t)__text_start, (uintptr_t)__rodata_end - 1};
    for (unsigned i = 0; i < ARRAY_SIZE(alias); i++) {
        uintptr_t va = (uintptr_t)phys_to_virt(PADDR(image_phys(alias[i])));
        KTEST_EXPECT(x86_probe(&exp, va, X86_PROBE_WRITE));
        KTEST_EXPECT(contains(exp.reason, "write to a read-only page"));
    }
    uintptr_t data_alias = (uintptr_t)phys_to_virt(PADDR(image_phys((uintptr_t)__data_start)));
    KTEST_EXPECT(!x86_probe(&exp, data_alias, X86_PROBE_READ));
    KTEST_EXPECT(x86_probe(&exp, (uintptr_t)&data_ret, X86_PROBE_EXEC));
    KTEST_EXPECT_EQ(exp.cr2, (uintptr_t)&data_ret);
    KTEST_EXPECT_EQ(exp.error & (X86_PF_P | X86_PF_I), X86_PF_P | X86_PF_I);
    KTEST_EXPECT(contains(exp.reason, "execute of a non-executable page"));
}

KTEST(x86_vm_direct_map_ram_only) {
    /* A 2 MiB-aligned run of RAM sits under one large page, read/write, never X. */
    paddr_t pa = frame_pa(512, 512);
    KTEST_EXPECT(pa.pa != FRAME_NONE);
    uint32_t flags = 0;
    uint64_t size = 0;
    KTEST_EXPECT_EQ(
        vmm_query(vmm_kernel_space, VADDR((uintptr_t)phys_to_virt(pa)), NULL, &flags, &size),
        KEEL_OK);
    KTEST_EXPECT_EQ(flags, KFLAGS_RW);
    KTEST_EXPECT(size >= X86_PAGE_2M);
    frame_release(pa, 512);
    /* A whole aligned GiB of RAM is one 1 GiB page when the CPU has them (-m 4G). */
    const struct boot_info *bi = kmain_boot_info;
    uint32_t id[4];
    x86_cpuid(0x80000001U, 0, id);
    unsigned gib_pages = 0;
    for (uint32_t i = 0; i < bi->mem_count && (id[3] & (1U << 26)); i++) {
        const struct mem_region *m = &bi->mem[i];
        uint64_t gib = ALIGN_UP(m->base, X86_PAGE_1G);
        if (m->type == MEM_USABLE && gib + X86_PAGE_1G <= m->base + m->size) {
            KTEST_EXPECT_EQ(
                vmm_query(vmm_kernel_space, VADDR(KEEL_DIRECT_MAP_BASE + gib), NULL, NULL, &size),
                KEEL_OK);
            KTEST_EXPECT_EQ(size, X86_PAGE_1G);
            gib_pages++;
        }
    }
    kprintf("  %u whole GiB of RAM checked for 1 GiB pages\n", gib_pages);
    /* Reserved ranges and MMIO are not in the kernel's direct map. */
    unsigned checked = 0;
    for (uint32_t i = 0; i < bi->mem_count; i++) {
        const struct mem_region *r = &bi->mem[i];
        if ((r->type == MEM_RESERVED || r->type == MEM_MMIO) && r->size >= X86_PAGE_4K &&
            (r->base & (X86_PAGE_4K - 1)) == 0) {
            struct x86_trap_expect exp;
            uintptr_t va = (uintptr_t)phys_to_virt(PADDR(r->base));
            KTEST_EXPECT(x86_probe(&exp, va, X86_PROBE_READ));
            KTEST_EXPECT(contains(exp.reason, "not mapped"));
            checked++;
        }
    }
    KTEST_EXPECT(checked > 0); /* OVMF on q35 always reports some */
}

KTEST(x86_vm_map_unmap_protect) {
    struct vm_space *ks = vmm_kernel_space;
    struct x86_trap_expect exp;
    paddr_t a = frame_pa(1, 1);
    paddr_t b = frame_pa(1, 1);
    KTEST_EXPECT(a.pa != FRAME_NONE && b.pa != FRAME_NONE);
    volatile uint64_t *da = phys_to_virt(a);
    volatile uint64_t *db = phys_to_virt(b);
    volatile uint64_t *s = (volatile uint64_t *)SCRATCH;
    da[0] = 0xaaaa;
    db[0] = 0xbbbb;

    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), a, PAGE_SIZE, KFLAGS_RW), KEEL_OK);
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), b, PAGE_SIZE, KFLAGS_RW), KEEL_EEXIST);
    KTEST_EXPECT_EQ(s[0], 0xaaaa);
    s[1] = 0x1234; /* the TLB now holds a writable, dirty entry */
    KTEST_EXPECT_EQ(da[1], 0x1234);

    KTEST_EXPECT_EQ(vmm_protect(ks, VADDR(SCRATCH), PAGE_SIZE, KFLAGS_RO), KEEL_OK);
    KTEST_EXPECT(x86_probe(&exp, SCRATCH + 8, X86_PROBE_WRITE));
    KTEST_EXPECT(contains(exp.reason, "write to a read-only page"));
    KTEST_EXPECT_EQ(s[1], 0x1234);
    KTEST_EXPECT_EQ(vmm_protect(ks, VADDR(SCRATCH), PAGE_SIZE, KFLAGS_RW), KEEL_OK);
    KTEST_EXPECT(!x86_probe(&exp, SCRATCH + 8, X86_PROBE_WRITE));
    KTEST_EXPECT_EQ(da[1], 0x1200); /* the probe wrote one zero byte */

    paddr_t got;
    KTEST_EXPECT_EQ(vmm_unmap_page(ks, VADDR(SCRATCH), &got), KEEL_OK);
    KTEST_EXPECT_EQ(got.pa, a.pa);
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(SCRATCH), NULL, NULL, NULL), KEEL_ENOTFOUND);
    KTEST_EXPECT(x86_probe(&exp, SCRATCH, X86_PROBE_READ));
    KTEST_EXPECT_EQ(exp.error & X86_PF_P, 0);
    KTEST_EXPECT(contains(exp.reason, "not mapped"));

    /* The same address on another frame: a stale translation would still show a. */
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), b, PAGE_SIZE, KFLAGS_RO), KEEL_OK);
    KTEST_EXPECT_EQ(s[0], 0xbbbb);
    KTEST_EXPECT_EQ(vmm_unmap_page(ks, VADDR(SCRATCH), NULL), KEEL_OK);
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), a, PAGE_SIZE, KFLAGS_RO), KEEL_OK);
    KTEST_EXPECT_EQ(s[0], 0xaaaa);
    KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(SCRATCH), PAGE_SIZE), KEEL_OK);
    KTEST_EXPECT(x86_probe(&exp, SCRATCH, X86_PROBE_READ));
    frame_release(a, 1);
    frame_release(b, 1);
}

/* The 4 KiB leaf entry of va in the live tables (NULL if there is none). */
static uint64_t *leaf_entry(uintptr_t va) {
    uint64_t *t = phys_to_virt(PADDR(x86_read_cr3() & X86_PTE_ADDR));
    for (unsigned shift = 39; shift > 12; shift -= 9) {
        uint64_t e = t[X86_PT_INDEX(va, shift)];
        if (!(e & X86_PTE_P) || (e & X86_PTE_PS)) {
            return NULL;
        }
        t = phys_to_virt(PADDR(e & X86_PTE_ADDR));
    }
    return &t[X86_PT_INDEX(va, 12)];
}

/* Retarget a global entry behind the VM layer's back: only a full flush may show it. */
KTEST(x86_vm_tlb_large_range_flush) {
    struct vm_space *ks = vmm_kernel_space;
    paddr_t a = frame_pa(1, 1);
    paddr_t b = frame_pa(1, 1);
    KTEST_EXPECT(a.pa != FRAME_NONE && b.pa != FRAME_NONE);
    *(volatile uint64_t *)phys_to_virt(a) = 0xa;
    *(volatile uint64_t *)phys_to_virt(b) = 0xb;
    volatile uint64_t *s = (volatile uint64_t *)SCRATCH;
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), a, PAGE_SIZE, KFLAGS_RO), KEEL_OK);
    KTEST_EXPECT_EQ(s[0], 0xa);
    uint64_t *e = leaf_entry(SCRATCH);
    KTEST_EXPECT(e != NULL && (*e & X86_PTE_G));
    if (e == NULL) {
        return;
    }
    uint64_t keep = *e;
    *e = (keep & ~X86_PTE_ADDR) | b.pa;
    /* 64 pages is past the INVLPG loop: INVPCID all-contexts or a CR4.PGE toggle. */
    x86_tlb_ops.flush(ks, VADDR(SCRATCH - 32 * PAGE_SIZE), 64 * PAGE_SIZE);
    KTEST_EXPECT_EQ(s[0], 0xb);
    *e = keep;
    x86_tlb_flush_all();
    KTEST_EXPECT_EQ(s[0], 0xa);
    KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(SCRATCH), PAGE_SIZE), KEEL_OK);
    frame_release(a, 1);
    frame_release(b, 1);
}

KTEST(x86_vm_wx_refused) {
    struct vm_space *ks = vmm_kernel_space;
    paddr_t a = frame_pa(1, 1);
    KTEST_EXPECT(a.pa != FRAME_NONE);
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), a, PAGE_SIZE, KFLAGS_RW | VM_EXEC), KEEL_EPERM);
    KTEST_EXPECT_EQ(vmm_map_page(ks, VADDR(SCRATCH), a, PAGE_SIZE, KFLAGS_RW | VM_EXEC),
                    KEEL_EPERM);
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), a, PAGE_SIZE, KFLAGS_RX | VM_DEVICE), KEEL_EPERM);
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), a, PAGE_SIZE, KFLAGS_RW | VM_USER), KEEL_EINVAL);
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(SCRATCH), NULL, NULL, NULL), KEEL_ENOTFOUND);
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), a, PAGE_SIZE, KFLAGS_RX), KEEL_OK);
    KTEST_EXPECT_EQ(vmm_protect(ks, VADDR(SCRATCH), PAGE_SIZE, KFLAGS_RW | VM_EXEC), KEEL_EPERM);
    uint32_t flags = 0;
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(SCRATCH), NULL, &flags, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(flags, KFLAGS_RX);
    /* The kernel's own text cannot be made writable in place either. */
    KTEST_EXPECT_EQ(vmm_protect(ks, VADDR((uintptr_t)__text_start), PAGE_SIZE, KFLAGS_RW | VM_EXEC),
                    KEEL_EPERM);
    KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(SCRATCH), PAGE_SIZE), KEEL_OK);
    frame_release(a, 1);
}

KTEST(x86_vm_exec_needs_x) {
    struct vm_space *ks = vmm_kernel_space;
    struct x86_trap_expect exp;
    paddr_t a = frame_pa(1, 1);
    KTEST_EXPECT(a.pa != FRAME_NONE);
    if (a.pa == FRAME_NONE) {
        return;
    }
    memset(phys_to_virt(a), RET_OPCODE, PAGE_SIZE);
    uint32_t r[4];
    x86_cpuid(0, 0, r); /* serialise after writing code through another address */
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), a, PAGE_SIZE, KFLAGS_RO), KEEL_OK);
    KTEST_EXPECT(x86_probe(&exp, SCRATCH + 16, X86_PROBE_EXEC));
    KTEST_EXPECT_EQ(exp.cr2, SCRATCH + 16);
    KTEST_EXPECT_EQ(exp.error & (X86_PF_P | X86_PF_I), X86_PF_P | X86_PF_I);
    KTEST_EXPECT(contains(exp.reason, "execute of a non-executable page"));
    KTEST_EXPECT_EQ(vmm_protect(ks, VADDR(SCRATCH), PAGE_SIZE, KFLAGS_RX), KEEL_OK);
    KTEST_EXPECT(!x86_probe(&exp, SCRATCH + 16, X86_PROBE_EXEC));
    KTEST_EXPECT(x86_probe(&exp, SCRATCH + 16, X86_PROBE_WRITE)); /* R-X is not writable */
    KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(SCRATCH), PAGE_SIZE), KEEL_OK);
    KTEST_EXPECT(x86_probe(&exp, SCRATCH + 16, X86_PROBE_EXEC));
    KTEST_EXPECT(contains(exp.reason, "not mapped"));
    frame_release(a, 1);
}

KTEST(x86_vm_large_page_split) {
    struct vm_space *ks = vmm_kernel_space;
    struct x86_trap_expect exp;
    paddr_t pa = frame_pa(512, 512);
    KTEST_EXPECT(pa.pa != FRAME_NONE);
    uint64_t *d = phys_to_virt(pa);
    for (unsigned i = 0; i < 512; i++) {
        d[i * 512] = 0x5000 + i;
    }
    uint64_t va = SCRATCH + X86_PAGE_2M;
    uint64_t size = 0;
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(va), pa, X86_PAGE_2M, KFLAGS_RW), KEEL_OK);
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(va + 12345), NULL, NULL, &size), KEEL_OK);
    KTEST_EXPECT_EQ(size, X86_PAGE_2M);
    volatile uint64_t *s = (volatile uint64_t *)va;
    KTEST_EXPECT_EQ(s[7 * 512], 0x5007);
    /* Punch a 4 KiB hole: the 2 MiB page splits, the neighbours keep working. */
    KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(va + 7 * PAGE_SIZE), PAGE_SIZE), KEEL_OK);
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(va + 8 * PAGE_SIZE), NULL, NULL, &size), KEEL_OK);
    KTEST_EXPECT_EQ(size, PAGE_SIZE);
    KTEST_EXPECT(x86_probe(&exp, va + 7 * PAGE_SIZE, X86_PROBE_READ));
    KTEST_EXPECT(contains(exp.reason, "not mapped"));
    bool ok = true;
    for (unsigned i = 0; i < 512; i++) {
        ok = ok && (i == 7 || s[i * 512] == 0x5000 + i);
    }
    KTEST_EXPECT(ok);
    KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(va), X86_PAGE_2M), KEEL_OK);
    KTEST_EXPECT(x86_probe(&exp, va + 100 * PAGE_SIZE, X86_PROBE_READ));
    frame_release(pa, 512);
}

KTEST(x86_vm_stack_guards) {
    struct x86_trap_expect exp;
    const char *bottoms[] = {__boot_stack_bottom, __ist_df_bottom, __ist_nmi_bottom,
                             __ist_mc_bottom};
    for (unsigned i = 0; i < ARRAY_SIZE(bottoms); i++) {
        uintptr_t guard = (uintptr_t)bottoms[i] - 8;
        KTEST_EXPECT(x86_in_stack_guard(guard));
        KTEST_EXPECT_EQ(vmm_query(vmm_kernel_space, VADDR(guard), NULL, NULL, NULL),
                        KEEL_ENOTFOUND);
        KTEST_EXPECT(x86_probe(&exp, guard, X86_PROBE_WRITE));
        KTEST_EXPECT_EQ(exp.cr2, guard);
        KTEST_EXPECT(contains(exp.reason, "in a guard page"));
        KTEST_EXPECT(!x86_probe(&exp, (uintptr_t)bottoms[i], X86_PROBE_READ));
    }
    KTEST_EXPECT(!x86_in_stack_guard((uintptr_t)__boot_stack_bottom));
    KTEST_EXPECT(!x86_in_stack_guard(arch_unmapped_address()));
}

KTEST(x86_vm_vmalloc_guard) {
    struct vmalloc_stats before, after;
    struct x86_trap_expect exp;
    vmalloc_get_stats(&before);
    uint8_t *p = vmalloc(3 * PAGE_SIZE + 1);
    KTEST_EXPECT(p != NULL);
    if (p == NULL) {
        return;
    }
    KTEST_EXPECT((uintptr_t)p >= X86_VMALLOC_BASE &&
                 (uintptr_t)p < X86_VMALLOC_BASE + X86_VMALLOC_SIZE);
    for (unsigned i = 0; i < 4 * PAGE_SIZE; i++) {
        p[i] = (uint8_t)(i * 7);
    }
    bool ok = true;
    for (unsigned i = 0; i < 4 * PAGE_SIZE; i++) {
        ok = ok && p[i] == (uint8_t)(i * 7);
    }
    KTEST_EXPECT(ok);
    uint32_t flags = 0;
    KTEST_EXPECT_EQ(vmm_query(vmm_kernel_space, VADDR((uintptr_t)p), NULL, &flags, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(flags, KFLAGS_RW);
    KTEST_EXPECT(x86_probe(&exp, (uintptr_t)p + 4 * PAGE_SIZE, X86_PROBE_WRITE));
    KTEST_EXPECT(contains(exp.reason, "not mapped"));
    vfree(p);
    KTEST_EXPECT(x86_probe(&exp, (uintptr_t)p, X86_PROBE_READ));
    vfree(p);
    vmalloc_get_stats(&after);
    KTEST_EXPECT_EQ(after.areas, before.areas);
    KTEST_EXPECT_EQ(after.pages, before.pages);
    KTEST_EXPECT_EQ(after.bad_frees, before.bad_frees + 1);
}

/* One round of map/unmap, kmalloc/kfree and vmalloc/vfree driven by a fixed LCG. */
static bool stress_round(uint32_t seed) {
    struct vm_space *ks = vmm_kernel_space;
    paddr_t frames[STRESS_VAS];
    void *heap[32] = {0};
    void *areas[8] = {0};
    uint32_t x = seed;
    bool ok = true;
    for (unsigned i = 0; i < STRESS_VAS; i++) {
        frames[i] = PADDR(FRAME_NONE);
    }
    for (unsigned step = 0; step < 3000 && ok; step++) {
        x = x * 1103515245u + 12345u;
        unsigned what = (x >> 24) % 3;
        unsigned slot = (x >> 8) % STRESS_VAS;
        uint64_t va = SCRATCH + (uint64_t)slot * PAGE_SIZE;
        if (what == 0 && frames[slot].pa != FRAME_NONE) {
            ok = *(volatile uint64_t *)va == frames[slot].pa &&
                 vmm_unmap_page(ks, VADDR(va), NULL) == KEEL_OK;
            frame_release(frames[slot], 1);
            frames[slot] = PADDR(FRAME_NONE);
        } else if (what == 0) {
            frames[slot] = frame_pa(1, 1);
            ok = frames[slot].pa != FRAME_NONE;
            if (ok) {
                *(uint64_t *)phys_to_virt(frames[slot]) = frames[slot].pa;
            }
            ok = ok && vmm_map(ks, VADDR(va), frames[slot], PAGE_SIZE, KFLAGS_RW) == KEEL_OK;
        } else if (what == 1) {
            unsigned i = slot % ARRAY_SIZE(heap);
            kfree(heap[i]);
            heap[i] = heap[i] != NULL ? NULL : kmalloc(16 + (x >> 12) % 6000, 0);
        } else {
            unsigned i = slot % ARRAY_SIZE(areas);
            vfree(areas[i]);
            areas[i] = areas[i] != NULL ? NULL : vmalloc(1 + (x >> 12) % (5 * PAGE_SIZE));
        }
    }
    for (unsigned i = 0; i < STRESS_VAS; i++) {
        if (frames[i].pa != FRAME_NONE) {
            ok =
                vmm_unmap_page(ks, VADDR(SCRATCH + (uint64_t)i * PAGE_SIZE), NULL) == KEEL_OK && ok;
            frame_release(frames[i], 1);
        }
    }
    for (unsigned i = 0; i < ARRAY_SIZE(heap); i++) {
        kfree(heap[i]);
    }
    for (unsigned i = 0; i < ARRAY_SIZE(areas); i++) {
        vfree(areas[i]);
    }
    return ok;
}

KTEST(x86_vm_stress_balanced) {
    const uint32_t seed = 0x6b65656c;
    kprintf("  seed %#x\n", seed);
    /* A first round leaves the tables, slabs and frame caches it needs; a second must
     * then bring every counter back exactly. */
    KTEST_EXPECT(stress_round(seed));
    struct memory_statistics m0, m1;
    struct heap_stats h0, h1;
    struct vmalloc_stats v0, v1;
    uint64_t tables = vmm_kernel_space->table_pages;
    memory_stats(&m0);
    heap_stats(&h0);
    vmalloc_get_stats(&v0);
    KTEST_EXPECT(stress_round(seed));
    memory_stats(&m1);
    heap_stats(&h1);
    vmalloc_get_stats(&v1);
    KTEST_EXPECT_EQ(m1.free_frames, m0.free_frames);
    KTEST_EXPECT_EQ(m1.allocated_frames, m0.allocated_frames);
    KTEST_EXPECT_EQ(m1.double_frees + m1.invalid_frees + m1.reserved_frees,
                    m0.double_frees + m0.invalid_frees + m0.reserved_frees);
    KTEST_EXPECT_EQ(h1.current_allocated, h0.current_allocated);
    KTEST_EXPECT_EQ(h1.allocation_count - h0.allocation_count, h1.free_count - h0.free_count);
    KTEST_EXPECT_EQ(h1.bad_frees + h1.double_frees, h0.bad_frees + h0.double_frees);
    KTEST_EXPECT_EQ(v1.areas, v0.areas);
    KTEST_EXPECT_EQ(v1.pages, v0.pages);
    KTEST_EXPECT_EQ(v1.failures, v0.failures);
    KTEST_EXPECT_EQ(vmm_kernel_space->table_pages, tables);
}
