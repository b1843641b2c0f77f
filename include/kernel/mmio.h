/* SPDX-License-Identifier: MIT */
/*
 * Device register access. Volatile single accesses of the stated width; the arch maps
 * device memory with attributes that keep them ordered with respect to each other.
 */
#ifndef KERNEL_MMIO_H
#define KERNEL_MMIO_H

#include <kernel/types.h>

static inline uint8_t mmio_read8(volatile void *addr) {
    return *(volatile uint8_t *)addr;
}

static inline void mmio_write8(volatile void *addr, uint8_t v) {
    *(volatile uint8_t *)addr = v;
}

static inline uint32_t mmio_read32(volatile void *addr) {
    return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(volatile void *addr, uint32_t v) {
    *(volatile uint32_t *)addr = v;
}

#endif /* KERNEL_MMIO_H */
