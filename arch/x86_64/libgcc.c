/* SPDX-License-Identifier: MIT */
/*
 * The libgcc helpers gcc calls on x86_64 when the kernel is built for the baseline CPU
 * (no POPCNT instruction): __builtin_popcount*() become calls to these. clang expands
 * them inline, so only gcc builds use them. Any context.
 */
#include <kernel/types.h>

int __popcountdi2(uint64_t x);
int __popcountsi2(uint32_t x);

/* Bits set in x (SWAR: sum bit pairs, nibbles, then bytes with one multiply). */
int __popcountdi2(uint64_t x) {
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}

/* Bits set in x. */
int __popcountsi2(uint32_t x) {
    return __popcountdi2(x);
}
