/* SPDX-License-Identifier: MIT */
/*
 * Kernel threads: a scheduler entity, an arch context and a guarded stack from
 * vmalloc_stack() (the registered guard page below reports an overflow as one).
 * schedule() joins the portable policy (sched.h) to the arch context switch.
 */
#ifndef KERNEL_THREAD_H
#define KERNEL_THREAD_H

#include <arch/fpu.h>
#include <arch/thread.h>
#include <kernel/percpu.h>
#include <kernel/sched.h>
#include <kernel/types.h>

#define THREAD_STACK_SIZE (16 * 1024)
#define THREAD_NAME_MAX   24

struct thread {
    struct sched_entity se; /* first: sched_entity <-> thread by cast */
    struct arch_context ctx;
    void *stack; /* base of the stack (vmalloc), NULL for boot/idle of CPU 0 */
    size_t stack_size;
    void (*entry)(void *arg);
    void *arg;
    uint64_t id;
    int exit_code;
    volatile uint32_t on_cpu; /* 1 while a CPU still runs on this thread's stack */
    char name[THREAD_NAME_MAX];
    struct thread *reap_next;  /* on the list of exited threads waiting to be freed */
    bool exiting;              /* thread_exit() called: free it once it is off its stack */
    bool is_static;            /* boot thread: neither the struct nor the stack is freed */
    bool fpu_valid;            /* fpu holds a state (the thread used FP/SIMD once) */
    bool fpu_live;             /* running with the unit on: used FP/SIMD since switched in */
    int32_t fpu_cpu;           /* CPU whose registers were last loaded from fpu, -1 none */
    struct arch_fpu_state fpu; /* saved FP/SIMD registers (kernel/fpu.h: lazy) */
};

/*
 * Create a kernel thread running entry(arg) at priority prio (enum sched_priority) on
 * the CPUs in affinity, and make it runnable. KEEL_ENOMEM; KEEL_EINVAL for a bad
 * priority or an affinity with no online CPU. Thread or boot context.
 */
__must_check kstatus_t thread_create(const char *name, void (*entry)(void *arg), void *arg,
                                     unsigned prio, cpumask_t affinity, struct thread **out);

/* The thread running on this CPU. */
struct thread *thread_current(void);

/* Give up the CPU (seed: yield_cpu). */
void thread_yield(void);

/* End the calling thread (seed: exit_thread); its stack is freed by a later switch. */
__noreturn void thread_exit(int code);

/* Sleep for ns nanoseconds. KEEL_OK, or KEEL_ENOTSUP before the scheduler runs. */
__must_check kstatus_t thread_sleep_ns(uint64_t ns);

/* Pick the next thread on this CPU and switch to it. Interrupts masked by the caller or
 * not: schedule() masks them itself. */
void schedule(void);

/*
 * Start threading on the boot CPU: the caller becomes CPU 0's first thread, idle threads
 * exist for every CPU, the scheduler and its tick run. Boot, after mm_init and irq init.
 */
__must_check kstatus_t thread_init(const struct boot_info *bi);

/*
 * Free the threads that exited (their stacks and structs). thread_create() calls it; it
 * is exported for tests that count vmalloc areas. Thread context, interrupts enabled.
 */
void thread_reap(void);

/* Disable / re-enable preemption on this CPU (nestable); preempt_enable() runs a
 * reschedule that an interrupt asked for meanwhile. Never sleep in between. */
void preempt_disable(void);
void preempt_enable(void);

/* ---- for src/smp/: the idle threads of secondary CPUs ---- */

/*
 * Make pc's idle thread, with a guarded stack whose top goes to *stack_top (the CPU is
 * started on it and becomes its idle thread in thread_idle_run). KEEL_ENOMEM. Boot CPU.
 */
__must_check kstatus_t thread_idle_create(struct percpu *pc, uintptr_t *stack_top);

/* Become pc's idle thread and run the idle loop (a secondary CPU, interrupts masked). */
__noreturn void thread_idle_run(struct percpu *pc);

#endif /* KERNEL_THREAD_H */
