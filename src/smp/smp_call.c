/* SPDX-License-Identifier: MIT */
/*
 * Cross-CPU function calls over IPI_CALL, and TLB shootdown on top of them. Each CPU has
 * a FIFO of pending calls; a caller that waits keeps serving its own FIFO meanwhile, so
 * two CPUs calling each other (or shooting down at once) with interrupts masked finish,
 * and so does a CPU waiting for a lock whose holder shoots down (smp_poll_calls).
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/mmu.h>
#include <kernel/heap.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/string.h>

struct call_req;

struct call_node {
    struct call_node *next;
    struct call_req *req;
};

struct call_req {
    void (*fn)(void *arg);
    void *arg;
    uint32_t pending; /* CPUs that have not finished fn yet */
    bool on_heap;     /* freed by the last CPU to finish (no-wait calls) */
    struct call_node nodes[PERCPU_MAX];
};

struct call_queue {
    spinlock_t lock;
    struct call_node *head, *tail;
};

static struct call_queue queues[PERCPU_MAX];
static uint64_t shootdowns_served[PERCPU_MAX];

static void call_done(struct call_req *req) {
    if (__atomic_sub_fetch(&req->pending, 1, __ATOMIC_ACQ_REL) == 0 && req->on_heap) {
        kfree(req);
    }
}

void smp_handle_call_ipi(void) {
    struct call_queue *q = &queues[arch_this_cpu()->index];
    for (;;) {
        unsigned long flags;
        spin_lock_irqsave(&q->lock, &flags);
        struct call_node *n = q->head;
        if (n != NULL) {
            __atomic_store_n(&q->head, n->next, __ATOMIC_RELAXED); /* smp_poll_calls peeks */
            if (q->head == NULL) {
                q->tail = NULL;
            }
        }
        spin_unlock_irqrestore(&q->lock, flags);
        if (n == NULL) {
            return;
        }
        struct call_req *req = n->req; /* n may be gone once req is done */
        req->fn(req->arg);
        call_done(req);
    }
}

void smp_poll_calls(void) {
    const struct call_queue *q = &queues[arch_this_cpu()->index];
    /* A node queued just now is seen on a later poll: the caller polls in a loop. */
    if (__atomic_load_n(&q->head, __ATOMIC_RELAXED) != NULL) {
        smp_handle_call_ipi();
    }
}

static void enqueue(unsigned cpu, struct call_node *n) {
    struct call_queue *q = &queues[cpu];
    unsigned long flags;
    n->next = NULL;
    spin_lock_irqsave(&q->lock, &flags);
    if (q->tail != NULL) {
        q->tail->next = n;
    } else {
        __atomic_store_n(&q->head, n, __ATOMIC_RELAXED);
    }
    q->tail = n;
    spin_unlock_irqrestore(&q->lock, flags);
}

void smp_call_function(cpumask_t mask, void (*fn)(void *arg), void *arg, bool wait) {
    struct call_req stack_req;
    struct call_req *req = &stack_req;
    unsigned long flags = arch_irq_save(); /* stay on this CPU */
    unsigned self = arch_this_cpu()->index;
    cpumask_t remote = mask & smp_online_mask() & ~CPUMASK_CPU(self);
    bool local = (mask & CPUMASK_CPU(self)) != 0;
    if (remote != 0 && !wait) {
        req = kmalloc(sizeof(*req), 0);
        if (req == NULL) {
            req = &stack_req; /* no memory: fall back to waiting */
            wait = true;
        }
    }
    req->fn = fn;
    req->arg = arg;
    req->on_heap = req != &stack_req;
    req->pending = (uint32_t)__builtin_popcountll(remote) + (local ? 1u : 0u) + 1u;
    for (cpumask_t m = remote; m != 0; m &= m - 1) {
        unsigned cpu = (unsigned)__builtin_ctzll(m);
        req->nodes[cpu].req = req;
        enqueue(cpu, &req->nodes[cpu]);
    }
    for (cpumask_t m = remote; m != 0; m &= m - 1) {
        arch_ipi_send((unsigned)__builtin_ctzll(m), IPI_CALL);
    }
    if (local) {
        fn(arg);
        call_done(req);
    }
    if (wait) {
        /* our own reference goes last, so req stays ours until everyone finished */
        while (__atomic_load_n(&req->pending, __ATOMIC_ACQUIRE) != 1) {
            smp_handle_call_ipi();
            arch_cpu_relax();
        }
    }
    call_done(req);
    arch_irq_restore(flags);
}

struct shootdown {
    uint64_t va;
    uint64_t size;
};

static void shootdown_one(void *arg) {
    const struct shootdown *sd = arg;
    arch_tlb_flush_local(sd->va, sd->size);
    __atomic_fetch_add(&shootdowns_served[arch_this_cpu()->index], 1, __ATOMIC_RELAXED);
}

void tlb_shootdown(uint64_t va, uint64_t size) {
    if (smp_online_count() <= 1) {
        return;
    }
    struct shootdown sd = {va, size};
    unsigned long flags = arch_irq_save();
    cpumask_t others = smp_online_mask() & ~CPUMASK_CPU(arch_this_cpu()->index);
    if (others != 0) {
        smp_call_function(others, shootdown_one, &sd, true);
    }
    arch_irq_restore(flags);
}

uint64_t smp_tlb_shootdowns_served(unsigned cpu) {
    return cpu < PERCPU_MAX ? __atomic_load_n(&shootdowns_served[cpu], __ATOMIC_RELAXED) : 0;
}
