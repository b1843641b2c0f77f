/* SPDX-License-Identifier: MIT */
/*
 * Fake HAL state for the memory subsystem on the host: where the fake direct map
 * starts. Tests set it so that fake physical addresses land in a host arena.
 */
#include <arch/arch_mmu.h>

uintptr_t fake_direct_map_base;
