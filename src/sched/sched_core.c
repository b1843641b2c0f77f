/* SPDX-License-Identifier: MIT */
/*
 * Scheduler core: the per-CPU run queues (an O(1) bitmap over six FIFO queues: five
 * feedback levels and the boost queue), multi-level feedback, aging, and the pick/tick
 * entry points. EDF lives in sched_edf.c, block/wake in sched_wait.c, balancing in
 * sched_balance.c. Lock order: run-queue locks in CPU-id order, then timer queues.
 */
#include <kernel/string.h>

#include "sched_internal.h"

struct sched_cpu sched_cpus[SCHED_MAX_CPUS];
unsigned sched_ncpus;
const struct sched_thread_ops *sched_ops;

static const uint64_t quantum_ns[SCHED_LEVELS] = {
    SCHED_QUANTUM_IDLE_NS, SCHED_QUANTUM_LOW_NS, SCHED_QUANTUM_NORMAL_NS,
    SCHED_QUANTUM_HIGH_NS, SCHED_QUANTUM_RT_NS,
};

STATIC_ASSERT(SCHED_MAX_CPUS <= 64, "cpumask_t is one 64-bit word");
STATIC_ASSERT(SCHED_NR_QUEUES <= 6, "sched_highest_queue[] has 2^6 entries");

/* Index of the highest set bit of i (0 for 0, never looked up). */
#define HQ2(i)   ((i) >= 2 ? 1 : 0)
#define HQ4(i)   ((i) >= 4 ? 2 + HQ2((i) >> 2) : HQ2(i))
#define HQ8(i)   ((i) >= 16 ? 4 + HQ2((i) >> 4) : HQ4(i))
#define HQ(i)    ((i) >= 32 ? 5 : HQ8(i))
#define HQ_4(i)  HQ(i), HQ((i) + 1), HQ((i) + 2), HQ((i) + 3)
#define HQ_16(i) HQ_4(i), HQ_4((i) + 4), HQ_4((i) + 8), HQ_4((i) + 12)
const uint8_t sched_highest_queue[1u << SCHED_NR_QUEUES] = {HQ_16(0), HQ_16(16), HQ_16(32),
                                                            HQ_16(48)};

uint64_t sched_quantum_ns(unsigned level) {
    return level < SCHED_LEVELS ? quantum_ns[level] : 0;
}

kstatus_t sched_init(unsigned ncpus) {
    if (ncpus == 0 || ncpus > SCHED_MAX_CPUS) {
        return KEEL_EINVAL;
    }
    memset(sched_cpus, 0, sizeof(sched_cpus));
    for (unsigned i = 0; i < SCHED_MAX_CPUS; i++) {
        struct sched_cpu *rq = &sched_cpus[i];
        spinlock_init(&rq->lock);
        pheap_init(&rq->edf_ready);
        pheap_init(&rq->edf_release);
        rq->id = (uint16_t)i;
        rq->aging_at = TIME_NEVER;
    }
    sched_ncpus = ncpus;
    timer_subsystem_init(ncpus);
    return KEEL_OK;
}

void sched_set_thread_ops(const struct sched_thread_ops *ops) {
    __atomic_store_n(&sched_ops, ops, __ATOMIC_RELEASE);
}

struct sched_cpu *sched_cpu_get(unsigned cpu) {
    return cpu < sched_ncpus ? &sched_cpus[cpu] : NULL;
}

unsigned sched_cpu_count(void) {
    return sched_ncpus;
}

static void timeout_fire(void *data, uint64_t now_ns);

void sched_entity_init(struct sched_entity *e, uint64_t id) {
    memset(e, 0, sizeof(*e));
    e->id = id;
    e->affinity = CPUMASK_ALL;
    e->state = SCHED_DETACHED;
    e->klass = SCHED_CLASS_MLFQ;
    e->base_level = e->level = SCHED_PRIO_NORMAL / 10;
    e->timeout_at = TIME_NEVER;
    e->slice_left_ns = quantum_ns[e->level];
    timer_init(&e->timeout, timeout_fire, e);
}

/* The timeout callback: wake e with KEEL_ETIMEOUT if this block's timeout is due. */
static void timeout_fire(void *data, uint64_t now_ns) {
    (void)sched_wake_timeout((struct sched_entity *)data, now_ns);
}

