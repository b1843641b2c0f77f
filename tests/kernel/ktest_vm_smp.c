/* SPDX-License-Identifier: MIT */
/*
 * Portable KTESTs of the kernel address space under SMP: several CPUs change it at once
 * (vmalloc/vfree, vmm_map/unmap/protect), so one CPU's TLB shootdown runs while others
 * wait for the space lock with interrupts masked. That must neither deadlock nor leave a
 * stale translation. Every wait is bounded: a deadlock fails the test (or, when it
 * catches every CPU, the QEMU run's timeout).
 */
#include <arch/cpu.h>
#include <kernel/frame.h>
#include <kernel/kprintf.h>
#include <kernel/ktest.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/sync.h>
#include <kernel/thread.h>
#include <kernel/timer.h>
#include <kernel/vm.h>
#include <kernel/vmm.h>

#define HAMMER_NS      (2 * NSEC_PER_SEC)   /* each thread stops after this long... */
#define HAMMER_ROUNDS  20000u               /* ...or after this many rounds */
#define HAMMER_JOIN_NS (120 * NSEC_PER_SEC) /* longer means a deadlock */
#define HAMMER_SEED    0x6b65656cu
#define WINDOW_PAGES   4u
#define K_RW           (VM_READ | VM_WRITE | VM_GLOBAL)

static semaphore_t hammer_done;
static bool hammer_go; /* all threads exist: start (so this thread's own vmalloc of their
                        * stacks is over before the hammering begins) */
static unsigned hammer_rounds[PERCPU_MAX];
static unsigned hammer_errors;

/* The CPUs that hammer: all but the caller's when there are three or more (so the caller
 * can still report a deadlock of the others), both when there are two. */
static cpumask_t hammer_cpus(void) {
    cpumask_t online = smp_online_mask();
    if (__builtin_popcountll(online) >= 3) {
        online &= ~CPUMASK_CPU(this_cpu_index());
    }
    return online;
}

static void hammer_error(void) {
    __atomic_fetch_add(&hammer_errors, 1, __ATOMIC_RELAXED);
}

static void hammer_wait_go(void) {
    while (!__atomic_load_n(&hammer_go, __ATOMIC_ACQUIRE)) {
        thread_yield();
    }
}

static uint32_t lcg(uint32_t *x) {
    *x = *x * 1103515245u + 12345u;
    return *x >> 8;
}

/* vmalloc's counters with no exited thread's stack among them (threads hold stacks). */
static void vmalloc_stats_reaped(struct vmalloc_stats *out) {
    if (thread_sleep_ns(50 * NSEC_PER_MSEC) != KEEL_OK) { /* let the hammer threads exit */
        hammer_error();
    }
    thread_reap();
    vmalloc_get_stats(out);
}

/* Start one thread per hammering CPU, wait for all; false if they did not finish. */
static bool hammer_run(struct ktest_ctx *ktest_ctx, void (*fn)(void *arg)) {
    cpumask_t cpus = hammer_cpus();
    unsigned n = 0;
    hammer_errors = 0;
    __atomic_store_n(&hammer_go, false, __ATOMIC_RELAXED);
    sema_init(&hammer_done, 0);
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        hammer_rounds[i] = 0;
    }
    uint64_t before = 0;
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        before += smp_tlb_shootdowns_served(i);
    }
    kprintf("  seed %#x, %u CPUs hammering\n", HAMMER_SEED, (unsigned)__builtin_popcountll(cpus));
    for (cpumask_t m = cpus; m != 0; m &= m - 1) {
        unsigned cpu = (unsigned)__builtin_ctzll(m);
        kstatus_t st = thread_create("vm_hammer", fn, (void *)(uintptr_t)cpu, SCHED_PRIO_NORMAL,
                                     CPUMASK_CPU(cpu), NULL);
        KTEST_EXPECT_EQ(st, KEEL_OK);
        n += st == KEEL_OK ? 1 : 0;
    }
    __atomic_store_n(&hammer_go, true, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < n; i++) {
        if (down_timeout(&hammer_done, HAMMER_JOIN_NS) != KEEL_OK) {
            kprintf("  %u of %u hammer threads still running after %u s: deadlock\n", n - i, n,
                    (unsigned)(HAMMER_JOIN_NS / NSEC_PER_SEC));
            return false;
        }
    }
    uint64_t after = 0;
    unsigned total = 0;
    for (unsigned i = 0; i < PERCPU_MAX; i++) {
        after += smp_tlb_shootdowns_served(i);
        total += hammer_rounds[i];
        if ((cpus & CPUMASK_CPU(i)) != 0) {
            KTEST_EXPECT(hammer_rounds[i] > 0);
        }
    }
    /* IPI shootdowns served: x86_64 and riscv64 "icount"; 0 where the flush is broadcast
     * (AArch64 TLBI IS, riscv64 SBI RFENCE), so it is reported, not checked. */
    kprintf("  %u rounds, %llu shootdown requests served\n", total,
            (unsigned long long)(after - before));
    KTEST_EXPECT_EQ(hammer_errors, 0);
    return true;
}

/* ---- vmalloc/vfree from every CPU ---- */

/* hammer_run, then vmalloc is back where it was: same areas and pages, no new failures or
 * refused frees. */
