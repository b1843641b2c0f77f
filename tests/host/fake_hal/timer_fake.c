/* SPDX-License-Identifier: MIT */
/*
 * The fake HAL's timer: a simulated counter for host tests of src/time/ and src/sched/.
 * Time moves only when a test advances it, so timer and timeout tests are exact.
 */
#include <arch/timer.h>

#include "fake_timer.h"

static uint64_t fake_ticks;
static uint64_t fake_freq = 1000000000ull;
static uint64_t fake_oneshot = UINT64_MAX;

void fake_timer_reset(uint64_t freq_hz) {
    __atomic_store_n(&fake_ticks, 0, __ATOMIC_RELAXED);
    fake_freq = freq_hz;
    fake_oneshot = UINT64_MAX;
}

void fake_timer_advance_ticks(uint64_t ticks) {
    __atomic_fetch_add(&fake_ticks, ticks, __ATOMIC_RELAXED);
}

void fake_timer_set_ticks(uint64_t ticks) {
    if (ticks > __atomic_load_n(&fake_ticks, __ATOMIC_RELAXED)) {
        __atomic_store_n(&fake_ticks, ticks, __ATOMIC_RELAXED);
    }
}

uint64_t fake_timer_oneshot_deadline(void) {
    return fake_oneshot;
}

uint64_t arch_timer_now_ticks(void) {
    return __atomic_load_n(&fake_ticks, __ATOMIC_RELAXED);
}

uint64_t arch_timer_freq_hz(void) {
    return fake_freq;
}

void arch_timer_set_oneshot(uint64_t deadline_ticks) {
    fake_oneshot = deadline_ticks;
}

void arch_timer_cancel(void) {
    fake_oneshot = UINT64_MAX;
}
