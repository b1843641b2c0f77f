/* SPDX-License-Identifier: MIT */
/*
 * Fake HAL controls for host tests: console capture and the power-off/halt trap
 * (a test that expects a panic arms fake_hal_expect_stop() and checks the status).
 */
#ifndef FAKE_HAL_H
#define FAKE_HAL_H

#include <setjmp.h>
#include <stddef.h>

/* Everything written to the fake console since the last fake_console_reset(). */
extern char fake_console_buf[65536];
extern size_t fake_console_len;
void fake_console_reset(void);
void fake_console_install(void);

/* When armed, arch_power_off()/arch_halt() longjmp here instead of exiting. */
extern jmp_buf *fake_stop_jmp;
extern int fake_stop_status; /* the status given to arch_power_off, -1 for arch_halt */

#endif /* FAKE_HAL_H */
