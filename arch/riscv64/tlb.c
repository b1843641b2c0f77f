/* SPDX-License-Identifier: MIT */
/*
 * riscv64 TLB maintenance for the VM layer (struct vm_tlb_ops) and arch_tlb_flush_local
 * for the portable TLB shootdown. Keel uses no ASIDs yet: kernel entries are global and
 * every satp switch must be followed by a full sfence.vma, so a space that is not loaded
 * on this hart has nothing cached here.
 */
#include <arch/mmu.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/vmm.h>

#include "riscv.h"

#define SBI_RFENCE_SFENCE_VMA 1
#define SBI_HART_MASK_ALL     (~0UL) /* hart_mask_base -1: every started hart */

/* Harts started besides the boot hart (smp.c counts them); 0 means nothing to send. */
unsigned riscv_other_harts;

/*
 * Other harts ([va, va+size), size 0 for everything). Kernel entries are global, so
 * every started hart may cache them. The VM layer calls this with its space lock held and
 * interrupts masked, so waiting for an S-mode IPI could deadlock against a hart spinning
 * on that lock with its interrupts masked; SBI RFENCE remote_sfence_vma is delivered by
 * M-mode IPIs that no S-mode mask holds off, and returns once every hart has fenced.
 * Without RFENCE, or in the "icount" mode (QEMU 7.2 -icount starves the harts RFENCE waits
 * for: docs/boot-riscv64.md), the portable tlb_shootdown() (IPI_CALL + arch_tlb_flush_local).
 * A user space is only loaded on harts that run its threads, and there are none yet.
 */
static void shootdown(struct vm_space *as, vaddr_t va, uint64_t size) {
    static int rfence = -1;

    if (!as->kernel || __atomic_load_n(&riscv_other_harts, __ATOMIC_ACQUIRE) == 0) {
        return;
    }
    if (rfence < 0) {
        rfence = sbi_probe(SBI_EXT_RFENCE) ? 1 : 0;
    }
    if (rfence == 0 || riscv_icount) {
        tlb_shootdown(va.va, size);
        return;
    }
    /* size -1: the whole address space (SBI spec, RFENCE). */
    (void)sbi_call4(SBI_EXT_RFENCE, SBI_RFENCE_SFENCE_VMA, 0, SBI_HART_MASK_ALL, va.va,
                    size == 0 ? ~0UL : size);
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
    shootdown(as, va, size == PAGE_SIZE ? size : 0);
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
    /* One 4 KiB leaf by address; anything else may involve table entries: everything. */
    if (size == PAGE_SIZE) {
        __asm__ volatile("sfence.vma %0, zero" ::"r"(va) : "memory");
    } else {
        __asm__ volatile("sfence.vma" ::: "memory");
    }
}