unsigned sched_feedback_level(unsigned base, unsigned level, bool used_quantum) {
    if (base >= SCHED_LEVELS) {
        base = SCHED_LEVELS - 1;
    }
    unsigned floor = base >= SCHED_FEEDBACK_SPAN ? base - SCHED_FEEDBACK_SPAN : 0;
    if (base != SCHED_LEVEL_IDLE && floor < SCHED_LEVEL_LOW) {
        floor = SCHED_LEVEL_LOW;
    }
    if (level > base) {
        level = base;
    }
    if (level < floor) {
        level = floor;
    }
    if (used_quantum) {
        return level > floor ? level - 1 : floor;
    }
    return level < base ? level + 1 : base;
}

/* ---- locking ---- */

struct sched_cpu *rq_lock_entity(struct sched_entity *e, unsigned long *flags) {
    for (;;) {
        unsigned cpu = __atomic_load_n(&e->cpu, __ATOMIC_RELAXED);
        struct sched_cpu *rq = rq_of(cpu);
        spin_lock_irqsave(&rq->lock, flags);
        if (__atomic_load_n(&e->cpu, __ATOMIC_RELAXED) == cpu) {
            return rq;
        }
        spin_unlock_irqrestore(&rq->lock, *flags);
    }
}

struct sched_cpu *rq_lock_entity_and(struct sched_entity *e, unsigned dst, unsigned long *flags) {
    for (;;) {
        unsigned src = __atomic_load_n(&e->cpu, __ATOMIC_RELAXED);
        unsigned lo = src < dst ? src : dst;
        unsigned hi = src < dst ? dst : src;
        *flags = arch_irq_save();
        spin_lock(&rq_of(lo)->lock);
        if (hi != lo) {
            spin_lock(&rq_of(hi)->lock);
        }
        if (__atomic_load_n(&e->cpu, __ATOMIC_RELAXED) == src) {
            return rq_of(src);
        }
        if (hi != lo) {
            spin_unlock(&rq_of(hi)->lock);
        }
        spin_unlock(&rq_of(lo)->lock);
        arch_irq_restore(*flags);
    }
}

void rq_unlock_pair(struct sched_cpu *a, struct sched_cpu *b, unsigned long flags) {
    if (b != a) {
        spin_unlock(&b->lock);
    }
    spin_unlock(&a->lock);
    arch_irq_restore(flags);
}

void sched_kick(unsigned cpu) {
    const struct sched_thread_ops *ops = __atomic_load_n(&sched_ops, __ATOMIC_ACQUIRE);
    if (ops != NULL && ops->kick != NULL && ops->this_cpu != NULL && ops->this_cpu() != cpu) {
        ops->kick(cpu);
    }
}

/* ---- MLFQ queues ---- */

void rq_enqueue(struct sched_cpu *rq, struct sched_entity *e, unsigned q, uint64_t now) {
    rq_list_append(rq, e, q, now);
    rq->nr_queued++;
    rq_update_load(rq);
}

void rq_enqueue_by_wait(struct sched_cpu *rq, struct sched_entity *e, unsigned q, uint64_t since) {
    struct sched_entity *after = rq->q[q].tail;
    while (after != NULL && after->wait_since_ns > since) {
        after = after->rq_prev;
    }
    rq_enqueue(rq, e, q, since);
    if (after == e->rq_prev) {
        return; /* already in place at the tail */
    }
    /* unlink from the tail and relink behind `after` (or at the head) */
    rq->q[q].tail = e->rq_prev;
    e->rq_prev->rq_next = NULL;
    e->rq_prev = after;
    e->rq_next = after != NULL ? after->rq_next : rq->q[q].head;
    e->rq_next->rq_prev = e;
    if (after != NULL) {
        after->rq_next = e;
    } else {
        rq->q[q].head = e;
    }
}

void rq_dequeue(struct sched_cpu *rq, struct sched_entity *e) {
    rq_list_remove(rq, e);
    rq->nr_queued--;
    rq_update_load(rq);
}

uint32_t rq_load(const struct sched_cpu *rq) {
    return __atomic_load_n(&rq->load, __ATOMIC_RELAXED);
}

