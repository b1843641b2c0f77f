/* SPDX-License-Identifier: MIT */
/*
 * Address spaces over the portable page-table walker: create/destroy, map, unmap,
 * protect and query with 4 KiB, 2 MiB and 1 GiB pages, W^X enforced. An arch supplies
 * only a struct pt_format (its entry encoding, see pte.h) and struct vm_tlb_ops (TLB
 * maintenance); table pages come from the frame allocator through the direct map.
 * Also vmalloc()/vfree(): virtually contiguous kernel memory with a guard page after each.
 */
#ifndef KERNEL_VMM_H
#define KERNEL_VMM_H

#include <kernel/pte.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>
#include <kernel/types.h>

struct vm_space;
struct vm_area;

/* TLB maintenance, provided by the arch (NULL members or a NULL ops pointer: none). */
struct vm_tlb_ops {
    /* A valid entry for [va, va+size) was removed or changed: drop stale translations
     * (invlpg / TLBI VAE1IS / sfence.vma) here and on the other CPUs before returning.
     * Called with as->lock held and interrupts masked; it may wait for other CPUs
     * (tlb_shootdown), which serve it even while waiting for as->lock (vm_space_lock). */
    void (*flush)(struct vm_space *as, vaddr_t va, uint64_t size);
    /* New entries were written: make them visible to the walker (DSB ISHST; ISB). */
    void (*sync)(struct vm_space *as);
};

struct vm_space {
    const struct pt_format *fmt;
    const struct vm_tlb_ops *tlb;
    paddr_t root;         /* root table; the arch loads it into CR3 / TTBRn / satp */
    bool kernel;          /* maps the upper (kernel) half, else the lower (user) half */
    uint64_t table_pages; /* table pages owned (root included) */
    uint64_t arch_tag;    /* free for the arch (ASID, PCID) */
    spinlock_t lock;
    struct vm_area *vmas; /* sorted by start, see vma.h */
};

/*
 * Take as->lock with interrupts masked. While it is busy this CPU serves its cross-CPU
 * calls: the holder may be in a TLB shootdown (vm_tlb_ops.flush) waiting for this CPU,
 * whose masked interrupts would hold the IPI off for good. Every taker of as->lock uses it.
 */
static inline void vm_space_lock(struct vm_space *as, unsigned long *irq) {
    spin_lock_irqsave_poll(&as->lock, irq, smp_poll_calls);
}

static inline void vm_space_unlock(struct vm_space *as, unsigned long irq) {
    spin_unlock_irqrestore(&as->lock, irq);
}

/*
 * Create an address space of format fmt. kernel: the upper half (the kernel's own space,
 * created once at boot); else a user space for the lower half, which on formats with
 * PT_FEAT_SHARED_KERNEL_ROOT copies the upper-half root entries of kernel_space (may be
 * NULL in tests). KEEL_EINVAL: NULL fmt/out; KEEL_ENOMEM. Needs the heap.
 */
__must_check kstatus_t vm_space_create(const struct pt_format *fmt, const struct vm_tlb_ops *tlb,
                                       bool kernel, const struct vm_space *kernel_space,
                                       struct vm_space **out);

/*
 * Free every table page of the space's own half and its VM areas. Mapped frames are the
 * owner's to free. The space must not be live on any CPU.
 */
void vm_space_destroy(struct vm_space *as);

/*
 * Map [va, va+size) to [pa, pa+size) with VM_* flags, using the largest pages (1 GiB,
 * 2 MiB, 4 KiB) that alignment and size allow. All or nothing. KEEL_EINVAL: unaligned or
 * empty range, wrong half, bad flags (no VM_READ, DEVICE with WC, USER in the kernel
 * space, no USER or GLOBAL in a user space); KEEL_EPERM: WRITE with EXEC (W^X) or DEVICE
 * with EXEC; KEEL_EEXIST: something already mapped there; KEEL_ENOMEM. Takes as->lock.
 */
__must_check kstatus_t vmm_map(struct vm_space *as, vaddr_t va, paddr_t pa, uint64_t size,
                               uint32_t flags);

