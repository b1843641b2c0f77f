/* SPDX-License-Identifier: MIT */
/*
 * kmalloc/kfree for host tests of src/cap/, mapped to calloc/malloc/free. A countdown
 * lets a test make exactly one chosen allocation fail.
 */
#include <stdlib.h>

#include <kernel/heap.h>

#include "heap_shim.h"

static long fail_countdown = -1;
static long live_blocks;

void heap_shim_fail_after(long n) {
    __atomic_store_n(&fail_countdown, n, __ATOMIC_SEQ_CST);
}

long heap_shim_live(void) {
    return __atomic_load_n(&live_blocks, __ATOMIC_SEQ_CST);
}

void *kmalloc(size_t size, unsigned flags) {
    long c = __atomic_load_n(&fail_countdown, __ATOMIC_SEQ_CST);
    if (c >= 0) {
        __atomic_store_n(&fail_countdown, c - 1, __ATOMIC_SEQ_CST);
        if (c == 0) {
            return NULL;
        }
    }
    void *p = (flags & KMALLOC_ZERO) ? calloc(1, size) : malloc(size);
    if (p != NULL) {
        __atomic_add_fetch(&live_blocks, 1, __ATOMIC_SEQ_CST);
    }
    return p;
}

void kfree(void *p) {
    if (p != NULL) {
        __atomic_sub_fetch(&live_blocks, 1, __ATOMIC_SEQ_CST);
        free(p);
    }
}
