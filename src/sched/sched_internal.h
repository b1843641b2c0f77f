/* SPDX-License-Identifier: MIT */
/*
 * Shared between the files of src/sched/: the per-CPU run queues, their locking helpers
 * and the class hooks. Not for use outside the scheduler.
 */
#ifndef SCHED_INTERNAL_H
#define SCHED_INTERNAL_H

#include <kernel/sched.h>

extern struct sched_cpu sched_cpus[SCHED_MAX_CPUS];
extern unsigned sched_ncpus;
extern const struct sched_thread_ops *sched_ops;

static inline cpumask_t sched_online_mask(void) {
    return sched_ncpus >= 64 ? CPUMASK_ALL : (CPUMASK_CPU(sched_ncpus) - 1);
}

/* Lock the run queue that owns e (e->cpu), re-checking after the lock is taken. */
struct sched_cpu *rq_lock_entity(struct sched_entity *e, unsigned long *flags);
/* Lock e's run queue and dst's, in CPU-id order; returns e's. dst may equal e's. */
struct sched_cpu *rq_lock_entity_and(struct sched_entity *e, unsigned dst, unsigned long *flags);
void rq_unlock_pair(struct sched_cpu *a, struct sched_cpu *b, unsigned long flags);

/* MLFQ queues (rq locked). */
void rq_enqueue(struct sched_cpu *rq, struct sched_entity *e, unsigned q, uint64_t now);
/* Enqueue keeping queue q ordered by wait_since (a stolen entity keeps its age). */
void rq_enqueue_by_wait(struct sched_cpu *rq, struct sched_entity *e, unsigned q, uint64_t since);
void rq_dequeue(struct sched_cpu *rq, struct sched_entity *e);
uint32_t rq_load(const struct sched_cpu *rq); /* lock-free read, for decisions */
void rq_snapshot_loads(uint32_t *load);

/* Charge the running entity up to now. rq locked. */
/* Does something queued on rq beat rq->curr? rq locked. */
bool rq_should_preempt(const struct sched_cpu *rq);
/* Make entity e (state set by the caller) runnable on rq (rq locked, e->cpu == rq->id). */
void rq_make_runnable(struct sched_cpu *rq, struct sched_entity *e, uint64_t now);

/* EDF (rq locked). */
void edf_release_due_slow(struct sched_cpu *rq, uint64_t now);
void edf_start(struct sched_cpu *rq, struct sched_entity *e, uint64_t now);
void edf_wake(struct sched_cpu *rq, struct sched_entity *e, uint64_t now);
void edf_put_back(struct sched_cpu *rq, struct sched_entity *e);
void edf_block(struct sched_cpu *rq, struct sched_entity *e);
void edf_detach(struct sched_cpu *rq, struct sched_entity *e);
struct sched_entity *edf_pick(struct sched_cpu *rq);
uint64_t edf_next_event(const struct sched_cpu *rq);

/* Balancing: pull one MLFQ entity to thief; true if one moved. thief unlocked on entry. */
bool sched_steal(unsigned thief, uint64_t now);

/* The timeout path of sched_wake: wakes e only if its current block's timeout is due. */
kstatus_t sched_wake_timeout(struct sched_entity *e, uint64_t now_ns);

/* Kick cpu to reschedule if it is not the caller's. No locks held. */
void sched_kick(unsigned cpu);

/*
 * rq->curr if this run queue still owns it. A blocked current entity can be woken onto
 * another CPU before this one picks again; its fields then belong to that CPU's lock.
 */
static inline struct sched_entity *rq_curr(const struct sched_cpu *rq) {
    struct sched_entity *c = rq->curr;
    return c != NULL && __atomic_load_n(&c->cpu, __ATOMIC_RELAXED) == rq->id ? c : NULL;
}

static inline struct sched_cpu *rq_of(unsigned cpu) {
    return &sched_cpus[cpu];
}

/* The highest non-empty queue of a non-zero bitmap: a table lookup, since some arches
 * (RISC-V without Zbb) have no count-leading-zeros instruction. */
