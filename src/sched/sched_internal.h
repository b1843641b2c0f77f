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
void rq_update_load(struct sched_cpu *rq);    /* after queue or curr changes, rq locked */
void rq_snapshot_loads(uint32_t *load);

/* Charge the running entity up to now. rq locked. */
void rq_account(struct sched_cpu *rq, uint64_t now);
/* Does something queued on rq beat rq->curr? rq locked. */
bool rq_should_preempt(const struct sched_cpu *rq);
/* Make entity e (state set by the caller) runnable on rq (rq locked, e->cpu == rq->id). */
void rq_make_runnable(struct sched_cpu *rq, struct sched_entity *e, uint64_t now);

/* EDF (rq locked). */
void edf_release_due(struct sched_cpu *rq, uint64_t now);
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

#endif /* SCHED_INTERNAL_H */
