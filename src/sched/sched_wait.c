/* SPDX-License-Identifier: MIT */
/*
 * Blocking and waking: the prepare / check / block protocol that loses no wake-up,
 * block timeouts on the kernel timer queues, wake-up placement (affinity, load), and
 * affinity changes. Everything runs under the run-queue lock of the entity's CPU.
 */
#include "sched_internal.h"

kstatus_t sched_prepare_block(unsigned cpu, struct sched_entity *e) {
    if (cpu >= sched_ncpus || e == NULL) {
        return KEEL_EINVAL;
    }
    struct sched_cpu *rq = rq_of(cpu);
    unsigned long flags;
    spin_lock_irqsave(&rq->lock, &flags);
    kstatus_t st = KEEL_EINVAL;
    if (rq_curr(rq) == e && e->state == SCHED_RUNNING) {
        e->wait_prepared = true;
        e->wait_cancelled = false;
        e->wake_status = KEEL_OK;
        st = KEEL_OK;
    }
    spin_unlock_irqrestore(&rq->lock, flags);
    return st;
}

kstatus_t sched_block(unsigned cpu, struct sched_entity *e, unsigned reason, uint64_t timeout_ns,
                      uint64_t now_ns, bool *blocked) {
    if (cpu >= sched_ncpus || e == NULL || blocked == NULL || reason >= SCHED_BLOCK_REASONS) {
        return KEEL_EINVAL;
    }
    struct sched_cpu *rq = rq_of(cpu);
    unsigned long flags;
    spin_lock_irqsave(&rq->lock, &flags);
    if (rq_curr(rq) != e || e->state != SCHED_RUNNING) {
        spin_unlock_irqrestore(&rq->lock, flags);
        return KEEL_EINVAL;
    }
    *blocked = false;
    if (e->yield_pending) {
        e->yield_pending = false;
    }
    /* A wake-up since sched_prepare_block() cleared wait_prepared and set wake_cancel. */
    if (e->wait_cancelled) {
        e->wait_cancelled = false;
        spin_unlock_irqrestore(&rq->lock, flags);
        return KEEL_OK;
    }
    e->wait_prepared = false;
    rq_account(rq, now_ns);
    if (e->klass == SCHED_CLASS_EDF) {
        edf_block(rq, e);
    } else {
        bool used = !e->boosted && e->slice_left_ns == 0; /* a boost slice is not a quantum */
        unsigned nl = sched_feedback_level(e->base_level, e->level, used);
        e->nr_promotions += nl > e->level;
        e->nr_demotions += nl < e->level;
        e->level = (uint8_t)nl;
        e->slice_left_ns = sched_quantum_ns(nl);
        e->boosted = false;
    }
    e->state = SCHED_BLOCKED;
    rq_update_load(rq);
    e->block_reason = (uint8_t)reason;
    e->wake_status = KEEL_OK;
    e->timeout_at = TIME_NEVER;
    if (timeout_ns != TIME_NEVER) {
        e->timeout_at = now_ns > TIME_NEVER - timeout_ns ? TIME_NEVER - 1 : now_ns + timeout_ns;
        /* not pending (a wake or remove disarms it, or it fired); cpu is valid */
        /* quiet: e blocks on this CPU, whose blocking switch re-arms the tick fully */
        kstatus_t armed = add_timer_on_quiet(&e->timeout, e->timeout_at, cpu);
        (void)armed;
    }
    rq->need_resched = true;
    *blocked = true;
    spin_unlock_irqrestore(&rq->lock, flags);
    return KEEL_OK;
}

/* Can e be woken now? For a timeout, only if this block's own timeout is due. */
static bool wakeable(const struct sched_entity *e, bool timeout, uint64_t now) {
    if (e->state != SCHED_BLOCKED) {
        return false;
    }
    return !timeout || (e->timeout_at != TIME_NEVER && now >= e->timeout_at);
}

static kstatus_t do_wake(struct sched_entity *e, kstatus_t status, uint64_t now, bool timeout,
                         unsigned *target_cpu) {
    for (;;) {
        unsigned long flags;
        struct sched_cpu *rq = rq_lock_entity(e, &flags);
        if (!wakeable(e, timeout, now)) {
            kstatus_t st = KEEL_EEXIST;
            if (!timeout && e->wait_prepared &&
                (e->state == SCHED_RUNNING || e->state == SCHED_QUEUED)) {
                e->wait_prepared = false;
                e->wait_cancelled = true;
                e->wake_status = status;
                if (target_cpu != NULL) {
                    *target_cpu = rq->id;
                }
                st = KEEL_OK;
            }
            spin_unlock_irqrestore(&rq->lock, flags);
            return st;
        }
        unsigned dst = rq->id;
        if (e->klass == SCHED_CLASS_MLFQ) {
            uint32_t load[SCHED_MAX_CPUS];
            rq_snapshot_loads(load);
            int c = sched_select_cpu(load, sched_ncpus, e->affinity, rq->id);
            dst = c >= 0 ? (unsigned)c : rq->id;
        }
        struct sched_cpu *src = rq;
        if (dst != rq->id) {
            spin_unlock_irqrestore(&rq->lock, flags);
            src = rq_lock_entity_and(e, dst, &flags);
            if (!wakeable(e, timeout, now) || (e->affinity & CPUMASK_CPU(dst)) == 0) {
                rq_unlock_pair(src, rq_of(dst), flags);
                continue; /* changed while unlocked: start over */
            }
        }
        struct sched_cpu *d = rq_of(dst);
        (void)del_timer(&e->timeout);
        e->timeout_at = TIME_NEVER;
        e->wake_status = status;
        if (dst != src->id) {
            e->nr_migrations++;
            __atomic_store_n(&e->cpu, (uint16_t)dst, __ATOMIC_RELAXED);
        }
        if (now > d->now_ns) {
            d->now_ns = now;
        }
        rq_make_runnable(d, e, now);
        bool kick = d->need_resched;
        rq_unlock_pair(src, d, flags);
        if (target_cpu != NULL) {
            *target_cpu = dst;
        }
        if (kick) {
            sched_kick(dst);
        }
        return KEEL_OK;
    }
}

