/* SPDX-License-Identifier: MIT */
/*
 * Memory and string helpers. The kernel has its own (src/lib/string.c); host tests use
 * the C library's, which have the same contracts.
 */
#ifndef KERNEL_STRING_H
#define KERNEL_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

/*
 * Copy src into dst (capacity cap bytes, always NUL-terminated when cap > 0).
 * Returns strlen(src); a result >= cap means the copy was truncated.
 */
size_t strlcpy(char *dst, const char *src, size_t cap);

#endif /* KERNEL_STRING_H */
