/* SPDX-License-Identifier: MIT */
/*
 * Counting semaphores and mutexes. A released unit goes straight to the oldest waiter
 * (hand-off): it cannot be taken by a late-comer in between, so waiters are served in
 * FIFO order and the unit count is exact whatever wakes or times out concurrently.
 */
#include <kernel/sync.h>

void sema_init(semaphore_t *sem, int val) {
    init_waitqueue_head(&sem->wq);
    sem->count = val > 0 ? val : 0;
}

kstatus_t down_trylock(semaphore_t *sem) {
    unsigned long irq;
    spin_lock_irqsave(&sem->wq.lock, &irq);
    kstatus_t st = KEEL_EBUSY;
    if (sem->count > 0 && sem->wq.head == NULL) {
        sem->count--;
        st = KEEL_OK;
    }
    spin_unlock_irqrestore(&sem->wq.lock, irq);
    return st;
}

kstatus_t sema_down_begin(semaphore_t *sem, wait_queue_entry_t *entry) {
    unsigned long irq;
    spin_lock_irqsave(&sem->wq.lock, &irq);
    kstatus_t st = KEEL_OK;
    if (sem->count > 0 && sem->wq.head == NULL) {
        sem->count--;
    } else {
        /* queue it by hand: the wait-queue lock is the semaphore lock, already held */
        entry->flags |= WQ_FLAG_EXCLUSIVE;
        entry->next = NULL;
        entry->prev = sem->wq.tail;
        if (sem->wq.tail != NULL) {
            sem->wq.tail->next = entry;
        } else {
            sem->wq.head = entry;
        }
        sem->wq.tail = entry;
        sem->wq.count++;
        entry->queued = true;
        __atomic_store_n(&entry->woken, false, __ATOMIC_RELAXED);
        st = KEEL_EBUSY;
    }
    spin_unlock_irqrestore(&sem->wq.lock, irq);
    return st;
}

kstatus_t sema_down_end(semaphore_t *sem, wait_queue_entry_t *entry) {
    unsigned long irq;
    spin_lock_irqsave(&sem->wq.lock, &irq);
    kstatus_t st = KEEL_OK;
    if (!__atomic_load_n(&entry->woken, __ATOMIC_ACQUIRE)) {
        if (entry->queued) {
            wait_queue_entry_t *e = entry;
            if (e->prev != NULL) {
                e->prev->next = e->next;
            } else {
                sem->wq.head = e->next;
            }
            if (e->next != NULL) {
                e->next->prev = e->prev;
            } else {
                sem->wq.tail = e->prev;
            }
            e->next = e->prev = NULL;
            e->queued = false;
            sem->wq.count--;
        }
        st = KEEL_ETIMEOUT;
    }
    spin_unlock_irqrestore(&sem->wq.lock, irq);
    return st;
}

/* Release one unit with the semaphore lock held: hand it to the oldest waiter, or count
 * it. Returns the new holder's entity (NULL when counted). */
static struct sched_entity *sema_release_locked(semaphore_t *sem) {
    wait_queue_entry_t *w = sem->wq.head;
    if (w == NULL) {
        if (sem->count < INT32_MAX) {
            sem->count++;
        }
        return NULL;
    }
    sem->wq.head = w->next;
    if (w->next != NULL) {
        w->next->prev = NULL;
    } else {
        sem->wq.tail = NULL;
    }
    w->next = w->prev = NULL;
    w->queued = false;
    sem->wq.count--;
    struct sched_entity *to = w->waiter;
    __atomic_store_n(&w->woken, true, __ATOMIC_RELEASE);
    if (to != NULL) {
        /* KEEL_EEXIST (already awake, e.g. timing out) is fine: it sees woken */
        kstatus_t woke = sched_wake(to, KEEL_OK, get_monotonic_time(), NULL);
        (void)woke;
    }
    return to;
}

void up(semaphore_t *sem) {
    unsigned long irq;
    spin_lock_irqsave(&sem->wq.lock, &irq);
    (void)sema_release_locked(sem);
    spin_unlock_irqrestore(&sem->wq.lock, irq);
}

struct sema_wait {
    semaphore_t *sem;
    wait_queue_entry_t *entry;
    bool started;
    bool acquired;
};

