/* SPDX-License-Identifier: MIT */
/*
 * riscv64 KTESTs of the kernel address space built by arch_mm_init(): mappings made
 * through vmm really read, write and fault (probed with recoverable traps), W^X is
 * refused, the image sections and the direct map have their permissions in the live
 * tables, guard pages are reported as such, vmalloc works, and counters balance.
 */
#include <arch/io.h>
#include <arch/mmu.h>
#include <kernel/frame.h>
#include <kernel/heap.h>
#include <kernel/ktest.h>
#include <kernel/string.h>
#include <kernel/vm.h>
#include <kernel/vm_fault.h>
#include <kernel/vmm.h>

#include "riscv.h"

/* Scratch VA: 512 MiB into the image's gigabyte, far above any image. */
#define SCRATCH     (KEEL_KERNEL_BASE + 0x20000000ULL)
#define RET_INSN    0x00008067u /* jalr x0, 0(ra): a probe that wrongly executes returns */
#define PATTERN     0x6b65656c766d7276ULL
#define K_RW        (VM_READ | VM_WRITE | VM_GLOBAL)
#define STRESS_RUNS 300

static bool probe_read(uintptr_t va, uint64_t *out, const char **reason) {
    uint64_t v = 0;
    riscv_trap_expect = (struct riscv_trap_expect){.armed = true, .cause = CAUSE_LOAD_PAGE};
    __asm__ volatile("ld %0, 0(%1)" : "+r"(v) : "r"(va) : "memory");
    riscv_trap_expect.armed = false;
    *reason = riscv_trap_expect.reason;
    if (out != NULL) {
        *out = v;
    }
    return riscv_trap_expect.hits == 0;
}

static bool probe_write(uintptr_t va, uint64_t v, const char **reason) {
    riscv_trap_expect = (struct riscv_trap_expect){.armed = true, .cause = CAUSE_STORE_PAGE};
    __asm__ volatile("sd %0, 0(%1)" ::"r"(v), "r"(va) : "memory");
    riscv_trap_expect.armed = false;
    *reason = riscv_trap_expect.reason;
    return riscv_trap_expect.hits == 0;
}

/* Jump to va (which holds RET_INSN); true if it ran instead of faulting. */
static bool probe_exec(uintptr_t va, const char **reason) {
    riscv_trap_expect = (struct riscv_trap_expect){.armed = true, .cause = CAUSE_FETCH_PAGE};
    __asm__ volatile("fence.i\n jalr ra, 0(%0)" ::"r"(va)
                     : "ra", "t0", "t1", "t2", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "t3",
                       "t4", "t5", "t6", "memory");
    riscv_trap_expect.armed = false;
    *reason = riscv_trap_expect.reason;
    return riscv_trap_expect.hits == 0;
}

static bool reason_is(const char *reason, const char *want) {
    return reason != NULL && strncmp(reason, want, strlen(want)) == 0;
}

static uint32_t flags_at(uintptr_t va) {
    uint32_t fl = 0;
    if (vmm_query(vmm_kernel_space, VADDR(va), NULL, &fl, NULL) != KEEL_OK) {
        return 0;
    }
    return fl;
}

KTEST(riscv64_vm_kernel_space_live) {
    struct vm_space *ks = vmm_kernel_space;

    KTEST_EXPECT(ks != NULL);
    if (ks == NULL) {
        return;
    }
    uint64_t satp = csr_read(satp);
    KTEST_EXPECT_EQ(satp & SATP_PPN_MASK, ks->root.pa >> PAGE_SHIFT);
    KTEST_EXPECT_EQ(satp >> SATP_MODE_SHIFT, riscv_satp_mode);
    KTEST_EXPECT_EQ(ks->fmt->levels, riscv_satp_mode == SATP_MODE_SV48 ? 4u : 3u);
    /* Svpbmt format only when the device tree lists it (and the probe confirmed it). */
    KTEST_EXPECT(riscv_dt_svpbmt || (ks->fmt->features & PT_FEAT_SVPBMT) == 0);
    KTEST_EXPECT(ks->tlb == &riscv_tlb_ops);
    KTEST_EXPECT((uintptr_t)_kernel_end < SCRATCH);
    /* The boot tables' identity map never made it into the new space. */
    pte_t e;
    uint64_t sz;
    KTEST_EXPECT(!riscv_walk((uintptr_t)riscv_kernel_phys, &e, &sz));
}

