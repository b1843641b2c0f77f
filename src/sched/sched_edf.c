/* SPDX-License-Identifier: MIT */
/*
 * The EDF class: partitioned earliest-deadline-first with admission control and budget
 * enforcement (a sporadic-server style reservation). Each EDF entity lives on one CPU;
 * a job runs until it blocks or yields, gets at most runtime per period, and a period
 * boundary reached with the job unfinished counts one deadline miss.
 */
#include "sched_internal.h"

kstatus_t sched_edf_bandwidth(const struct sched_edf_params *p, uint64_t *bw) {
    if (p == NULL || bw == NULL || p->runtime_ns < SCHED_EDF_MIN_RUNTIME_NS ||
        p->runtime_ns > p->deadline_ns || p->deadline_ns > p->period_ns ||
        p->period_ns > SCHED_EDF_MAX_PERIOD_NS) {
        return KEEL_EINVAL;
    }
    /* runtime <= 2^40, so runtime << 20 <= 2^60: no overflow. Rounded up: never admits
     * a set whose exact density exceeds the bound. */
    uint64_t num = p->runtime_ns << SCHED_BW_SHIFT;
    *bw = num / p->deadline_ns + (num % p->deadline_ns != 0 ? 1 : 0);
    return KEEL_OK;
}

kstatus_t sched_add_edf(struct sched_entity *e, const struct sched_edf_params *p, uint64_t now_ns) {
    uint64_t bw;
    if (e == NULL || e->state != SCHED_DETACHED || sched_edf_bandwidth(p, &bw) != KEEL_OK) {
        return KEEL_EINVAL;
    }
    cpumask_t allowed = e->affinity & sched_online_mask();
    if (allowed == 0) {
        return KEEL_EINVAL;
    }
    /* Worst fit: the allowed CPU with the least admitted bandwidth that still has room. */
    for (;;) {
        int best = -1;
        uint64_t best_bw = 0;
        for (unsigned i = 0; i < sched_ncpus; i++) {
            uint64_t used = __atomic_load_n(&sched_cpus[i].edf_bw, __ATOMIC_RELAXED);
            if ((allowed & CPUMASK_CPU(i)) != 0 && used + bw <= SCHED_EDF_BW_MAX &&
                (best < 0 || used < best_bw)) {
                best = (int)i;
                best_bw = used;
            }
        }
        if (best < 0) {
            return KEEL_EBUSY;
        }
        struct sched_cpu *rq = rq_of((unsigned)best);
        unsigned long flags;
        spin_lock_irqsave(&rq->lock, &flags);
        if (rq->edf_bw + bw > SCHED_EDF_BW_MAX) { /* raced with another admission */
            spin_unlock_irqrestore(&rq->lock, flags);
            allowed &= ~CPUMASK_CPU((unsigned)best);
            continue;
        }
        __atomic_store_n(&rq->edf_bw, rq->edf_bw + bw, __ATOMIC_RELAXED);
        rq->nr_edf++;
        __atomic_store_n(&e->cpu, (uint16_t)best, __ATOMIC_RELAXED);
        e->klass = SCHED_CLASS_EDF;
        e->edf = *p;
        e->edf_bw = bw;
        e->edf_misses = e->edf_jobs = 0;
        e->wait_prepared = e->yield_pending = e->boosted = false;
        e->timeout_at = TIME_NEVER;
        e->base_level = e->level = SCHED_LEVEL_RT;
        edf_start(rq, e, now_ns);
        if (rq_should_preempt(rq)) {
            rq->need_resched = true;
        }
        bool kick = rq->need_resched;
        spin_unlock_irqrestore(&rq->lock, flags);
        if (kick) {
            sched_kick((unsigned)best);
        }
        return KEEL_OK;
    }
}

/* Start a new job released at `at`. */
static void new_job(struct sched_entity *e, uint64_t at) {
    e->edf_release_at = at;
    e->edf_budget_ns = e->edf.runtime_ns;
    e->edf_abs_deadline = at + e->edf.deadline_ns;
    e->edf_job_done = false;
    e->edf_jobs++;
}

