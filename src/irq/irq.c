/* SPDX-License-Identifier: MIT */
/*
 * Device interrupt lines (request_irq/free_irq/enable_irq/disable_irq from the CloudOS
 * seed) and the portable side of interrupt entry: nesting and counting (irq_enter /
 * irq_exit, which preempts), IPI dispatch. The timer tick glue is in irq_timer.c.
 */
#include <kernel/heap.h>
#include <kernel/irq.h>
#include <kernel/kprintf.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/thread.h>

struct irq_action {
    struct irq_action *next;
    irq_handler_t handler;
    void *data;
    const char *name;
    uint32_t flags;
};

struct irq_line {
    struct irq_action *actions;
    uint64_t fired;
    uint64_t unhandled;
    bool enabled;
};

/* The line table is allocated at the first request_irq (the line count is only known
 * once the controller is up). Handlers run with irq_lock held: they must not call
 * request_irq/free_irq. */
static spinlock_t irq_lock = SPINLOCK_INIT;
static struct irq_line *lines;
static unsigned nlines;

/* Table for the controller's lines, allocated on first use. irq_lock held. */
static bool lines_ready(void) {
    if (lines == NULL) {
        unsigned n = arch_irq_line_count();
        if (n == 0) {
            return false;
        }
        lines = kcalloc(n, sizeof(*lines));
        if (lines == NULL) {
            return false;
        }
        nlines = n;
    }
    return true;
}

kstatus_t request_irq(unsigned irq, irq_handler_t handler, uint32_t flags, const char *name,
                      void *data) {
    if (handler == NULL || (flags & ~IRQF_SHARED) != 0 || irq >= arch_irq_line_count()) {
        return KEEL_EINVAL;
    }
    struct irq_action *a = kmalloc(sizeof(*a), KMALLOC_ZERO);
    if (a == NULL) {
        return KEEL_ENOMEM;
    }
    a->handler = handler;
    a->data = data;
    a->name = name;
    a->flags = flags;
    unsigned long f;
    spin_lock_irqsave(&irq_lock, &f);
    kstatus_t st = KEEL_OK;
    if (!lines_ready()) {
        st = KEEL_ENOMEM;
    } else if (irq >= nlines) {
        st = KEEL_EINVAL;
    } else {
        struct irq_line *l = &lines[irq];
        bool shared = (flags & IRQF_SHARED) != 0;
        for (struct irq_action *o = l->actions; o != NULL && st == KEEL_OK; o = o->next) {
            if (!shared || (o->flags & IRQF_SHARED) == 0) {
                st = KEEL_EBUSY;
            }
        }
        if (st == KEEL_OK) {
            bool first = l->actions == NULL;
            struct irq_action **tail = &l->actions;
            while (*tail != NULL) {
                tail = &(*tail)->next;
            }
            *tail = a;
            if (first) {
                st = arch_irq_line_enable(irq);
                if (st == KEEL_OK) {
                    l->enabled = true;
                } else {
                    l->actions = NULL;
                }
            }
        }
    }
    spin_unlock_irqrestore(&irq_lock, f);
    if (st != KEEL_OK) {
        kfree(a);
    }
    return st;
}

void free_irq(unsigned irq, void *data) {
    struct irq_action *gone = NULL;
    unsigned long f;
    spin_lock_irqsave(&irq_lock, &f);
    if (lines != NULL && irq < nlines) {
        struct irq_line *l = &lines[irq];
        for (struct irq_action **p = &l->actions; *p != NULL; p = &(*p)->next) {
            if ((*p)->data == data) {
                gone = *p;
                *p = gone->next;
                break;
            }
        }
        if (gone != NULL && l->actions == NULL) {
            arch_irq_line_disable(irq);
            l->enabled = false;
        }
    }
    spin_unlock_irqrestore(&irq_lock, f);
    kfree(gone);
}

static void set_line(unsigned irq, bool on) {
    unsigned long f;
    spin_lock_irqsave(&irq_lock, &f);
    if (lines != NULL && irq < nlines && lines[irq].actions != NULL && lines[irq].enabled != on) {
        if (!on) {
            arch_irq_line_disable(irq);
            lines[irq].enabled = false;
        } else if (arch_irq_line_enable(irq) == KEEL_OK) {
            lines[irq].enabled = true;
        }
    }
    spin_unlock_irqrestore(&irq_lock, f);
}

void enable_irq(unsigned irq) {
    set_line(irq, true);
}

void disable_irq(unsigned irq) {
    set_line(irq, false);
}

void irq_handle_device(unsigned irq) {
    bool report = false;
    spin_lock(&irq_lock);
    if (lines != NULL && irq < nlines) {
        struct irq_line *l = &lines[irq];
        l->fired++;
        for (struct irq_action *a = l->actions; a != NULL; a = a->next) {
            a->handler(irq, a->data);
        }
        if (l->actions == NULL) {
            /* nobody listens: mask it so a level-triggered line cannot storm */
            report = l->unhandled++ == 0;
            arch_irq_line_disable(irq);
        }
    } else {
        report = true;
        arch_irq_line_disable(irq);
    }
    spin_unlock(&irq_lock);
    if (report) {
        kprintf("irq: line %u fired with no handler; masked\n", irq);
    }
}

uint64_t irq_line_count_fired(unsigned irq) {
    unsigned long f;
    uint64_t n = 0;
    spin_lock_irqsave(&irq_lock, &f);
    if (lines != NULL && irq < nlines) {
        n = lines[irq].fired;
    }
    spin_unlock_irqrestore(&irq_lock, f);
    return n;
}

void irq_handle_ipi(enum ipi_kind kind) {
    struct percpu *pc = arch_this_cpu();
    if ((unsigned)kind < IPI_KIND_COUNT) {
        pc->ipi_count[kind]++;
    }
    switch (kind) {
    case IPI_RESCHEDULE:
        /* A timer kick re-arms the tick and need not reschedule: a wake-up that shares
         * the IPI has set its run queue's need_resched, which irq_exit checks anyway. */
        if (irq_timer_kicked()) {
            irq_timer_rearm();
        } else {
            pc->need_resched = true;
        }
        break;
    case IPI_CALL:
        smp_handle_call_ipi();
        break;
    default:
        break;
    }
}

void irq_enter(void) {
    struct percpu *pc = arch_this_cpu();
    pc->irq_depth++;
    pc->irq_count++;
}

void irq_exit(void) {
    struct percpu *pc = arch_this_cpu();
    if (pc->irq_depth > 0) {
        pc->irq_depth--;
    }
    if (pc->irq_depth != 0 || pc->preempt_off != 0 || pc->current == NULL) {
        return;
    }
    struct sched_cpu *rq = sched_cpu_get(pc->index);
    if (pc->need_resched || (rq != NULL && __atomic_load_n(&rq->need_resched, __ATOMIC_RELAXED))) {
        schedule();
    }
}
