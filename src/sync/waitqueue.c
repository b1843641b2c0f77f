/* SPDX-License-Identifier: MIT */
/*
 * Wait queues: FIFO lists of waiting threads. A waker removes the entries it wakes and
 * marks them woken, so a waiter can tell a real wake-up from a timeout and nothing is
 * woken twice. Lock order: wait-queue lock, then run-queue locks, then timer queues.
 */
#include <kernel/waitqueue.h>

void init_waitqueue_head(wait_queue_head_t *wq) {
    spinlock_init(&wq->lock);
    wq->head = wq->tail = NULL;
    wq->count = 0;
}

void init_wait_entry(wait_queue_entry_t *entry, struct sched_entity *waiter, uint32_t flags) {
    entry->next = entry->prev = NULL;
    entry->waiter = waiter;
    entry->flags = flags;
    entry->queued = false;
    entry->woken = false;
}

static void wq_append(wait_queue_head_t *wq, wait_queue_entry_t *entry) {
    entry->next = NULL;
    entry->prev = wq->tail;
    if (wq->tail != NULL) {
        wq->tail->next = entry;
    } else {
        wq->head = entry;
    }
    wq->tail = entry;
    entry->queued = true;
    __atomic_store_n(&entry->woken, false, __ATOMIC_RELAXED);
    wq->count++;
}

static void wq_unlink(wait_queue_head_t *wq, wait_queue_entry_t *entry) {
    if (entry->prev != NULL) {
        entry->prev->next = entry->next;
    } else {
        wq->head = entry->next;
    }
    if (entry->next != NULL) {
        entry->next->prev = entry->prev;
    } else {
        wq->tail = entry->prev;
    }
    entry->next = entry->prev = NULL;
    entry->queued = false;
    wq->count--;
}

static void add_flags(wait_queue_head_t *wq, wait_queue_entry_t *entry, uint32_t flags) {
    unsigned long irq;
    spin_lock_irqsave(&wq->lock, &irq);
    if (!entry->queued) {
        entry->flags = (entry->flags & ~WQ_FLAG_EXCLUSIVE) | flags;
        wq_append(wq, entry);
    }
    spin_unlock_irqrestore(&wq->lock, irq);
}

void add_wait_queue(wait_queue_head_t *wq, wait_queue_entry_t *entry) {
    add_flags(wq, entry, 0);
}

void add_wait_queue_exclusive(wait_queue_head_t *wq, wait_queue_entry_t *entry) {
    add_flags(wq, entry, WQ_FLAG_EXCLUSIVE);
}

void remove_wait_queue(wait_queue_head_t *wq, wait_queue_entry_t *entry) {
    unsigned long irq;
    spin_lock_irqsave(&wq->lock, &irq);
    if (entry->queued) {
        wq_unlink(wq, entry);
    }
    spin_unlock_irqrestore(&wq->lock, irq);
}

size_t wake_up_nr_at(wait_queue_head_t *wq, size_t nr, uint64_t now_ns) {
    size_t woken = 0;
    size_t exclusive = 0;
    unsigned long irq;
    spin_lock_irqsave(&wq->lock, &irq);
    wait_queue_entry_t *entry = wq->head;
    while (entry != NULL && exclusive < nr) {
        wait_queue_entry_t *next = entry->next;
        wq_unlink(wq, entry);
        __atomic_store_n(&entry->woken, true, __ATOMIC_RELEASE);
        bool ok =
            entry->waiter != NULL && sched_wake(entry->waiter, KEEL_OK, now_ns, NULL) == KEEL_OK;
        woken += ok;
        if (ok && (entry->flags & WQ_FLAG_EXCLUSIVE) != 0) {
            exclusive++;
        }
        entry = next;
    }
    spin_unlock_irqrestore(&wq->lock, irq);
    return woken;
}

size_t wake_up(wait_queue_head_t *wq) {
    return wake_up_nr_at(wq, 1, get_monotonic_time());
}

size_t wake_up_all(wait_queue_head_t *wq) {
    return wake_up_nr_at(wq, SIZE_MAX, get_monotonic_time());
}

