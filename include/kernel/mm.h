/* SPDX-License-Identifier: MIT */
/*
 * Bring-up of memory management at boot: frame allocator, kernel heap, then the arch's
 * kernel address space (arch_mm_init). After mm_init() kmalloc, page_alloc and vmalloc
 * work on every arch.
 */
#ifndef KERNEL_MM_H
#define KERNEL_MM_H

#include <kernel/boot_info.h>

/*
 * Carve the frame allocator's metadata out of usable RAM, initialise it from the
 * normalised memory map, start the heap and let the arch build the kernel address space.
 * KEEL_ENOMEM when no usable region can hold the metadata; other errors from the steps.
 * Boot CPU only, once.
 */
__must_check kstatus_t mm_init(const struct boot_info *bi);

#endif /* KERNEL_MM_H */
