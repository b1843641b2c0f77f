/* SPDX-License-Identifier: MIT */
/*
 * HAL contract: device access. Port I/O exists only on x86; the other arches implement
 * arch_pio_* as a panic, since nothing found through a device tree uses port I/O.
 */
#ifndef ARCH_IO_H
#define ARCH_IO_H

#include <kernel/types.h>

uint8_t arch_pio_read8(uint16_t port);
void arch_pio_write8(uint16_t port, uint8_t value);

/*
 * Map size bytes of device registers at physical address pa for the kernel (device
 * memory attributes, never executable) and return the kernel address in *out.
 * KEEL_ENOMEM when no page table or window space is left. Boot CPU, before SMP.
 */
__must_check kstatus_t arch_mmio_map(paddr_t pa, size_t size, volatile void **out);

#endif /* ARCH_IO_H */
