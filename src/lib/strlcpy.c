/* SPDX-License-Identifier: MIT */
/* Bounded string copy that reports truncation (kernel and host alike). */
#include <kernel/string.h>

size_t strlcpy(char *dst, const char *src, size_t cap) {
    size_t len = strlen(src);
    if (cap > 0) {
        size_t n = len < cap - 1 ? len : cap - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}
