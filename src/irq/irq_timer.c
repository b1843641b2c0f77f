/* SPDX-License-Identifier: MIT */
/*
 * The timer tick glue: each CPU's one-shot timer fires at its next event (kernel timers,
 * the running thread's quantum or budget, EDF releases, aging, balancing), at most
 * IRQ_TICK_MAX_NS apart so timers armed from another CPU are never late by more.
 */
#include <arch/timer.h>
#include <kernel/irq.h>
#include <kernel/percpu.h>
#include <kernel/sched.h>
#include <kernel/timer.h>

kstatus_t irq_clock_init(void) {
    return clock_register(arch_timer_freq_hz(), arch_timer_now_ticks);
}

void irq_timer_rearm(void) {
    unsigned cpu = this_cpu_index();
    uint64_t now = get_monotonic_time();
    uint64_t next = sched_next_event(cpu);
    uint64_t t = timer_next_expiry(cpu);
    if (t < next) {
        next = t;
    }
    if (next > now + IRQ_TICK_MAX_NS) {
        next = now + IRQ_TICK_MAX_NS;
    }
    /* An event already due (say a spent quantum while preemption is off) must not re-fire
     * at once forever: leave the interrupted code a moment to run. */
    if (next < now + IRQ_TICK_MIN_NS) {
        next = now + IRQ_TICK_MIN_NS;
    }
    /* Always written (no cache of the last value): arch code and arch tests may have
     * re-programmed or cancelled the one-shot meanwhile. */
    arch_this_cpu()->timer_armed_ns = next;
    arch_timer_set_oneshot(clock_deadline_to_ticks(next));
}

void irq_handle_timer(void) {
    struct percpu *pc = arch_this_cpu();
    unsigned cpu = pc->index;
    pc->timer_count++;
    pc->timer_armed_ns = 0;
    uint64_t now = get_monotonic_time();
    timer_run_expired(cpu, now);
    if (pc->current != NULL && sched_tick(cpu, get_monotonic_time())) {
        pc->need_resched = true;
    }
    irq_timer_rearm();
}