/* Runs right after the caller was prepared to block: take a unit or queue up. */
static bool sema_cond(void *p) {
    struct sema_wait *w = p;
    if (!w->started) {
        w->started = true;
        w->acquired = sema_down_begin(w->sem, w->entry) == KEEL_OK;
    }
    return w->acquired || __atomic_load_n(&w->entry->woken, __ATOMIC_ACQUIRE);
}

kstatus_t down_timeout(semaphore_t *sem, uint64_t timeout_ns) {
    if (down_trylock(sem) == KEEL_OK) {
        return KEEL_OK;
    }
    struct sched_entity *self = sched_current();
    if (self == NULL) {
        return KEEL_ENOTSUP;
    }
    wait_queue_entry_t entry;
    init_wait_entry(&entry, self, WQ_FLAG_EXCLUSIVE);
    struct sema_wait w = {.sem = sem, .entry = &entry};
    uint64_t start = get_monotonic_time();
    uint64_t deadline = timeout_ns == TIME_NEVER || start > TIME_NEVER - timeout_ns
                            ? TIME_NEVER
                            : start + timeout_ns;
    for (;;) {
        uint64_t now = get_monotonic_time();
        uint64_t left = deadline == TIME_NEVER ? TIME_NEVER : (deadline > now ? deadline - now : 0);
        kstatus_t st = sched_sleep_current(SCHED_BLOCK_MUTEX, left, sema_cond, &w);
        if (w.acquired || __atomic_load_n(&entry.woken, __ATOMIC_ACQUIRE)) {
            return KEEL_OK;
        }
        if (st != KEEL_OK || (deadline != TIME_NEVER && get_monotonic_time() >= deadline)) {
            kstatus_t end = w.started ? sema_down_end(sem, &entry) : KEEL_ETIMEOUT;
            return end == KEEL_OK ? KEEL_OK : (st == KEEL_OK ? KEEL_ETIMEOUT : st);
        }
    }
}

kstatus_t down(semaphore_t *sem) {
    return down_timeout(sem, TIME_NEVER);
}

/* ---- mutexes ---- */

void mutex_init(mutex_t *m) {
    sema_init(&m->sem, 1);
    m->owner = NULL;
}

kstatus_t mutex_trylock_as(mutex_t *m, struct sched_entity *self) {
    kstatus_t st = down_trylock(&m->sem);
    if (st == KEEL_OK) {
        __atomic_store_n(&m->owner, self, __ATOMIC_RELAXED);
    }
    return st;
}

kstatus_t mutex_lock_begin(mutex_t *m, struct sched_entity *self, wait_queue_entry_t *entry) {
    init_wait_entry(entry, self, WQ_FLAG_EXCLUSIVE);
    kstatus_t st = sema_down_begin(&m->sem, entry);
    if (st == KEEL_OK) {
        __atomic_store_n(&m->owner, self, __ATOMIC_RELAXED);
    }
    return st;
}

kstatus_t mutex_lock_end(mutex_t *m, struct sched_entity *self, wait_queue_entry_t *entry) {
    (void)self; /* ownership was handed over by the unlocker */
    return sema_down_end(&m->sem, entry);
}

kstatus_t mutex_unlock_as(mutex_t *m, struct sched_entity *self) {
    unsigned long irq;
    spin_lock_irqsave(&m->sem.wq.lock, &irq);
    bool mine = m->owner == self && m->sem.count == 0;
    if (mine) {
        /* the next owner is the oldest waiter, set before it even runs */
        m->owner = sema_release_locked(&m->sem);
    }
    spin_unlock_irqrestore(&m->sem.wq.lock, irq);
    return mine ? KEEL_OK : KEEL_EPERM;
}

kstatus_t mutex_trylock(mutex_t *m) {
    return mutex_trylock_as(m, sched_current());
}

kstatus_t mutex_lock(mutex_t *m) {
    struct sched_entity *self = sched_current();
    if (mutex_trylock_as(m, self) == KEEL_OK) {
        return KEEL_OK;
    }
    if (self == NULL) {
        return KEEL_ENOTSUP;
    }
    kstatus_t st = down(&m->sem);
    if (st == KEEL_OK) {
        __atomic_store_n(&m->owner, self, __ATOMIC_RELAXED);
    }
    return st;
}

kstatus_t mutex_unlock(mutex_t *m) {
    return mutex_unlock_as(m, sched_current());
}
