/* SPDX-License-Identifier: MIT */
/*
 * Basic kernel types: the status type and typed addresses.
 * paddr_t, vaddr_t and uaddr_t are one-member structs so that physical,
 * kernel-virtual and user addresses can never be mixed by accident.
 */
#ifndef KERNEL_TYPES_H
#define KERNEL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/errors.h>
#include <kernel/compiler.h>

/* 0 on success, a negative KEEL_E* code on failure. */
typedef int kstatus_t;

typedef struct {
    uint64_t pa;
} paddr_t;

typedef struct {
    uintptr_t va;
} vaddr_t;

typedef struct {
    uint64_t ua;
} uaddr_t;

#define PADDR(x) ((paddr_t){.pa = (uint64_t)(x)})
#define VADDR(x) ((vaddr_t){.va = (uintptr_t)(x)})
#define UADDR(x) ((uaddr_t){.ua = (uint64_t)(x)})

#define PAGE_SHIFT 12
#define PAGE_SIZE  ((size_t)1 << PAGE_SHIFT)

static inline bool paddr_eq(paddr_t a, paddr_t b) {
    return a.pa == b.pa;
}

#endif /* KERNEL_TYPES_H */
