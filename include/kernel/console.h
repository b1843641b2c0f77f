/* SPDX-License-Identifier: MIT */
/*
 * Kernel consoles: where kprintf output goes. A console driver registers a write
 * function; console_write() sends to all of them, turning "\n" into "\r\n".
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <kernel/boot_info.h>
#include <kernel/types.h>

struct console {
    const char *name;
    void (*putc)(struct console *con, char c); /* blocking; any context */
    void *priv;
    struct console *next;
};

#define CONSOLE_MAX 4

/* Add a console. KEEL_EEXHAUSTED when CONSOLE_MAX are registered. Boot CPU. */
__must_check kstatus_t console_register(struct console *con);

/* Write n bytes to every console. Serialised by a lock; safe with IRQs off. */
void console_write(const char *s, size_t n);

/*
 * Bring up the console boot_info describes (16550 or PL011) and register it.
 * KEEL_ENOTSUP for an unknown type, KEEL_ENOTFOUND when there is none.
 */
__must_check kstatus_t console_init_boot(const struct boot_console *bc);

#endif /* KERNEL_CONSOLE_H */
