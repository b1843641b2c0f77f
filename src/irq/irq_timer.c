/* SPDX-License-Identifier: MIT */
/*
 * The timer tick glue: each CPU's one-shot timer fires at its next event (kernel timers,
 * the running thread's quantum or budget, EDF releases, aging, balancing), at most
 * IRQ_TICK_MAX_NS apart. A timer queued from elsewhere that is due before the armed tick
 * kicks the CPU (timer_kick_cpu: IPI_RESCHEDULE with percpu.timer_kick set) to re-arm.
 */
#include <arch/timer.h>
#include <kernel/irq.h>
#include <kernel/percpu.h>
#include <kernel/sched.h>
#include <kernel/timer.h>

/* The timer queues' kick hook: make cpu re-arm its one-shot. Takes no lock. */
static void timer_kick_cpu(unsigned cpu) {
    struct percpu *pc = percpu_get(cpu);
    if (pc == NULL || __atomic_load_n(&pc->online, __ATOMIC_ACQUIRE) == 0) {
        return; /* not up yet: it arms its tick with its queue in view when it comes up */
    }
    __atomic_store_n(&pc->timer_kick, 1, __ATOMIC_SEQ_CST);
    arch_ipi_send(cpu, IPI_RESCHEDULE); /* to this CPU too: taken once interrupts are on */
}

kstatus_t irq_clock_init(void) {
    timer_set_kick(timer_kick_cpu);
    return clock_register(arch_timer_freq_hz(), arch_timer_now_ticks);
}

bool irq_timer_kicked(void) {
    return __atomic_exchange_n(&arch_this_cpu()->timer_kick, 0, __ATOMIC_ACQ_REL) != 0;
}

void irq_timer_rearm(void) {
    unsigned cpu = this_cpu_index();
    uint64_t now = get_monotonic_time();
    uint64_t next = sched_next_event(cpu);
    if (next > now + IRQ_TICK_MAX_NS) {
        next = now + IRQ_TICK_MAX_NS;
    }
    /* with the queue's earliest expiry; from here on timers queued earlier kick us */
    next = timer_arm_next(cpu, next);
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
