/* SPDX-License-Identifier: MIT */
/*
 * riscv64 TLB maintenance for the VM layer (struct vm_tlb_ops). Keel uses no ASIDs yet:
 * kernel entries are global and every satp switch must be followed by a full
 * sfence.vma, so a space that is not loaded on this hart has nothing cached here.
 */
#include <arch/mmu.h>
#include <kernel/vmm.h>

#include "riscv.h"

/*
 * Other harts ([va, va+size), size 0 for everything): the scheduler issue sends them
 * the same fence (SBI RFENCE or an IPI) when they may have the space loaded. One hart
 * today, so nothing to do.
 */
static void shootdown(struct vm_space *as, vaddr_t va, uint64_t size) {
    (void)as;
    (void)va;
    (void)size;
}

/* Can this hart hold translations of as? The kernel half is always loaded. */
static bool live_here(const struct vm_space *as) {
    return as->kernel || (csr_read(satp) & SATP_PPN_MASK) == as->root.pa >> PAGE_SHIFT;
}

/*
 * An entry for [va, va+size) was removed or changed. One 4 KiB leaf: sfence.vma with its
 * address (rs2 = x0: every address space, so global entries too). Anything larger is a
 * superpage or a table entry, and a non-leaf change needs the full fence (privileged
 * spec, SFENCE.VMA): flush everything.
 */
static void rv_flush(struct vm_space *as, vaddr_t va, uint64_t size) {
    if (live_here(as)) {
        if (size == PAGE_SIZE) {
            __asm__ volatile("sfence.vma %0, zero" ::"r"(va.va) : "memory");
        } else {
            __asm__ volatile("sfence.vma" ::: "memory");
        }
    }
    shootdown(as, va, size);
}

/*
 * New entries were written. A hart may have cached the old invalid ones (only Svvptc
 * rules that out), so a live space gets a full fence; there is no address to go by.
 */
static void rv_sync(struct vm_space *as) {
    if (live_here(as)) {
        __asm__ volatile("sfence.vma" ::: "memory");
    }
    shootdown(as, VADDR(0), 0);
}

const struct vm_tlb_ops riscv_tlb_ops = {.flush = rv_flush, .sync = rv_sync};

void arch_tlb_flush_local(uint64_t va, uint64_t size) {
    if (size == 0 || size > 64 * PAGE_SIZE) {
        __asm__ volatile("sfence.vma" ::: "memory");
        return;
    }
    for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
        __asm__ volatile("sfence.vma %0, zero" ::"r"(va + off) : "memory");
    }
}
