/* SPDX-License-Identifier: MIT */
/*
 * The KTEST runner. Descriptors sit in the "ktest" section; the linker provides
 * __start_ktest / __stop_ktest around it.
 */
#include <kernel/kprintf.h>
#include <kernel/ktest.h>
#include <kernel/string.h>

extern const struct ktest __start_ktest[];
extern const struct ktest __stop_ktest[];

void ktest_fail(struct ktest_ctx *ctx, const char *file, int line, const char *expr) {
    ctx->failures++;
    kprintf("    FAIL %s:%d: %s\n", file, line, expr);
}

void ktest_fail_eq(struct ktest_ctx *ctx, const char *file, int line, const char *expr,
                   unsigned long long a, unsigned long long b) {
    ctx->failures++;
    kprintf("    FAIL %s:%d: %s (0x%llx != 0x%llx)\n", file, line, expr, a, b);
}

unsigned ktest_run(const char *prefix) {
    unsigned passed = 0;
    unsigned failed = 0;
    size_t plen = strlen(prefix);

    kprintf("ktest: running%s%s\n", plen ? " tests starting with " : " all tests", prefix);
    for (const struct ktest *t = __start_ktest; t < __stop_ktest; t++) {
        if (strncmp(t->name, prefix, plen) != 0) {
            continue;
        }
        struct ktest_ctx ctx = {t->name, 0};
        kprintf("[ RUN  ] %s\n", t->name);
        t->fn(&ctx);
        if (ctx.failures == 0) {
            passed++;
            kprintf("[  OK  ] %s\n", t->name);
        } else {
            failed++;
            kprintf("[ FAIL ] %s (%u checks failed)\n", t->name, ctx.failures);
        }
    }
    if (passed + failed == 0) {
        kprintf("ktest: no test matched '%s'\n", prefix);
        failed = 1; /* running nothing is a failure, not a pass */
        kprintf("0 passed, 1 failed\n");
        return failed;
    }
    kprintf("%u passed, %u failed\n", passed, failed);
    return failed;
}
