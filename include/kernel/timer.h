/* SPDX-License-Identifier: MIT */
/*
 * Kernel time and timers: nanosecond monotonic time built on the arch counter, exact
 * ns<->tick conversions, and per-CPU timer queues (add_timer/del_timer/mod_timer from
 * the CloudOS seed). Expiry times are absolute monotonic nanoseconds.
 */
#ifndef KERNEL_TIMER_H
#define KERNEL_TIMER_H

#include <kernel/pheap.h>
#include <kernel/spinlock.h>
#include <kernel/types.h>

#define NSEC_PER_SEC  1000000000ull
#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_USEC 1000ull
#define TIME_NEVER    UINT64_MAX

/* Counter frequencies the conversions accept: the products they form fit in 64 bits. */
#define CLOCK_FREQ_MIN_HZ 1ull
#define CLOCK_FREQ_MAX_HZ 10000000000ull

/*
 * A timer callback runs on the CPU whose queue held the timer, with no timer lock held
 * and IRQs off; now_ns is the time the queue was run at. It may re-arm its own timer.
 */
typedef void (*timer_function_t)(void *data, uint64_t now_ns);

/* The seed's timer_t (renamed: the host C library owns timer_t). Embed it; no alloc. */
typedef struct ktimer {
    struct pheap_node node; /* key = expiry */
    timer_function_t fn;
    void *data;
    uint64_t expires;
    uint16_t cpu;    /* queue the timer is (or will be) armed on */
    uint8_t pending; /* armed and not yet fired or deleted */
} ktimer_t;

/* ---- time ---- */

/*
 * ticks * 10^9 / freq_hz rounded down, exact, no 128-bit arithmetic; saturates at
 * UINT64_MAX. freq_hz must be within CLOCK_FREQ_MIN_HZ..CLOCK_FREQ_MAX_HZ (0 otherwise).
 */
uint64_t clock_ticks_to_ns(uint64_t ticks, uint64_t freq_hz);

/* ns * freq_hz / 10^9 rounded down (floor) or up (ceil, for deadlines); saturates. */
uint64_t clock_ns_to_ticks(uint64_t ns, uint64_t freq_hz);
uint64_t clock_ns_to_ticks_ceil(uint64_t ns, uint64_t freq_hz);

/*
 * Install the counter behind get_monotonic_time(): read() returns ticks at freq_hz
 * (normally arch_timer_now_ticks / arch_timer_freq_hz); time 0 is the read at this call.
 * KEEL_EINVAL for a NULL read, KEEL_ERANGE for a frequency outside the bounds. Boot CPU.
 */
__must_check kstatus_t clock_register(uint64_t freq_hz, uint64_t (*read)(void));

/* Nanoseconds since clock_register() (0 before it). Never goes back. Any context. */
uint64_t get_monotonic_time(void);

/* Wall-clock nanoseconds since 1970: monotonic time plus the offset set below. */
uint64_t get_system_time(void);

/* Set the wall clock (from an RTC or the network); affects get_system_time() only. */
void clock_set_system_time(uint64_t unix_ns);

/* Monotonic ns -> counter ticks for arch_timer_set_oneshot (rounded up); saturates. */
uint64_t clock_deadline_to_ticks(uint64_t mono_ns);

/* ---- timer queues ---- */

/* Reset the per-CPU timer queues of CPUs 0..ncpus-1 (boot, or between host tests). */
void timer_subsystem_init(unsigned ncpus);

/* Initialise t with its callback; it is not armed. The seed's timer_init. */
void timer_init(struct ktimer *t, timer_function_t fn, void *data);

/*
 * Arm t to fire at expires (absolute monotonic ns) on the timer's CPU queue (CPU 0 after
 * timer_init). KEEL_EEXIST if already pending. Any context; takes that queue's lock.
 */
__must_check kstatus_t add_timer(struct ktimer *t, uint64_t expires);

/*
 * As add_timer, on CPU cpu's queue. KEEL_EINVAL for a CPU outside 0..ncpus-1. If t becomes
 * that queue's earliest and is due before what cpu has programmed, cpu is kicked (the hook
 * of timer_set_kick) so it re-arms in time. Any context, any locks held.
 */
__must_check kstatus_t add_timer_on(struct ktimer *t, uint64_t expires, unsigned cpu);

/* As add_timer_on but never kicks: for a caller on cpu that re-arms it right after
 * (sched_block: the blocking switch re-arms the tick with the new timeout in view). */
__must_check kstatus_t add_timer_on_quiet(struct ktimer *t, uint64_t expires, unsigned cpu);

/*
 * Disarm t. Returns 1 if it was pending (it will not fire), 0 if not (never armed,
 * already fired, or its callback may be running right now on another CPU). Any context.
 */
int del_timer(struct ktimer *t);

/*
 * Move t's expiry to expires, arming it if needed, on its current CPU queue. Returns 1
 * if it was pending before, 0 if not. Kicks that CPU as add_timer_on does. Any context.
 */
int mod_timer(struct ktimer *t, uint64_t expires);

/*
 * Fire every timer on CPU cpu's queue whose expiry is <= now_ns, earliest first (equal
 * expiries in arming order), each exactly once. Returns how many fired. Called by the
 * arch timer interrupt on that CPU (and by host tests), IRQs off, no locks held. The CPU
 * must re-arm afterwards (timer_arm_next): until then nothing queued here kicks it.
 */
size_t timer_run_expired(unsigned cpu, uint64_t now_ns);

/* Earliest expiry on CPU cpu's queue, or TIME_NEVER. Any context. */
uint64_t timer_next_expiry(unsigned cpu);

/*
 * The earlier of bound_ns and CPU cpu's earliest expiry, recorded (under the queue lock) as
 * the deadline cpu is about to program: from then on, a timer queued there kicks cpu only
 * if it is due earlier. Returns bound_ns for a CPU outside 0..ncpus-1. Called by cpu itself
 * when it re-arms its one-shot (irq_timer_rearm), interrupts masked.
 */
uint64_t timer_arm_next(unsigned cpu, uint64_t bound_ns);

/*
 * Install how a CPU is kicked to re-arm its one-shot (kick(cpu) is called with no timer
 * lock held, possibly with other locks held and interrupts masked, so it must not take
 * locks); NULL: never. Boot CPU, at bring-up (irq_clock_init).
 */
void timer_set_kick(void (*kick)(unsigned cpu));

/* Number of timers pending on CPU cpu's queue. Any context. */
size_t timer_pending_count(unsigned cpu);

static inline bool timer_pending(const struct ktimer *t) {
    return __atomic_load_n(&t->pending, __ATOMIC_RELAXED) != 0;
}

#endif /* KERNEL_TIMER_H */
