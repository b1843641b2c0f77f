/* SPDX-License-Identifier: MIT */
/*
 * Load balancing: where a new or woken thread goes, and work stealing between CPUs.
 * The decisions are pure functions of the queue loads and affinity masks (host-tested
 * on their own); sched_steal() applies one with both run-queue locks held in id order.
 */
#include "sched_internal.h"

int sched_select_cpu(const uint32_t *load, unsigned ncpus, cpumask_t allowed, unsigned prev) {
    int best = -1;
    for (unsigned i = 0; i < ncpus && i < SCHED_MAX_CPUS; i++) {
        if ((allowed & CPUMASK_CPU(i)) != 0 && (best < 0 || load[i] < load[best])) {
            best = (int)i;
        }
    }
    if (best < 0) {
        return -1;
    }
    if (prev < ncpus && (allowed & CPUMASK_CPU(prev)) != 0 &&
        load[prev] <= load[best] + SCHED_WAKE_AFFINE_SLACK) {
        return (int)prev;
    }
    return best;
}

int sched_steal_victim(const uint32_t *load, unsigned ncpus, unsigned thief, cpumask_t candidates) {
    if (thief >= ncpus) {
        return -1;
    }
    int best = -1;
    for (unsigned i = 0; i < ncpus && i < SCHED_MAX_CPUS; i++) {
        if (i == thief || (candidates & CPUMASK_CPU(i)) == 0) {
            continue;
        }
        if (load[i] >= load[thief] + SCHED_STEAL_THRESHOLD && (best < 0 || load[i] > load[best])) {
            best = (int)i;
        }
    }
    return best;
}

/* The entity to take from victim for thief: highest queue first, oldest first, the first
 * whose affinity allows thief. Both locks held. */
static struct sched_entity *find_stealable(struct sched_cpu *victim, unsigned thief) {
    uint32_t bm = victim->bitmap;
    while (bm != 0) {
        unsigned q = highest_queue(bm);
        bm &= ~(1u << q);
        for (struct sched_entity *e = victim->q[q].head; e != NULL; e = e->rq_next) {
            if ((e->affinity & CPUMASK_CPU(thief)) != 0) {
                return e;
            }
        }
    }
    return NULL;
}

bool sched_steal(unsigned thief, uint64_t now) {
    if (thief >= sched_ncpus || sched_ncpus < 2) {
        return false;
    }
    cpumask_t candidates = sched_online_mask() & ~CPUMASK_CPU(thief);
    while (candidates != 0) {
        uint32_t load[SCHED_MAX_CPUS];
        rq_snapshot_loads(load);
        int v = sched_steal_victim(load, sched_ncpus, thief, candidates);
        if (v < 0) {
            return false;
        }
        candidates &= ~CPUMASK_CPU((unsigned)v);
        struct sched_cpu *t = rq_of(thief);
        struct sched_cpu *vr = rq_of((unsigned)v);
        struct sched_cpu *lo = thief < (unsigned)v ? t : vr;
        struct sched_cpu *hi = thief < (unsigned)v ? vr : t;
        unsigned long flags = arch_irq_save();
        /* The victim's lock is only tried: idle CPUs must not queue up behind a busy CPU's
         * own tick and picks (a ticket-lock convoy), and a missed steal is retried later. */
        if (lo == t) {
            spin_lock(&t->lock);
            if (!spin_trylock(&vr->lock)) {
                spin_unlock(&t->lock);
                arch_irq_restore(flags);
                continue;
            }
        } else {
            if (!spin_trylock(&vr->lock)) {
                arch_irq_restore(flags);
                continue;
            }
            spin_lock(&t->lock);
        }
        /* re-check under the locks: the loads may have moved */
        bool still = rq_load(vr) >= rq_load(t) + SCHED_STEAL_THRESHOLD;
        struct sched_entity *e = still ? find_stealable(vr, thief) : NULL;
        if (e != NULL) {
            rq_dequeue(vr, e);
            __atomic_store_n(&e->cpu, (uint16_t)thief, __ATOMIC_RELAXED);
            e->nr_migrations++;
            /* keeps its wait time: aging counts from when it first queued */
            rq_enqueue_by_wait(t, e, e->queue, e->wait_since_ns < now ? e->wait_since_ns : now);
            t->nr_steals++;
        }
        spin_unlock(&hi->lock);
        spin_unlock(&lo->lock);
        arch_irq_restore(flags);
        if (e != NULL) {
            return true;
        }
    }
    return false;
}
