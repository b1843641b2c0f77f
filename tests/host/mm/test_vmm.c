/* SPDX-License-Identifier: MIT */
/*
 * Page-table formats and the portable walker, on fake physical memory: entries checked
 * bit for bit against the architecture manuals (Intel SDM 4.5, Arm ARM VMSAv8-64
 * descriptors, RISC-V Sv39/Sv48), map/unmap/protect/query with 4 KiB/2 MiB/1 GiB pages,
 * large-page splitting, W^X and other refusals, TLB maintenance calls, VM areas,
 * vmalloc guard pages, and a randomised map/unmap/protect run against a page model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kernel/heap.h>
#include <kernel/vm.h>
#include <kernel/vma.h>
#include <kernel/vmm.h>

#include "mm_test.h"

#define KIB    4096ULL
#define MIB2   (2ULL << 20)
#define GIB    (1ULL << 30)
#define KTEXT  0xffffffff80000000ULL
#define RV_PPN 0x003ffffffffffc00ULL /* Sv39/Sv48 PPN, bits 53:10 */

static unsigned flushes, syncs;
static void fake_flush(struct vm_space *as, vaddr_t va, uint64_t size) {
    (void)as;
    (void)va;
    (void)size;
    flushes++;
}
static void fake_sync(struct vm_space *as) {
    (void)as;
    syncs++;
}
static const struct vm_tlb_ops fake_tlb = {fake_flush, fake_sync};

static int setup(void **state) {
    (void)state;
    mmt_backed_init(0x40000000, 64ULL << 20);
    flushes = syncs = 0;
    return heap_init() == KEEL_OK ? 0 : -1;
}

/* The raw entry at `level` for va, following the format's table pointers; 0 if absent. */
static uint64_t raw_entry(struct vm_space *as, uint64_t va, unsigned level) {
    const struct pt_format *f = as->fmt;
    paddr_t t = as->root;
    for (unsigned l = f->levels - 1;; l--) {
        uint64_t e = ((uint64_t *)phys_to_virt(t))[(va >> PT_LEVEL_SHIFT(l)) & 511];
        if (l == level) {
            return e;
        }
        if (f->kind(f, e, l) != PTE_TABLE) {
            return 0;
        }
        t = f->addr(f, e, l);
    }
}

struct expect {
    uint64_t va, pa, size;
    uint32_t flags;
    uint64_t entry;
};

static void check_format(const struct pt_format *f, const struct expect *ex, size_t n,
                         uint64_t addr_mask, uint64_t table_bits) {
    struct vm_space *as;
    assert_int_equal(vm_space_create(f, &fake_tlb, true, NULL, &as), KEEL_OK);
    for (size_t i = 0; i < n; i++) {
        unsigned level = ex[i].size == GIB ? 2 : ex[i].size == MIB2 ? 1 : 0;
        kstatus_t st = vmm_map_page(as, VADDR(ex[i].va), PADDR(ex[i].pa), ex[i].size, ex[i].flags);
        if (st != KEEL_OK) {
            fail_msg("%s case %zu: map returned %d", f->name, i, st);
        }
        uint64_t e = raw_entry(as, ex[i].va, level);
        if (e != ex[i].entry) {
            fail_msg("%s case %zu: entry %#llx, manual says %#llx", f->name, i,
                     (unsigned long long)e, (unsigned long long)ex[i].entry);
        }
        /* The entry above is a table entry: address | the format's table bits. */
        if (level + 1 < f->levels) {
            uint64_t up = raw_entry(as, ex[i].va, level + 1);
            assert_int_equal(up & ~addr_mask, table_bits);
        }
        paddr_t pa;
        uint32_t fl;
        uint64_t ps;
        assert_int_equal(vmm_query(as, VADDR(ex[i].va + 0x123), &pa, &fl, &ps), KEEL_OK);
        assert_int_equal(pa.pa, ex[i].pa + 0x123);
        assert_int_equal(ps, ex[i].size);
        uint32_t want = ex[i].flags;
        if (f->make_leaf(f, PADDR(0), 0, VM_READ | VM_DEVICE) ==
            f->make_leaf(f, PADDR(0), 0, VM_READ)) {
            want &= ~(VM_DEVICE | VM_WC); /* RISC-V without Svpbmt: the PMAs decide */
        }
        assert_int_equal(fl, want);
    }
    vm_space_destroy(as);
}

