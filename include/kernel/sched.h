/* SPDX-License-Identifier: MIT */
/*
 * The scheduler policy: per-CPU run queues with five feedback levels (Idle..RealTime),
 * an EDF class with admission control, affinity, work stealing, block/wake with reasons
 * and timeouts. Pure portable code driven by explicit calls with the time passed in, so
 * host tests can simulate time; the arch thread layer calls it and does the switching.
 */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include <kernel/boot_info.h>
#include <kernel/pheap.h>
#include <kernel/spinlock.h>
#include <kernel/timer.h>
#include <kernel/types.h>

#define SCHED_MAX_CPUS BOOT_MAX_CPUS

/* A set of CPUs, bit n = CPU n (SCHED_MAX_CPUS <= 64). */
typedef uint64_t cpumask_t;
#define CPUMASK_ALL    (~(cpumask_t)0)
#define CPUMASK_CPU(c) ((cpumask_t)1 << (c))

/* The seed's Priority. Level index = priority / 10. */
enum sched_priority {
    SCHED_PRIO_IDLE = 0,
    SCHED_PRIO_LOW = 10,
    SCHED_PRIO_NORMAL = 20,
    SCHED_PRIO_HIGH = 30,
    SCHED_PRIO_REALTIME = 40,
};
#define SCHED_LEVELS      5
#define SCHED_LEVEL_IDLE  0
#define SCHED_LEVEL_LOW   1
#define SCHED_LEVEL_RT    4
#define SCHED_QUEUE_BOOST 5 /* aged threads, served before every level */
#define SCHED_NR_QUEUES   6

/* The seed's BlockReason. */
enum sched_block_reason {
    SCHED_BLOCK_SLEEP,
    SCHED_BLOCK_IPC,
    SCHED_BLOCK_MEMORY,
    SCHED_BLOCK_IO,
    SCHED_BLOCK_CHILD,
    SCHED_BLOCK_MUTEX,
    SCHED_BLOCK_REASONS
};

enum sched_class { SCHED_CLASS_MLFQ, SCHED_CLASS_EDF };

enum sched_state {
    SCHED_DETACHED,  /* not known to the scheduler */
    SCHED_QUEUED,    /* runnable, on a run queue */
    SCHED_RUNNING,   /* the current entity of its CPU */
    SCHED_BLOCKED,   /* waiting for a wake-up or its timeout */
    SCHED_THROTTLED, /* EDF: waiting for the next period (budget spent or job done) */
    SCHED_EXITED,    /* sched_exit() called; dropped at the next pick */
};

/* ---- tunables (docs/scheduling.md explains each) ---- */

/* Quantum per level: Idle 100 ms, Low 50 ms, Normal 20 ms, High 5 ms, RealTime 1 ms. */
#define SCHED_QUANTUM_IDLE_NS   (100 * NSEC_PER_MSEC)
#define SCHED_QUANTUM_LOW_NS    (50 * NSEC_PER_MSEC)
#define SCHED_QUANTUM_NORMAL_NS (20 * NSEC_PER_MSEC)
#define SCHED_QUANTUM_HIGH_NS   (5 * NSEC_PER_MSEC)
#define SCHED_QUANTUM_RT_NS     (1 * NSEC_PER_MSEC)
#define SCHED_QUANTUM_MAX_NS    SCHED_QUANTUM_IDLE_NS
/* A thread's level stays within [base - SPAN, base] (never below Low unless base Idle). */
#define SCHED_FEEDBACK_SPAN     1
/* A thread queued this long at its level moves to the boost queue (served first). */
#define SCHED_AGING_NS          (200 * NSEC_PER_MSEC)
#define SCHED_BOOST_SLICE_NS    (5 * NSEC_PER_MSEC) /* what an aged thread runs before going back */
/* Steal when the victim's load exceeds the thief's by at least this much. */
#define SCHED_STEAL_THRESHOLD   2
/* A busy CPU looks for an imbalance to pull from this often (in sched_tick). */
#define SCHED_BALANCE_NS        (4 * NSEC_PER_MSEC)
/* Wake on the previous CPU unless the least loaded allowed CPU is this much lighter. */
#define SCHED_WAKE_AFFINE_SLACK 1

