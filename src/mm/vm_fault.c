/* SPDX-License-Identifier: MIT */
/*
 * Page-fault classification. Every arch hands its page faults here with the address and
 * the access; the answer is whether it was resolved (never yet: no demand paging) and a
 * reason in words for the fault report. Guard regions (unmapped on purpose below kernel
 * stacks) sit on one list: the few fixed ones of the image in a static pool, every
 * thread stack's in its own vmalloc record, so thread churn never fills anything.
 */
#include <kernel/spinlock.h>
#include <kernel/vm_fault.h>

/* How often vm_fault() retries the guard lock before it gives up on naming a guard. */
#define GUARD_LOCK_TRIES (1u << 20)

static struct vm_guard fixed[VM_FAULT_MAX_GUARDS]; /* size 0: free */
static struct vm_guard *guards;                    /* every registered guard */
static spinlock_t guards_lock = SPINLOCK_INIT;

/* Link g at the head of the list. Lock held. */
static void link_guard(struct vm_guard *g) {
    g->prev = NULL;
    g->next = guards;
    if (guards != NULL) {
        guards->prev = g;
    }
    guards = g;
}

/* Unlink g. Lock held. */
static void unlink_guard(struct vm_guard *g) {
    if (g->prev != NULL) {
        g->prev->next = g->next;
    } else {
        guards = g->next;
    }
    if (g->next != NULL) {
        g->next->prev = g->prev;
    }
    g->prev = g->next = NULL;
}

static bool bad_range(vaddr_t va, uint64_t size) {
    return size == 0 || va.va + size < va.va;
}

kstatus_t vm_fault_guard_insert(struct vm_guard *g, vaddr_t va, uint64_t size) {
    if (g == NULL || bad_range(va, size)) {
        return KEEL_EINVAL;
    }
    unsigned long flags;
    kstatus_t st = KEEL_EEXIST;
    spin_lock_irqsave(&guards_lock, &flags);
    if (g->size == 0) {
        g->va = va.va;
        g->size = size;
        link_guard(g);
        st = KEEL_OK;
    }
    spin_unlock_irqrestore(&guards_lock, flags);
    return st;
}

void vm_fault_guard_remove(struct vm_guard *g) {
    if (g == NULL || g->size == 0) {
        return;
    }
    unsigned long flags;
    spin_lock_irqsave(&guards_lock, &flags);
    unlink_guard(g);
    g->size = 0;
    spin_unlock_irqrestore(&guards_lock, flags);
}

kstatus_t vm_fault_add_guard(vaddr_t va, uint64_t size) {
    unsigned long flags;
    kstatus_t st = KEEL_EEXHAUSTED;
    if (bad_range(va, size)) {
        return KEEL_EINVAL;
    }
    spin_lock_irqsave(&guards_lock, &flags);
    for (unsigned i = 0; i < VM_FAULT_MAX_GUARDS; i++) {
        if (fixed[i].size == 0) {
            fixed[i].va = va.va;
            fixed[i].size = size;
            link_guard(&fixed[i]);
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
        if (fixed[i].size != 0 && fixed[i].va == va.va) {
            unlink_guard(&fixed[i]);
            fixed[i].size = 0;
        }
    }
    spin_unlock_irqrestore(&guards_lock, flags);
}

/*
 * Is va in a registered guard? The lock keeps a guard's owner from freeing it under us.
 * Bounded: a CPU that faulted while it held the lock itself (a corrupt list) must still
 * get a report, so after GUARD_LOCK_TRIES the answer is "no".
 */
static bool in_guard(uint64_t va) {
    unsigned long flags = arch_irq_save();
    bool hit = false;
    unsigned tries = 0;
    while (!spin_trylock(&guards_lock)) {
        if (++tries == GUARD_LOCK_TRIES) {
            arch_irq_restore(flags);
            return false;
        }
        arch_cpu_relax();
    }
    for (const struct vm_guard *g = guards; g != NULL; g = g->next) {
        if (va >= g->va && va - g->va < g->size) {
            hit = true;
            break;
        }
    }
    spin_unlock(&guards_lock);
    arch_irq_restore(flags);
    return hit;
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
