/* SPDX-License-Identifier: MIT */
/*
 * The fake HAL: what the portable core needs from an arch, implemented on the host so
 * src/ can be unit-tested at host speed. Output goes to a capture buffer; stopping the
 * machine either longjmps back into a test that expects it or aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arch/cpu.h>
#include <arch/io.h>
#include <arch/trap.h>
#include <kernel/console.h>

#include "fake_hal.h"

const char arch_name[] = "host";
_Thread_local unsigned long fake_irq_disabled;

char fake_console_buf[65536];
size_t fake_console_len;
jmp_buf *fake_stop_jmp;
int fake_stop_status;

static void fake_putc(struct console *con, char c) {
    (void)con;
    if (fake_console_len < sizeof(fake_console_buf) - 1) {
        fake_console_buf[fake_console_len++] = c;
        fake_console_buf[fake_console_len] = '\0';
    }
}

static struct console fake_console = {.name = "fake", .putc = fake_putc};
static int fake_console_registered;

void fake_console_reset(void) {
    fake_console_len = 0;
    fake_console_buf[0] = '\0';
}

void fake_console_install(void) {
    if (!fake_console_registered) {
        fake_console_registered = 1;
        if (console_register(&fake_console) != KEEL_OK) {
            abort();
        }
    }
    fake_console_reset();
}

static __noreturn void fake_stop(int status) {
    fake_stop_status = status;
    if (fake_stop_jmp != NULL) {
        longjmp(*fake_stop_jmp, 1);
    }
    fprintf(stderr, "fake HAL: machine stopped with status %d\n%s\n", status, fake_console_buf);
    abort();
}

void arch_halt(void) {
    fake_stop(-1);
}

void arch_power_off(int status) {
    fake_stop(status);
}

uint8_t arch_pio_read8(uint16_t port) {
    (void)port;
    return 0xff;
}

void arch_pio_write8(uint16_t port, uint8_t value) {
    (void)port;
    (void)value;
}

kstatus_t arch_mmio_map(paddr_t pa, size_t size, volatile void **out) {
    (void)pa;
    (void)size;
    (void)out;
    return KEEL_ENOTSUP;
}

void arch_trap_init(void) {}

void arch_trap_dump_regs(const struct trap_frame *tf) {
    (void)tf;
}

uintptr_t arch_trap_pc(const struct trap_frame *tf) {
    return tf->pc;
}

uintptr_t arch_trap_fp(const struct trap_frame *tf) {
    return tf->fp;
}

uintptr_t arch_unmapped_address(void) {
    return 0;
}

/* No symbol table on the host: backtraces print bare addresses. */
const uint64_t ksyms_count = 0;
const uint64_t ksyms_addrs[1];
const uint32_t ksyms_name_offsets[1];
const char ksyms_names[1];
