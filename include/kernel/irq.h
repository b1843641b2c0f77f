/* SPDX-License-Identifier: MIT */
/*
 * Portable interrupt handling: device-line handlers registered with request_irq() (the
 * CloudOS seed's API), IPI and timer entry points the arch interrupt code calls, and
 * preemption on the way out (irq_exit).
 */
#ifndef KERNEL_IRQ_H
#define KERNEL_IRQ_H

#include <arch/irq.h>
#include <kernel/percpu.h>
#include <kernel/types.h>

typedef void (*irq_handler_t)(unsigned irq, void *data);

#define IRQF_SHARED 0x1u /* the line may have several handlers */

/*
 * Register handler for device line irq; several if every registration says IRQF_SHARED.
 * KEEL_EINVAL: bad line or NULL handler; KEEL_EBUSY: line taken (not shared);
 * KEEL_ENOMEM. The line is unmasked by the first registration. Thread or boot context.
 */
__must_check kstatus_t request_irq(unsigned irq, irq_handler_t handler, uint32_t flags,
                                   const char *name, void *data);

/* Remove the registration of irq with this data; masks the line when none is left. */
void free_irq(unsigned irq, void *data);

/* Unmask / mask a line that has handlers (nesting is not counted). */
void enable_irq(unsigned irq);
void disable_irq(unsigned irq);

/* ---- called by arch interrupt entry code, interrupts masked ---- */

/* A device line fired: run its handlers (counted; an unhandled one is reported once). */
void irq_handle_device(unsigned irq);

/* An IPI of kind arrived on this CPU. */
void irq_handle_ipi(enum ipi_kind kind);

/* This CPU's timer interrupt: run expired kernel timers, tick the scheduler, re-arm. */
void irq_handle_timer(void);

/* Enter/leave an interrupt handler; irq_exit() may switch threads (preemption) when the
 * interrupted context allows it. Arch code brackets every interrupt with them. */
void irq_enter(void);
void irq_exit(void);

/* ---- for src/proc/ and src/smp/ ---- */

/* Register the arch counter as the monotonic clock. Boot CPU, in thread_init. */
__must_check kstatus_t irq_clock_init(void);

/* Program this CPU's one-shot timer for its next event (scheduler, kernel timers), at
 * most IRQ_TICK_MAX_NS and at least IRQ_TICK_MIN_NS away. Interrupts masked. */
void irq_timer_rearm(void);
#define IRQ_TICK_MAX_NS (10 * 1000 * 1000ull)
#define IRQ_TICK_MIN_NS (20 * 1000ull)

/* Consume this CPU's timer kick: true if another CPU (or this one) queued a timer due before
 * the armed tick since the last call, so the tick must be re-armed. Interrupts masked. */
bool irq_timer_kicked(void);

/* Is this CPU's one-shot programmed to fire by deadline_ns (so a re-arm can be skipped)?
 * Interrupts masked. */
static inline bool irq_timer_covers(uint64_t deadline_ns) {
    uint64_t armed = arch_this_cpu()->timer_armed_ns;
    return armed != 0 && armed <= deadline_ns;
}

/* Times a device line fired, and how many of those no handler claimed (tests). */
uint64_t irq_line_count_fired(unsigned irq);

#endif /* KERNEL_IRQ_H */
