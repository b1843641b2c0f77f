/* SPDX-License-Identifier: MIT */
/*
 * panic() and assertions. Asserts are for the kernel's own invariants only: never
 * for what user space or firmware hands in (that gets an error code).
 */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include <kernel/types.h>

struct trap_frame;

/*
 * Print the message, a backtrace, then power off with a failure status (or halt, with
 * "panic=halt" on the command line). Any context; never returns.
 */
__noreturn void panic(const char *fmt, ...) __printf_like(1, 2);

/*
 * End of the line for an unexpected exception: print what and where (cause, faulting
 * address), the registers and a backtrace, then stop as panic() does.
 */
__noreturn void trap_fatal(const struct trap_frame *tf, const char *cause, uintptr_t fault_addr);

/* True once a panic or fatal trap has started on any CPU. */
bool panic_in_progress(void);

/* Print a frame-pointer backtrace starting at pc/fp (symbolised when symbols exist). */
void backtrace_print(uintptr_t pc, uintptr_t fp);

/* Set by kmain from the command line: halt instead of powering off on panic. */
extern bool panic_halts;

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (unlikely(!(cond))) {                                                                   \
            panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__);                     \
        }                                                                                          \
    } while (0)

#define DEBUG_ASSERT(cond)                                                                         \
    do {                                                                                           \
        if (CONFIG_DEBUG_ASSERT) {                                                                 \
            ASSERT(cond);                                                                          \
        }                                                                                          \
    } while (0)

#define BUG_ON(cond) ASSERT(!(cond))

#endif /* KERNEL_PANIC_H */
