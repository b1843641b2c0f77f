/* SPDX-License-Identifier: MIT */
/*
 * The bit-counting helpers gcc calls for __builtin_clz/ctz/popcount when the target has
 * no instruction for them (RISC-V without Zbb, x86_64 baseline without POPCNT, AArch64
 * with -mgeneral-regs-only). The kernel links without libgcc (Debian's cross libgcc does
 * not match our flags), so the few it needs live here, once for every arch. Plain shifts
 * and masks: no builtins, or they would recurse. clang expands them inline instead.
 */
#include <stdint.h>

int __clzdi2(uint64_t x);
int __ctzdi2(uint64_t x);
int __popcountdi2(uint64_t x);
int __clzsi2(uint32_t x);
int __ctzsi2(uint32_t x);
int __popcountsi2(uint32_t x);

/* Leading zeros of x; the result for 0 is undefined by the builtin, 64 here. */
int __clzdi2(uint64_t x) {
    int n = 0;

    if (x == 0) {
        return 64;
    }
    for (int shift = 32; shift > 0; shift >>= 1) {
        if ((x >> (64 - shift)) == 0) {
            n += shift;
            x <<= shift;
        }
    }
    return n;
}

/* Trailing zeros of x; 64 for 0. */
int __ctzdi2(uint64_t x) {
    int n = 0;

    if (x == 0) {
        return 64;
    }
    for (int shift = 32; shift > 0; shift >>= 1) {
        if ((x & ((1ULL << shift) - 1)) == 0) {
            n += shift;
            x >>= shift;
        }
    }
    return n;
}

/* Set bits of x (SWAR reduction). */
int __popcountdi2(uint64_t x) {
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}

int __clzsi2(uint32_t x) {
    return __clzdi2(x) - 32;
}

int __ctzsi2(uint32_t x) {
    return x == 0 ? 32 : __ctzdi2(x);
}

int __popcountsi2(uint32_t x) {
    return __popcountdi2(x);
}
