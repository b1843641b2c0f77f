/* SPDX-License-Identifier: MIT */
/* Command-line parsing: whole words, key=value, edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <kernel/cmdline.h>

static void test_find(void **state) {
    (void)state;
    const char *v;
    size_t n;
    const char *cl = "  ktest=mm_ poweroff\tpanic=halt x=";
    assert_true(cmdline_find(cl, "ktest", &v, &n));
    assert_int_equal(n, 3);
    assert_memory_equal(v, "mm_", 3);
    assert_true(cmdline_find(cl, "poweroff", &v, &n));
    assert_int_equal(n, 0);
    assert_true(cmdline_find(cl, "x", &v, &n));
    assert_int_equal(n, 0);
    assert_false(cmdline_find(cl, "power", NULL, NULL));
    assert_false(cmdline_find(cl, "ktes", NULL, NULL));
    assert_false(cmdline_find(cl, "", NULL, NULL));
    assert_false(cmdline_find("", "ktest", NULL, NULL));
    assert_true(cmdline_value_is(cl, "panic", "halt"));
    assert_false(cmdline_value_is(cl, "panic", "hal"));
    assert_false(cmdline_value_is(cl, "poweroff", "x"));
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_find)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