#define KRW  (VM_READ | VM_WRITE | VM_GLOBAL)
#define KRX  (VM_READ | VM_EXEC | VM_GLOBAL)
#define KR   (VM_READ | VM_GLOBAL)
#define KDEV (VM_READ | VM_WRITE | VM_DEVICE | VM_GLOBAL)
#define KWC  (VM_READ | VM_WRITE | VM_WC | VM_GLOBAL)

static void test_pte_x86_64(void **state) {
    (void)state;
    const struct expect ex[] = {
        /* P RW A D G XD */
        {KTEXT, 0x123456000, KIB, KRW, 0x8000000123456163ULL},
        /* P A G, executable: no XD */
        {KTEXT + 0x1000, 0x2000, KIB, KRX, 0x0000000000002121ULL},
        /* 2 MiB: P A PS G XD */
        {KTEXT + MIB2, 0x200000, MIB2, KR, 0x80000000002001a1ULL},
        /* 1 GiB device: P RW PWT PCD A D PS G XD */
        {0xffff800000000000ULL, 0x80000000, GIB, KDEV, 0x80000000800001fbULL},
        /* WC: PWT only (PAT entry 1) */
        {KTEXT + 0x5000, 0xabcd000, KIB, KWC, 0x800000000abcd16bULL},
    };
    check_format(&pt_format_x86_64, ex, ARRAY_SIZE(ex), 0x000ffffffffff000ULL, 0x7);
}

static void test_pte_aarch64(void **state) {
    (void)state;
    const struct expect ex[] = {
        /* page 11, AttrIndx 0, AP 00, SH 11, AF, PXN UXN */
        {KTEXT, 0x123456000, KIB, KRW, 0x0060000123456703ULL},
        /* text: AP RO, UXN only */
        {KTEXT + 0x1000, 0x2000, KIB, KRX, 0x0040000000002783ULL},
        /* 2 MiB block 01, read-only */
        {KTEXT + MIB2, 0x200000, MIB2, KR, 0x0060000000200781ULL},
        /* 1 GiB block, device: AttrIndx 1 */
        {0xffff000000000000ULL, 0x80000000, GIB, KDEV, 0x0060000080000705ULL},
        /* WC: AttrIndx 2 (normal non-cacheable) */
        {KTEXT + 0x5000, 0xabcd000, KIB, KWC, 0x006000000abcd70bULL},
    };
    check_format(&pt_format_aarch64, ex, ARRAY_SIZE(ex), 0x0000fffffffff000ULL, 0x3);
}

static void test_pte_riscv(void **state) {
    (void)state;
    const struct expect ex[] = {
        /* V R W G A D, PPN 0x80200 << 10 */
        {KTEXT, 0x80200000, KIB, KRW, 0x00000000200800e7ULL},
        /* V R X G A */
        {KTEXT + 0x1000, 0x80201000, KIB, KRX, 0x000000002008046bULL},
        {KTEXT + MIB2, 0x80400000, MIB2, KR, 0x0000000020100063ULL},
        {0xffffffc000000000ULL, 0x80000000, GIB, KDEV, 0x00000000200000e7ULL},
    };
    check_format(&pt_format_sv39, ex, ARRAY_SIZE(ex), RV_PPN, 0x1);
    check_format(&pt_format_sv48, ex, ARRAY_SIZE(ex), RV_PPN, 0x1);
    const struct expect pb[] = {
        /* Svpbmt: IO = 2 << 61, NC = 1 << 61 */
        {KTEXT, 0x10000000, KIB, KDEV, 0x40000000040000e7ULL},
        {KTEXT + 0x1000, 0x10001000, KIB, KWC, 0x20000000040004e7ULL},
    };
    check_format(&pt_format_sv39_svpbmt, pb, ARRAY_SIZE(pb), RV_PPN, 0x1);
    check_format(&pt_format_sv48_svpbmt, pb, ARRAY_SIZE(pb), RV_PPN, 0x1);
}