static void make_ready(struct sched_cpu *rq, struct sched_entity *e) {
    e->state = SCHED_QUEUED;
    pheap_insert(&rq->edf_ready, &e->edf_ready, e->edf_abs_deadline);
}

void edf_start(struct sched_cpu *rq, struct sched_entity *e, uint64_t now) {
    new_job(e, now);
    pheap_insert(&rq->edf_release, &e->edf_release, now + e->edf.period_ns);
    make_ready(rq, e);
}

void edf_wake(struct sched_cpu *rq, struct sched_entity *e, uint64_t now) {
    /* Sporadic rule: the next job may not be released before last release + period. */
    uint64_t earliest = e->edf_release_at + e->edf.period_ns;
    if (now >= earliest) {
        new_job(e, now);
        pheap_insert(&rq->edf_release, &e->edf_release, now + e->edf.period_ns);
        make_ready(rq, e);
    } else {
        e->edf_job_done = true;
        e->state = SCHED_THROTTLED;
        pheap_insert(&rq->edf_release, &e->edf_release, earliest);
    }
}

void edf_release_due_slow(struct sched_cpu *rq, uint64_t now) {
    for (;;) {
        struct pheap_node *n = pheap_min(&rq->edf_release);
        if (n == NULL || n->key > now) {
            return;
        }
        (void)pheap_pop(&rq->edf_release);
        struct sched_entity *e = container_of(n, struct sched_entity, edf_release);
        uint64_t periods = (now - e->edf_release_at) / e->edf.period_ns;
        if (periods == 0) {
            periods = 1;
        }
        if (!e->edf_job_done) {
            e->edf_misses += periods;
            rq->edf_misses += periods;
        }
        bool queued = e->state == SCHED_QUEUED;
        if (queued) {
            pheap_remove(&rq->edf_ready, &e->edf_ready);
        }
        new_job(e, e->edf_release_at + periods * e->edf.period_ns);
        pheap_insert(&rq->edf_release, &e->edf_release, e->edf_release_at + e->edf.period_ns);
        if (queued || e->state == SCHED_THROTTLED) {
            make_ready(rq, e);
        }
    }
}

void edf_put_back(struct sched_cpu *rq, struct sched_entity *e) {
    if (e->yield_pending) {
        e->yield_pending = false;
        e->edf_job_done = true;
        e->state = SCHED_THROTTLED;
    } else if (e->edf_budget_ns == 0) {
        e->state = SCHED_THROTTLED;
    } else {
        make_ready(rq, e);
    }
}

void edf_block(struct sched_cpu *rq, struct sched_entity *e) {
    e->edf_job_done = true;
    if (pheap_node_queued(&e->edf_release)) {
        pheap_remove(&rq->edf_release, &e->edf_release);
    }
}

void edf_detach(struct sched_cpu *rq, struct sched_entity *e) {
    if (pheap_node_queued(&e->edf_ready)) {
        pheap_remove(&rq->edf_ready, &e->edf_ready);
    }
    if (pheap_node_queued(&e->edf_release)) {
        pheap_remove(&rq->edf_release, &e->edf_release);
    }
    __atomic_store_n(&rq->edf_bw, rq->edf_bw - e->edf_bw, __ATOMIC_RELAXED);
    rq->nr_edf--;
    e->edf_bw = 0;
    e->klass = SCHED_CLASS_MLFQ;
    e->base_level = e->level = SCHED_LEVEL_RT;
}

struct sched_entity *edf_pick(struct sched_cpu *rq) {
    struct pheap_node *n = pheap_pop(&rq->edf_ready);
    return n == NULL ? NULL : container_of(n, struct sched_entity, edf_ready);
}

uint64_t edf_next_event(const struct sched_cpu *rq) {
    struct pheap_node *n = pheap_min(&rq->edf_release);
    return n == NULL ? TIME_NEVER : n->key;
}