kstatus_t prepare_to_wait(wait_queue_head_t *wq, wait_queue_entry_t *entry, unsigned cpu,
                          bool exclusive) {
    /* Prepare first: a waker that finds the entry then always finds the thread prepared
     * (or blocked), so its wake-up cancels or ends the sleep. */
    kstatus_t st = sched_prepare_block(cpu, entry->waiter);
    if (st != KEEL_OK) {
        return st;
    }
    add_flags(wq, entry, exclusive ? WQ_FLAG_EXCLUSIVE : 0);
    return KEEL_OK;
}

void finish_wait(wait_queue_head_t *wq, wait_queue_entry_t *entry) {
    remove_wait_queue(wq, entry);
    sched_cancel_block(entry->waiter);
}

struct wq_wait {
    wait_queue_head_t *wq;
    wait_queue_entry_t *entry;
    condition_t cond;
    void *arg;
};

/* Runs right after the scheduler prepared the caller: queue, then test the condition. */
static bool wq_enqueue_and_check(void *p) {
    struct wq_wait *w = p;
    add_flags(w->wq, w->entry, 0);
    return w->cond != NULL && w->cond(w->arg);
}

kstatus_t sleep_on_condition_timeout(wait_queue_head_t *wq, condition_t cond, void *arg,
                                     uint64_t timeout_ns) {
    struct sched_entity *self = sched_current();
    if (self == NULL) {
        return KEEL_ENOTSUP;
    }
    wait_queue_entry_t entry;
    init_wait_entry(&entry, self, 0);
    struct wq_wait w = {.wq = wq, .entry = &entry, .cond = cond, .arg = arg};
    uint64_t start = get_monotonic_time();
    uint64_t deadline = timeout_ns == TIME_NEVER || start > TIME_NEVER - timeout_ns
                            ? TIME_NEVER
                            : start + timeout_ns;
    for (;;) {
        uint64_t now = get_monotonic_time();
        uint64_t left = deadline == TIME_NEVER ? TIME_NEVER : (deadline > now ? deadline - now : 0);
        kstatus_t st = sched_sleep_current(SCHED_BLOCK_SLEEP, left, wq_enqueue_and_check, &w);
        finish_wait(wq, &entry);
        if (st != KEEL_OK && st != KEEL_ETIMEOUT) {
            return st;
        }
        if (cond == NULL || cond(arg)) {
            return cond == NULL ? st : KEEL_OK;
        }
        if (st == KEEL_ETIMEOUT || (deadline != TIME_NEVER && get_monotonic_time() >= deadline)) {
            return KEEL_ETIMEOUT;
        }
    }
}

kstatus_t sleep_on_condition(wait_queue_head_t *wq, condition_t cond, void *arg) {
    return sleep_on_condition_timeout(wq, cond, arg, TIME_NEVER);
}

kstatus_t sleep_on(wait_queue_head_t *wq) {
    return sleep_on_condition_timeout(wq, NULL, NULL, TIME_NEVER);
}

kstatus_t sleep_on_timeout(wait_queue_head_t *wq, uint64_t timeout_ns) {
    return sleep_on_condition_timeout(wq, NULL, NULL, timeout_ns);
}

static kstatus_t sleep_ns(uint64_t ns) {
    uint64_t deadline = get_monotonic_time() + ns;
    for (;;) {
        uint64_t now = get_monotonic_time();
        if (now >= deadline) {
            return KEEL_OK;
        }
        kstatus_t st = sched_sleep_current(SCHED_BLOCK_SLEEP, deadline - now, NULL, NULL);
        if (st != KEEL_OK && st != KEEL_ETIMEOUT) {
            return st;
        }
    }
}

kstatus_t msleep(uint32_t msecs) {
    return sleep_ns((uint64_t)msecs * NSEC_PER_MSEC);
}

kstatus_t usleep(uint32_t usecs) {
    return sleep_ns((uint64_t)usecs * NSEC_PER_USEC);
}
