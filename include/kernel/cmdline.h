/* SPDX-License-Identifier: MIT */
/*
 * Kernel command line: space-separated words, each "key" or "key=value".
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <kernel/types.h>

/*
 * Look up key. Returns true if present; then *value points at its value inside cmdline
 * (not NUL-terminated, *len bytes; 0 for a bare "key"). value/len may be NULL.
 */
bool cmdline_find(const char *cmdline, const char *key, const char **value, size_t *len);

/* True if key's value equals expected ("key=expected"). */
bool cmdline_value_is(const char *cmdline, const char *key, const char *expected);

#endif /* KERNEL_CMDLINE_H */