static void hammer_run_balanced(struct ktest_ctx *ktest_ctx, void (*fn)(void *arg)) {
    struct vmalloc_stats before, after;
    vmalloc_stats_reaped(&before);
    bool finished = hammer_run(ktest_ctx, fn);
    KTEST_EXPECT(finished);
    if (!finished) {
        return;
    }
    vmalloc_stats_reaped(&after);
    KTEST_EXPECT_EQ(after.areas, before.areas);
    KTEST_EXPECT_EQ(after.pages, before.pages);
    KTEST_EXPECT_EQ(after.failures, before.failures);
    KTEST_EXPECT_EQ(after.bad_frees, before.bad_frees);
}

static void vmalloc_hammer(void *arg) {
    unsigned me = (unsigned)(uintptr_t)arg;
    uint32_t x = HAMMER_SEED ^ me;
    hammer_wait_go();
    uint64_t stop = get_monotonic_time() + HAMMER_NS;
    for (unsigned r = 0; r < HAMMER_ROUNDS && get_monotonic_time() < stop; r++) {
        unsigned pages = 1 + lcg(&x) % 3;
        uint64_t *p = vmalloc(pages * PAGE_SIZE);
        if (p == NULL) {
            hammer_error();
            continue;
        }
        uint64_t tag = ((uint64_t)me << 48) | ((uint64_t)r << 8);
        for (unsigned i = 0; i < pages; i++) {
            p[i * (PAGE_SIZE / 8)] = tag | i;
        }
        for (unsigned i = 0; i < pages; i++) {
            if (p[i * (PAGE_SIZE / 8)] != (tag | i)) {
                hammer_error();
            }
        }
        vfree(p);
        hammer_rounds[me]++;
    }
    up(&hammer_done);
}

KTEST(vm_smp_vmalloc_hammer) {
    hammer_run_balanced(ktest_ctx, vmalloc_hammer);
}

/* ---- vmm_map/unmap/protect of a private window from every CPU ---- */

/*
 * Each thread owns a vmalloc window of WINDOW_PAGES pages whose frames carry fixed tags
 * (written through the direct map). Every round unmaps two pages and maps them back
 * swapped, write-protects one and opens it again, and checks that reads through the
 * window see the frame now mapped (a stale translation would show the old one).
 */
static void map_hammer(void *arg) {
    unsigned me = (unsigned)(uintptr_t)arg;
    uint32_t x = HAMMER_SEED ^ (me << 16);
    hammer_wait_go();
    uint64_t *w = vmalloc(WINDOW_PAGES * PAGE_SIZE);
    paddr_t pa[WINDOW_PAGES];
    if (w == NULL) {
        hammer_error();
        up(&hammer_done);
        return;
    }
    uint64_t base = (uintptr_t)w;
    for (unsigned i = 0; i < WINDOW_PAGES; i++) {
        if (vmm_query(vmm_kernel_space, VADDR(base + i * PAGE_SIZE), &pa[i], NULL, NULL) !=
            KEEL_OK) {
            hammer_error();
        }
        *(uint64_t *)phys_to_virt(pa[i]) = ((uint64_t)me << 32) | i;
    }
    uint64_t stop = get_monotonic_time() + HAMMER_NS;
    for (unsigned r = 0; r < HAMMER_ROUNDS && get_monotonic_time() < stop; r++) {
        unsigned a = lcg(&x) % WINDOW_PAGES;
        unsigned b = (a + 1 + lcg(&x) % (WINDOW_PAGES - 1)) % WINDOW_PAGES;
        uint64_t va_a = base + a * PAGE_SIZE, va_b = base + b * PAGE_SIZE;
        paddr_t got;
        if (vmm_unmap_page(vmm_kernel_space, VADDR(va_a), &got) != KEEL_OK || got.pa != pa[a].pa ||
            vmm_unmap(vmm_kernel_space, VADDR(va_b), PAGE_SIZE) != KEEL_OK ||
            vmm_map_page(vmm_kernel_space, VADDR(va_a), pa[b], PAGE_SIZE, K_RW) != KEEL_OK ||
            vmm_map(vmm_kernel_space, VADDR(va_b), pa[a], PAGE_SIZE, K_RW) != KEEL_OK) {
            hammer_error();
            break;
        }
        paddr_t t = pa[a];
        pa[a] = pa[b];
        pa[b] = t;
        if (vmm_protect(vmm_kernel_space, VADDR(va_a), PAGE_SIZE, VM_READ | VM_GLOBAL) != KEEL_OK ||
            vmm_protect(vmm_kernel_space, VADDR(va_a), PAGE_SIZE, K_RW) != KEEL_OK) {
            hammer_error();
            break;
        }
        for (unsigned i = 0; i < WINDOW_PAGES; i++) {
            if (w[i * (PAGE_SIZE / 8)] != *(uint64_t *)phys_to_virt(pa[i])) {
                hammer_error();
            }
        }
        hammer_rounds[me]++;
    }
    /* Each pa[i] is still mapped at page i (a failed round may have left holes: vfree
     * frees what is mapped, the frames of a hole leak, and the error is counted). */
    vfree(w);
    up(&hammer_done);
}

KTEST(vm_smp_map_unmap_hammer) {
    hammer_run_balanced(ktest_ctx, map_hammer);
}