static void test_user_entries(void **state) {
    (void)state;
    struct vm_space *k, *u;
    const uint32_t urx = VM_READ | VM_EXEC | VM_USER, urw = VM_READ | VM_WRITE | VM_USER;
    /* x86: P US A (no XD); P RW US A D XD */
    assert_int_equal(vm_space_create(&pt_format_x86_64, NULL, false, NULL, &u), KEEL_OK);
    assert_int_equal(vmm_map_page(u, VADDR(0x400000), PADDR(0x1000), KIB, urx), KEEL_OK);
    assert_int_equal(vmm_map_page(u, VADDR(0x401000), PADDR(0x2000), KIB, urw), KEEL_OK);
    assert_int_equal(raw_entry(u, 0x400000, 0), 0x0000000000001025ULL);
    assert_int_equal(raw_entry(u, 0x401000, 0), 0x8000000000002067ULL);
    vm_space_destroy(u);
    /* AArch64: AP EL0|RO, nG, PXN (user code never runs privileged) */
    assert_int_equal(vm_space_create(&pt_format_aarch64, NULL, false, NULL, &u), KEEL_OK);
    assert_int_equal(vmm_map_page(u, VADDR(0x400000), PADDR(0x1000), KIB, urx), KEEL_OK);
    assert_int_equal(vmm_map_page(u, VADDR(0x401000), PADDR(0x2000), KIB, urw), KEEL_OK);
    assert_int_equal(raw_entry(u, 0x400000, 0), 0x0020000000001fc3ULL);
    assert_int_equal(raw_entry(u, 0x401000, 0), 0x0060000000002f43ULL);
    vm_space_destroy(u);
    /* RISC-V: V R X U A; V R W U A D */
    assert_int_equal(vm_space_create(&pt_format_sv39, NULL, false, NULL, &u), KEEL_OK);
    assert_int_equal(vmm_map_page(u, VADDR(0x400000), PADDR(0x1000), KIB, urx), KEEL_OK);
    assert_int_equal(vmm_map_page(u, VADDR(0x401000), PADDR(0x2000), KIB, urw), KEEL_OK);
    assert_int_equal(raw_entry(u, 0x400000, 0), 0x000000000000045bULL);
    assert_int_equal(raw_entry(u, 0x401000, 0), 0x00000000000008d7ULL);
    /* Sv39 user half ends at 2^38. */
    assert_int_equal(vmm_map_page(u, VADDR(0x3ffffff000ULL), PADDR(0x3000), KIB, urw), KEEL_OK);
    assert_int_equal(vmm_map_page(u, VADDR(0x4000000000ULL), PADDR(0x3000), KIB, urw), KEEL_EINVAL);
    vm_space_destroy(u);
    /* Kernel half shared through the root on x86_64 / RISC-V, not on AArch64. */
    const struct pt_format *fmts[] = {&pt_format_x86_64, &pt_format_sv48, &pt_format_aarch64};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(vm_space_create(fmts[i], NULL, true, NULL, &k), KEEL_OK);
        assert_int_equal(vmm_map_page(k, VADDR(KTEXT), PADDR(0x1000), KIB, KRX), KEEL_OK);
        assert_int_equal(vm_space_create(fmts[i], NULL, false, k, &u), KEEL_OK);
        uint64_t *kr = phys_to_virt(k->root), *ur = phys_to_virt(u->root);
        bool shared = memcmp(&kr[256], &ur[256], 256 * 8) == 0 && kr[511] != 0;
        assert_int_equal(shared, i < 2);
        vm_space_destroy(u);
        vm_space_destroy(k);
    }
}

