/* SPDX-License-Identifier: MIT */
/*
 * The end of the line: panic() and fatal traps print what they know (message or trap
 * cause, faulting address, registers, backtrace) and stop the machine. A fault while
 * panicking does not recurse: the second one halts at once.
 */
#include <arch/cpu.h>
#include <arch/trap.h>
#include <kernel/kprintf.h>
#include <kernel/ksyms.h>
#include <kernel/panic.h>

#define BACKTRACE_MAX_DEPTH 32

static int panicking;
bool panic_halts;

bool panic_in_progress(void) {
    return __atomic_load_n(&panicking, __ATOMIC_RELAXED) != 0;
}

/* Returns false if another panic got here first (or this is a nested one). */
static bool panic_enter(void) {
    (void)arch_irq_save();
    return __atomic_exchange_n(&panicking, 1, __ATOMIC_ACQ_REL) == 0;
}

static __noreturn void panic_stop(void) {
    if (panic_halts) {
        kprintf("System halted.\n");
        arch_halt();
    }
    kprintf("Powering off with failure status.\n");
    arch_power_off(1);
}

static void print_frame(unsigned depth, uintptr_t addr) {
    uintptr_t off = 0;
    const char *name = ksym_lookup(addr, &off);
    if (name != NULL) {
        kprintf("  #%-2u %p %s+0x%lx\n", depth, (void *)addr, name, (unsigned long)off);
    } else {
        kprintf("  #%-2u %p\n", depth, (void *)addr);
    }
}

void backtrace_print(uintptr_t pc, uintptr_t fp) {
    kprintf("Backtrace:\n");
    print_frame(0, pc);
    for (unsigned depth = 1; depth < BACKTRACE_MAX_DEPTH && fp != 0; depth++) {
        uintptr_t next_fp = 0;
        uintptr_t ret = 0;
        if (!IS_ALIGNED(fp, sizeof(uintptr_t)) || !arch_frame_step(fp, &next_fp, &ret)) {
            break;
        }
        if (ret == 0) {
            break;
        }
        /* Return addresses point after the call; step back into it for the symbol. */
        print_frame(depth, ret - 1);
        if (next_fp <= fp) {
            break; /* frames grow towards higher addresses; anything else is garbage */
        }
        fp = next_fp;
    }
}

void panic(const char *fmt, ...) {
    if (!panic_enter()) {
        arch_halt();
    }
    va_list ap;
    va_start(ap, fmt);
    kprintf("\nKERNEL PANIC: ");
    kvprintf(fmt, ap);
    kprintf("\n");
    va_end(ap);
    backtrace_print((uintptr_t)__builtin_return_address(0), arch_frame_pointer());
    panic_stop();
}

void trap_fatal(const struct trap_frame *tf, const char *cause, uintptr_t fault_addr) {
    if (!panic_enter()) {
        arch_halt();
    }
    kprintf("\nKERNEL FAULT: %s\n", cause);
    kprintf("  pc   %p\n  addr %p\n", (void *)arch_trap_pc(tf), (void *)fault_addr);
    kprintf("Registers:\n");
    arch_trap_dump_regs(tf);
    backtrace_print(arch_trap_pc(tf), arch_trap_fp(tf));
    panic_stop();
}
