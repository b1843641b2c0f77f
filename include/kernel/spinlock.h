/* SPDX-License-Identifier: MIT */
/*
 * Ticket spinlocks: fair (FIFO), portable C11 atomics. The irqsave variants also mask
 * interrupts on this CPU. Never sleep while holding one.
 */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <arch/cpu.h>
#include <kernel/types.h>

typedef struct {
    uint32_t next;  /* ticket handed to the next locker */
    uint32_t owner; /* ticket now holding the lock */
} spinlock_t;

#define SPINLOCK_INIT                                                                              \
    { 0, 0 }

static inline void spinlock_init(spinlock_t *lock) {
    __atomic_store_n(&lock->next, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&lock->owner, 0, __ATOMIC_RELAXED);
}

static inline void spin_lock(spinlock_t *lock) {
    uint32_t ticket = __atomic_fetch_add(&lock->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE) != ticket) {
        arch_cpu_relax();
    }
}

static inline bool spin_trylock(spinlock_t *lock) {
    /* Acquire: pairs with the release store of owner in spin_unlock(). */
    uint32_t owner = __atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE);
    uint32_t expected = owner;
    return __atomic_compare_exchange_n(&lock->next, &expected, owner + 1, false, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

static inline void spin_unlock(spinlock_t *lock) {
    uint32_t owner = __atomic_load_n(&lock->owner, __ATOMIC_RELAXED);
    __atomic_store_n(&lock->owner, owner + 1, __ATOMIC_RELEASE);
}

static inline void spin_lock_irqsave(spinlock_t *lock, unsigned long *flags) {
    *flags = arch_irq_save();
    spin_lock(lock);
}

/* The busy case of spin_lock_irqsave_poll(), out of line to keep the fast path lean (one
 * copy per file that uses it). */
static __unused __noinline __attribute__((cold)) void
spin_wait_poll(spinlock_t *lock, uint32_t ticket, void (*poll)(void)) {
    while (__atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE) != ticket) {
        poll();
        arch_cpu_relax();
    }
}

/*
 * spin_lock_irqsave() that runs poll() between looks while the lock is busy, for a lock
 * whose holder may wait for this CPU to do something an interrupt would normally start
 * (serve a cross-CPU call: smp_poll_calls). poll runs with interrupts masked, holding a
 * ticket of this lock: it must not take this lock.
 */
static inline void spin_lock_irqsave_poll(spinlock_t *lock, unsigned long *flags,
                                          void (*poll)(void)) {
    *flags = arch_irq_save();
    uint32_t ticket = __atomic_fetch_add(&lock->next, 1, __ATOMIC_RELAXED);
    if (__builtin_expect(__atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE) != ticket, 0)) {
        spin_wait_poll(lock, ticket, poll);
    }
}

static inline void spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags) {
    spin_unlock(lock);
    arch_irq_restore(flags);
}

#endif /* KERNEL_SPINLOCK_H */