static void test_refusals(void **state) {
    (void)state;
    struct vm_space *k, *u;
    assert_int_equal(vm_space_create(&pt_format_x86_64, &fake_tlb, true, NULL, &k), KEEL_OK);
    assert_int_equal(vm_space_create(&pt_format_x86_64, &fake_tlb, false, k, &u), KEEL_OK);
    paddr_t pa = PADDR(0x100000);
    /* W^X */
    assert_int_equal(vmm_map(k, VADDR(KTEXT), pa, KIB, VM_READ | VM_WRITE | VM_EXEC), KEEL_EPERM);
    assert_int_equal(vmm_map(u, VADDR(0x1000), pa, KIB, VM_READ | VM_WRITE | VM_EXEC | VM_USER),
                     KEEL_EPERM);
    assert_int_equal(vmm_map(k, VADDR(KTEXT), pa, KIB, VM_READ | VM_DEVICE | VM_EXEC), KEEL_EPERM);
    /* Bad flags and ranges */
    assert_int_equal(vmm_map(k, VADDR(KTEXT), pa, KIB, VM_WRITE), KEEL_EINVAL);
    assert_int_equal(vmm_map(k, VADDR(KTEXT), pa, KIB, VM_READ | VM_DEVICE | VM_WC), KEEL_EINVAL);
    assert_int_equal(vmm_map(k, VADDR(KTEXT), pa, KIB, VM_READ | VM_USER), KEEL_EINVAL);
    assert_int_equal(vmm_map(u, VADDR(0x1000), pa, KIB, VM_READ), KEEL_EINVAL);
    assert_int_equal(vmm_map(u, VADDR(0x1000), pa, KIB, VM_READ | VM_USER | VM_GLOBAL),
                     KEEL_EINVAL);
    assert_int_equal(vmm_map(k, VADDR(KTEXT), pa, KIB, 0x100 | VM_READ), KEEL_EINVAL);
    assert_int_equal(vmm_map(k, VADDR(KTEXT + 1), pa, KIB, KRW), KEEL_EINVAL);
    assert_int_equal(vmm_map(k, VADDR(KTEXT), PADDR(0x100001), KIB, KRW), KEEL_EINVAL);
    assert_int_equal(vmm_map(k, VADDR(KTEXT), pa, 0, KRW), KEEL_EINVAL);
    assert_int_equal(vmm_map(k, VADDR(0x1000), pa, KIB, KRW), KEEL_EINVAL); /* user half */
    assert_int_equal(vmm_map(u, VADDR(KTEXT), pa, KIB, VM_READ | VM_USER), KEEL_EINVAL);
    assert_int_equal(vmm_map(k, VADDR(0x0000900000000000ULL), pa, KIB, KRW), KEEL_EINVAL);
    assert_int_equal(vmm_map_page(k, VADDR(KTEXT), pa, 8192, KRW), KEEL_EINVAL);
    assert_int_equal(vmm_map_page(k, VADDR(KTEXT), pa, MIB2, KRW), KEEL_EINVAL); /* pa */
    /* Nothing got mapped by any of those. */
    assert_int_equal(vmm_query(k, VADDR(KTEXT), NULL, NULL, NULL), KEEL_ENOTFOUND);
    assert_int_equal(vmm_query(u, VADDR(0x1000), NULL, NULL, NULL), KEEL_ENOTFOUND);
    /* Overlaps */
    assert_int_equal(vmm_map(k, VADDR(KTEXT), PADDR(0x200000), MIB2, KR), KEEL_OK);
    assert_int_equal(vmm_map(k, VADDR(KTEXT + 0x1000), pa, KIB, KRW), KEEL_EEXIST);
    assert_int_equal(vmm_map(k, VADDR(KTEXT - KIB), pa, 2 * KIB, KRW), KEEL_EEXIST);
    assert_int_equal(vmm_query(k, VADDR(KTEXT - KIB), NULL, NULL, NULL), KEEL_ENOTFOUND);
    assert_int_equal(vmm_protect(k, VADDR(KTEXT), MIB2, KRW | VM_EXEC), KEEL_EPERM);
    assert_int_equal(vmm_protect(k, VADDR(KTEXT), MIB2 + KIB, KRW), KEEL_ENOTFOUND);
    assert_int_equal(vmm_unmap_page(k, VADDR(KTEXT + KIB), NULL), KEEL_EINVAL);
    assert_int_equal(vmm_unmap_page(k, VADDR(KTEXT + MIB2), NULL), KEEL_ENOTFOUND);
    uint32_t fl;
    assert_int_equal(vmm_query(k, VADDR(KTEXT + 5), NULL, &fl, NULL), KEEL_OK);
    assert_int_equal(fl, KR);
    vm_space_destroy(u);
    vm_space_destroy(k);
}

