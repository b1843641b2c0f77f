/* SPDX-License-Identifier: MIT */
/*
 * Host stand-ins for the kernel heap and vmalloc, for tests of the thread, interrupt and
 * SMP layers: malloc underneath, with live counts so tests can check nothing leaks.
 */
#include <stdlib.h>
#include <string.h>

#include <kernel/heap.h>
#include <kernel/vmm.h>

#include "proc_test.h"

long fake_kmalloc_live;
long fake_vmalloc_live;
bool fake_vmalloc_fail;

void *kmalloc(size_t size, unsigned flags) {
    if (size == 0) {
        return NULL;
    }
    void *p = (flags & KMALLOC_ZERO) != 0 ? calloc(1, size) : malloc(size);
    if (p != NULL) {
        __atomic_fetch_add(&fake_kmalloc_live, 1, __ATOMIC_RELAXED);
    }
    return p;
}

void *kcalloc(size_t nmemb, size_t size) {
    if (nmemb != 0 && size > SIZE_MAX / nmemb) {
        return NULL;
    }
    return kmalloc(nmemb * size, KMALLOC_ZERO);
}

void kfree(void *p) {
    if (p != NULL) {
        __atomic_fetch_sub(&fake_kmalloc_live, 1, __ATOMIC_RELAXED);
        free(p);
    }
}

void *vmalloc_aligned(size_t size, size_t align) {
    if (fake_vmalloc_fail) {
        return NULL;
    }
    void *p = NULL;
    if (posix_memalign(&p, align < 4096 ? 4096 : align, size) != 0) {
        return NULL;
    }
    memset(p, 0xa5, size); /* a stack starts as garbage, never as zeroes */
    __atomic_fetch_add(&fake_vmalloc_live, 1, __ATOMIC_RELAXED);
    return p;
}

/* The host has no guard page to reserve: a stack is an aligned block like any other. */
void *vmalloc_stack(size_t size, size_t align) {
    return vmalloc_aligned(size, align);
}

void *vmalloc(size_t size) {
    return vmalloc_aligned(size, 4096);
}

void vfree(void *p) {
    if (p != NULL) {
        __atomic_fetch_sub(&fake_vmalloc_live, 1, __ATOMIC_RELAXED);
        free(p);
    }
}
