/* SPDX-License-Identifier: MIT */
/*
 * Portable KTESTs of the kernel library, run on the real target: the freestanding
 * string functions, the formatter, the command line and the boot memory map the arch
 * handed to kmain.
 */
#include <kernel/cmdline.h>
#include <kernel/kprintf.h>
#include <kernel/ktest.h>
#include <kernel/string.h>

KTEST(lib_string_basics) {
    char buf[32];
    memset(buf, 0xab, sizeof(buf));
    KTEST_EXPECT_EQ((uint8_t)buf[0], 0xab);
    KTEST_EXPECT_EQ((uint8_t)buf[31], 0xab);
    memcpy(buf, "keel", 5);
    KTEST_EXPECT_EQ(strlen(buf), 4);
    KTEST_EXPECT(strcmp(buf, "keel") == 0);
    KTEST_EXPECT(strcmp(buf, "keem") < 0);
    KTEST_EXPECT(strncmp(buf, "keex", 3) == 0);
    KTEST_EXPECT(memcmp(buf, "keel", 4) == 0);
    KTEST_EXPECT(strchr(buf, 'l') == buf + 3);
    KTEST_EXPECT(strchr(buf, 'z') == NULL);
    KTEST_EXPECT_EQ(strnlen(buf, 2), 2);
}

KTEST(lib_memmove_overlap) {
    char buf[16] = "0123456789";
    memmove(buf + 2, buf, 8);
    KTEST_EXPECT(memcmp(buf, "0101234567", 10) == 0);
    memmove(buf, buf + 2, 8);
    KTEST_EXPECT(memcmp(buf, "0123456767", 10) == 0);
}

KTEST(lib_memcpy_unaligned) {
    uint8_t src[64];
    uint8_t dst[64];
    for (unsigned i = 0; i < sizeof(src); i++) {
        src[i] = (uint8_t)(i * 7 + 1);
    }
    for (unsigned off = 0; off < 8; off++) {
        memset(dst, 0, sizeof(dst));
        memcpy(dst + off, src + (7 - off), 40);
        KTEST_EXPECT(memcmp(dst + off, src + (7 - off), 40) == 0);
        KTEST_EXPECT_EQ(dst[off + 40], 0);
    }
}

KTEST(lib_ksnprintf) {
    char buf[48];
    size_t n = ksnprintf(buf, sizeof(buf), "%s %d %#x %05u %-3c|", "keel", -12, 0xbeefu, 42u, 'k');
    KTEST_EXPECT(strcmp(buf, "keel -12 0xbeef 00042 k  |") == 0);
    KTEST_EXPECT_EQ(n, strlen(buf));
    n = ksnprintf(buf, 4, "%llx", 0x123456789abcULL);
    KTEST_EXPECT_EQ(n, 12);
    KTEST_EXPECT(strcmp(buf, "123") == 0);
}

KTEST(lib_cmdline) {
    const char *v;
    size_t len;
    KTEST_EXPECT(cmdline_find("a ktest=lib_ b", "ktest", &v, &len));
    KTEST_EXPECT_EQ(len, 4);
    KTEST_EXPECT(!cmdline_find("ktester", "ktest", NULL, NULL));
}
