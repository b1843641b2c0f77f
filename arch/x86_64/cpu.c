/* SPDX-License-Identifier: MIT */
/*
 * x86_64 CPU services of the HAL: name, halt, power-off through QEMU's isa-debug-exit
 * (halt on hardware that has none), port I/O, and the polled COM1 writer used before
 * kmain's console exists.
 */
#include <arch/cpu.h>
#include <arch/io.h>

#include "x86.h"

const char arch_name[] = "x86_64";

#define LSR_THRE   0x20
#define SPIN_LIMIT 100000

void arch_halt(void) {
    for (;;) {
        __asm__ volatile("cli\n\thlt" : : : "memory");
    }
}

/*
 * QEMU's debug-exit device reads as 0; an unclaimed port reads as all ones, both in
 * QEMU and on the ISA-style buses of real machines. Also require the CPUID hypervisor
 * bit so bare metal never gets a stray write to port 0xf4.
 */
bool x86_have_debug_exit(void) {
    uint32_t r[4];
    x86_cpuid(1, 0, r);
    if ((r[2] & (1U << 31)) == 0) {
        return false;
    }
    return x86_inb(X86_DEBUG_EXIT_PORT) == 0;
}

void arch_power_off(int status) {
    (void)arch_irq_save();
    /* QEMU exits with ((0x10 + status) << 1) | 1; tools/qemu-run undoes that. */
    if (status < 0 || status > 0x6f) {
        status = 1;
    }
    if (x86_have_debug_exit()) {
        x86_outb(X86_DEBUG_EXIT_PORT, (uint8_t)(0x10 + status));
    }
    x86_early_puts("keel: no way to power off here; halting\n");
    arch_halt();
}

uint8_t arch_pio_read8(uint16_t port) {
    return x86_inb(port);
}

void arch_pio_write8(uint16_t port, uint8_t value) {
    x86_outb(port, value);
}

static void early_putc(char c) {
    for (unsigned i = 0; i < SPIN_LIMIT && !(x86_inb(X86_COM1 + 5) & LSR_THRE); i++) {
        arch_cpu_relax();
    }
    x86_outb(X86_COM1, (uint8_t)c);
}

void x86_early_puts(const char *s) {
    for (; *s != '\0'; s++) {
        if (*s == '\n') {
            early_putc('\r');
        }
        early_putc(*s);
    }
}

void x86_early_hex(uint64_t v) {
    char buf[19];
    buf[0] = '0';
    buf[1] = 'x';
    for (int i = 0; i < 16; i++) {
        buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
    }
    buf[18] = '\0';
    x86_early_puts(buf);
}
