/* SPDX-License-Identifier: MIT */
/*
 * kmain: the portable kernel entry, the same on every arch. It brings up the console
 * the boot info names, prints the banner and the memory map, then does what the
 * command line asks: "ktest" runs the self tests, "selftest=fault" makes a bad access
 * on purpose (proves the trap path), "selftest=thread_stack_overflow" overflows a kernel
 * thread's stack on purpose (proves its guard page), "poweroff" powers off with success,
 * "bench" prints the instructions from kernel entry to the banner as a JSON line.
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/trap.h>
#include <kernel/boot_info.h>
#include <kernel/cmdline.h>
#include <kernel/irq.h>
#include <kernel/console.h>
#include <kernel/kbench.h>
#include <kernel/kprintf.h>
#include <kernel/ktest.h>
#include <kernel/memmap.h>
#include <kernel/mm.h>
#include <kernel/panic.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/thread.h>
#include <kernel/version.h>

/* The boot info kmain was given, for KTESTs of the boot contract. */
const struct boot_info *kmain_boot_info;

static void print_size(uint64_t bytes) {
    if (bytes >= (1ULL << 30) && (bytes & ((1ULL << 30) - 1)) == 0) {
        kprintf("%llu GiB", (unsigned long long)(bytes >> 30));
    } else if (bytes >= (1ULL << 20)) {
        kprintf("%llu MiB", (unsigned long long)(bytes >> 20));
    } else {
        kprintf("%llu KiB", (unsigned long long)(bytes >> 10));
    }
}

static void print_memory_map(const struct boot_info *bi) {
    kprintf("Memory map (%u regions):\n", bi->mem_count);
    for (uint32_t i = 0; i < bi->mem_count; i++) {
        const struct mem_region *r = &bi->mem[i];
        kprintf("  [%#018llx-%#018llx] %-12s node %u  ", (unsigned long long)r->base,
                (unsigned long long)(r->base + r->size - 1), mem_type_name(r->type), r->node);
        print_size(r->size);
        kprintf("\n");
    }
    if (bi->mem_dropped != 0) {
        kprintf("WARNING: %u memory map entries did not fit and were ignored\n", bi->mem_dropped);
    }
}

static void print_banner(const struct boot_info *bi) {
    kprintf("\nKeel %s (%s) booted by %s\n", KEEL_VERSION_STRING, arch_name,
            bi->firmware != NULL ? bi->firmware : "unknown firmware");
    kprintf("CPUs: %u\n", bi->cpu_count);
    kprintf("Usable memory: %llu MiB\n", (unsigned long long)(memmap_usable_bytes(bi) >> 20));
    kprintf("Command line: \"%s\"\n", bi->cmdline);
}

/* Never inlined: the fault test looks for this name in the backtrace. */
static __noinline __noreturn void deliberate_fault(void) {
    volatile uint64_t *bad = (volatile uint64_t *)arch_unmapped_address();
    kprintf("selftest: reading %p on purpose; a KERNEL FAULT report must follow\n", (void *)bad);
    uint64_t v = *bad;
    panic("selftest: read of unmapped address %p returned %#llx instead of faulting", (void *)bad,
          (unsigned long long)v);
}

/* Never reached: the stack holds a few dozen frames. volatile so it is not folded. */
static volatile unsigned thread_overflow_stop = ~0u;

/* Never inlined: the overflow test looks for this name in the backtrace. */
static __noinline unsigned thread_overflow_recurse(unsigned depth) {
    volatile uint8_t frame[256];
    frame[0] = (uint8_t)depth;
    if (depth == thread_overflow_stop) {
        return frame[0];
    }
    return thread_overflow_recurse(depth + 1) + frame[0];
}

static void thread_overflow_entry(void *arg) {
    (void)arg;
    /* Only the fault may trap: no interrupt is taken with the stack nearly full. */
    arch_irq_disable();
    kprintf("selftest: overflowing the stack of thread '%s' on CPU %u; a KERNEL FAULT report "
            "must follow\n",
            thread_current()->name, arch_this_cpu()->index);
    kprintf("selftest: survived depth %u\n", thread_overflow_recurse(0));
}

