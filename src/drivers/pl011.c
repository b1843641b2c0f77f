/* SPDX-License-Identifier: MIT */
/*
 * Arm PL011 UART as a polled console (found in the device tree as "arm,pl011").
 * Registers: 0x00 DR, 0x18 FR (bit 5 TXFF: transmit FIFO full), 0x30 CR.
 * Firmware (U-Boot, QEMU) has already enabled it; we only wait for FIFO room.
 */
#include <arch/cpu.h>
#include <arch/io.h>
#include <kernel/console.h>
#include <kernel/mmio.h>
#include <kernel/uart.h>

#define PL011_DR   0x00
#define PL011_FR   0x18
#define PL011_CR   0x30
#define FR_TXFF    (1u << 5)
#define CR_UARTEN  (1u << 0)
#define CR_TXE     (1u << 8)
#define SPIN_LIMIT 100000

struct pl011 {
    struct console con;
    volatile uint8_t *regs;
};

static struct pl011 pl011_0;

static void pl011_putc(struct console *con, char c) {
    struct pl011 *u = container_of(con, struct pl011, con);
    for (unsigned i = 0; i < SPIN_LIMIT && (mmio_read32(u->regs + PL011_FR) & FR_TXFF); i++) {
        arch_cpu_relax();
    }
    mmio_write32(u->regs + PL011_DR, (uint8_t)c);
}

kstatus_t pl011_init_boot(const struct boot_console *bc) {
    volatile void *va;
    kstatus_t st = arch_mmio_map(PADDR(bc->base), 0x1000, &va);
    if (st != KEEL_OK) {
        return st;
    }
    pl011_0.regs = va;
    uint32_t cr = mmio_read32(pl011_0.regs + PL011_CR);
    if ((cr & (CR_UARTEN | CR_TXE)) != (CR_UARTEN | CR_TXE)) {
        mmio_write32(pl011_0.regs + PL011_CR, cr | CR_UARTEN | CR_TXE);
    }
    pl011_0.con.name = "pl011";
    pl011_0.con.putc = pl011_putc;
    return console_register(&pl011_0.con);
}
