/* SPDX-License-Identifier: MIT */
/* Fake HAL for host tests: no inline timer fast paths; the simulated clock is in timer_fake.c. */
#ifndef FAKE_ARCH_TIMER_H
#define FAKE_ARCH_TIMER_H

#endif /* FAKE_ARCH_TIMER_H */