static void test_split_protect_unmap(void **state) {
    (void)state;
    const struct pt_format *fmts[] = {&pt_format_x86_64, &pt_format_aarch64, &pt_format_sv48,
                                      &pt_format_sv39};
    kfree(kmalloc(sizeof(struct vm_space), 0)); /* warm the slab the spaces come from */
    for (int i = 0; i < 4; i++) {
        struct memory_statistics before, after;
        memory_stats(&before);
        struct vm_space *k;
        assert_int_equal(vm_space_create(fmts[i], &fake_tlb, true, NULL, &k), KEEL_OK);
        uint64_t va = 0xffffffc000000000ULL, pa = 0x100000000ULL;
        /* 1 GiB + 2 MiB + 4 KiB from one call: three page sizes. */
        assert_int_equal(vmm_map(k, VADDR(va), PADDR(pa), GIB + MIB2 + KIB, KRW), KEEL_OK);
        uint64_t ps;
        assert_int_equal(vmm_query(k, VADDR(va + 5 * MIB2), NULL, NULL, &ps), KEEL_OK);
        assert_int_equal(ps, GIB);
        assert_int_equal(vmm_query(k, VADDR(va + GIB + 7), NULL, NULL, &ps), KEEL_OK);
        assert_int_equal(ps, MIB2);
        assert_int_equal(vmm_query(k, VADDR(va + GIB + MIB2), NULL, NULL, &ps), KEEL_OK);
        assert_int_equal(ps, KIB);
        /* Unmap one 4 KiB page inside the 1 GiB page: 1G -> 2M -> 4K splits. */
        unsigned f0 = flushes;
        assert_int_equal(vmm_unmap(k, VADDR(va + 3 * MIB2 + 5 * KIB), KIB), KEEL_OK);
        assert_true(flushes >= f0 + 3); /* two splits (break-before-make) + the unmap */
        assert_int_equal(vmm_query(k, VADDR(va + 3 * MIB2 + 5 * KIB), NULL, NULL, NULL),
                         KEEL_ENOTFOUND);
        paddr_t got;
        uint32_t fl;
        assert_int_equal(vmm_query(k, VADDR(va + 3 * MIB2 + 6 * KIB + 9), &got, &fl, &ps), KEEL_OK);
        assert_int_equal(got.pa, pa + 3 * MIB2 + 6 * KIB + 9);
        assert_int_equal(ps, KIB);
        assert_int_equal(fl, KRW);
        assert_int_equal(vmm_query(k, VADDR(va + 4 * MIB2), &got, NULL, &ps), KEEL_OK);
        assert_int_equal(ps, MIB2);
        assert_int_equal(got.pa, pa + 4 * MIB2);
        /* Protect part of a 2 MiB page read-only; the rest stays writable. */
        assert_int_equal(vmm_protect(k, VADDR(va + 8 * MIB2 + 16 * KIB), 4 * KIB, KR), KEEL_OK);
        assert_int_equal(vmm_query(k, VADDR(va + 8 * MIB2 + 17 * KIB), NULL, &fl, &ps), KEEL_OK);
        assert_int_equal(fl, KR);
        assert_int_equal(ps, KIB);
        assert_int_equal(vmm_query(k, VADDR(va + 8 * MIB2 + 20 * KIB), NULL, &fl, NULL), KEEL_OK);
        assert_int_equal(fl, KRW);
        /* Protect a whole 2 MiB page in place: stays one 2 MiB entry. */
        assert_int_equal(vmm_protect(k, VADDR(va + GIB), MIB2, KR), KEEL_OK);
        assert_int_equal(vmm_query(k, VADDR(va + GIB), NULL, &fl, &ps), KEEL_OK);
        assert_int_equal(ps, MIB2);
        assert_int_equal(fl, KR);
        /* Unmap everything, then a 1 GiB page fits again where tables were left. */
        assert_int_equal(vmm_unmap(k, VADDR(va), GIB + MIB2 + KIB), KEEL_OK);
        assert_int_equal(vmm_query(k, VADDR(va + GIB), NULL, NULL, NULL), KEEL_ENOTFOUND);
        assert_int_equal(vmm_map_page(k, VADDR(va), PADDR(pa), GIB, KRW), KEEL_OK);
        assert_int_equal(vmm_unmap_page(k, VADDR(va), &got), KEEL_OK);
        assert_int_equal(got.pa, pa);
        vm_space_destroy(k);
        memory_stats(&after);
        assert_int_equal(after.allocated_frames, before.allocated_frames);
    }
}