/* EDF bandwidth is fixed point: 1.0 CPU = 1 << SCHED_BW_SHIFT. */
#define SCHED_BW_SHIFT           20
#define SCHED_BW_ONE             ((uint64_t)1 << SCHED_BW_SHIFT)
/* Admission bound per CPU: sum of ceil(runtime/deadline) <= 15/16 of the CPU. */
#define SCHED_EDF_BW_MAX         ((SCHED_BW_ONE * 15) / 16)
#define SCHED_EDF_MIN_RUNTIME_NS (10 * NSEC_PER_USEC)
#define SCHED_EDF_MAX_PERIOD_NS  ((uint64_t)1 << 40) /* ~18 min; keeps runtime<<20 in 64 bits */

/* Real-time reservation: runtime (budget) every period, due deadline after each release. */
struct sched_edf_params {
    uint64_t runtime_ns;
    uint64_t deadline_ns; /* relative; runtime <= deadline <= period */
    uint64_t period_ns;
};

/* Embedded in the thread. Fields are owned by the scheduler; read them under the rq lock. */
struct sched_entity {
    struct sched_entity *rq_next, *rq_prev; /* MLFQ queue links */
    struct pheap_node edf_ready;            /* EDF ready heap, key = absolute deadline */
    struct pheap_node edf_release;          /* EDF release heap, key = next release */
    struct ktimer timeout;                  /* block timeout */
    uint64_t id;                            /* thread id, for the thread layer and tests */
    cpumask_t affinity;
    uint16_t cpu; /* the CPU whose run-queue lock guards this entity */
    uint8_t state;
    uint8_t klass;
    uint8_t base_level; /* from the priority */
    uint8_t level;      /* feedback level, base - SPAN .. base */
    uint8_t queue;      /* queue index while QUEUED (a level or SCHED_QUEUE_BOOST) */
    uint8_t block_reason;
    bool boosted;        /* picked from the boost queue: runs one boost slice */
    bool wait_prepared;  /* between sched_prepare_block() and sched_block() */
    bool wait_cancelled; /* a wake-up arrived in that window: sched_block() returns */
    bool yield_pending;
    bool edf_job_done;     /* EDF: the current job has finished (yield/block) */
    kstatus_t wake_status; /* KEEL_OK when woken, KEEL_ETIMEOUT when the timeout fired */
    uint64_t timeout_at;   /* absolute; TIME_NEVER when the block has no timeout */
    uint64_t slice_left_ns;
    uint64_t exec_start_ns; /* when it last started running or was last accounted */
    uint64_t wait_since_ns; /* when it entered its current queue */
    uint64_t sum_exec_ns;
    /* EDF */
    struct sched_edf_params edf;
    uint64_t edf_bw;
    uint64_t edf_budget_ns;
    uint64_t edf_abs_deadline;
    uint64_t edf_release_at; /* start of the current job's period */
    /* statistics */
    uint64_t nr_runs;
    uint64_t nr_demotions;
    uint64_t nr_promotions;
    uint64_t nr_boosts;
    uint64_t nr_migrations;
    uint64_t edf_jobs;
    uint64_t edf_misses;
};

struct sched_cpu {
    spinlock_t lock;
    uint32_t bitmap; /* bit q set iff queue q is non-empty */
    struct {
        struct sched_entity *head, *tail;
    } q[SCHED_NR_QUEUES];
    uint32_t nr_queued; /* MLFQ entities queued */
    uint32_t load;      /* nr_queued + a running MLFQ entity; read without the lock */
    uint32_t nr_edf;    /* EDF entities admitted here, any state */
    struct sched_entity *curr;
    bool need_resched;
    uint64_t now_ns; /* last time seen by a sched_* call on this CPU */
    struct pheap edf_ready;
    struct pheap edf_release;
    uint64_t edf_bw; /* admitted bandwidth, SCHED_BW_ONE units */
    uint64_t next_balance_ns;
    uint64_t aging_at; /* no queued thread ages before this (a lower bound; rq_age) */
    uint16_t id;
    /* statistics */
    uint64_t nr_picks;
    uint64_t nr_idle_picks;
    uint64_t nr_steals;
    uint64_t nr_yield_fast; /* yields done by the in-place fast path */
    uint64_t edf_misses;
};

