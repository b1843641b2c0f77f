/* SPDX-License-Identifier: MIT */
/*
 * VM areas: a sorted singly linked list per address space. Spaces hold few areas in a
 * microkernel (servers map little), so a list keeps this small; a tree can replace it
 * behind the same functions when a space grows many.
 */
#include <kernel/heap.h>
#include <kernel/vma.h>

kstatus_t create_vma(vaddr_t start, vaddr_t end, uint32_t flags, struct vm_area **out) {
    if (out == NULL || start.va >= end.va || !IS_ALIGNED(start.va, PAGE_SIZE) ||
        !IS_ALIGNED(end.va, PAGE_SIZE) || (flags & ~VM_FLAGS_ALL) != 0) {
        return KEEL_EINVAL;
    }
    if ((flags & VM_WRITE) && (flags & VM_EXEC)) {
        return KEEL_EPERM;
    }
    struct vm_area *v = kmalloc(sizeof(*v), KMALLOC_ZERO);
    if (v == NULL) {
        return KEEL_ENOMEM;
    }
    v->start = start;
    v->end = end;
    v->flags = flags;
    *out = v;
    return KEEL_OK;
}

kstatus_t destroy_vma(struct vm_area *vma) {
    if (vma == NULL) {
        return KEEL_EINVAL;
    }
    if (vma->space != NULL) {
        return KEEL_EBUSY;
    }
    kfree(vma);
    return KEEL_OK;
}

kstatus_t add_vma_to_space(struct vm_space *as, struct vm_area *vma) {
    if (as == NULL || vma == NULL || vma->space != NULL) {
        return KEEL_EINVAL;
    }
    bool in_half =
        as->kernel ? vma->start.va >= pt_kernel_base(as->fmt) : vma->end.va <= pt_user_top(as->fmt);
    if (!in_half) {
        return KEEL_EINVAL;
    }
    unsigned long irq;
    vm_space_lock(as, &irq);
    struct vm_area **link = &as->vmas;
    while (*link != NULL && (*link)->end.va <= vma->start.va) {
        link = &(*link)->next;
    }
    kstatus_t st = KEEL_OK;
    if (*link != NULL && (*link)->start.va < vma->end.va) {
        st = KEEL_EEXIST;
    } else {
        vma->next = *link;
        vma->space = as;
        *link = vma;
    }
    vm_space_unlock(as, irq);
    return st;
}

kstatus_t remove_vma(struct vm_space *as, struct vm_area *vma) {
    if (as == NULL || vma == NULL) {
        return KEEL_EINVAL;
    }
    unsigned long irq;
    vm_space_lock(as, &irq);
    struct vm_area **link = &as->vmas;
    while (*link != NULL && *link != vma) {
        link = &(*link)->next;
    }
    kstatus_t st = KEEL_ENOTFOUND;
    if (*link != NULL) {
        *link = vma->next;
        vma->next = NULL;
        vma->space = NULL;
        st = KEEL_OK;
    }
    vm_space_unlock(as, irq);
    return st;
}

struct vm_area *find_vma(struct vm_space *as, vaddr_t addr) {
    if (as == NULL) {
        return NULL;
    }
    unsigned long irq;
    vm_space_lock(as, &irq);
    struct vm_area *v = as->vmas;
    while (v != NULL && v->end.va <= addr.va) {
        v = v->next;
    }
    if (v != NULL && v->start.va > addr.va) {
        v = NULL;
    }
    vm_space_unlock(as, irq);
    return v;
}
