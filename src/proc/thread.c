/* SPDX-License-Identifier: MIT */
/*
 * Kernel threads: creation with guarded vmalloc stacks, schedule() joining the policy's
 * sched_pick_next() to arch_context_switch() with the on_cpu handshake, the idle threads,
 * exit with deferred freeing, and the hooks that let the sleeping primitives block.
 */
#include <arch/irq.h>
#include <arch/thread.h>
#include <kernel/fpu.h>
#include <kernel/heap.h>
#include <kernel/irq.h>
#include <kernel/kprintf.h>
#include <kernel/percpu.h>
#include <kernel/panic.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/thread.h>
#include <kernel/vmm.h>

static struct thread boot_thread;
static uint64_t next_thread_id = 1; /* 0 is the boot thread */
static bool threading_started;

/* Per CPU in struct percpu: switch_prev, the thread a switch just left (its on_cpu is
 * cleared once we are off its stack); handoff, a thread the idle thread must switch to
 * (see switch_to); blocking_switch, the switch comes from a thread that blocked (it may
 * have armed a timeout). */

/* Exited threads, freed by thread_reap() in thread context. */
static spinlock_t reap_lock = SPINLOCK_INIT;
static struct thread *reap_list;

static inline struct thread *thread_of(struct sched_entity *se) {
    return (struct thread *)se; /* se is the first member */
}

STATIC_ASSERT(__builtin_offsetof(struct thread, se) == 0, "sched_entity <-> thread by cast");

/* The stack and, below it, a guard page that vm_fault reports as a stack overflow. */
static void *stack_alloc(void) {
    return vmalloc_stack(THREAD_STACK_SIZE, ARCH_THREAD_STACK_ALIGN);
}

static void wait_off_cpu(struct thread *t) {
    while (__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE) != 0) {
        arch_cpu_relax();
    }
}

/*
 * The tail of every switch, run by the thread that was switched to (on its own stack,
 * on whatever CPU it now runs): release the thread we came from, and if a hand-off was
 * left for the idle thread, wait for that thread to leave its old CPU and go on to it.
 */
static void finish_switch_slow(void) {
    for (;;) {
        struct percpu *pc = arch_this_cpu();
        struct thread *done = pc->switch_prev;
        pc->switch_prev = NULL;
        if (done != NULL) {
            bool dead = done->exiting;
            __atomic_store_n(&done->on_cpu, 0, __ATOMIC_RELEASE);
            if (dead) {
                unsigned long flags;
                spin_lock_irqsave(&reap_lock, &flags);
                done->reap_next = reap_list;
                reap_list = done;
                spin_unlock_irqrestore(&reap_lock, flags);
            }
        }
        struct thread *next = pc->handoff;
        if (next == NULL) {
            return;
        }
        /* We are pc's idle thread and hold no other thread's stack: safe to wait. */
        pc->handoff = NULL;
        wait_off_cpu(next);
        next->on_cpu = 1;
        pc->switch_prev = pc->idle;
        pc->current = next;
        arch_context_switch(&pc->idle->ctx, &next->ctx);
    }
}

/* finish_switch_slow() with the common case inline: a live thread to release, no
 * hand-off. (exiting is read before on_cpu is released: after it the thread may go.) */
static inline void finish_switch(void) {
    struct percpu *pc = arch_this_cpu();
    struct thread *done = pc->switch_prev;
    if (done != NULL && !done->exiting && pc->handoff == NULL) {
        pc->switch_prev = NULL;
        __atomic_store_n(&done->on_cpu, 0, __ATOMIC_RELEASE);
        return;
    }
    finish_switch_slow();
}

/*
 * Switch from prev to next on pc. next may still be finishing its switch-out on another
 * CPU (woken or stolen right after it blocked there). Waiting for that while we still
 * run on prev's stack could deadlock against a CPU doing the mirror image, so when next
 * is busy we switch to our idle thread first (its stack is never anyone else's), which
 * waits in finish_switch(). Interrupts masked.
 */
static __always_inline void switch_to(struct percpu *pc, struct thread *prev, struct thread *next) {
    if (__atomic_load_n(&next->on_cpu, __ATOMIC_ACQUIRE) != 0) {
        if (prev == pc->idle) {
            wait_off_cpu(next);
        } else {
            pc->handoff = next;
            next = pc->idle;
        }
    }
    fpu_switch_out(prev);
    next->on_cpu = 1;
    pc->switch_prev = prev;
    pc->current = next;
    arch_context_switch(&prev->ctx, &next->ctx);
    finish_switch();
}

/*
 * At a switch: program the timer for the CPU's next event. A full re-arm walks the
 * scheduler's and the timer queue's next events; between two runnable threads (yield,
 * preemption) only the new thread's slice end can be earlier than what is armed.
 */
