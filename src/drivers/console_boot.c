/* SPDX-License-Identifier: MIT */
/* Pick the console driver named by the boot info. */
#include <kernel/console.h>
#include <kernel/uart.h>

kstatus_t console_init_boot(const struct boot_console *bc) {
    switch (bc->type) {
    case BOOT_CONSOLE_UART16550_PIO:
    case BOOT_CONSOLE_UART16550_MMIO:
        return uart16550_init_boot(bc);
    case BOOT_CONSOLE_PL011:
        return pl011_init_boot(bc);
    case BOOT_CONSOLE_NONE:
        return KEEL_ENOTFOUND;
    default:
        return KEEL_ENOTSUP;
    }
}