KTEST(riscv64_vm_map_unmap_protect) {
    struct vm_space *ks = vmm_kernel_space;
    phys_frame_t f;
    const char *why = NULL;
    uint64_t v = 0;

    KTEST_EXPECT_EQ(allocate_frames(1, ZONE_NORMAL, &f), KEEL_OK);
    volatile uint64_t *dm = phys_to_virt(frame_to_paddr(f));
    *dm = PATTERN;
    KTEST_EXPECT(probe_read(SCRATCH, NULL, &why) == false); /* nothing there yet */
    KTEST_EXPECT(reason_is(why, "not mapped"));

    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), frame_to_paddr(f), PAGE_SIZE, K_RW), KEEL_OK);
    KTEST_EXPECT(probe_read(SCRATCH, &v, &why));
    KTEST_EXPECT_EQ(v, PATTERN);
    KTEST_EXPECT(probe_write(SCRATCH + 8, 42, &why));
    KTEST_EXPECT_EQ(dm[1], 42);
    paddr_t pa;
    uint32_t fl;
    uint64_t ps;
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(SCRATCH + 8), &pa, &fl, &ps), KEEL_OK);
    KTEST_EXPECT_EQ(pa.pa, frame_to_paddr(f).pa + 8);
    KTEST_EXPECT_EQ(fl, K_RW);
    KTEST_EXPECT_EQ(ps, PAGE_SIZE);

    /* Read-only: reads work, a write faults (the TLB must not keep the old W). */
    KTEST_EXPECT_EQ(vmm_protect(ks, VADDR(SCRATCH), PAGE_SIZE, VM_READ | VM_GLOBAL), KEEL_OK);
    KTEST_EXPECT(!probe_write(SCRATCH, 7, &why));
    KTEST_EXPECT(reason_is(why, "write to a read-only page"));
    KTEST_EXPECT_EQ(riscv_trap_expect.stval, SCRATCH);
    KTEST_EXPECT(probe_read(SCRATCH, &v, &why) && v == PATTERN);
    KTEST_EXPECT_EQ(vmm_protect(ks, VADDR(SCRATCH), PAGE_SIZE, K_RW), KEEL_OK);
    KTEST_EXPECT(probe_write(SCRATCH, 7, &why));
    KTEST_EXPECT_EQ(dm[0], 7);

    /* Unmapped: the next access faults, and a remap elsewhere is seen at once. */
    KTEST_EXPECT_EQ(vmm_unmap_page(ks, VADDR(SCRATCH), &pa), KEEL_OK);
    KTEST_EXPECT_EQ(pa.pa, frame_to_paddr(f).pa);
    KTEST_EXPECT(!probe_read(SCRATCH, NULL, &why));
    KTEST_EXPECT(reason_is(why, "not mapped"));
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(SCRATCH), NULL, NULL, NULL), KEEL_ENOTFOUND);
    KTEST_EXPECT_EQ(free_frames(f, 1), KEEL_OK);
}

KTEST(riscv64_vm_remap_flushes_tlb) {
    struct vm_space *ks = vmm_kernel_space;
    phys_frame_t a, b;
    const char *why;
    uint64_t v = 0;

    KTEST_EXPECT_EQ(allocate_frames(1, ZONE_NORMAL, &a), KEEL_OK);
    KTEST_EXPECT_EQ(allocate_frames(1, ZONE_NORMAL, &b), KEEL_OK);
    *(volatile uint64_t *)phys_to_virt(frame_to_paddr(a)) = 0xaaaa;
    *(volatile uint64_t *)phys_to_virt(frame_to_paddr(b)) = 0xbbbb;
    for (unsigned i = 0; i < 8; i++) {
        phys_frame_t f = (i & 1) ? b : a;
        KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), frame_to_paddr(f), PAGE_SIZE, K_RW), KEEL_OK);
        KTEST_EXPECT(probe_read(SCRATCH, &v, &why));
        KTEST_EXPECT_EQ(v, (i & 1) ? 0xbbbb : 0xaaaa);
        KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(SCRATCH), PAGE_SIZE), KEEL_OK);
    }
    KTEST_EXPECT_EQ(free_frames(a, 1), KEEL_OK);
    KTEST_EXPECT_EQ(free_frames(b, 1), KEEL_OK);
}