void rq_snapshot_loads(uint32_t *load) {
    for (unsigned i = 0; i < sched_ncpus; i++) {
        load[i] = rq_load(rq_of(i));
    }
}

bool rq_should_preempt(const struct sched_cpu *rq) {
    const struct sched_entity *c = rq_curr(rq);
    struct pheap_node *edf = pheap_min(&rq->edf_ready);
    if (c == NULL || c->state != SCHED_RUNNING) {
        return edf != NULL || rq->bitmap != 0;
    }
    if (c->klass == SCHED_CLASS_EDF) {
        return edf != NULL && edf->key < c->edf_abs_deadline;
    }
    if (edf != NULL) {
        return true;
    }
    unsigned rank = c->boosted ? SCHED_QUEUE_BOOST : c->level;
    return rq->bitmap != 0 && highest_queue(rq->bitmap) > rank;
}

void rq_make_runnable(struct sched_cpu *rq, struct sched_entity *e, uint64_t now) {
    if (e->klass == SCHED_CLASS_EDF) {
        edf_wake(rq, e, now);
    } else {
        rq_enqueue(rq, e, e->level, now);
    }
    if (rq_should_preempt(rq)) {
        rq->need_resched = true;
    }
}

static uint64_t rq_aging_event(const struct sched_cpu *rq);

/* Move threads that waited SCHED_AGING_NS in a level queue to the boost queue, oldest
 * first. Each level is FIFO by wait time, so only heads need looking at. rq->aging_at is
 * a lower bound on when the first head ages (enqueues lower it, dequeues leave it), so
 * before it nothing needs looking at; after a scan it is exact again. */
static void rq_age(struct sched_cpu *rq, uint64_t now) {
    if (now < rq->aging_at) {
        return;
    }
    for (;;) {
        struct sched_entity *oldest = NULL;
        for (unsigned q = 0; q < SCHED_LEVELS; q++) {
            struct sched_entity *h = rq->q[q].head;
            if (h != NULL && now >= h->wait_since_ns && now - h->wait_since_ns >= SCHED_AGING_NS &&
                (oldest == NULL || h->wait_since_ns < oldest->wait_since_ns)) {
                oldest = h;
            }
        }
        if (oldest == NULL) {
            rq->aging_at = rq_aging_event(rq);
            return;
        }
        rq_dequeue(rq, oldest);
        oldest->slice_left_ns = SCHED_BOOST_SLICE_NS;
        oldest->nr_boosts++;
        rq_enqueue(rq, oldest, SCHED_QUEUE_BOOST, now);
    }
}

static uint64_t rq_aging_event(const struct sched_cpu *rq) {
    uint64_t when = TIME_NEVER;
    for (unsigned q = 0; q < SCHED_LEVELS; q++) {
        const struct sched_entity *h = rq->q[q].head;
        if (h != NULL && h->wait_since_ns + SCHED_AGING_NS < when) {
            when = h->wait_since_ns + SCHED_AGING_NS;
        }
    }
    return when;
}

/* ---- the seed's interface ---- */

static bool prio_to_level(unsigned prio, unsigned *level) {
    if (prio % 10 != 0 || prio / 10 >= SCHED_LEVELS) {
        return false;
    }
    *level = prio / 10;
    return true;
}

kstatus_t sched_add(struct sched_entity *e, unsigned prio, uint64_t now_ns) {
    unsigned level;
    if (e == NULL || !prio_to_level(prio, &level) || e->state != SCHED_DETACHED ||
        (e->affinity & sched_online_mask()) == 0) {
        return KEEL_EINVAL;
    }
    uint32_t load[SCHED_MAX_CPUS];
    rq_snapshot_loads(load);
    int cpu = sched_select_cpu(load, sched_ncpus, e->affinity, e->cpu);
    if (cpu < 0) {
        return KEEL_EINVAL;
    }
    e->klass = SCHED_CLASS_MLFQ;
    e->base_level = e->level = (uint8_t)level;
    e->slice_left_ns = quantum_ns[level];
    e->boosted = e->wait_prepared = e->yield_pending = false;
    e->timeout_at = TIME_NEVER;
    struct sched_cpu *rq = rq_of((unsigned)cpu);
    unsigned long flags;
    spin_lock_irqsave(&rq->lock, &flags);
    __atomic_store_n(&e->cpu, (uint16_t)cpu, __ATOMIC_RELAXED);
    rq_make_runnable(rq, e, now_ns);
    bool kick = rq->need_resched;
    spin_unlock_irqrestore(&rq->lock, flags);
    if (kick) {
        sched_kick((unsigned)cpu);
    }
    return KEEL_OK;
}

