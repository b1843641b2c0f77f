/* SPDX-License-Identifier: MIT */
/*
 * AArch64 CPU-level HAL: the name, halting, power-off with a status (semihosting
 * SYS_EXIT, which QEMU turns into its exit code; PSCI SYSTEM_OFF when semihosting is
 * off), PSCI calls, the semihosting early console, and the port-I/O stubs (no port I/O
 * on Arm).
 */
#include <arch/cpu.h>
#include <arch/io.h>
#include <kernel/boot_info.h>
#include <kernel/kprintf.h>
#include <kernel/panic.h>

#include "aarch64.h"

const char arch_name[] = "aarch64";
bool aarch64_cycles_from_pmu;

static uint32_t psci_method;

void aarch64_set_psci(uint32_t method) {
    psci_method = method;
}

void aarch64_early_puts(const char *msg) {
    (void)aarch64_semihost(SEMIHOST_SYS_WRITE0, msg);
}

void arch_halt(void) {
    (void)arch_irq_save();
    for (;;) {
        __asm__ volatile("wfi" ::: "memory");
    }
}

/*
 * SMC Calling Convention: function id in x0, arguments in x1-x3, result in x0; x4-x17 may
 * be clobbered by firmware that follows SMCCC 1.0.
 */
int64_t aarch64_psci_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3) {
    register uint64_t x0 __asm__("x0") = fn;
    register uint64_t x1 __asm__("x1") = a1;
    register uint64_t x2 __asm__("x2") = a2;
    register uint64_t x3 __asm__("x3") = a3;

    if (psci_method == BOOT_PSCI_HVC) {
        __asm__ volatile("hvc #0"
                         : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                         :
                         : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
                           "x15", "x16", "x17", "memory");
    } else if (psci_method == BOOT_PSCI_SMC) {
        __asm__ volatile("smc #0"
                         : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                         :
                         : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
                           "x15", "x16", "x17", "memory");
    } else {
        return PSCI_NOT_SUPPORTED;
    }
    return (int64_t)x0;
}

void arch_power_off(int status) {
    /* ADP_Stopped_ApplicationExit with the status: QEMU exits with it. */
    const uint64_t block[2] = {SEMIHOST_APP_EXIT, (uint64_t)(uint32_t)status};

    (void)arch_irq_save();
    (void)aarch64_semihost(SEMIHOST_SYS_EXIT, block);
    if (status != 0) {
        kprintf("power-off: no semihosting; status %d is lost\n", status);
    }
    (void)aarch64_psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
    arch_halt();
}

uint8_t arch_pio_read8(uint16_t port) {
    panic("arch_pio_read8(%#x): there is no port I/O on aarch64", port);
}

void arch_pio_write8(uint16_t port, uint8_t value) {
    panic("arch_pio_write8(%#x, %#x): there is no port I/O on aarch64", port, value);
}