KTEST(riscv64_vm_large_page_split) {
    struct vm_space *ks = vmm_kernel_space;
    phys_frame_t f;
    const char *why;
    uint64_t v = 0, ps = 0;

    KTEST_EXPECT_EQ(allocate_frames_aligned(512, 512, ZONE_NORMAL, FRAME_NODE_DEFAULT, 0, &f),
                    KEEL_OK);
    uint64_t *dm = phys_to_virt(frame_to_paddr(f));
    for (unsigned i = 0; i < 512; i++) {
        dm[i * (PAGE_SIZE / 8)] = PATTERN + i;
    }
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), frame_to_paddr(f), SZ_2M, K_RW), KEEL_OK);
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(SCRATCH + 5 * PAGE_SIZE), NULL, NULL, &ps), KEEL_OK);
    KTEST_EXPECT_EQ(ps, SZ_2M);
    pte_t e = 0;
    KTEST_EXPECT(riscv_walk(SCRATCH, &e, &ps) && ps == SZ_2M);
    KTEST_EXPECT(probe_read(SCRATCH + 300 * PAGE_SIZE, &v, &why) && v == PATTERN + 300);
    /* A hole in the middle splits the megapage; its neighbours stay. */
    KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(SCRATCH + 300 * PAGE_SIZE), PAGE_SIZE), KEEL_OK);
    KTEST_EXPECT(!probe_read(SCRATCH + 300 * PAGE_SIZE, NULL, &why));
    KTEST_EXPECT(probe_read(SCRATCH + 299 * PAGE_SIZE, &v, &why) && v == PATTERN + 299);
    KTEST_EXPECT(probe_read(SCRATCH + 301 * PAGE_SIZE, &v, &why) && v == PATTERN + 301);
    KTEST_EXPECT(riscv_walk(SCRATCH, &e, &ps) && ps == PAGE_SIZE);
    KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(SCRATCH), SZ_2M), KEEL_OK);
    KTEST_EXPECT(!probe_read(SCRATCH + 299 * PAGE_SIZE, NULL, &why));
    KTEST_EXPECT_EQ(free_frames(f, 512), KEEL_OK);
}

KTEST(riscv64_vm_wx_refused) {
    struct vm_space *ks = vmm_kernel_space;
    phys_frame_t f;

    KTEST_EXPECT_EQ(allocate_frames(1, ZONE_NORMAL, &f), KEEL_OK);
    paddr_t pa = frame_to_paddr(f);
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), pa, PAGE_SIZE, VM_READ | VM_WRITE | VM_EXEC),
                    KEEL_EPERM);
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), pa, PAGE_SIZE, VM_READ | VM_DEVICE | VM_EXEC),
                    KEEL_EPERM);
    KTEST_EXPECT_EQ(vmm_query(ks, VADDR(SCRATCH), NULL, NULL, NULL), KEEL_ENOTFOUND);
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), pa, PAGE_SIZE, VM_READ | VM_USER), KEEL_EINVAL);
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), pa, PAGE_SIZE, VM_READ | VM_EXEC), KEEL_OK);
    KTEST_EXPECT_EQ(vmm_protect(ks, VADDR(SCRATCH), PAGE_SIZE, VM_READ | VM_WRITE | VM_EXEC),
                    KEEL_EPERM);
    KTEST_EXPECT_EQ(flags_at(SCRATCH), VM_READ | VM_EXEC);
    KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(SCRATCH), PAGE_SIZE), KEEL_OK);
    /* The image itself: no section is writable and executable at once. */
    KTEST_EXPECT_EQ(vmm_protect(ks, VADDR((uintptr_t)_text_start), PAGE_SIZE,
                                VM_READ | VM_WRITE | VM_EXEC | VM_GLOBAL),
                    KEEL_EPERM);
    KTEST_EXPECT_EQ(free_frames(f, 1), KEEL_OK);
}