kstatus_t sched_remove(struct sched_entity *e) {
    if (e == NULL) {
        return KEEL_EINVAL;
    }
    unsigned long flags;
    struct sched_cpu *rq = rq_lock_entity(e, &flags);
    kstatus_t st = KEEL_OK;
    switch (e->state) {
    case SCHED_DETACHED:
        st = KEEL_EINVAL;
        break;
    case SCHED_RUNNING:
    case SCHED_EXITED:
        st = KEEL_EBUSY;
        break;
    case SCHED_QUEUED:
    case SCHED_THROTTLED:
    case SCHED_BLOCKED:
        if (e->state == SCHED_QUEUED && e->klass == SCHED_CLASS_MLFQ) {
            rq_dequeue(rq, e);
        }
        if (e->klass == SCHED_CLASS_EDF) {
            edf_detach(rq, e);
        }
        (void)del_timer(&e->timeout);
        e->timeout_at = TIME_NEVER;
        e->state = SCHED_DETACHED;
        break;
    default:
        st = KEEL_EINVAL;
    }
    spin_unlock_irqrestore(&rq->lock, flags);
    return st;
}

kstatus_t sched_set_priority(struct sched_entity *e, unsigned prio) {
    unsigned level;
    if (e == NULL || !prio_to_level(prio, &level)) {
        return KEEL_EINVAL;
    }
    unsigned long flags;
    struct sched_cpu *rq = rq_lock_entity(e, &flags);
    kstatus_t st = KEEL_OK;
    if (e->klass != SCHED_CLASS_MLFQ || e->state == SCHED_DETACHED || e->state == SCHED_EXITED) {
        st = KEEL_EINVAL;
    } else {
        bool queued = e->state == SCHED_QUEUED;
        bool in_boost = queued && e->queue == SCHED_QUEUE_BOOST;
        if (queued) {
            rq_dequeue(rq, e);
        }
        e->base_level = e->level = (uint8_t)level;
        e->slice_left_ns = quantum_ns[level];
        if (queued) {
            rq_enqueue(rq, e, in_boost ? SCHED_QUEUE_BOOST : level, rq->now_ns);
        }
        if (rq_should_preempt(rq)) {
            rq->need_resched = true;
        }
    }
    bool kick = st == KEEL_OK && rq->need_resched;
    unsigned cpu = rq->id;
    spin_unlock_irqrestore(&rq->lock, flags);
    if (kick) {
        sched_kick(cpu);
    }
    return st;
}

kstatus_t sched_exit(unsigned cpu, struct sched_entity *e) {
    if (cpu >= sched_ncpus || e == NULL) {
        return KEEL_EINVAL;
    }
    struct sched_cpu *rq = rq_of(cpu);
    unsigned long flags;
    spin_lock_irqsave(&rq->lock, &flags);
    kstatus_t st = KEEL_EINVAL;
    if (rq_curr(rq) == e && e->state == SCHED_RUNNING) {
        if (e->klass == SCHED_CLASS_EDF) {
            edf_detach(rq, e);
        }
        e->state = SCHED_EXITED;
        rq_update_load(rq);
        rq->need_resched = true;
        st = KEEL_OK;
    }
    spin_unlock_irqrestore(&rq->lock, flags);
    return st;
}

kstatus_t sched_yield_cpu(unsigned cpu, uint64_t now_ns) {
    if (cpu >= sched_ncpus) {
        return KEEL_EINVAL;
    }
    struct sched_cpu *rq = rq_of(cpu);
    unsigned long flags;
    spin_lock_irqsave(&rq->lock, &flags);
    kstatus_t st = KEEL_EINVAL;
    if (rq_curr(rq) != NULL && rq->curr->state == SCHED_RUNNING) {
        rq_account(rq, now_ns);
        rq->curr->yield_pending = true;
        rq->need_resched = true;
        st = KEEL_OK;
    }
    spin_unlock_irqrestore(&rq->lock, flags);
    return st;
}

