/* SPDX-License-Identifier: MIT */
/*
 * The compiler-support routines gcc may call from freestanding AArch64 code that the
 * kernel links without libgcc. With -mgeneral-regs-only gcc cannot use the SIMD CNT
 * instruction, so __builtin_popcount*() become calls to these.
 */
#include <stdint.h>

int __popcountdi2(uint64_t x);
int __popcountsi2(uint32_t x);

/* Number of set bits in x (SWAR: pairs, nibbles, bytes, then one multiply). */
int __popcountdi2(uint64_t x) {
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}

/* Number of set bits in x. */
int __popcountsi2(uint32_t x) {
    return __popcountdi2(x);
}