static const uint64_t ro_probe = PATTERN;
static volatile uint32_t data_probe[4] __aligned(8) = {RET_INSN, 0, 0, 0};

KTEST(riscv64_vm_section_permissions) {
    const char *why;
    uint64_t v = 0;
    uintptr_t text = (uintptr_t)probe_read;

    /* What vmm reports, and what the live tables hold (read by the hardware walk). */
    KTEST_EXPECT_EQ(flags_at(text), VM_READ | VM_EXEC | VM_GLOBAL);
    KTEST_EXPECT_EQ(flags_at((uintptr_t)_ro_start), VM_READ | VM_GLOBAL);
    KTEST_EXPECT_EQ(flags_at((uintptr_t)&ro_probe), VM_READ | VM_GLOBAL);
    KTEST_EXPECT_EQ(flags_at((uintptr_t)_ro_end - 8), VM_READ | VM_GLOBAL);
    KTEST_EXPECT_EQ(flags_at((uintptr_t)data_probe), VM_READ | VM_WRITE | VM_GLOBAL);
    KTEST_EXPECT_EQ(flags_at((uintptr_t)_kernel_end - 8), VM_READ | VM_WRITE | VM_GLOBAL);
    pte_t e = 0;
    uint64_t sz = 0;
    KTEST_EXPECT(riscv_walk(text, &e, &sz));
    KTEST_EXPECT((e & (PTE_R | PTE_W | PTE_X | PTE_G | PTE_A)) == (PTE_R | PTE_X | PTE_G | PTE_A));
    KTEST_EXPECT(riscv_walk((uintptr_t)data_probe, &e, &sz));
    KTEST_EXPECT((e & (PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)) == (PTE_R | PTE_W | PTE_A | PTE_D));

    /* Writes to text and rodata fault; so does executing data, stack or the direct map. */
    KTEST_EXPECT(!probe_write(text, 0, &why));
    KTEST_EXPECT(reason_is(why, "write to a read-only page"));
    KTEST_EXPECT(!probe_write((uintptr_t)&ro_probe, 0, &why));
    KTEST_EXPECT(reason_is(why, "write to a read-only page"));
    KTEST_EXPECT_EQ(ro_probe, PATTERN);
    KTEST_EXPECT(!probe_exec((uintptr_t)data_probe, &why));
    KTEST_EXPECT(reason_is(why, "execute of a non-executable page"));
    volatile uint32_t on_stack[2] = {RET_INSN, 0};
    KTEST_EXPECT(!probe_exec((uintptr_t)on_stack, &why));
    KTEST_EXPECT(reason_is(why, "execute of a non-executable page"));
    uintptr_t alias = (uintptr_t)phys_to_virt(PADDR(kernel_virt_to_phys((void *)data_probe)));
    KTEST_EXPECT(!probe_exec(alias, &why));
    KTEST_EXPECT(reason_is(why, "execute of a non-executable page"));

    /* The direct-map alias of text and rodata is read-only too. */
    uintptr_t text_alias = (uintptr_t)phys_to_virt(PADDR(kernel_virt_to_phys((void *)text)));
    KTEST_EXPECT_EQ(flags_at(text_alias), VM_READ | VM_GLOBAL);
    KTEST_EXPECT(probe_read(text_alias, &v, &why) && v == *(const uint64_t *)text);
    KTEST_EXPECT(!probe_write(text_alias, 0, &why));
    KTEST_EXPECT(reason_is(why, "write to a read-only page"));
    KTEST_EXPECT(probe_write(alias + 8, 0x1234, &why)); /* data's alias stays writable */
    KTEST_EXPECT_EQ(data_probe[2], 0x1234);
}

