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

/* The deadline (ticks) last programmed on each CPU, to skip rewriting the same one. */
static uint64_t armed_ticks[PERCPU_MAX];

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
    uint64_t ticks = clock_deadline_to_ticks(next);
    if (ticks != armed_ticks[cpu]) {
        armed_ticks[cpu] = ticks;
        arch_timer_set_oneshot(ticks);
    }
}

void irq_handle_timer(void) {
    struct percpu *pc = arch_this_cpu();
    unsigned cpu = pc->index;
    pc->timer_count++;
    uint64_t now = get_monotonic_time();
    armed_ticks[cpu] = 0; /* it fired: whatever comes next must be written */
    timer_run_expired(cpu, now);
    if (pc->current != NULL && sched_tick(cpu, get_monotonic_time())) {
        pc->need_resched = true;
    }
    irq_timer_rearm();
}
