/* SPDX-License-Identifier: MIT */
/*
 * Sleeping locks and rwlocks (CloudOS seed): counting semaphores and mutexes that hand
 * the unit to the oldest waiter (FIFO, no barging), and writer-preferring spinning
 * rwlocks. Spinlocks are in kernel/spinlock.h. The *_begin/_end halves are the portable
 * core that the blocking calls use; they are what host tests drive.
 */
#ifndef KERNEL_SYNC_H
#define KERNEL_SYNC_H

#include <kernel/waitqueue.h>

/* ---- semaphores ---- */

typedef struct semaphore {
    wait_queue_head_t wq; /* its lock also guards count */
    int32_t count;
} semaphore_t;

/* Initialise with val units (negative treated as 0). */
void sema_init(semaphore_t *sem, int val);

/* Take a unit if one is free and nobody waits: KEEL_OK, else KEEL_EBUSY. Any context. */
__must_check kstatus_t down_trylock(semaphore_t *sem);

/*
 * Take a unit, sleeping (FIFO) while none is free. KEEL_OK, KEEL_ETIMEOUT (down_timeout),
 * KEEL_ENOTSUP without a thread layer. Thread context, no spinlocks held.
 */
__must_check kstatus_t down(semaphore_t *sem);
__must_check kstatus_t down_timeout(semaphore_t *sem, uint64_t timeout_ns);

/* Give a unit back: handed to the oldest waiter (woken) if any, else counted. Any context. */
void up(semaphore_t *sem);

/*
 * Portable halves of down(). begin: the caller's entity must already be prepared
 * (sched_prepare_block); KEEL_OK = unit taken at once, KEEL_EBUSY = entry queued, block.
 * end: after waking or a timeout; KEEL_OK if a unit was handed over, else the entry is
 * removed and KEEL_ETIMEOUT returned.
 */
__must_check kstatus_t sema_down_begin(semaphore_t *sem, wait_queue_entry_t *entry);
__must_check kstatus_t sema_down_end(semaphore_t *sem, wait_queue_entry_t *entry);

/* ---- mutexes ---- */

typedef struct mutex {
    semaphore_t sem;
    struct sched_entity *owner;
} mutex_t;

void mutex_init(mutex_t *m);

/* Lock, sleeping (FIFO) while held. KEEL_ENOTSUP without a thread layer. Thread context. */
__must_check kstatus_t mutex_lock(mutex_t *m);
/* KEEL_OK if taken, KEEL_EBUSY if held. */
__must_check kstatus_t mutex_trylock(mutex_t *m);
/* Unlock; ownership passes to the oldest waiter. KEEL_EPERM if the caller is not the owner. */
__must_check kstatus_t mutex_unlock(mutex_t *m);

/* Portable halves with the owner explicit (what the calls above use; host-tested). */
__must_check kstatus_t mutex_lock_begin(mutex_t *m, struct sched_entity *self,
                                        wait_queue_entry_t *entry);
__must_check kstatus_t mutex_lock_end(mutex_t *m, struct sched_entity *self,
                                      wait_queue_entry_t *entry);
__must_check kstatus_t mutex_trylock_as(mutex_t *m, struct sched_entity *self);
__must_check kstatus_t mutex_unlock_as(mutex_t *m, struct sched_entity *self);

/* ---- read-write spinlocks ---- */

typedef struct {
    uint32_t state;           /* RWLOCK_WRITER bit | number of readers */
    uint32_t writers_waiting; /* new readers wait while this is non-zero */
} rwlock_t;
#define RWLOCK_WRITER 0x80000000u
#define RWLOCK_INIT                                                                                \
    { 0, 0 }

/* Spinning reader/writer lock; writers are preferred (readers cannot starve them).
 * Not recursive. Never sleep while holding it. */
void rwlock_init(rwlock_t *lock);
void read_lock(rwlock_t *lock);
void read_unlock(rwlock_t *lock);
void write_lock(rwlock_t *lock);
void write_unlock(rwlock_t *lock);
bool read_trylock(rwlock_t *lock);
bool write_trylock(rwlock_t *lock);

#endif /* KERNEL_SYNC_H */
