/* SPDX-License-Identifier: MIT */
/*
 * Host tests of spin_lock_irqsave_poll() with smp_poll_calls() (the vm_space lock's
 * acquire, include/kernel/vmm.h): a lock holder's waited TLB shootdown must finish while
 * the other CPUs spin for that lock with interrupts masked. CPUs are host threads and the
 * fake HAL drops every IPI, like a CPU whose interrupts stay masked: only polling serves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>

#include <kernel/heap.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/spinlock.h>

#include "fake_smp.h"

#define MAX_CPUS   4u
#define WATCHDOG_S 55u /* a deadlock ends the test with SIGALRM instead of a hang */

static struct percpu cpus[MAX_CPUS];
static unsigned ncpus = 2;

/* What src/smp/smp.c would provide: every simulated CPU is online. */
cpumask_t smp_online_mask(void) {
    return CPUMASK_CPU(ncpus) - 1;
}

unsigned smp_online_count(void) {
    return ncpus;
}

/* smp_call_function() only allocates for calls that do not wait; none here. */
void *kmalloc(size_t size, unsigned flags) {
    (void)flags;
    return malloc(size);
}

void kfree(void *ptr) {
    free(ptr);
}

/* The spin-wait's poll: serve calls, and let the host run the CPU we wait for (the
 * simulated CPUs outnumber the host's cores, and a ticket lock hands over in order). */
static void poll_calls(void) {
    smp_poll_calls();
    sched_yield();
}

static void become_cpu(unsigned i) {
    cpus[i].self = &cpus[i];
    cpus[i].index = i;
    fake_this_cpu = &cpus[i];
}

/* ---- one holder shoots down while the other waits for its lock ---- */

static spinlock_t lock;
static uint64_t served_before[MAX_CPUS];

static void *waiter(void *arg) {
    (void)arg;
    become_cpu(1);
    /* Wait until CPU 0 holds the lock, then queue behind it with interrupts masked. */
    while (__atomic_load_n(&lock.next, __ATOMIC_ACQUIRE) == 0) {
        arch_cpu_relax();
    }
    unsigned long f;
    spin_lock_irqsave_poll(&lock, &f, poll_calls);
    spin_unlock_irqrestore(&lock, f);
    return NULL;
}

static void test_waiter_serves_holder_shootdown(void **state) {
    (void)state;
    ncpus = 2;
    fake_smp_reset();
    spinlock_init(&lock);
    become_cpu(0);
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        served_before[i] = smp_tlb_shootdowns_served(i);
    }
    unsigned long f;
    spin_lock_irqsave_poll(&lock, &f, poll_calls);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, waiter, NULL), 0);
    while (__atomic_load_n(&lock.next, __ATOMIC_ACQUIRE) != 2) {
        arch_cpu_relax(); /* CPU 1 has its ticket: it spins, IPIs dropped */
    }
    tlb_shootdown(0x1000, 0x1000);
    spin_unlock_irqrestore(&lock, f);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(smp_tlb_shootdowns_served(1) - served_before[1], 1);
    assert_int_equal(smp_tlb_shootdowns_served(0) - served_before[0], 0);
    assert_int_equal(fake_tlb_local_flushes, 1);
    assert_int_equal(fake_ipis_sent[IPI_CALL], 1); /* sent, dropped, served by polling */
}

/* ---- every CPU takes the lock in turn and shoots down under it now and then ---- */

static uint64_t shared_count;
static uint64_t issued[MAX_CPUS];
static unsigned finished;
static unsigned seed;

static unsigned stress_rounds;
static bool stress_stop; /* set after STRESS_BUDGET_MS: load-independent run time */
static uint64_t done_rounds[MAX_CPUS];

#define STRESS_BUDGET_MS 3000u

static void *stress_cpu(void *arg) {
    unsigned me = (unsigned)(uintptr_t)arg;
    become_cpu(me);
    uint32_t x = seed ^ (me * 0x9e3779b9u);
    for (unsigned r = 0; r < stress_rounds && !__atomic_load_n(&stress_stop, __ATOMIC_RELAXED);
         r++) {
        x = x * 1103515245u + 12345u;
        unsigned long f;
        spin_lock_irqsave_poll(&lock, &f, poll_calls);
        shared_count++;
        if ((x >> 16) % 8 == 0) {
            tlb_shootdown(r * 0x1000ULL, 0x1000);
            issued[me]++;
        }
        spin_unlock_irqrestore(&lock, f);
        done_rounds[me]++;
    }
    /* Done, but others may still shoot down: keep answering (interrupts "masked"). */
    __atomic_fetch_add(&finished, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&finished, __ATOMIC_ACQUIRE) < ncpus) {
        poll_calls();
    }
    return NULL;
}

static void run_stress(unsigned n, unsigned rounds) {
    ncpus = n;
    stress_rounds = rounds;
    fake_smp_reset();
    spinlock_init(&lock);
    shared_count = 0;
    finished = 0;
    stress_stop = false;
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        issued[i] = 0;
        done_rounds[i] = 0;
        served_before[i] = smp_tlb_shootdowns_served(i);
    }
    pthread_t t[MAX_CPUS];
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, stress_cpu, (void *)(uintptr_t)i), 0);
    }
    /* All rounds, or as many as the time budget allows on a loaded host. */
    for (unsigned ms = 0; ms < STRESS_BUDGET_MS; ms += 10) {
        if (__atomic_load_n(&finished, __ATOMIC_ACQUIRE) == n) {
            break;
        }
        usleep(10000);
    }
    __atomic_store_n(&stress_stop, true, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
    }
    uint64_t all = 0, total = 0;
    for (unsigned i = 0; i < n; i++) {
        all += issued[i];
        total += done_rounds[i];
        assert_true(done_rounds[i] > 0 && done_rounds[i] <= rounds);
    }
    printf("  %u CPUs: %llu rounds, %llu shootdowns\n", n, (unsigned long long)total,
           (unsigned long long)all);
    assert_int_equal(shared_count, total);
    assert_true(all > 0 || total < 100); /* one round in 8 shoots down */
    for (unsigned i = 0; i < n; i++) {
        /* every shootdown issued by another CPU was served here exactly once */
        assert_int_equal(smp_tlb_shootdowns_served(i) - served_before[i], all - issued[i]);
    }
    assert_int_equal(fake_tlb_local_flushes, all * (n - 1));
}

static void test_stress_two_cpus(void **state) {
    (void)state;
    run_stress(2, 20000);
}

static void test_stress_four_cpus(void **state) {
    (void)state;
    run_stress(MAX_CPUS, 5000);
}

int main(int argc, char **argv) {
    const char *s = argc > 1 ? argv[1] : getenv("KEEL_SEED");
    seed = s != NULL ? (unsigned)strtoul(s, NULL, 0) : 0x5eedu;
    printf("test_smp_lock: seed %#x (set KEEL_SEED or argv[1] to repeat)\n", seed);
    alarm(WATCHDOG_S);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waiter_serves_holder_shootdown),
        cmocka_unit_test(test_stress_two_cpus),
        cmocka_unit_test(test_stress_four_cpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
