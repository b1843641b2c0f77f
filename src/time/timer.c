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
    /* The deadline the owning CPU last programmed with this queue in view (timer_arm_next),
     * or the expiry a kick was sent for; 0: the CPU will look at the queue before it next
     * programs its timer (not started yet, or firing), so no kick is needed. */
    uint64_t armed_ns;
};

static struct timer_queue queues[BOOT_MAX_CPUS];
static unsigned nr_queues = 1;
static void (*kick_fn)(unsigned cpu);

void timer_set_kick(void (*kick)(unsigned cpu)) {
    __atomic_store_n(&kick_fn, kick, __ATOMIC_RELEASE);
}

/*
 * t was just queued on q (locked): must q's CPU be kicked to re-arm? Only if t is now the
 * earliest and earlier than what the CPU has programmed. The kick is then counted as
 * programmed for t, so later timers queued before the CPU re-arms send no second one.
 */
static bool kick_needed(struct timer_queue *q, struct ktimer *t) {
    if (t->expires >= q->armed_ns || pheap_min(&q->heap) != &t->node) {
        return false;
    }
    q->armed_ns = t->expires;
    return true;
}

/* Kick cpu after its queue lock was dropped (the hook sends an IPI: no lock is held by
 * the hook itself, so any caller's locks are fine). */
static void kick(unsigned cpu) {
    void (*fn)(unsigned) = __atomic_load_n(&kick_fn, __ATOMIC_ACQUIRE);
    if (fn != NULL) {
        fn(cpu);
    }
}

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
        queues[i].armed_ns = 0;
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

/* add_timer_on(), kicking the CPU if allowed and needed. */
static kstatus_t queue_timer(struct ktimer *t, uint64_t expires, unsigned cpu, bool may_kick) {
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
    bool k = may_kick && kick_needed(q, t);
    spin_unlock_irqrestore(&q->lock, flags);
    if (k) {
        kick(cpu);
    }
    return KEEL_OK;
}

kstatus_t add_timer_on(struct ktimer *t, uint64_t expires, unsigned cpu) {
    return queue_timer(t, expires, cpu, true);
}

kstatus_t add_timer_on_quiet(struct ktimer *t, uint64_t expires, unsigned cpu) {
    return queue_timer(t, expires, cpu, false);
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
    unsigned cpu = t->cpu;
    bool k = kick_needed(q, t);
    spin_unlock_irqrestore(&q->lock, flags);
    if (k) {
        kick(cpu);
    }
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
    q->armed_ns = 0; /* the caller re-arms afterwards: callbacks and others need no kick */
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

uint64_t timer_arm_next(unsigned cpu, uint64_t bound_ns) {
    if (cpu >= nr_queues) {
        return bound_ns;
    }
    struct timer_queue *q = &queues[cpu];
    unsigned long flags;
    spin_lock_irqsave(&q->lock, &flags);
    struct pheap_node *n = pheap_min(&q->heap);
    uint64_t when = n != NULL && n->key < bound_ns ? n->key : bound_ns;
    q->armed_ns = when;
    spin_unlock_irqrestore(&q->lock, flags);
    return when;
}

size_t timer_pending_count(unsigned cpu) {
    if (cpu >= nr_queues) {
        return 0;
    }
    return __atomic_load_n(&queues[cpu].heap.count, __ATOMIC_RELAXED);
}
