/* SPDX-License-Identifier: MIT */
/*
 * The per-CPU table and bringing the other CPUs up: each gets its struct percpu (index =
 * its position in boot_info's CPU list), an idle thread whose stack it starts on, and is
 * counted once it runs its idle loop. A CPU that does not come up in time is left out.
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <kernel/irq.h>
#include <kernel/kprintf.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/thread.h>

/* How long the boot CPU waits for a started CPU to report (TCG on a busy host is slow). */
#define SMP_START_TIMEOUT_NS (5 * NSEC_PER_SEC)

enum { CPU_ABSENT, CPU_STARTING, CPU_ONLINE, CPU_ABANDONED };

static struct percpu percpus[PERCPU_MAX];
static uint32_t cpu_state[PERCPU_MAX];
static uint32_t online_count;
static cpumask_t online_mask;

STATIC_ASSERT(PERCPU_MAX <= SCHED_MAX_CPUS, "every CPU has a run queue");

struct percpu *percpu_get(unsigned index) {
    if (index >= PERCPU_MAX || __atomic_load_n(&percpus[index].self, __ATOMIC_ACQUIRE) == NULL) {
        return NULL;
    }
    return &percpus[index];
}

unsigned smp_online_count(void) {
    return __atomic_load_n(&online_count, __ATOMIC_ACQUIRE);
}

cpumask_t smp_online_mask(void) {
    return __atomic_load_n(&online_mask, __ATOMIC_ACQUIRE);
}

static void percpu_setup(struct percpu *pc, unsigned index, uint64_t hwid) {
    memset(pc, 0, sizeof(*pc));
    pc->index = index;
    pc->hwid = hwid;
    __atomic_store_n(&pc->self, pc, __ATOMIC_RELEASE);
}

/* Count pc as online: its bit is in the mask before anyone can see the count grow. */
static void mark_online(struct percpu *pc) {
    __atomic_fetch_or(&online_mask, CPUMASK_CPU(pc->index), __ATOMIC_ACQ_REL);
    __atomic_store_n(&pc->online, 1, __ATOMIC_RELEASE);
    __atomic_fetch_add(&online_count, 1, __ATOMIC_ACQ_REL);
}

void percpu_init_boot(const struct boot_info *bi) {
    unsigned index = bi->boot_cpu < bi->cpu_count && bi->boot_cpu < PERCPU_MAX ? bi->boot_cpu : 0;
    uint64_t hwid = bi->cpu_count > 0 ? bi->cpus[index].hwid : 0;
    struct percpu *pc = &percpus[index];
    percpu_setup(pc, index, hwid);
    arch_set_this_cpu(pc);
    cpu_state[index] = CPU_ONLINE;
    mark_online(pc);
}

/*
 * Wait until pc reports online or the time runs out; then abandon it, unless it claimed
 * its slot just now (it then reports within a few instructions).
 */
static bool wait_online(struct percpu *pc) {
    uint64_t deadline = get_monotonic_time() + SMP_START_TIMEOUT_NS;
    while (__atomic_load_n(&pc->online, __ATOMIC_ACQUIRE) == 0) {
        if (get_monotonic_time() > deadline) {
            uint32_t expected = CPU_STARTING;
            if (__atomic_compare_exchange_n(&cpu_state[pc->index], &expected, CPU_ABANDONED, false,
                                            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                return false;
            }
        }
        arch_cpu_relax();
    }
    return true;
}

unsigned smp_boot(const struct boot_info *bi) {
    unsigned n = bi->cpu_count < PERCPU_MAX ? bi->cpu_count : PERCPU_MAX;
    for (unsigned i = 0; i < n; i++) {
        if (cpu_state[i] != CPU_ABSENT || bi->cpus[i].enabled == 0) {
            continue;
        }
        struct percpu *pc = &percpus[i];
        percpu_setup(pc, i, bi->cpus[i].hwid);
        uintptr_t top;
        kstatus_t st = thread_idle_create(pc, &top);
        if (st != KEEL_OK) {
            kprintf("smp: CPU %u (hwid %#llx): no idle thread (error %d)\n", i,
                    (unsigned long long)pc->hwid, st);
            continue;
        }
        __atomic_store_n(&cpu_state[i], CPU_STARTING, __ATOMIC_RELEASE);
        st = arch_cpu_start(bi, pc, top);
        if (st != KEEL_OK) {
            __atomic_store_n(&cpu_state[i], CPU_ABANDONED, __ATOMIC_RELEASE);
            kprintf("smp: CPU %u (hwid %#llx) was not started: error %d\n", i,
                    (unsigned long long)pc->hwid, st);
            continue;
        }
        if (!wait_online(pc)) {
            kprintf("smp: CPU %u (hwid %#llx) did not come online; left out\n", i,
                    (unsigned long long)pc->hwid);
        }
    }
    unsigned online = smp_online_count();
    kprintf("CPUs online: %u\n", online);
    return online;
}

void smp_secondary_main(struct percpu *pc) {
    uint32_t expected = CPU_STARTING;
    if (!__atomic_compare_exchange_n(&cpu_state[pc->index], &expected, CPU_ONLINE, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        arch_halt(); /* too late: the boot CPU gave up on us */
    }
    arch_irq_init_cpu();
    mark_online(pc);
    thread_idle_run(pc);
}