static void test_vma(void **state) {
    (void)state;
    struct vm_space *u;
    assert_int_equal(vm_space_create(&pt_format_sv48, NULL, false, NULL, &u), KEEL_OK);
    struct vm_area *a, *b, *c, *bad;
    uint32_t rw = VM_READ | VM_WRITE | VM_USER;
    assert_int_equal(create_vma(VADDR(0x10000), VADDR(0x20000), rw, &a), KEEL_OK);
    assert_int_equal(create_vma(VADDR(0x30000), VADDR(0x31000), VM_READ | VM_USER, &b), KEEL_OK);
    assert_int_equal(create_vma(VADDR(0x1f000), VADDR(0x30000), rw, &c), KEEL_OK);
    assert_int_equal(create_vma(VADDR(0x1000), VADDR(0x2000), rw | VM_EXEC, &bad), KEEL_EPERM);
    assert_int_equal(create_vma(VADDR(0x2000), VADDR(0x2000), rw, &bad), KEEL_EINVAL);
    assert_int_equal(create_vma(VADDR(0x2001), VADDR(0x3000), rw, &bad), KEEL_EINVAL);
    assert_int_equal(add_vma_to_space(u, b), KEEL_OK);
    assert_int_equal(add_vma_to_space(u, a), KEEL_OK);
    assert_int_equal(add_vma_to_space(u, c), KEEL_EEXIST); /* overlaps a */
    assert_int_equal(add_vma_to_space(u, a), KEEL_EINVAL); /* already added */
    assert_ptr_equal(find_vma(u, VADDR(0x10000)), a);
    assert_ptr_equal(find_vma(u, VADDR(0x1ffff)), a);
    assert_null(find_vma(u, VADDR(0x20000)));
    assert_ptr_equal(find_vma(u, VADDR(0x30fff)), b);
    assert_null(find_vma(u, VADDR(0x31000)));
    assert_null(find_vma(u, VADDR(0xfff)));
    assert_int_equal(destroy_vma(a), KEEL_EBUSY);
    assert_int_equal(remove_vma(u, a), KEEL_OK);
    assert_int_equal(remove_vma(u, a), KEEL_ENOTFOUND);
    assert_null(find_vma(u, VADDR(0x10000)));
    assert_int_equal(add_vma_to_space(u, c), KEEL_OK); /* fits now */
    assert_int_equal(destroy_vma(a), KEEL_OK);
    struct vm_area *k;
    assert_int_equal(create_vma(VADDR(KTEXT), VADDR(KTEXT + 0x1000), VM_READ, &k), KEEL_OK);
    assert_int_equal(add_vma_to_space(u, k), KEEL_EINVAL); /* kernel half */
    assert_int_equal(destroy_vma(k), KEEL_OK);
    vm_space_destroy(u); /* frees b and c */
    struct heap_stats hs;
    heap_stats(&hs);
    assert_int_equal(hs.current_allocated, 0);
}