/*
 * What the scheduler needs from the thread layer, installed once it exists: kick() makes
 * a remote CPU reschedule (IPI); the blocking helpers (sched_sleep_current, wait queues,
 * semaphores, mutexes) use current(), this_cpu() and switch_out(), which picks the next
 * thread, switches to it, and returns when the caller runs again.
 */
struct sched_thread_ops {
    struct sched_entity *(*current)(void);
    unsigned (*this_cpu)(void);
    void (*kick)(unsigned cpu);
    void (*switch_out)(void);
};

/* ---- set-up ---- */

/* Reset the scheduler and the timer queues for CPUs 0..ncpus-1. Boot (or host tests). */
__must_check kstatus_t sched_init(unsigned ncpus);

/* Install the thread-layer hooks (NULL removes them). Boot. */
void sched_set_thread_ops(const struct sched_thread_ops *ops);

/* The run queue of CPU cpu (for the arch glue, statistics and tests), NULL if offline. */
struct sched_cpu *sched_cpu_get(unsigned cpu);
unsigned sched_cpu_count(void);

/* Make e a detached MLFQ entity with the given id, priority Normal, all CPUs allowed. */
void sched_entity_init(struct sched_entity *e, uint64_t id);

/* Quantum of a level (SCHED_LEVEL_IDLE..SCHED_LEVEL_RT), 0 for a bad level. */
uint64_t sched_quantum_ns(unsigned level);

/* ---- the seed's Scheduler interface ---- */

/*
 * schedule_thread: add a detached entity as an MLFQ thread of priority prio (one of
 * enum sched_priority), queued on a CPU of its affinity. KEEL_EINVAL for a bad
 * priority, an empty/offline affinity, or an entity that is not detached.
 */
__must_check kstatus_t sched_add(struct sched_entity *e, unsigned prio, uint64_t now_ns);

/*
 * Add a detached entity to the EDF class: admission control on the least loaded CPU of
 * its affinity; first job released at now_ns. KEEL_EINVAL for bad parameters (need
 * MIN_RUNTIME <= runtime <= deadline <= period <= MAX_PERIOD), KEEL_EBUSY when no allowed
 * CPU can take the bandwidth (the set would be over-committed).
 */
__must_check kstatus_t sched_add_edf(struct sched_entity *e, const struct sched_edf_params *p,
                                     uint64_t now_ns);

/*
 * unschedule_thread: detach e (queued, blocked, throttled). Releases EDF bandwidth and
 * disarms its timeout. KEEL_EBUSY if e is running (use sched_exit), KEEL_EINVAL if detached.
 */
__must_check kstatus_t sched_remove(struct sched_entity *e);

/*
 * set_thread_priority: new base priority for an MLFQ entity; its level restarts at the
 * base. KEEL_EINVAL for a bad priority or an EDF/detached entity.
 */
__must_check kstatus_t sched_set_priority(struct sched_entity *e, unsigned prio);

/*
 * Set e's CPU affinity; a queued entity moves at once to an allowed CPU, a running one
 * at its next pick. KEEL_EINVAL when mask has no online CPU, or (EDF) excludes its CPU.
 */
__must_check kstatus_t sched_set_affinity(struct sched_entity *e, cpumask_t mask, uint64_t now_ns);

/*
 * next_thread: put the current entity back (feedback, budget), then choose what CPU cpu
 * runs next: EDF by deadline, then the boost queue, then the highest non-empty level.
 * Steals from another CPU when nothing is local. NULL means run the idle loop. The arch
 * switches to the result (waiting for it to leave its old CPU first). IRQs off.
 */
struct sched_entity *sched_pick_next(unsigned cpu, uint64_t now_ns);

/*
 * The periodic/one-shot timer tick of CPU cpu: charges the running entity, releases EDF
 * jobs, ages waiting threads, balances. Returns true when the caller must call
 * sched_pick_next (quantum or budget spent, or something more urgent is ready). IRQs off.
 */
bool sched_tick(unsigned cpu, uint64_t now_ns);

/* When sched_tick must run next at the latest on cpu (TIME_NEVER: not needed). */
uint64_t sched_next_event(unsigned cpu);

/*
 * yield_cpu: the running entity of cpu gives the CPU up; MLFQ goes to the tail of its
 * queue (keeping the rest of its quantum), EDF completes its job. Then sched_pick_next.
 */
__must_check kstatus_t sched_yield_cpu(unsigned cpu, uint64_t now_ns);

