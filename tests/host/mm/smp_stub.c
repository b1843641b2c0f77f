/* SPDX-License-Identifier: MIT */
/*
 * The one SMP entry the VM layer uses (vm_space_lock polls for cross-CPU calls while the
 * space lock is busy), for mm host tests that do not link src/smp/. These tests run one
 * simulated CPU, so the lock is never busy and nothing is ever queued.
 */
#include <kernel/smp.h>

uint64_t mmt_poll_calls; /* how often a busy space lock polled (0 in one-CPU tests) */

void smp_poll_calls(void) {
    __atomic_fetch_add(&mmt_poll_calls, 1, __ATOMIC_RELAXED);
}
