/* SPDX-License-Identifier: MIT */
/*
 * kprintf/ksnprintf against the host C library's snprintf, which implements the same
 * C rules: every conversion, flag, width and precision we support, plus truncation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <kernel/kprintf.h>

#include "fake_hal.h"

#define CHECK(...)                                                                                 \
    do {                                                                                           \
        char want[256];                                                                            \
        char got[256];                                                                             \
        int wn = snprintf(want, sizeof(want), __VA_ARGS__);                                        \
        size_t gn = ksnprintf(got, sizeof(got), __VA_ARGS__);                                      \
        assert_string_equal(got, want);                                                            \
        assert_int_equal(gn, (size_t)wn);                                                          \
    } while (0)

static void test_integers(void **state) {
    (void)state;
    CHECK("%d %i %u", 0, -1, 4000000000u);
    CHECK("%d %d", INT32_MIN, INT32_MAX);
    CHECK("%lld %llu", (long long)INT64_MIN, (unsigned long long)UINT64_MAX);
    CHECK("%ld %lu %lx", -5L, 7UL, 0xdeadbeefUL);
    CHECK("%zu %zd %zx", (size_t)12345, (ptrdiff_t)-3, (size_t)0xabc);
    CHECK("%hhd %hhu %hd %hu", (signed char)-100, (unsigned char)200, (short)-30000,
          (unsigned short)60000);
    CHECK("%x %X %o %#x %#X %#o %#o", 255u, 255u, 8u, 255u, 255u, 8u, 0u);
}

static void test_flags_width_precision(void **state) {
    (void)state;
    CHECK("[%5d] [%-5d] [%05d] [%+d] [% d] [%+5d]", 42, 42, 42, 42, 42, -42);
    CHECK("[%.3d] [%8.3d] [%-8.3d] [%.0d] [%.0x]", 7, 7, 7, 0, 0u);
    CHECK("[%#010x] [%#-10x] [%010d]", 0x1234u, 0x1234u, -77);
    CHECK("[%*d] [%-*d] [%.*d] [%*d]", 6, 1, 6, 1, 4, 1, -6, 1);
    CHECK("[%#018llx]", 0xffffffff80000000ULL);
}

static void test_strings_chars(void **state) {
    (void)state;
    CHECK("[%s] [%10s] [%-10s] [%.2s] [%c] [%3c] [%-3c]", "keel", "keel", "keel", "keel", 'k', 'k',
          'k');
    CHECK("100%% [%s]", "");
    char buf[32];
    const char *volatile null_str = NULL;
    ksnprintf(buf, sizeof(buf), "%s", null_str);
    assert_string_equal(buf, "(null)");
}

static void test_pointer(void **state) {
    (void)state;
    char buf[64];
    ksnprintf(buf, sizeof(buf), "%p", (void *)0x1234);
    assert_string_equal(buf, "0x0000000000001234");
}

static void test_truncation_reported(void **state) {
    (void)state;
    char buf[8];
    memset(buf, 'X', sizeof(buf));
    size_t n = ksnprintf(buf, sizeof(buf), "%s-%d", "abcdef", 12345);
    assert_int_equal(n, 12);             /* the length the whole output needs */
    assert_string_equal(buf, "abcdef-"); /* cut, and always terminated */
    assert_int_equal(ksnprintf(NULL, 0, "%d", 123456), 6);
    char one[1] = {'X'};
    assert_int_equal(ksnprintf(one, 1, "abc"), 3);
    assert_int_equal(one[0], '\0');
}

static void test_unknown_conversion_visible(void **state) {
    (void)state;
    char buf[32];
    /* Built at run time so the compiler's format check does not reject it. */
    char fmt[8] = "a%qb";
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    size_t n = ksnprintf(buf, sizeof(buf), fmt, 1);
#pragma GCC diagnostic pop
    assert_string_equal(buf, "a%qb");
    assert_int_equal(n, 4);
}

static void test_console_newlines(void **state) {
    (void)state;
    fake_console_install();
    size_t n = kprintf("line %d\nnext\n", 1);
    assert_int_equal(n, 12);
    assert_string_equal(fake_console_buf, "line 1\r\nnext\r\n");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_flags_width_precision),
        cmocka_unit_test(test_strings_chars),
        cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_truncation_reported),
        cmocka_unit_test(test_unknown_conversion_visible),
        cmocka_unit_test(test_console_newlines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
