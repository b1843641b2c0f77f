/* SPDX-License-Identifier: MIT */
/*
 * Page faults, routed from the arch trap handlers to the VM layer. Today nothing is
 * paged in on demand, so every fault is reported; the classification (what was
 * accessed, how, and why it failed) is portable and host-tested.
 */
#ifndef KERNEL_VM_FAULT_H
#define KERNEL_VM_FAULT_H

#include <kernel/vmm.h>

/* How the faulting access touched memory. */
#define VM_FAULT_READ  0x1u
#define VM_FAULT_WRITE 0x2u
#define VM_FAULT_EXEC  0x4u
#define VM_FAULT_USER  0x8u /* the access came from user mode */

/*
 * Handle a page fault at va in space as (the kernel space for kernel addresses). Returns
 * KEEL_OK if the fault was resolved and the access can be retried; otherwise KEEL_EFAULT,
 * with *reason set to a static description ("not mapped", "write to a read-only page",
 * "execute of a non-executable page", "user access to a kernel page", "in the guard page
 * below a kernel stack", ...). as may be NULL (before the VM layer is up). Any context.
 */
__must_check kstatus_t vm_fault(struct vm_space *as, vaddr_t va, uint32_t access,
                                const char **reason);

/* "read", "write" or "execute" (plus " from user mode"), for fault reports. */
const char *vm_fault_access_name(uint32_t access);

/*
 * Declare [va, va+size) a guard region (unmapped on purpose, e.g. below a boot stack), so
 * a fault there is reported as a stack overflow. For the image's few fixed guards: a
 * static pool of VM_FAULT_MAX_GUARDS. KEEL_EEXHAUSTED when full, KEEL_EINVAL for an
 * empty or wrapping range. Boot or thread context.
 */
#define VM_FAULT_MAX_GUARDS 64
__must_check kstatus_t vm_fault_add_guard(vaddr_t va, uint64_t size);

/* Forget every vm_fault_add_guard() region that starts at va. Boot or thread context. */
void vm_fault_remove_guard(vaddr_t va);

/*
 * A guard whose record the owner keeps (e.g. in a vmalloc area, one per thread stack):
 * no table to fill, O(1) insert and remove. The VM layer owns the links while it is in.
 */
struct vm_guard {
    uint64_t va;
    uint64_t size; /* 0 while not inserted */
    struct vm_guard *prev;
    struct vm_guard *next;
};

/*
 * Register g (zeroed, or removed since) as the guard region [va, va+size). KEEL_EINVAL
 * for a NULL g or an empty or wrapping range; KEEL_EEXIST if g is in already. Any context
 * (IRQ-safe lock).
 */
__must_check kstatus_t vm_fault_guard_insert(struct vm_guard *g, vaddr_t va, uint64_t size);

/* Unregister g (a g never inserted, or already removed, is ignored). Any context. */
void vm_fault_guard_remove(struct vm_guard *g);

#endif /* KERNEL_VM_FAULT_H */
