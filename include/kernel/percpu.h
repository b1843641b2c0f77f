/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU data, reached in O(1) through arch_this_cpu(). The first member is a pointer to
 * itself so arch fast paths can load it with one instruction (x86 %gs:0).
 */
#ifndef KERNEL_PERCPU_H
#define KERNEL_PERCPU_H

#include <arch/smp.h>
#include <kernel/types.h>

struct thread;

struct percpu {
    struct percpu *self;    /* == this; offset 0, used by arch code */
    uintptr_t arch_scratch; /* offset 8: free for arch entry code (e.g. a saved sp) */
    uint32_t index;         /* 0..cpu_count-1, the scheduler's CPU number */
    uint32_t online;        /* set once the CPU runs its idle loop */
    uint64_t hwid;          /* APIC id / MPIDR / hart id */
    struct thread *current; /* thread running here */
    struct thread *idle;    /* this CPU's idle thread */
    uint32_t irq_depth;     /* nesting of interrupt handlers */
    uint32_t preempt_off;   /* > 0: no preemption on interrupt return */
    bool need_resched;      /* set by the tick or an IPI; acted on at irq_exit */
    uint64_t irq_count;     /* interrupts handled */
    uint64_t ipi_count[2];  /* IPIs received, by enum ipi_kind */
    uint64_t timer_count;   /* timer interrupts */
    uintptr_t arch[8];      /* arch-private per-CPU words (TSS pointer, PLIC context...) */
    /* (arch assembly uses the offsets above: add new fields below) */
    uint64_t timer_armed_ns; /* deadline last programmed, 0 once it fired (irq_timer.c) */
    /* The thread layer's switch state (src/proc/thread.c): the thread a switch just left
     * (released once we are off its stack), a thread the idle thread must hand over to,
     * and whether the switch comes from a thread that blocked. */
    struct thread *switch_prev;
    struct thread *handoff;
    bool blocking_switch;
    /* Set (then IPI_RESCHEDULE) by a CPU that queued a timer here due before timer_armed_ns:
     * the IPI handler re-arms the tick (irq_timer.c, irq.c). */
    uint32_t timer_kick; /* 32-bit: RISC-V has no byte-sized atomic swap */
};

STATIC_ASSERT(__builtin_offsetof(struct percpu, self) == 0, "arch code loads self at 0");
STATIC_ASSERT(__builtin_offsetof(struct percpu, arch_scratch) == 8, "arch code uses offset 8");

#define PERCPU_MAX BOOT_MAX_CPUS

/* The struct percpu of CPU index, or NULL if it does not exist. */
struct percpu *percpu_get(unsigned index);

/*
 * Make the boot CPU's struct percpu (index bi->boot_cpu, the position in bi->cpus like
 * every CPU's) and point arch_this_cpu() at it. Boot CPU, after mm_init, before
 * arch_irq_init; interrupts masked.
 */
void percpu_init_boot(const struct boot_info *bi);

/* Number of CPUs that came online (the boot CPU included). */
unsigned smp_online_count(void);

/* This CPU's index. */
static inline unsigned this_cpu_index(void) {
    return arch_this_cpu()->index;
}

#endif /* KERNEL_PERCPU_H */