static void test_vmalloc(void **state) {
    (void)state;
    struct vm_space *k;
    assert_int_equal(vm_space_create(&pt_format_x86_64, &fake_tlb, true, NULL, &k), KEEL_OK);
    vmm_kernel_space = k;
    const uint64_t base = 0xffffc90000000000ULL;
    assert_int_equal(vmalloc_init(VADDR(base), 64 * MIB2), KEEL_OK);
    assert_int_equal(vmalloc_init(VADDR(0x1000), 64 * MIB2), KEEL_EINVAL);
    assert_int_equal(vmalloc_init(VADDR(base), 64 * MIB2), KEEL_OK);
    struct memory_statistics m0, m1;
    memory_stats(&m0);
    uint8_t *a = vmalloc(10000); /* 3 pages + guard */
    uint8_t *b = vmalloc(4096);
    assert_ptr_equal(a, (void *)(uintptr_t)base);
    assert_ptr_equal(b, (void *)(uintptr_t)(base + 4 * KIB));
    for (int i = 0; i < 3; i++) {
        uint32_t fl;
        uint64_t ps;
        assert_int_equal(vmm_query(k, VADDR((uintptr_t)a + i * KIB), NULL, &fl, &ps), KEEL_OK);
        assert_int_equal(fl, KRW); /* read/write, never executable */
        assert_int_equal(ps, KIB);
    }
    assert_int_equal(vmm_query(k, VADDR((uintptr_t)a + 3 * KIB), NULL, NULL, NULL),
                     KEEL_ENOTFOUND); /* guard */
    assert_int_equal(vmm_query(k, VADDR((uintptr_t)b + KIB), NULL, NULL, NULL), KEEL_ENOTFOUND);
    vfree(a + 4096);
    vfree(a);
    vfree(a); /* double: refused */
    struct vmalloc_stats vs;
    vmalloc_get_stats(&vs);
    assert_int_equal(vs.areas, 1);
    assert_int_equal(vs.pages, 1);
    assert_int_equal(vs.bad_frees, 2);
    assert_int_equal(vmm_query(k, VADDR((uintptr_t)a), NULL, NULL, NULL), KEEL_ENOTFOUND);
    uint8_t *c = vmalloc(2 * 4096); /* reuses the hole before b: 2 pages + guard fit */
    assert_ptr_equal(c, a);
    assert_null(vmalloc(0));
    assert_null(vmalloc(1ULL << 40));
    vfree(b);
    vfree(c);
    vfree(NULL);
    memory_stats(&m1);
    assert_true(m1.allocated_frames <= m0.allocated_frames + 4); /* page tables remain */
    vmalloc_get_stats(&vs);
    assert_int_equal(vs.areas, 0);
    assert_int_equal(vs.failures, 2);
    vm_space_destroy(k);
    vmm_kernel_space = NULL;
}

