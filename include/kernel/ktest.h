/* SPDX-License-Identifier: MIT */
/*
 * KTEST: in-kernel self tests. A test is a function declared with KTEST(name) anywhere
 * in the kernel; its descriptor lands in the "ktest" section. Booting with "ktest" on
 * the command line runs them all (or "ktest=<prefix>" for those whose name starts so),
 * prints "N passed, N failed" and powers off with the status.
 */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <kernel/types.h>

struct ktest_ctx {
    const char *name;
    unsigned failures;
};

struct ktest {
    const char *name;
    const char *file;
    void (*fn)(struct ktest_ctx *ctx);
} __aligned(8);

/*
 * The descriptors form an array between __start_ktest and __stop_ktest, so each must sit
 * at exactly its type's alignment: the explicit aligned() keeps gcc on x86_64 from
 * padding these 24-byte objects to 16 or 32 bytes.
 */
#define KTEST(tname)                                                                               \
    static void ktest_fn_##tname(struct ktest_ctx *ktest_ctx);                                     \
    static const struct ktest ktest_desc_##tname                                                   \
        __attribute__((used, section("ktest"), aligned(__alignof__(struct ktest)))) = {            \
            #tname, __FILE__, ktest_fn_##tname};                                                   \
    static void ktest_fn_##tname(struct ktest_ctx *ktest_ctx)

/* Record a failed check (prints file:line and the expression). */
void ktest_fail(struct ktest_ctx *ctx, const char *file, int line, const char *expr);

#define KTEST_EXPECT(cond)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ktest_fail(ktest_ctx, __FILE__, __LINE__, #cond);                                      \
        }                                                                                          \
    } while (0)

#define KTEST_EXPECT_EQ(a, b)                                                                      \
    do {                                                                                           \
        unsigned long long ktest_a_ = (unsigned long long)(a);                                     \
        unsigned long long ktest_b_ = (unsigned long long)(b);                                     \
        if (ktest_a_ != ktest_b_) {                                                                \
            ktest_fail_eq(ktest_ctx, __FILE__, __LINE__, #a " == " #b, ktest_a_, ktest_b_);        \
        }                                                                                          \
    } while (0)

void ktest_fail_eq(struct ktest_ctx *ctx, const char *file, int line, const char *expr,
                   unsigned long long a, unsigned long long b);

/*
 * Run every test whose name starts with prefix ("" for all). Prints one line per test
 * and the closing "N passed, N failed" line. Returns the number of failed tests.
 */
unsigned ktest_run(const char *prefix);

#endif /* KERNEL_KTEST_H */