KTEST(riscv64_vm_guard_pages_reported) {
    const char *why = NULL;
    uintptr_t guards[] = {(uintptr_t)_boot_stack_guard, (uintptr_t)_overflow_stack_guard};

    KTEST_EXPECT_EQ((uintptr_t)_boot_stack_bottom - guards[0], PAGE_SIZE);
    KTEST_EXPECT_EQ((uintptr_t)_overflow_stack_bottom - guards[1], PAGE_SIZE);
    /* The hart's stack limit is the bottom of the stack this test runs on. */
    uintptr_t sp = arch_frame_pointer();
    uintptr_t limit = riscv_stack_limit();
    KTEST_EXPECT(sp > limit && sp - limit <= (uintptr_t)(_boot_stack_top - _boot_stack_bottom));
    if (sp > (uintptr_t)_boot_stack_bottom && sp <= (uintptr_t)_boot_stack_top) {
        KTEST_EXPECT_EQ(limit, (uintptr_t)_boot_stack_bottom);
    }
    for (unsigned i = 0; i < ARRAY_SIZE(guards); i++) {
        uintptr_t top_word = guards[i] + PAGE_SIZE - 8; /* where an overflow lands first */
        KTEST_EXPECT_EQ(vmm_query(vmm_kernel_space, VADDR(top_word), NULL, NULL, NULL),
                        KEEL_ENOTFOUND);
        KTEST_EXPECT(!probe_write(top_word, 1, &why));
        KTEST_EXPECT(reason_is(why, "in a guard page"));
        KTEST_EXPECT_EQ(riscv_trap_expect.stval, top_word);
        KTEST_EXPECT(!probe_read(guards[i], NULL, &why));
        KTEST_EXPECT(reason_is(why, "in a guard page"));
    }
}

KTEST(riscv64_vm_vmalloc) {
    struct vmalloc_stats before, after;
    const char *why;
    uint64_t v = 0;

    vmalloc_get_stats(&before);
    uint64_t *p = vmalloc(3 * PAGE_SIZE);
    KTEST_EXPECT(p != NULL);
    if (p == NULL) {
        return;
    }
    uintptr_t va = (uintptr_t)p;
    KTEST_EXPECT(va >= KEEL_VMALLOC_BASE && va + 4 * PAGE_SIZE <= KEEL_KERNEL_BASE);
    for (unsigned i = 0; i < 3 * PAGE_SIZE / 8; i++) {
        p[i] = PATTERN ^ i;
    }
    bool same = true;
    for (unsigned i = 0; i < 3 * PAGE_SIZE / 8; i++) {
        same = same && p[i] == (PATTERN ^ i);
    }
    KTEST_EXPECT(same);
    KTEST_EXPECT_EQ(flags_at(va + PAGE_SIZE), VM_READ | VM_WRITE | VM_GLOBAL);
    /* The guard page after the area faults. */
    KTEST_EXPECT(!probe_read(va + 3 * PAGE_SIZE, NULL, &why));
    KTEST_EXPECT(reason_is(why, "not mapped"));
    KTEST_EXPECT(!probe_write(va + 3 * PAGE_SIZE, 1, &why));
    vmalloc_get_stats(&after);
    KTEST_EXPECT_EQ(after.areas, before.areas + 1);
    KTEST_EXPECT_EQ(after.pages, before.pages + 3);
    vfree(p);
    KTEST_EXPECT(!probe_read(va, &v, &why));
    KTEST_EXPECT(reason_is(why, "not mapped"));
    vmalloc_get_stats(&after);
    KTEST_EXPECT_EQ(after.areas, before.areas);
    KTEST_EXPECT_EQ(after.pages, before.pages);
    vfree(p); /* refused and counted, nothing else happens */
    vmalloc_get_stats(&after);
    KTEST_EXPECT_EQ(after.bad_frees, before.bad_frees + 1);
}