/* Random map/unmap/protect over a 64 MiB window against a 4 KiB page model. */
static void test_random_walker(void **state) {
    (void)state;
    enum { PAGES = 16384 };
    static uint64_t model_pa[PAGES];
    static uint32_t model_fl[PAGES];
    /* Formats that can express every flag (Sv39 with Svpbmt for DEVICE/WC). */
    const struct pt_format *fmts[] = {&pt_format_x86_64, &pt_format_aarch64,
                                      &pt_format_sv39_svpbmt};
    const uint64_t win = 0xffffffff00000000ULL;
    const uint32_t fls[] = {KRW, KR, KRX, KDEV, KWC};
    for (int fi = 0; fi < 3; fi++) {
        struct vm_space *k;
        assert_int_equal(vm_space_create(fmts[fi], &fake_tlb, true, NULL, &k), KEEL_OK);
        memset(model_pa, 0xff, sizeof(model_pa));
        for (int step = 0; step < 20000; step++) {
            uint64_t r = mmt_rand_below(100);
            uint64_t size = r < 5 ? MIB2 : KIB * (1 + mmt_rand_below(16));
            uint64_t first = mmt_rand_below(PAGES - size / KIB + 1);
            if (size == MIB2) {
                first &= ~511ULL;
            }
            uint64_t n = size / KIB;
            uint64_t va = win + first * KIB;
            uint32_t fl = fls[mmt_rand_below(5)];
            if (r < 50) {
                uint64_t pa = (0x100000000ULL + mmt_rand_below(1 << 20) * MIB2) + first % 512 * KIB;
                bool free_all = true;
                for (uint64_t i = 0; i < n; i++) {
                    free_all &= model_pa[first + i] == UINT64_MAX;
                }
                kstatus_t st = vmm_map(k, VADDR(va), PADDR(pa), size, fl);
                assert_int_equal(st, free_all ? KEEL_OK : KEEL_EEXIST);
                for (uint64_t i = 0; free_all && i < n; i++) {
                    model_pa[first + i] = pa + i * KIB;
                    model_fl[first + i] = fl;
                }
            } else if (r < 80) {
                assert_int_equal(vmm_unmap(k, VADDR(va), size), KEEL_OK);
                for (uint64_t i = 0; i < n; i++) {
                    model_pa[first + i] = UINT64_MAX;
                }
            } else {
                bool all = true;
                for (uint64_t i = 0; i < n; i++) {
                    all &= model_pa[first + i] != UINT64_MAX;
                }
                assert_int_equal(vmm_protect(k, VADDR(va), size, fl),
                                 all ? KEEL_OK : KEEL_ENOTFOUND);
                for (uint64_t i = 0; all && i < n; i++) {
                    model_fl[first + i] = fl;
                }
            }
            if (step % 1000 == 0 || step == 19999) {
                for (uint64_t p = 0; p < PAGES; p++) {
                    paddr_t got;
                    uint32_t gf;
                    kstatus_t st = vmm_query(k, VADDR(win + p * KIB + 8), &got, &gf, NULL);
                    if (model_pa[p] == UINT64_MAX) {
                        assert_int_equal(st, KEEL_ENOTFOUND);
                    } else {
                        assert_int_equal(st, KEEL_OK);
                        assert_int_equal(got.pa, model_pa[p] + 8);
                        assert_int_equal(gf, model_fl[p]);
                    }
                }
            }
        }
        vm_space_destroy(k);
    }
}

int main(int argc, char **argv) {
    mmt_seed(argc, argv, "test_vmm");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pte_x86_64, setup),
        cmocka_unit_test_setup(test_pte_aarch64, setup),
        cmocka_unit_test_setup(test_pte_riscv, setup),
        cmocka_unit_test_setup(test_user_entries, setup),
        cmocka_unit_test_setup(test_refusals, setup),
        cmocka_unit_test_setup(test_split_protect_unmap, setup),
        cmocka_unit_test_setup(test_vma, setup),
        cmocka_unit_test_setup(test_vmalloc, setup),
        cmocka_unit_test_setup(test_random_walker, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
