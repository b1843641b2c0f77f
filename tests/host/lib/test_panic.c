/* SPDX-License-Identifier: MIT */
/*
 * panic() and trap_fatal(): the report is printed and the machine is stopped with a
 * failure status (the fake HAL longjmps back here instead).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arch/trap.h>
#include <kernel/panic.h>

#include "fake_hal.h"

static void test_panic_reports_and_powers_off(void **state) {
    (void)state;
    jmp_buf jb;
    fake_console_install();
    fake_stop_jmp = &jb;
    if (setjmp(jb) == 0) {
        panic("bad thing %d", 42);
    }
    fake_stop_jmp = NULL;
    assert_int_equal(fake_stop_status, 1);
    assert_non_null(strstr(fake_console_buf, "KERNEL PANIC: bad thing 42"));
    assert_non_null(strstr(fake_console_buf, "Backtrace:"));
    assert_true(panic_in_progress());
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_panic_reports_and_powers_off)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