kstatus_t sched_wake(struct sched_entity *e, kstatus_t status, uint64_t now_ns,
                     unsigned *target_cpu) {
    if (e == NULL) {
        return KEEL_EINVAL;
    }
    return do_wake(e, status, now_ns, false, target_cpu);
}

kstatus_t sched_wake_timeout(struct sched_entity *e, uint64_t now_ns) {
    return do_wake(e, KEEL_ETIMEOUT, now_ns, true, NULL);
}

kstatus_t sched_set_affinity(struct sched_entity *e, cpumask_t mask, uint64_t now_ns) {
    if (e == NULL || (mask & sched_online_mask()) == 0) {
        return KEEL_EINVAL;
    }
    for (;;) {
        unsigned long flags;
        struct sched_cpu *rq = rq_lock_entity(e, &flags);
        if (e->klass == SCHED_CLASS_EDF && (mask & CPUMASK_CPU(rq->id)) == 0) {
            spin_unlock_irqrestore(&rq->lock, flags);
            return KEEL_EINVAL; /* partitioned: re-admit to move a reservation */
        }
        bool must_move = e->state == SCHED_QUEUED && e->klass == SCHED_CLASS_MLFQ &&
                         (mask & CPUMASK_CPU(rq->id)) == 0;
        if (!must_move) {
            e->affinity = mask;
            bool kick = false;
            if (e->state == SCHED_RUNNING && rq->curr == e && (mask & CPUMASK_CPU(rq->id)) == 0) {
                rq->need_resched = kick = true;
            }
            unsigned cpu = rq->id;
            spin_unlock_irqrestore(&rq->lock, flags);
            if (kick) {
                sched_kick(cpu);
            }
            return KEEL_OK;
        }
        uint32_t load[SCHED_MAX_CPUS];
        rq_snapshot_loads(load);
        int c = sched_select_cpu(load, sched_ncpus, mask, rq->id);
        unsigned old = rq->id;
        spin_unlock_irqrestore(&rq->lock, flags);
        if (c < 0) {
            return KEEL_EINVAL;
        }
        struct sched_cpu *src = rq_lock_entity_and(e, (unsigned)c, &flags);
        struct sched_cpu *d = rq_of((unsigned)c);
        if (src->id != old || e->state != SCHED_QUEUED || e->klass != SCHED_CLASS_MLFQ) {
            rq_unlock_pair(src, d, flags);
            continue;
        }
        rq_dequeue(src, e);
        e->affinity = mask;
        e->nr_migrations++;
        __atomic_store_n(&e->cpu, (uint16_t)c, __ATOMIC_RELAXED);
        rq_make_runnable(d, e, now_ns > d->now_ns ? now_ns : d->now_ns);
        bool kick = d->need_resched;
        rq_unlock_pair(src, d, flags);
        if (kick) {
            sched_kick((unsigned)c);
        }
        return KEEL_OK;
    }
}

struct sched_entity *sched_current(void) {
    const struct sched_thread_ops *ops = __atomic_load_n(&sched_ops, __ATOMIC_ACQUIRE);
    return ops != NULL && ops->current != NULL ? ops->current() : NULL;
}

void sched_cancel_block(struct sched_entity *e) {
    if (e == NULL) {
        return;
    }
    unsigned long flags;
    struct sched_cpu *rq = rq_lock_entity(e, &flags);
    e->wait_prepared = false;
    e->wait_cancelled = false;
    spin_unlock_irqrestore(&rq->lock, flags);
}

kstatus_t sched_sleep_current(unsigned reason, uint64_t timeout_ns, bool (*cond)(void *arg),
                              void *arg) {
    const struct sched_thread_ops *ops = __atomic_load_n(&sched_ops, __ATOMIC_ACQUIRE);
    if (ops == NULL || ops->current == NULL || ops->this_cpu == NULL || ops->switch_out == NULL) {
        return KEEL_ENOTSUP;
    }
    if (reason >= SCHED_BLOCK_REASONS) {
        return KEEL_EINVAL;
    }
    /* Interrupts masked from "which CPU am I on" to the switch: a preemption in between
     * could move the thread to another CPU and make the CPU number stale. */
    unsigned long irq = arch_irq_save();
    struct sched_entity *e = ops->current();
    unsigned cpu = ops->this_cpu();
    kstatus_t st = sched_prepare_block(cpu, e);
    if (st != KEEL_OK) {
        arch_irq_restore(irq);
        return st;
    }
    if (cond != NULL && cond(arg)) {
        sched_cancel_block(e);
        arch_irq_restore(irq);
        return KEEL_OK;
    }
    bool blocked = false;
    st = sched_block(cpu, e, reason, timeout_ns, get_monotonic_time(), &blocked);
    if (st == KEEL_OK && blocked) {
        ops->switch_out();
    }
    arch_irq_restore(irq);
    return st != KEEL_OK ? st : e->wake_status;
}
