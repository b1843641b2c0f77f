/* SPDX-License-Identifier: MIT */
/*
 * riscv64 CPU and machine control: the arch name, halting, power-off with a status the
 * test harness reads from QEMU's exit code, and the port-I/O stubs (RISC-V has none).
 */
#include <arch/cpu.h>
#include <arch/io.h>
#include <kernel/panic.h>

#include "riscv.h"

/* sifive,test0 "finisher" commands (QEMU hw/misc/sifive_test.c). */
#define FINISHER_FAIL 0x3333
#define FINISHER_PASS 0x5555

const char arch_name[] = "riscv64";
volatile uint32_t *riscv_test_dev;

void arch_halt(void) {
    (void)arch_irq_save();
    csr_write(sie, 0);
    for (;;) {
        __asm__ volatile("wfi");
    }
}

void arch_power_off(int status) {
    (void)arch_irq_save();
    if (riscv_test_dev != NULL) {
        /* The exit status travels in bits 31:16 of a FAIL command (never 0 there). */
        uint32_t code = (uint32_t)status & 0xffff;
        if (code == 0) {
            code = 1;
        }
        *riscv_test_dev = status == 0 ? FINISHER_PASS : (code << 16) | FINISHER_FAIL;
    }
    sbi_shutdown(status == 0 ? 0 : 1);
    arch_halt();
}

uint8_t arch_pio_read8(uint16_t port) {
    panic("riscv64 has no port I/O (read of port %#x)", port);
}

void arch_pio_write8(uint16_t port, uint8_t value) {
    panic("riscv64 has no port I/O (write of %#x to port %#x)", value, port);
}
