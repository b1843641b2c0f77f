/* SPDX-License-Identifier: MIT */
/*
 * NS16550-compatible UART as a polled console: x86 COM ports through port I/O, and
 * memory-mapped ones found in the device tree (reg-shift / reg-io-width apply).
 * Registers (offsets in units of the stride): 0 THR, 1 IER, 2 FCR, 3 LCR, 4 MCR, 5 LSR.
 */
#include <arch/cpu.h>
#include <arch/io.h>
#include <kernel/console.h>
#include <kernel/mmio.h>
#include <kernel/uart.h>

#define UART_THR     0
#define UART_IER     1
#define UART_FCR     2
#define UART_LCR     3
#define UART_MCR     4
#define UART_LSR     5
#define UART_DLL     0 /* with LCR.DLAB set */
#define UART_DLM     1
#define LSR_THRE     0x20 /* transmit holding register empty */
#define LCR_8N1      0x03
#define LCR_DLAB     0x80
#define SPIN_LIMIT   100000 /* give up on a wedged UART rather than hang the kernel */
#define DEFAULT_BAUD 115200

struct uart16550 {
    struct console con;
    bool pio;
    uint16_t port;
    volatile uint8_t *regs;
    unsigned shift;
    unsigned width;
};

static struct uart16550 uart0;

static uint8_t uart_read(struct uart16550 *u, unsigned reg) {
    if (u->pio) {
        return arch_pio_read8((uint16_t)(u->port + reg));
    }
    volatile void *addr = u->regs + (reg << u->shift);
    return u->width == 4 ? (uint8_t)mmio_read32(addr) : mmio_read8(addr);
}

static void uart_write(struct uart16550 *u, unsigned reg, uint8_t v) {
    if (u->pio) {
        arch_pio_write8((uint16_t)(u->port + reg), v);
        return;
    }
    volatile void *addr = u->regs + (reg << u->shift);
    if (u->width == 4) {
        mmio_write32(addr, v);
    } else {
        mmio_write8(addr, v);
    }
}

static void uart16550_putc(struct console *con, char c) {
    struct uart16550 *u = container_of(con, struct uart16550, con);
    for (unsigned i = 0; i < SPIN_LIMIT && !(uart_read(u, UART_LSR) & LSR_THRE); i++) {
        arch_cpu_relax();
    }
    uart_write(u, UART_THR, (uint8_t)c);
}

kstatus_t uart16550_init_boot(const struct boot_console *bc) {
    struct uart16550 *u = &uart0;

    u->pio = bc->type == BOOT_CONSOLE_UART16550_PIO;
    u->shift = bc->reg_shift;
    u->width = bc->reg_width ? bc->reg_width : 1;
    if (u->width != 1 && u->width != 4) {
        return KEEL_EINVAL;
    }
    if (u->pio) {
        if (bc->base > 0xfff8) {
            return KEEL_EINVAL;
        }
        u->port = (uint16_t)bc->base;
    } else {
        volatile void *va;
        kstatus_t st = arch_mmio_map(PADDR(bc->base), (size_t)8 << u->shift, &va);
        if (st != KEEL_OK) {
            return st;
        }
        u->regs = va;
    }
    uart_write(u, UART_IER, 0);
    if (bc->clock_hz != 0) {
        uint32_t divisor = bc->clock_hz / (16 * DEFAULT_BAUD);
        if (divisor == 0) {
            divisor = 1;
        }
        uart_write(u, UART_LCR, LCR_DLAB);
        uart_write(u, UART_DLL, (uint8_t)(divisor & 0xff));
        uart_write(u, UART_DLM, (uint8_t)(divisor >> 8));
    }
    uart_write(u, UART_LCR, LCR_8N1);
    uart_write(u, UART_FCR, 0x07); /* enable and clear FIFOs */
    uart_write(u, UART_MCR, 0x03); /* DTR, RTS */

    u->con.name = "uart16550";
    u->con.putc = uart16550_putc;
    return console_register(&u->con);
}
