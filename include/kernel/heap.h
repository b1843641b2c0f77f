/* SPDX-License-Identifier: MIT */
/*
 * Kernel heap interface: small variable-size allocations for kernel objects.
 * Declared here so that subsystems can be written against it; the allocator
 * itself lives with the memory subsystem.
 */
#ifndef KERNEL_HEAP_H
#define KERNEL_HEAP_H

#include <stddef.h>

#define KMALLOC_ATOMIC 0x1 /* caller holds a spinlock: do not sleep */
#define KMALLOC_ZERO   0x2 /* return zeroed memory */

/* Allocate size bytes (flags: KMALLOC_*); NULL when out of memory. */
void *kmalloc(size_t size, unsigned flags);

/* Free memory from kmalloc(); NULL is ignored. */
void kfree(void *p);

#endif /* KERNEL_HEAP_H */
