/* SPDX-License-Identifier: MIT */
/*
 * Host-test stand-in for the kernel heap: kmalloc/kfree on top of malloc, with an
 * injectable failure so out-of-memory paths can be tested, and a live-block count so
 * tests can check that nothing leaks.
 */
#ifndef CAP_HEAP_SHIM_H
#define CAP_HEAP_SHIM_H

#include <stddef.h>

/* Make the allocation after `n` more successes fail (n = 0: the next one); -1 disables. */
void heap_shim_fail_after(long n);

/* Blocks currently allocated through kmalloc() and not freed. */
long heap_shim_live(void);

#endif /* CAP_HEAP_SHIM_H */
