/* SPDX-License-Identifier: MIT */
/* Boot console UART drivers (src/drivers/). */
#ifndef KERNEL_UART_H
#define KERNEL_UART_H

#include <kernel/boot_info.h>

/* Set up a 16550 (8N1, FIFOs, polled) and register it as a console. */
__must_check kstatus_t uart16550_init_boot(const struct boot_console *bc);

/* Set up a PL011 (polled) and register it as a console. */
__must_check kstatus_t pl011_init_boot(const struct boot_console *bc);

#endif /* KERNEL_UART_H */