/* Put the previous entity back after it ran (rq locked). Returns a CPU it must migrate
 * to (its affinity no longer includes this one), or -1. */
static int put_prev(struct sched_cpu *rq, struct sched_entity *p, uint64_t now) {
    if (__atomic_load_n(&p->cpu, __ATOMIC_RELAXED) != rq->id) {
        return -1; /* woken onto another CPU since it blocked here */
    }
    if (p->state == SCHED_EXITED) {
        p->state = SCHED_DETACHED;
        return -1;
    }
    if (p->state != SCHED_RUNNING || p->cpu != rq->id) {
        return -1; /* blocked, woken elsewhere, or detached meanwhile */
    }
    if (p->klass == SCHED_CLASS_EDF) {
        edf_put_back(rq, p);
        return -1;
    }
    bool yielded = p->yield_pending;
    p->yield_pending = false;
    if (p->boosted && (yielded || p->slice_left_ns == 0)) {
        /* the boost slice is over: back to its level with a fresh quantum, no feedback */
        p->boosted = false;
        p->slice_left_ns = quantum_ns[p->level];
    } else if (p->slice_left_ns == 0) {
        unsigned nl = sched_feedback_level(p->base_level, p->level, true);
        p->nr_demotions += nl < p->level;
        p->level = (uint8_t)nl;
        p->slice_left_ns = quantum_ns[nl];
    }
    if ((p->affinity & CPUMASK_CPU(rq->id)) == 0) {
        uint32_t load[SCHED_MAX_CPUS];
        rq_snapshot_loads(load);
        int dst = sched_select_cpu(load, sched_ncpus, p->affinity, rq->id);
        if (dst >= 0) {
            return dst;
        }
        /* no allowed CPU online (sched_set_affinity refuses that): keep it here */
    }
    rq_enqueue(rq, p, p->boosted ? SCHED_QUEUE_BOOST : p->level, now);
    return -1;
}

/* Move p (off every queue, state RUNNING on rq) to dst. rq is locked on entry and exit;
 * it is dropped briefly to take both locks in CPU-id order. */
static void migrate_prev(struct sched_cpu *rq, struct sched_entity *p, unsigned dst, uint64_t now,
                         unsigned long *flags) {
    spin_unlock_irqrestore(&rq->lock, *flags);
    for (;;) {
        struct sched_cpu *src = rq_lock_entity_and(p, dst, flags);
        struct sched_cpu *d = rq_of(dst);
        if (p->state != SCHED_RUNNING || src != rq) {
            /* detached or exited meanwhile: nothing to move */
            if (d != src) {
                spin_unlock(&d->lock);
            }
            return;
        }
        if ((p->affinity & CPUMASK_CPU(dst)) != 0) {
            __atomic_store_n(&p->cpu, (uint16_t)dst, __ATOMIC_RELAXED);
            p->nr_migrations++;
            rq_enqueue(d, p, p->boosted ? SCHED_QUEUE_BOOST : p->level, now);
            bool kick = d != src && rq_should_preempt(d);
            if (kick) {
                d->need_resched = true;
            }
            if (d != src) {
                spin_unlock(&d->lock);
            }
            if (kick) {
                sched_kick(dst);
            }
            return;
        }
        /* the mask changed again: choose anew */
        uint32_t load[SCHED_MAX_CPUS];
        rq_snapshot_loads(load);
        int c = sched_select_cpu(load, sched_ncpus, p->affinity, rq->id);
        if (c < 0 || (unsigned)c == rq->id) {
            rq_enqueue(rq, p, p->level, now);
            if (d != src) {
                spin_unlock(&d->lock);
            }
            return;
        }
        rq_unlock_pair(src, d, *flags);
        dst = (unsigned)c;
    }
}

