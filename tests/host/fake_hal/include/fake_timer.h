/* SPDX-License-Identifier: MIT */
/*
 * Fake HAL timer controls: a simulated counter that only moves when a test says so, at a
 * frequency the test chooses, and a record of the last one-shot deadline programmed.
 */
#ifndef FAKE_TIMER_H
#define FAKE_TIMER_H

#include <stdint.h>

/* Reset the simulated counter to 0 ticks at freq_hz; no one-shot armed. */
void fake_timer_reset(uint64_t freq_hz);
/* Move the counter forward by ticks / to an absolute tick value (never backwards). */
void fake_timer_advance_ticks(uint64_t ticks);
void fake_timer_set_ticks(uint64_t ticks);
/* Last deadline given to arch_timer_set_oneshot (UINT64_MAX when none/cancelled). */
uint64_t fake_timer_oneshot_deadline(void);

#endif /* FAKE_TIMER_H */
