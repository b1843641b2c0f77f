/* SPDX-License-Identifier: MIT */
/*
 * Wait queues (CloudOS seed): a FIFO of waiting threads that wakers signal. Built on the
 * scheduler's prepare / check / block protocol, so a wake-up between "check the
 * condition" and "block" is never lost (docs/scheduling.md, "Wait queues").
 */
#ifndef KERNEL_WAITQUEUE_H
#define KERNEL_WAITQUEUE_H

#include <kernel/sched.h>
#include <kernel/spinlock.h>

#define WQ_FLAG_EXCLUSIVE 1u

typedef struct wait_queue_entry {
    struct wait_queue_entry *next, *prev;
    struct sched_entity *waiter;
    uint32_t flags;
    bool queued; /* on a wait queue */
    bool woken;  /* removed by a waker (the wake-up token) */
} wait_queue_entry_t;

typedef struct wait_queue_head {
    spinlock_t lock;
    struct wait_queue_entry *head, *tail;
    size_t count;
} wait_queue_head_t;

/* Make an empty wait queue. */
void init_waitqueue_head(wait_queue_head_t *wq);

/* Prepare an entry for waiter with flags (0 or WQ_FLAG_EXCLUSIVE); not queued. */
void init_wait_entry(wait_queue_entry_t *entry, struct sched_entity *waiter, uint32_t flags);

/* Append entry to wq (FIFO) as a non-exclusive / exclusive waiter; clears entry->woken.
 * No-op if it is already queued. Any context; takes wq's lock. */
void add_wait_queue(wait_queue_head_t *wq, wait_queue_entry_t *entry);
void add_wait_queue_exclusive(wait_queue_head_t *wq, wait_queue_entry_t *entry);

/* Take entry off wq if it is still queued. Any context. */
void remove_wait_queue(wait_queue_head_t *wq, wait_queue_entry_t *entry);

/*
 * Wake waiters in FIFO order: every non-exclusive one up to and including the first
 * exclusive one that was really woken (wake_up), or all of them (wake_up_all). Woken
 * entries are removed and marked woken. Returns how many threads were woken. Any
 * context (IRQ too); lock order wq -> run queues.
 */
size_t wake_up(wait_queue_head_t *wq);
size_t wake_up_all(wait_queue_head_t *wq);
/* As wake_up, waking at most nr exclusive waiters, with the time passed in. */
size_t wake_up_nr_at(wait_queue_head_t *wq, size_t nr, uint64_t now_ns);

/*
 * Step 1 of waiting: mark e (running on cpu) as about to sleep, then queue entry. After
 * this, check the condition; if false call sched_block(), else finish_wait(). KEEL_EINVAL
 * if e is not cpu's running entity.
 */
__must_check kstatus_t prepare_to_wait(wait_queue_head_t *wq, wait_queue_entry_t *entry,
                                       unsigned cpu, bool exclusive);

/* Last step, once the condition holds: leave wq (if a waker has not already removed the
 * entry) and drop the prepared state (sched_cancel_block). */
void finish_wait(wait_queue_head_t *wq, wait_queue_entry_t *entry);

/*
 * Sleep on wq until woken (sleep_on) or for at most timeout_ns (sleep_on_timeout).
 * KEEL_OK when woken, KEEL_ETIMEOUT, KEEL_ENOTSUP without a thread layer. Thread context.
 */
__must_check kstatus_t sleep_on(wait_queue_head_t *wq);
__must_check kstatus_t sleep_on_timeout(wait_queue_head_t *wq, uint64_t timeout_ns);

/* The seed's condition_t: true when the waiter may stop waiting. */
typedef bool (*condition_t)(void *arg);

/*
 * Sleep until cond(arg) is true, re-checked after every wake-up (timeout_ns: TIME_NEVER
 * for none). KEEL_OK once true, KEEL_ETIMEOUT, KEEL_ENOTSUP without a thread layer.
 */
__must_check kstatus_t sleep_on_condition_timeout(wait_queue_head_t *wq, condition_t cond,
                                                  void *arg, uint64_t timeout_ns);
__must_check kstatus_t sleep_on_condition(wait_queue_head_t *wq, condition_t cond, void *arg);

/* Sleep for a time (Sleep block reason). KEEL_ENOTSUP without a thread layer. */
__must_check kstatus_t msleep(uint32_t msecs);
__must_check kstatus_t usleep(uint32_t usecs);

#endif /* KERNEL_WAITQUEUE_H */