/*
 * sched_yield_cpu and sched_pick_next in one step (one run-queue lock round): *next is
 * what cpu runs now (the caller's own entity when nothing else may run before it, NULL
 * for the idle loop). KEEL_EINVAL when cpu has no running entity (nothing done). IRQs off.
 */
__must_check kstatus_t sched_yield_pick(unsigned cpu, uint64_t now_ns, struct sched_entity **next);

/* Host tests: false makes sched_yield_pick always take the general path (default true). */
extern bool sched_yield_fast_enabled;

/*
 * First half of the no-lost-wake-up protocol: e (running on cpu) is about to check a
 * condition and sleep. A sched_wake() that arrives from now on cancels the sleep.
 */
__must_check kstatus_t sched_prepare_block(unsigned cpu, struct sched_entity *e);

/* Undo sched_prepare_block() when the condition turned out true (no sleep). Any context. */
void sched_cancel_block(struct sched_entity *e);

/*
 * block_thread: block the running entity e of cpu for reason, with a timeout (ns,
 * TIME_NEVER for none; Sleep with a timeout is a sleep). *blocked = false when a wake-up
 * arrived since sched_prepare_block() (do not switch; re-check the condition); true
 * means call sched_pick_next. KEEL_EINVAL when e is not cpu's running entity or bad reason.
 */
__must_check kstatus_t sched_block(unsigned cpu, struct sched_entity *e, unsigned reason,
                                   uint64_t timeout_ns, uint64_t now_ns, bool *blocked);

/*
 * wake_thread: wake e with status (KEEL_OK, or KEEL_ETIMEOUT from the timeout). A blocked
 * entity is queued on an allowed CPU (*target_cpu set; kicked if it must preempt); a
 * prepared-but-not-yet-blocked one has its sleep cancelled. KEEL_EEXIST if e was neither
 * (nothing to wake). Any context; takes e's run-queue lock(s).
 */
__must_check kstatus_t sched_wake(struct sched_entity *e, kstatus_t status, uint64_t now_ns,
                                  unsigned *target_cpu);

/* exit_thread: e (running on cpu) never runs again; it is dropped at the next pick. */
__must_check kstatus_t sched_exit(unsigned cpu, struct sched_entity *e);

/*
 * Block the calling thread via the thread ops: prepare, re-check cond(arg), block, switch.
 * Returns KEEL_OK when woken (or cond already true), KEEL_ETIMEOUT, or KEEL_ENOTSUP when
 * no thread layer is installed. Thread context, no spinlocks held.
 */
__must_check kstatus_t sched_sleep_current(unsigned reason, uint64_t timeout_ns,
                                           bool (*cond)(void *arg), void *arg);

/* The entity running on the caller's CPU (via the thread ops), NULL without them. */
struct sched_entity *sched_current(void);

/* ---- pure decision functions (documented in docs/scheduling.md, host-tested) ---- */

/*
 * EDF bandwidth of a reservation: ceil(runtime << SCHED_BW_SHIFT / deadline), exact.
 * KEEL_EINVAL for parameters outside the documented bounds.
 */
__must_check kstatus_t sched_edf_bandwidth(const struct sched_edf_params *p, uint64_t *bw);

/*
 * Victim for a steal by thief: the CPU in candidates (thief excluded) with the highest
 * load such that load[victim] >= load[thief] + SCHED_STEAL_THRESHOLD; ties go to the
 * lowest CPU id. -1 when none. load[] has ncpus entries.
 */
int sched_steal_victim(const uint32_t *load, unsigned ncpus, unsigned thief, cpumask_t candidates);

/*
 * CPU to queue a waking/new entity on: prev if allowed and no allowed CPU is lighter by
 * more than SCHED_WAKE_AFFINE_SLACK, else the least loaded allowed CPU (lowest id on ties).
 * -1 when allowed has no CPU below ncpus.
 */
int sched_select_cpu(const uint32_t *load, unsigned ncpus, cpumask_t allowed, unsigned prev);

/* Level after feedback: demoted one level (floor base - SPAN, never below Low unless the
 * base is Idle) when the quantum was used up, promoted one (ceiling base) when it blocked
 * early. */
unsigned sched_feedback_level(unsigned base, unsigned level, bool used_quantum);

#endif /* KERNEL_SCHED_H */
