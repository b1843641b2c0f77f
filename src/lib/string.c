/* SPDX-License-Identifier: MIT */
/*
 * Freestanding memory and string functions for the kernel (the compiler may also emit
 * calls to memcpy/memset/memmove/memcmp). Host builds use the C library instead.
 */
#include <kernel/string.h>
#include <kernel/types.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (((uintptr_t)d & 7) == 0 && ((uintptr_t)s & 7) == 0) {
        for (; n >= 8; n -= 8, d += 8, s += 8) {
            *(uint64_t *)(void *)d = *(const uint64_t *)(const void *)s;
        }
    }
    while (n-- != 0) {
        *d++ = *s++;
    }
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d == s || n == 0) {
        return dst;
    }
    if (d < s || d >= s + n) {
        return memcpy(dst, src, n);
    }
    while (n-- != 0) {
        d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    if (((uintptr_t)d & 7) == 0) {
        uint64_t v = (uint8_t)c * 0x0101010101010101ULL;
        for (; n >= 8; n -= 8, d += 8) {
            *(uint64_t *)(void *)d = v;
        }
    }
    while (n-- != 0) {
        *d++ = (unsigned char)c;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a;
    const unsigned char *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) {
            return x[i] < y[i] ? -1 : 1;
        }
    }
    return 0;
}

size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n] != '\0') {
        n++;
    }
    return n;
}

size_t strnlen(const char *s, size_t max) {
    size_t n = 0;
    while (n < max && s[n] != '\0') {
        n++;
    }
    return n;
}

int strcmp(const char *a, const char *b) {
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n) {
    for (; n != 0; n--, a++, b++) {
        if (*a != *b || *a == '\0') {
            return (unsigned char)*a - (unsigned char)*b;
        }
    }
    return 0;
}

char *strchr(const char *s, int c) {
    for (;; s++) {
        if (*s == (char)c) {
            return (char *)s;
        }
        if (*s == '\0') {
            return NULL;
        }
    }
}