/*
 * "selftest=thread_stack_overflow": a kernel thread on the highest online CPU recurses
 * into the guard page below its stack; the report must name the guard page. The boot
 * thread waits: if nothing stopped the machine after a few seconds, that is a panic.
 */
static __noreturn void deliberate_thread_overflow(void) {
    cpumask_t online = smp_online_mask();
    unsigned last = 0;
    for (unsigned c = 0; c < 64; c++) {
        if (online & CPUMASK_CPU(c)) {
            last = c;
        }
    }
    kstatus_t st = thread_create("overflow", thread_overflow_entry, NULL, SCHED_PRIO_NORMAL,
                                 CPUMASK_CPU(last), NULL);
    if (st != KEEL_OK) {
        panic("selftest: cannot create the overflowing thread: error %d", st);
    }
    for (unsigned i = 0; i < 50; i++) {
        if (thread_sleep_ns(100000000ULL) != KEEL_OK) {
            thread_yield();
        }
    }
    panic("selftest: a thread's stack overflow was not reported as a fault");
}

void kmain(const struct boot_info *bi) {
    kmain_boot_info = bi;
    kstatus_t st = console_init_boot(&bi->console);
    if (st != KEEL_OK) {
        /* Nowhere to print; the harness sees the failure status. */
        arch_power_off(2);
    }
    uint64_t banner_cycles = arch_cycle_counter() - bi->entry_cycles;
    panic_halts = cmdline_value_is(bi->cmdline, "panic", "halt");
    print_banner(bi);
    if (cmdline_find(bi->cmdline, "bench", NULL, NULL)) {
        /* One count per instruction under QEMU -icount shift=0 (tools/bench-boot). */
        kprintf("{\"bench\":\"boot_entry_to_banner\",\"arch\":\"%s\",\"unit\":\"instructions\","
                "\"median\":%llu,\"p99\":%llu,\"n\":1}\n",
                arch_name, (unsigned long long)banner_cycles, (unsigned long long)banner_cycles);
    }
    print_memory_map(bi);

    st = mm_init(bi);
    if (st != KEEL_OK) {
        panic("memory management failed to start: error %d", st);
    }

    /* Interrupts, threads and the other CPUs; prints "CPUs online: N". */
    percpu_init_boot(bi);
    st = arch_irq_init(bi);
    if (st != KEEL_OK) {
        panic("interrupt controller failed to start: error %d", st);
    }
    st = thread_init(bi);
    if (st != KEEL_OK) {
        panic("threads failed to start: error %d", st);
    }
    (void)smp_boot(bi);

    if (cmdline_value_is(bi->cmdline, "selftest", "fault")) {
        deliberate_fault();
    }
    if (cmdline_value_is(bi->cmdline, "selftest", "thread_stack_overflow")) {
        deliberate_thread_overflow();
    }

    if (cmdline_find(bi->cmdline, "bench", NULL, NULL)) {
        kbench_run_all();
    }

    const char *prefix;
    size_t prefix_len;
    if (CONFIG_KTEST && cmdline_find(bi->cmdline, "ktest", &prefix, &prefix_len)) {
        char buf[64];
        if (prefix_len >= sizeof(buf)) {
            panic("ktest: test name prefix longer than %zu characters", sizeof(buf) - 1);
        }
        memcpy(buf, prefix, prefix_len);
        buf[prefix_len] = '\0';
        unsigned failed = ktest_run(buf);
        arch_power_off(failed == 0 ? 0 : 1);
    }

    if (cmdline_find(bi->cmdline, "poweroff", NULL, NULL)) {
        kprintf("Boot complete; powering off.\n");
        arch_power_off(0);
    }
    kprintf("Boot complete. No init task yet: halting.\n");
    arch_halt();
}