static inline void rearm_after(struct thread *prev, struct thread *next, bool blocked) {
    struct percpu *pc = arch_this_cpu();
    if (!blocked && prev != pc->idle && next != pc->idle) {
        const struct sched_entity *e = &next->se;
        uint64_t left = e->klass == SCHED_CLASS_EDF ? e->edf_budget_ns : e->slice_left_ns;
        if (irq_timer_covers(e->exec_start_ns + left)) {
            return;
        }
    }
    irq_timer_rearm();
}

/* Run what the policy picked (se, NULL for the idle thread) instead of prev. */
static __always_inline void run_picked(struct percpu *pc, struct thread *prev,
                                       struct sched_entity *se, bool blocked) {
    struct thread *next = se != NULL ? thread_of(se) : pc->idle;
    if (next != prev) {
        rearm_after(prev, next, blocked); /* before: it needs only this CPU's state */
        switch_to(pc, prev, next);
    } else if (blocked || prev == pc->idle) {
        irq_timer_rearm();
    }
}

/* schedule() with the time already read. Interrupts masked. */
static void schedule_at(uint64_t now) {
    struct percpu *pc = arch_this_cpu();
    struct thread *prev = pc->current;
    if (prev == NULL || !threading_started) {
        return;
    }
    bool blocked = pc->blocking_switch;
    pc->blocking_switch = false;
    pc->need_resched = false;
    run_picked(pc, prev, sched_pick_next(pc->index, now), blocked);
}

void schedule(void) {
    unsigned long flags = arch_irq_save();
    schedule_at(get_monotonic_time());
    arch_irq_restore(flags);
}

/* The blocking helpers' switch: the blocked thread may have armed a timeout here. */
static void switch_out_blocked(void) {
    unsigned long flags = arch_irq_save();
    arch_this_cpu()->blocking_switch = true;
    schedule_at(get_monotonic_time());
    arch_irq_restore(flags);
}

void preempt_disable(void) {
    unsigned long flags = arch_irq_save();
    arch_this_cpu()->preempt_off++;
    arch_irq_restore(flags);
}

void preempt_enable(void) {
    unsigned long flags = arch_irq_save();
    struct percpu *pc = arch_this_cpu();
    bool resched = false;
    if (pc->preempt_off > 0 && --pc->preempt_off == 0 && pc->irq_depth == 0) {
        struct sched_cpu *rq = sched_cpu_get(pc->index);
        resched = pc->need_resched ||
                  (rq != NULL && __atomic_load_n(&rq->need_resched, __ATOMIC_RELAXED));
    }
    arch_irq_restore(flags);
    if (resched) {
        schedule(); /* safe with interrupts masked: schedule() saves and restores them */
    }
}

/* First code of every new thread (arch_context_init entry). */
static void thread_start(void *arg) {
    struct thread *t = arg;
    finish_switch();
    irq_timer_rearm();
    arch_irq_enable();
    t->entry(t->arg);
    thread_exit(0);
}

/* The idle loop: run whatever is runnable, else wait for an interrupt. IRQs masked. */
static __noreturn void idle_loop(void) {
    for (;;) {
        arch_irq_disable();
        schedule();
        arch_cpu_idle();
    }
}

static void idle_start(void *arg) {
    (void)arg;
    finish_switch();
    idle_loop();
}

static struct thread *thread_alloc(const char *name) {
    struct thread *t = kmalloc(sizeof(*t), KMALLOC_ZERO);
    if (t == NULL) {
        return NULL;
    }
    t->stack = stack_alloc();
    if (t->stack == NULL) {
        kfree(t);
        return NULL;
    }
    t->stack_size = THREAD_STACK_SIZE;
    t->id = __atomic_fetch_add(&next_thread_id, 1, __ATOMIC_RELAXED);
    strlcpy(t->name, name != NULL ? name : "thread", sizeof(t->name));
    sched_entity_init(&t->se, t->id);
    fpu_thread_init(t);
    return t;
}

static void thread_free(struct thread *t) {
    if (t->is_static) {
        return;
    }
    vfree(t->stack);
    kfree(t);
}

void thread_reap(void) {
    unsigned long flags;
    spin_lock_irqsave(&reap_lock, &flags);
    struct thread *list = reap_list;
    reap_list = NULL;
    spin_unlock_irqrestore(&reap_lock, flags);
    while (list != NULL) {
        struct thread *t = list;
        list = t->reap_next;
        wait_off_cpu(t);
        thread_free(t);
    }
}

kstatus_t thread_create(const char *name, void (*entry)(void *arg), void *arg, unsigned prio,
                        cpumask_t affinity, struct thread **out) {
    if (entry == NULL || !threading_started || prio > SCHED_PRIO_REALTIME || prio % 10 != 0) {
        return KEEL_EINVAL;
    }
    affinity &= smp_online_mask();
    if (affinity == 0) {
        return KEEL_EINVAL;
    }
    thread_reap();
    struct thread *t = thread_alloc(name);
    if (t == NULL) {
        return KEEL_ENOMEM;
    }
    t->entry = entry;
    t->arg = arg;
    t->se.affinity = affinity;
    arch_context_init(&t->ctx, (uintptr_t)t->stack + t->stack_size, thread_start, t);
    if (out != NULL) {
        *out = t; /* before it can run: it may exit (and be freed) before we return */
    }
    kstatus_t st = sched_add(&t->se, prio, get_monotonic_time());
    if (st != KEEL_OK) {
        thread_free(t);
        if (out != NULL) {
            *out = NULL;
        }
    }
    return st;
}

