/* SPDX-License-Identifier: MIT */
/*
 * Virtual memory areas: the ranges of an address space and what they are for, kept as
 * a sorted list per struct vm_space (the CloudOS seed's create_vma / find_vma /
 * destroy_vma; add_vma_to_process becomes add_vma_to_space since spaces own areas).
 */
#ifndef KERNEL_VMA_H
#define KERNEL_VMA_H

#include <kernel/vmm.h>

struct vm_area {
    vaddr_t start;          /* first byte */
    vaddr_t end;            /* one past the last byte */
    uint32_t flags;         /* VM_* */
    struct vm_space *space; /* NULL while not added */
    struct vm_area *next;
    void *owner; /* free for the creator (backing object, ...) */
};

/*
 * A new, unattached area [start, end) with VM_* flags. KEEL_EINVAL: unaligned or empty
 * range, unknown flags; KEEL_EPERM: writable and executable; KEEL_ENOMEM.
 */
__must_check kstatus_t create_vma(vaddr_t start, vaddr_t end, uint32_t flags, struct vm_area **out);

/* Free an area. KEEL_EBUSY while it is still added to a space; KEEL_EINVAL for NULL. */
__must_check kstatus_t destroy_vma(struct vm_area *vma);

/*
 * Add an area to a space. KEEL_EEXIST if it overlaps another; KEEL_EINVAL if already
 * added or outside the space's half. Takes as->lock.
 */
__must_check kstatus_t add_vma_to_space(struct vm_space *as, struct vm_area *vma);

/* Remove an area from its space. KEEL_ENOTFOUND if it is not in as. Takes as->lock. */
__must_check kstatus_t remove_vma(struct vm_space *as, struct vm_area *vma);

/* The area containing addr, or NULL. Takes as->lock. */
struct vm_area *find_vma(struct vm_space *as, vaddr_t addr);

#endif /* KERNEL_VMA_H */