extern const uint8_t sched_highest_queue[1u << SCHED_NR_QUEUES];
static inline unsigned highest_queue(uint32_t bitmap) {
    return sched_highest_queue[bitmap];
}

/* Link e at the tail of queue q as QUEUED since now (rq locked); counts are the caller's
 * (rq_enqueue). Keeps rq->aging_at a lower bound of when a level queue's head ages. */
static inline void rq_list_append(struct sched_cpu *rq, struct sched_entity *e, unsigned q,
                                  uint64_t now) {
    e->rq_next = NULL;
    e->rq_prev = rq->q[q].tail;
    if (rq->q[q].tail != NULL) {
        rq->q[q].tail->rq_next = e;
    } else {
        rq->q[q].head = e;
    }
    rq->q[q].tail = e;
    rq->bitmap |= 1u << q;
    e->queue = (uint8_t)q;
    e->state = SCHED_QUEUED;
    e->wait_since_ns = now;
    if (q < SCHED_LEVELS && now + SCHED_AGING_NS < rq->aging_at) {
        rq->aging_at = now + SCHED_AGING_NS;
    }
}

/* Unlink e from its queue (rq locked); counts are the caller's (rq_dequeue). */
static inline void rq_list_remove(struct sched_cpu *rq, struct sched_entity *e) {
    unsigned q = e->queue;
    if (e->rq_prev != NULL) {
        e->rq_prev->rq_next = e->rq_next;
    } else {
        rq->q[q].head = e->rq_next;
    }
    if (e->rq_next != NULL) {
        e->rq_next->rq_prev = e->rq_prev;
    } else {
        rq->q[q].tail = e->rq_prev;
    }
    if (rq->q[q].head == NULL) {
        rq->bitmap &= ~(1u << q);
    }
    e->rq_next = e->rq_prev = NULL;
}

/* Charge e, rq's running entity, for the time since it was last accounted (rq locked). */
static inline void rq_account_entity(struct sched_cpu *rq, struct sched_entity *e, uint64_t now) {
    if (now > rq->now_ns) {
        rq->now_ns = now;
    }
    uint64_t delta = now > e->exec_start_ns ? now - e->exec_start_ns : 0;
    e->exec_start_ns = now > e->exec_start_ns ? now : e->exec_start_ns;
    e->sum_exec_ns += delta;
    if (e->klass == SCHED_CLASS_EDF) {
        e->edf_budget_ns = delta >= e->edf_budget_ns ? 0 : e->edf_budget_ns - delta;
    } else {
        e->slice_left_ns = delta >= e->slice_left_ns ? 0 : e->slice_left_ns - delta;
    }
}

/* Charge the running entity, if any (rq locked); rq->now_ns follows now either way. */
static inline void rq_account(struct sched_cpu *rq, uint64_t now) {
    struct sched_entity *e = rq_curr(rq);
    if (e != NULL && e->state == SCHED_RUNNING) {
        rq_account_entity(rq, e, now);
    } else if (now > rq->now_ns) {
        rq->now_ns = now;
    }
}

/* After queue or curr changes, rq locked: publish the load the balancer reads. */
static inline void rq_update_load(struct sched_cpu *rq) {
    const struct sched_entity *c = rq_curr(rq);
    uint32_t running = c != NULL && c->klass == SCHED_CLASS_MLFQ && c->state == SCHED_RUNNING;
    __atomic_store_n(&rq->load, rq->nr_queued + running, __ATOMIC_RELAXED);
}

/* Release the EDF jobs whose period started by now (rq locked); the common case, nothing
 * due, stays inline. */
static inline void edf_release_due(struct sched_cpu *rq, uint64_t now) {
    const struct pheap_node *n = pheap_min(&rq->edf_release);
    if (n != NULL && n->key <= now) {
        edf_release_due_slow(rq, now);
    }
}

#endif /* SCHED_INTERNAL_H */