struct thread *thread_current(void) {
    struct percpu *pc = arch_this_cpu();
    return pc != NULL ? pc->current : NULL;
}

void thread_yield(void) {
    unsigned long flags = arch_irq_save();
    struct percpu *pc = arch_this_cpu();
    struct thread *prev = pc->current;
    struct sched_entity *se;
    if (threading_started && prev != pc->idle &&
        sched_yield_pick(pc->index, get_monotonic_time(), &se) == KEEL_OK) {
        pc->need_resched = false;
        run_picked(pc, prev, se, false);
    }
    arch_irq_restore(flags);
}

void thread_exit(int code) {
    arch_irq_disable();
    struct percpu *pc = arch_this_cpu();
    struct thread *t = pc->current;
    if (t == NULL || t == pc->idle) {
        panic("thread_exit: called from %s", t == NULL ? "no thread" : "an idle thread");
    }
    t->exit_code = code;
    t->exiting = true;
    kstatus_t st = sched_exit(pc->index, &t->se);
    if (st != KEEL_OK) {
        panic("thread_exit: %s is not running on CPU %u (error %d)", t->name, pc->index, st);
    }
    schedule();
    panic("thread_exit: exited thread %s ran again", t->name);
}

kstatus_t thread_sleep_ns(uint64_t ns) {
    kstatus_t st = sched_sleep_current(SCHED_BLOCK_SLEEP, ns, NULL, NULL);
    return st == KEEL_ETIMEOUT ? KEEL_OK : st;
}

/* ---- the scheduler's hooks into the thread layer ---- */

static struct sched_entity *ops_current(void) {
    struct thread *t = thread_current();
    return t != NULL ? &t->se : NULL;
}

static unsigned ops_this_cpu(void) {
    return arch_this_cpu()->index;
}

static void ops_kick(unsigned cpu) {
    struct percpu *pc = percpu_get(cpu);
    if (pc != NULL && __atomic_load_n(&pc->online, __ATOMIC_ACQUIRE) != 0) {
        arch_ipi_send(cpu, IPI_RESCHEDULE);
    }
}

static const struct sched_thread_ops thread_ops = {
    .current = ops_current,
    .this_cpu = ops_this_cpu,
    .kick = ops_kick,
    .switch_out = switch_out_blocked,
};

/* ---- bring-up ---- */

kstatus_t thread_idle_create(struct percpu *pc, uintptr_t *stack_top) {
    struct thread *t = thread_alloc("idle");
    if (t == NULL) {
        return KEEL_ENOMEM;
    }
    ksnprintf(t->name, sizeof(t->name), "idle%u", pc->index);
    pc->idle = t;
    *stack_top = (uintptr_t)t->stack + t->stack_size;
    return KEEL_OK;
}

void thread_idle_run(struct percpu *pc) {
    struct thread *idle = pc->idle;
    fpu_cpu_init();
    idle->on_cpu = 1;
    pc->current = idle;
    irq_timer_rearm();
    idle_loop();
}

kstatus_t thread_init(const struct boot_info *bi) {
    struct percpu *pc = arch_this_cpu();
    unsigned ncpus = bi->cpu_count > 0 ? bi->cpu_count : 1;
    if (pc == NULL || pc->self != pc || threading_started) {
        return KEEL_EINVAL;
    }
    kstatus_t st = irq_clock_init();
    if (st != KEEL_OK) {
        return st;
    }
    st = sched_init(ncpus > SCHED_MAX_CPUS ? SCHED_MAX_CPUS : ncpus);
    if (st != KEEL_OK) {
        return st;
    }
    uintptr_t idle_top;
    st = thread_idle_create(pc, &idle_top);
    if (st != KEEL_OK) {
        return st;
    }
    arch_context_init(&pc->idle->ctx, idle_top, idle_start, NULL);

    struct thread *t = &boot_thread;
    memset(t, 0, sizeof(*t));
    sched_entity_init(&t->se, 0);
    fpu_thread_init(t);
    t->se.affinity = CPUMASK_CPU(pc->index);
    t->is_static = true;
    t->on_cpu = 1;
    strlcpy(t->name, "boot", sizeof(t->name));
    st = sched_add(&t->se, SCHED_PRIO_NORMAL, get_monotonic_time());
    if (st != KEEL_OK) {
        return st;
    }
    if (sched_pick_next(pc->index, get_monotonic_time()) != &t->se) {
        return KEEL_ECORRUPT;
    }
    fpu_cpu_init();
    pc->current = t;
    threading_started = true;
    sched_set_thread_ops(&thread_ops);
    arch_irq_init_cpu();
    irq_timer_rearm();
    arch_irq_enable();
    return KEEL_OK;
}
