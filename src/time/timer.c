/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU kernel timer queues: a pairing heap per CPU keyed by expiry (insert O(1), fire
 * and delete O(log n) amortised, exact expiry order). Callbacks run without the queue
 * lock, so they may take scheduler locks; the lock order is rq -> timer queue.
 */
#include <kernel/boot_info.h>
#include <kernel/timer.h>

struct timer_queue {
    spinlock_t lock;
    struct pheap heap;
};

static struct timer_queue queues[BOOT_MAX_CPUS];
static unsigned nr_queues = 1;

void timer_subsystem_init(unsigned ncpus) {
    if (ncpus == 0) {
        ncpus = 1;
    }
    if (ncpus > BOOT_MAX_CPUS) {
        ncpus = BOOT_MAX_CPUS;
    }
    for (unsigned i = 0; i < BOOT_MAX_CPUS; i++) {
        spinlock_init(&queues[i].lock);
        pheap_init(&queues[i].heap);
    }
    nr_queues = ncpus;
}

void timer_init(struct ktimer *t, timer_function_t fn, void *data) {
    t->node.queued = false;
    t->fn = fn;
    t->data = data;
    t->expires = 0;
    t->cpu = 0;
    t->pending = 0;
}

kstatus_t add_timer_on(struct ktimer *t, uint64_t expires, unsigned cpu) {
    if (cpu >= nr_queues || t->fn == NULL) {
        return KEEL_EINVAL;
    }
    struct timer_queue *q = &queues[cpu];
    unsigned long flags;
    spin_lock_irqsave(&q->lock, &flags);
    if (t->pending) {
        spin_unlock_irqrestore(&q->lock, flags);
        return KEEL_EEXIST;
    }
    __atomic_store_n(&t->cpu, (uint16_t)cpu, __ATOMIC_RELAXED);
    t->expires = expires;
    pheap_insert(&q->heap, &t->node, expires);
    __atomic_store_n(&t->pending, 1, __ATOMIC_RELAXED);
    spin_unlock_irqrestore(&q->lock, flags);
    return KEEL_OK;
}

kstatus_t add_timer(struct ktimer *t, uint64_t expires) {
    return add_timer_on(t, expires, t->cpu);
}

/*
 * Lock the queue t belongs to. t->cpu changes only in add_timer_on() under the new
 * queue's lock, so re-check it once the lock is held and retry if it moved.
 */
static struct timer_queue *lock_timer_queue(struct ktimer *t, unsigned long *flags) {
    for (;;) {
        unsigned cpu = __atomic_load_n(&t->cpu, __ATOMIC_RELAXED);
        struct timer_queue *q = &queues[cpu < nr_queues ? cpu : 0];
        spin_lock_irqsave(&q->lock, flags);
        if (__atomic_load_n(&t->cpu, __ATOMIC_RELAXED) == cpu && cpu < nr_queues) {
            return q;
        }
        spin_unlock_irqrestore(&q->lock, *flags);
    }
}

int del_timer(struct ktimer *t) {
    unsigned long flags;
    struct timer_queue *q = lock_timer_queue(t, &flags);
    int was = t->pending;
    if (was) {
        pheap_remove(&q->heap, &t->node);
        __atomic_store_n(&t->pending, 0, __ATOMIC_RELAXED);
    }
    spin_unlock_irqrestore(&q->lock, flags);
    return was;
}

int mod_timer(struct ktimer *t, uint64_t expires) {
    unsigned long flags;
    struct timer_queue *q = lock_timer_queue(t, &flags);
    int was = t->pending;
    if (was) {
        pheap_remove(&q->heap, &t->node);
    }
    t->expires = expires;
    pheap_insert(&q->heap, &t->node, expires);
    __atomic_store_n(&t->pending, 1, __ATOMIC_RELAXED);
    spin_unlock_irqrestore(&q->lock, flags);
    return was;
}

size_t timer_run_expired(unsigned cpu, uint64_t now_ns) {
    if (cpu >= nr_queues) {
        return 0;
    }
    struct timer_queue *q = &queues[cpu];
    size_t fired = 0;
    unsigned long flags;
    spin_lock_irqsave(&q->lock, &flags);
    for (;;) {
        struct pheap_node *n = pheap_min(&q->heap);
        if (n == NULL || n->key > now_ns) {
            break;
        }
        (void)pheap_pop(&q->heap);
        struct ktimer *t = container_of(n, struct ktimer, node);
        timer_function_t fn = t->fn;
        void *data = t->data;
        __atomic_store_n(&t->pending, 0, __ATOMIC_RELAXED);
        spin_unlock_irqrestore(&q->lock, flags);
        fn(data, now_ns);
        fired++;
        spin_lock_irqsave(&q->lock, &flags);
    }
    spin_unlock_irqrestore(&q->lock, flags);
    return fired;
}

uint64_t timer_next_expiry(unsigned cpu) {
    if (cpu >= nr_queues) {
        return TIME_NEVER;
    }
    struct timer_queue *q = &queues[cpu];
    unsigned long flags;
    spin_lock_irqsave(&q->lock, &flags);
    struct pheap_node *n = pheap_min(&q->heap);
    uint64_t when = n == NULL ? TIME_NEVER : n->key;
    spin_unlock_irqrestore(&q->lock, flags);
    return when;
}

size_t timer_pending_count(unsigned cpu) {
    if (cpu >= nr_queues) {
        return 0;
    }
    return __atomic_load_n(&queues[cpu].heap.count, __ATOMIC_RELAXED);
}