/* Map exactly one page of page_size (4 KiB, 2 MiB or 1 GiB). Errors as vmm_map(). */
__must_check kstatus_t vmm_map_page(struct vm_space *as, vaddr_t va, paddr_t pa, uint64_t page_size,
                                    uint32_t flags);

/*
 * Unmap whatever is mapped in [va, va+size), splitting large pages at the edges.
 * KEEL_EINVAL: bad range; KEEL_ENOMEM: a split needed a table (nothing unmapped).
 */
__must_check kstatus_t vmm_unmap(struct vm_space *as, vaddr_t va, uint64_t size);

/* Unmap the page that starts at va; its physical address to *pa (may be NULL).
 * KEEL_ENOTFOUND: nothing mapped; KEEL_EINVAL: va inside a large page, not at its start. */
__must_check kstatus_t vmm_unmap_page(struct vm_space *as, vaddr_t va, paddr_t *pa);

/*
 * Change the flags of every page in [va, va+size) (large pages split at the edges).
 * KEEL_ENOTFOUND if any page in the range is unmapped (nothing changed); flag errors as
 * vmm_map(); KEEL_ENOMEM when a split needs a table.
 */
__must_check kstatus_t vmm_protect(struct vm_space *as, vaddr_t va, uint64_t size, uint32_t flags);

/* Translate va: physical address (with the offset in the page), flags and page size
 * (each out-pointer may be NULL). KEEL_ENOTFOUND if unmapped. */
__must_check kstatus_t vmm_query(struct vm_space *as, vaddr_t va, paddr_t *pa, uint32_t *flags,
                                 uint64_t *page_size);

/* vmm_query() that never waits: KEEL_EBUSY when as->lock is held (for fault paths, which
 * may have interrupted the lock's holder on this CPU). */
__must_check kstatus_t vmm_query_trylock(struct vm_space *as, vaddr_t va, paddr_t *pa,
                                         uint32_t *flags, uint64_t *page_size);

/*
 * Allocate the root-level tables covering [va, va+size) of the kernel space now, so that
 * user spaces created later share them (formats with PT_FEAT_SHARED_KERNEL_ROOT).
 */
__must_check kstatus_t vm_space_preallocate(struct vm_space *as, vaddr_t va, uint64_t size);

/* The one kernel address space, set by the arch at boot (vmalloc maps into it). */
extern struct vm_space *vmm_kernel_space;

/*
 * Give vmalloc the kernel VA window [base, base+size) of vmm_kernel_space (arch layout).
 * KEEL_EINVAL: unaligned, empty or outside the kernel half. Boot only.
 */
__must_check kstatus_t vmalloc_init(vaddr_t base, uint64_t size);

/* size bytes of virtually contiguous kernel memory (page granular, read/write, never
 * executable), followed by an unmapped guard page. NULL when out of memory or VA. */
void *vmalloc(size_t size);

/* As vmalloc(), with the area's start aligned to align (a power of two; below PAGE_SIZE
 * means PAGE_SIZE); the gap below it stays unmapped. NULL also for a bad align. Kernel
 * stacks use it (ARCH_THREAD_STACK_ALIGN, include/arch/thread.h). */
void *vmalloc_aligned(size_t size, size_t align);

/*
 * As vmalloc_aligned(), and the page directly below the area is reserved too, never
 * mapped, and registered with vm_fault_guard_insert() (until vfree), so running off the
 * bottom of a downward-growing stack is reported as a guard-page hit. Kernel thread stacks.
 */
void *vmalloc_stack(size_t size, size_t align);

/* Free a vmalloc() area; NULL is ignored; any other pointer (or one another CPU is freeing)
 * is refused and counted. On return no CPU can use the area's old translations. */
void vfree(void *ptr);

struct vmalloc_stats {
    uint64_t areas;     /* live areas */
    uint64_t pages;     /* pages mapped */
    uint64_t bad_frees; /* vfree of a pointer vmalloc did not return */
    uint64_t failures;  /* vmalloc returned NULL */
};

void vmalloc_get_stats(struct vmalloc_stats *out);

#endif /* KERNEL_VMM_H */
