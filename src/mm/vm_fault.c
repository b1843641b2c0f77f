/* SPDX-License-Identifier: MIT */
/*
 * Page-fault classification. Every arch hands its page faults here with the address and
 * the access; the answer is whether it was resolved (never yet: no demand paging) and a
 * reason in words for the fault report.
 */
#include <kernel/spinlock.h>
#include <kernel/vm_fault.h>

static struct {
    uint64_t va;
    uint64_t size;
} guards[VM_FAULT_MAX_GUARDS];
static spinlock_t guards_lock = SPINLOCK_INIT;

kstatus_t vm_fault_add_guard(vaddr_t va, uint64_t size) {
    unsigned long flags;
    kstatus_t st = KEEL_EEXHAUSTED;
    if (size == 0) {
        return KEEL_EINVAL;
    }
    spin_lock_irqsave(&guards_lock, &flags);
    for (unsigned i = 0; i < VM_FAULT_MAX_GUARDS; i++) {
        if (guards[i].size == 0) {
            guards[i].va = va.va;
            guards[i].size = size;
            st = KEEL_OK;
            break;
        }
    }
    spin_unlock_irqrestore(&guards_lock, flags);
    return st;
}

void vm_fault_remove_guard(vaddr_t va) {
    unsigned long flags;
    spin_lock_irqsave(&guards_lock, &flags);
    for (unsigned i = 0; i < VM_FAULT_MAX_GUARDS; i++) {
        if (guards[i].size != 0 && guards[i].va == va.va) {
            guards[i].size = 0;
        }
    }
    spin_unlock_irqrestore(&guards_lock, flags);
}

static bool in_guard(uint64_t va) {
    for (unsigned i = 0; i < VM_FAULT_MAX_GUARDS; i++) {
        uint64_t g = READ_ONCE(guards[i].va);
        uint64_t s = READ_ONCE(guards[i].size);
        if (s != 0 && va >= g && va - g < s) {
            return true;
        }
    }
    return false;
}

const char *vm_fault_access_name(uint32_t access) {
    bool user = (access & VM_FAULT_USER) != 0;
    if (access & VM_FAULT_EXEC) {
        return user ? "execute from user mode" : "execute";
    }
    if (access & VM_FAULT_WRITE) {
        return user ? "write from user mode" : "write";
    }
    return user ? "read from user mode" : "read";
}

kstatus_t vm_fault(struct vm_space *as, vaddr_t va, uint32_t access, const char **reason) {
    uint32_t flags = 0;

    if (in_guard(va.va)) {
        *reason = "in a guard page (kernel stack overflow?)";
        return KEEL_EFAULT;
    }
    if (as == NULL) {
        *reason = "before the VM layer is up";
        return KEEL_EFAULT;
    }
    kstatus_t st = vmm_query_trylock(as, va, NULL, &flags, NULL);
    if (st == KEEL_EBUSY) {
        /* Most likely this CPU faulted inside the VM layer while holding the lock. */
        *reason = "fault while the address space was locked (inside the VM layer?)";
        return KEEL_EFAULT;
    }
    if (st != KEEL_OK) {
        *reason = "not mapped";
        return KEEL_EFAULT;
    }
    if ((access & VM_FAULT_USER) && !(flags & VM_USER)) {
        *reason = "user access to a kernel page";
    } else if ((access & VM_FAULT_EXEC) && !(flags & VM_EXEC)) {
        *reason = "execute of a non-executable page";
    } else if ((access & VM_FAULT_WRITE) && !(flags & VM_WRITE)) {
        *reason = "write to a read-only page";
    } else if (!(access & VM_FAULT_USER) && (flags & VM_USER)) {
        *reason = "kernel access to a user page";
    } else {
        /* Permitted by the tables: a stale TLB entry or a spurious fault. */
        *reason = "mapped and permitted (stale TLB entry?)";
    }
    return KEEL_EFAULT;
}
