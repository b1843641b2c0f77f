/* SPDX-License-Identifier: MIT */
/*
 * Fake HAL thread context for host tests: a ucontext, so the portable thread layer
 * (src/proc/) really switches stacks on the host. fn/arg are kept for the first switch.
 */
#ifndef FAKE_ARCH_THREAD_H
#define FAKE_ARCH_THREAD_H

#include <stdint.h>
#include <ucontext.h>

/* Host stacks need no alignment beyond a page. */
#define ARCH_THREAD_STACK_ALIGN 4096

struct arch_context {
    ucontext_t uc;
    void (*fn)(void *arg);
    void *arg;
};

#endif /* FAKE_ARCH_THREAD_H */
