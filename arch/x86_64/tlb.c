/* SPDX-License-Identifier: MIT */
/*
 * TLB maintenance behind the portable VM layer (struct vm_tlb_ops): INVLPG for one
 * page, a full flush for large ranges. Kernel mappings are global (CR4.PGE), so a CR3
 * reload would keep them: the full flush is INVPCID type 2 when the CPU has it, else a
 * CR4.PGE toggle. Once other CPUs run, a change to the kernel space is also flushed
 * from theirs (tlb_shootdown: an IPI_CALL running arch_tlb_flush_local there).
 */
#include <arch/mmu.h>
#include <arch/x86_pt.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/vmm.h>

#include "x86.h"

/* Beyond this many 4 KiB pages one full flush is cheaper than INVLPG per page. */
#define X86_TLB_INVLPG_MAX 32

#define CPUID7_EBX_INVPCID (1U << 10)
#define INVPCID_ALL_GLOBAL 2ULL /* every PCID, global entries included */

static bool have_invpcid;
static bool probed;

static void probe(void) {
    uint32_t r[4];
    x86_cpuid(0, 0, r);
    if (r[0] >= 7) {
        x86_cpuid(7, 0, r);
        have_invpcid = (r[1] & CPUID7_EBX_INVPCID) != 0;
    }
    probed = true;
}

void x86_tlb_flush_all(void) {
    if (!probed) {
        probe();
    }
    if (have_invpcid) {
        struct {
            uint64_t pcid;
            uint64_t va;
        } desc = {0, 0};
        __asm__ volatile("invpcid %0, %1" : : "m"(desc), "r"(INVPCID_ALL_GLOBAL) : "memory");
        return;
    }
    uint64_t cr4 = x86_read_cr4();
    if (cr4 & X86_CR4_PGE) {
        /* Any change of CR4.PGE flushes every TLB entry (SDM vol. 3A 4.10.4.1). */
        x86_write_cr4(cr4 & ~X86_CR4_PGE);
        x86_write_cr4(cr4);
    } else {
        x86_write_cr3(x86_read_cr3());
    }
}

static bool is_one_page(uint64_t va, uint64_t size) {
    return (size == X86_PAGE_4K || size == X86_PAGE_2M || size == X86_PAGE_1G) &&
           (va & (size - 1)) == 0;
}

/*
 * vmm.c calls this once per entry it removed or changed ("a valid entry for [va,
 * va+size)"), so a page-sized, page-aligned range is one page: a single INVLPG drops
 * every TLB entry of that page, fractured ones of a large page included, and all
 * paging-structure-cache entries (SDM vol. 3A 4.10.4.1). A user space that is not in
 * CR3 has nothing cached: loading its root drops its non-global entries.
 */
static void flush_here(uint64_t va, uint64_t size) {
    if (is_one_page(va, size)) {
        x86_invlpg(va);
        return;
    }
    uint64_t pages = (size + X86_PAGE_4K - 1) / X86_PAGE_4K;
    if (pages > X86_TLB_INVLPG_MAX) {
        x86_tlb_flush_all();
        return;
    }
    for (uint64_t i = 0; i < pages; i++) {
        x86_invlpg(va + i * X86_PAGE_4K);
    }
}

/*
 * User spaces are not live on any CPU yet (no user threads), so only the kernel space is
 * shot down on the others; when user threads exist, a space's CPU mask picks the targets.
 */
static void x86_tlb_flush_range(struct vm_space *as, vaddr_t va, uint64_t size) {
    if (!as->kernel && (x86_read_cr3() & X86_PTE_ADDR) != as->root.pa) {
        return;
    }
    flush_here(va.va, size);
    if (as->kernel && smp_online_count() > 1) {
        tlb_shootdown(va.va, size);
    }
}

void arch_tlb_flush_local(uint64_t va, uint64_t size) {
    if (size == 0) {
        x86_tlb_flush_all();
        return;
    }
    flush_here(va, size);
}

/* New entries need nothing: a not-present entry is never cached (SDM 4.10.4.3). */
const struct vm_tlb_ops x86_tlb_ops = {
    .flush = x86_tlb_flush_range,
    .sync = NULL,
};