KTEST(riscv64_vm_mmio_through_vmm) {
    volatile void *va = NULL;

    KTEST_EXPECT(riscv_test_dev != NULL);
    if (riscv_test_dev == NULL) {
        return;
    }
    paddr_t pa;
    uint32_t fl = 0;
    KTEST_EXPECT_EQ(vmm_query(vmm_kernel_space, VADDR((uintptr_t)riscv_test_dev), &pa, &fl, NULL),
                    KEEL_OK);
    uint32_t want = VM_READ | VM_WRITE | VM_GLOBAL;
    if (vmm_kernel_space->fmt->features & PT_FEAT_SVPBMT) {
        want |= VM_DEVICE; /* PBMT = IO; without Svpbmt the PMAs decide */
    }
    KTEST_EXPECT_EQ(fl, want);
    KTEST_EXPECT_EQ(arch_mmio_map(pa, 16, &va), KEEL_OK);
    KTEST_EXPECT((uintptr_t)va >= KEEL_MMIO_BASE);
    KTEST_EXPECT_EQ(flags_at((uintptr_t)va), want);
    paddr_t pa2;
    KTEST_EXPECT_EQ(vmm_query(vmm_kernel_space, VADDR((uintptr_t)va), &pa2, NULL, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(pa2.pa, pa.pa);
    KTEST_EXPECT_EQ(arch_mmio_map(pa, (size_t)KEEL_MMIO_SIZE + 1, &va), KEEL_EINVAL);
}

KTEST(riscv64_vm_stats_balanced) {
    struct vm_space *ks = vmm_kernel_space;
    struct memory_statistics m0, m1;
    struct heap_stats h0, h1;
    struct vmalloc_stats v0, v1;
    phys_frame_t frames[16];
    const char *why;
    uint32_t x = 0x5eed;

    /* Warm up: the scratch tables, slab pages and vmalloc records exist from now on. */
    KTEST_EXPECT_EQ(allocate_frames(ARRAY_SIZE(frames), ZONE_NORMAL, &frames[0]), KEEL_OK);
    KTEST_EXPECT_EQ(free_frames(frames[0], ARRAY_SIZE(frames)), KEEL_OK);
    for (unsigned i = 0; i < ARRAY_SIZE(frames); i++) {
        KTEST_EXPECT_EQ(allocate_frames(1, ZONE_NORMAL, &frames[i]), KEEL_OK);
    }
    KTEST_EXPECT_EQ(vmm_map(ks, VADDR(SCRATCH), frame_to_paddr(frames[0]), PAGE_SIZE, K_RW),
                    KEEL_OK);
    KTEST_EXPECT_EQ(vmm_unmap(ks, VADDR(SCRATCH), PAGE_SIZE), KEEL_OK);
    vfree(vmalloc(PAGE_SIZE));
    for (size_t sz = 16; sz <= 1024; sz += 16) {
        kfree(kmalloc(sz, 0)); /* a slab in every size class */
    }
    memory_stats(&m0);
    heap_stats(&h0);
    vmalloc_get_stats(&v0);
    uint64_t tables0 = ks->table_pages;

    for (unsigned run = 0; run < STRESS_RUNS; run++) {
        x = x * 1103515245u + 12345u;
        unsigned slot = (x >> 8) % ARRAY_SIZE(frames);
        uintptr_t va = SCRATCH + (uintptr_t)slot * PAGE_SIZE;
        paddr_t pa = frame_to_paddr(frames[slot]);
        KTEST_EXPECT_EQ(vmm_map(ks, VADDR(va), pa, PAGE_SIZE, K_RW), KEEL_OK);
        KTEST_EXPECT(probe_write(va, run, &why));
        KTEST_EXPECT_EQ(*(volatile uint64_t *)phys_to_virt(pa), run);
        void *k = kmalloc(16 + (x >> 20) % 3000, 0);
        void *vm = vmalloc(PAGE_SIZE * (1 + (x >> 12) % 4));
        KTEST_EXPECT(k != NULL && vm != NULL);
        if (vm != NULL) {
            *(volatile uint64_t *)vm = run;
        }
        kfree(k);
        vfree(vm);
        KTEST_EXPECT_EQ(vmm_unmap_page(ks, VADDR(va), NULL), KEEL_OK);
    }
    memory_stats(&m1);
    heap_stats(&h1);
    vmalloc_get_stats(&v1);
    KTEST_EXPECT_EQ(m1.free_frames, m0.free_frames);
    KTEST_EXPECT_EQ(h1.current_allocated, h0.current_allocated);
    KTEST_EXPECT_EQ(h1.allocation_count - h0.allocation_count, h1.free_count - h0.free_count);
    KTEST_EXPECT_EQ(v1.areas, v0.areas);
    KTEST_EXPECT_EQ(v1.pages, v0.pages);
    KTEST_EXPECT_EQ(v1.failures, v0.failures);
    KTEST_EXPECT_EQ(ks->table_pages, tables0);
    for (unsigned i = 0; i < ARRAY_SIZE(frames); i++) {
        KTEST_EXPECT_EQ(free_frames(frames[i], 1), KEEL_OK);
    }
}