/* Choose and dequeue the next entity (rq locked). */
static struct sched_entity *rq_choose(struct sched_cpu *rq, uint64_t now) {
    struct sched_entity *e = pheap_min(&rq->edf_ready) != NULL ? edf_pick(rq) : NULL;
    if (e == NULL && rq->bitmap != 0) {
        unsigned q = highest_queue(rq->bitmap);
        e = rq->q[q].head;
        rq_dequeue(rq, e);
        e->boosted = q == SCHED_QUEUE_BOOST;
    }
    if (e != NULL) {
        e->state = SCHED_RUNNING;
        e->exec_start_ns = now;
        e->nr_runs++;
    }
    return e;
}

/* sched_pick_next with rq locked (flags from its lock); unlocks it. */
static struct sched_entity *pick_locked(struct sched_cpu *rq, uint64_t now_ns,
                                        unsigned long flags) {
    rq_account(rq, now_ns);
    struct sched_entity *prev = rq->curr;
    rq->curr = NULL;
    rq->need_resched = false;
    if (prev != NULL) {
        int dst = put_prev(rq, prev, now_ns);
        if (dst >= 0) {
            migrate_prev(rq, prev, (unsigned)dst, now_ns, &flags);
        }
    }
    edf_release_due(rq, now_ns);
    rq_age(rq, now_ns);
    struct sched_entity *next = rq_choose(rq, now_ns);
    if (next == NULL) {
        spin_unlock_irqrestore(&rq->lock, flags);
        (void)sched_steal(rq->id, now_ns);
        spin_lock_irqsave(&rq->lock, &flags);
        next = rq_choose(rq, now_ns);
    }
    rq->curr = next;
    rq_update_load(rq);
    rq->nr_picks++;
    rq->nr_idle_picks += next == NULL;
    spin_unlock_irqrestore(&rq->lock, flags);
    return next;
}

struct sched_entity *sched_pick_next(unsigned cpu, uint64_t now_ns) {
    if (cpu >= sched_ncpus) {
        return NULL;
    }
    struct sched_cpu *rq = rq_of(cpu);
    unsigned long flags;
    spin_lock_irqsave(&rq->lock, &flags);
    return pick_locked(rq, now_ns, flags);
}

/* Test hook: false sends every yield down the general path (the fast path's results must
 * be identical; tests/host/sched compares them). */
bool sched_yield_fast_enabled = true;

/*
 * The common yield, done in place (rq locked, p running here and accounted): an MLFQ
 * thread with quantum left, not boosted, allowed here, with no EDF work and no aging due
 * on this CPU, and someone queued at least as high as its level. Then put_prev() would
 * queue p at the tail of its level and rq_choose() would take the head of the highest
 * queue (not p); this does exactly that. NULL: not that case, nothing changed.
 */
static struct sched_entity *yield_fast(struct sched_cpu *rq, struct sched_entity *p, uint64_t now) {
    uint32_t bitmap = rq->bitmap;
    if (p->klass != SCHED_CLASS_MLFQ || p->boosted || p->slice_left_ns == 0 || bitmap == 0 ||
        (p->affinity & CPUMASK_CPU(rq->id)) == 0 || pheap_min(&rq->edf_ready) != NULL ||
        pheap_min(&rq->edf_release) != NULL || now >= rq->aging_at) {
        return NULL;
    }
    unsigned q = highest_queue(bitmap);
    if (q < p->level) {
        return NULL; /* p would run on: rare, left to the general path */
    }
    /* pop the head of q */
    struct sched_entity *n = rq->q[q].head;
    struct sched_entity *after = n->rq_next;
    rq->q[q].head = after;
    if (after != NULL) {
        after->rq_prev = NULL;
    } else {
        rq->q[q].tail = NULL;
        bitmap &= ~(1u << q);
    }
    n->rq_next = NULL;
    /* append p to its level */
    unsigned l = p->level;
    struct sched_entity *tail = rq->q[l].tail;
    p->rq_next = NULL;
    p->rq_prev = tail;
    if (tail != NULL) {
        tail->rq_next = p;
    } else {
        rq->q[l].head = p;
    }
    rq->q[l].tail = p;
    rq->bitmap = bitmap | (1u << l);
    p->queue = (uint8_t)l;
    p->state = SCHED_QUEUED;
    p->wait_since_ns = now;
    /* aging_at > now, and a level queue's new head ages no earlier than now + AGING */
    if (now + SCHED_AGING_NS < rq->aging_at) {
        rq->aging_at = now + SCHED_AGING_NS;
    }
    /* n runs; one MLFQ entity off a queue, one on: nr_queued and the load are unchanged */
    n->boosted = q == SCHED_QUEUE_BOOST;
    n->state = SCHED_RUNNING;
    n->exec_start_ns = now;
    n->nr_runs++;
    rq->curr = n;
    rq->need_resched = false;
    rq->nr_picks++;
    rq->nr_yield_fast++;
    return n;
}

