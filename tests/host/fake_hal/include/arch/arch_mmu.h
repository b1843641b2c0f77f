/* SPDX-License-Identifier: MIT */
/*
 * Fake HAL memory layout for host tests. The "direct map" base is a variable so a test
 * can point fake physical memory at a host arena: phys_to_virt(pa) is
 * fake_direct_map_base + pa. Frames outside the arena may be managed but not touched.
 */
#ifndef FAKE_ARCH_MMU_H
#define FAKE_ARCH_MMU_H

#include <stdint.h>

extern uintptr_t fake_direct_map_base;

#define KEEL_DIRECT_MAP_BASE fake_direct_map_base
#define KEEL_KERNEL_BASE     0xffffffff80000000ULL

#endif /* FAKE_ARCH_MMU_H */