kstatus_t sched_yield_pick(unsigned cpu, uint64_t now_ns, struct sched_entity **next) {
    if (cpu >= sched_ncpus || next == NULL) {
        return KEEL_EINVAL;
    }
    struct sched_cpu *rq = rq_of(cpu);
    /* An opaque copy: else gcc recomputes &sched_cpus[cpu] at each use on this hot path. */
    __asm__("" : "+r"(rq));
    spin_lock(&rq->lock); /* interrupts are masked by the contract: no save needed */
    struct sched_entity *p = rq_curr(rq);
    if (p == NULL || p->state != SCHED_RUNNING) {
        spin_unlock(&rq->lock);
        return KEEL_EINVAL;
    }
    rq_account_entity(rq, p, now_ns);
    struct sched_entity *n = sched_yield_fast_enabled ? yield_fast(rq, p, now_ns) : NULL;
    if (n != NULL) {
        spin_unlock(&rq->lock);
        *next = n;
        return KEEL_OK;
    }
    p->yield_pending = true;
    *next = pick_locked(rq, now_ns, arch_irq_save()); /* already masked: restores masked */
    return KEEL_OK;
}

bool sched_tick(unsigned cpu, uint64_t now_ns) {
    if (cpu >= sched_ncpus) {
        return false;
    }
    struct sched_cpu *rq = rq_of(cpu);
    unsigned long flags;
    spin_lock_irqsave(&rq->lock, &flags);
    rq_account(rq, now_ns);
    edf_release_due(rq, now_ns);
    rq_age(rq, now_ns);
    struct sched_entity *c = rq_curr(rq);
    bool resched = rq->need_resched || rq_should_preempt(rq);
    if (c != NULL && c->state == SCHED_RUNNING) {
        if (c->klass == SCHED_CLASS_EDF ? c->edf_budget_ns == 0 : c->slice_left_ns == 0) {
            resched = true;
        }
        if ((c->affinity & CPUMASK_CPU(cpu)) == 0) {
            resched = true;
        }
    } else if (rq->curr != NULL) {
        resched = true; /* blocked, exited or moved, but not switched away yet */
    }
    bool balance = now_ns >= rq->next_balance_ns;
    if (balance) {
        rq->next_balance_ns = now_ns + SCHED_BALANCE_NS;
    }
    spin_unlock_irqrestore(&rq->lock, flags);
    if (balance && sched_ncpus > 1 && sched_steal(cpu, now_ns)) {
        resched = true;
    }
    if (resched) {
        spin_lock_irqsave(&rq->lock, &flags);
        rq->need_resched = true;
        spin_unlock_irqrestore(&rq->lock, flags);
    }
    return resched;
}

uint64_t sched_next_event(unsigned cpu) {
    if (cpu >= sched_ncpus) {
        return TIME_NEVER;
    }
    struct sched_cpu *rq = rq_of(cpu);
    unsigned long flags;
    spin_lock_irqsave(&rq->lock, &flags);
    uint64_t when = rq_aging_event(rq);
    uint64_t edf = edf_next_event(rq);
    when = edf < when ? edf : when;
    const struct sched_entity *c = rq_curr(rq);
    if (c != NULL && c->state == SCHED_RUNNING) {
        uint64_t left = c->klass == SCHED_CLASS_EDF ? c->edf_budget_ns : c->slice_left_ns;
        uint64_t end = c->exec_start_ns + left;
        when = end < when ? end : when;
    }
    if (sched_ncpus > 1 && rq->next_balance_ns < when) {
        when = rq->next_balance_ns;
    }
    spin_unlock_irqrestore(&rq->lock, flags);
    return when;
}
