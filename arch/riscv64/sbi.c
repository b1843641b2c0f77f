/* SPDX-License-Identifier: MIT */
/*
 * The SBI calls the riscv64 port needs before it has drivers of its own: probing, the
 * early console (DBCN when the firmware has it, else legacy console_putchar), the
 * firmware's name for the banner, and system shutdown. RISC-V SBI spec v2.0.
 */
#include <kernel/kprintf.h>

#include "riscv.h"

#define SBI_BASE_GET_SPEC_VERSION 0
#define SBI_BASE_GET_IMPL_ID      1
#define SBI_BASE_GET_IMPL_VERSION 2
#define SBI_BASE_PROBE_EXTENSION  3
#define SBI_DBCN_WRITE_BYTE       2
#define SBI_SRST_RESET            0
#define SBI_SRST_TYPE_SHUTDOWN    0

enum early_console_kind { EARLY_UNKNOWN, EARLY_DBCN, EARLY_LEGACY };

static enum early_console_kind early_kind;

struct sbiret sbi_call(unsigned long eid, unsigned long fid, unsigned long a0, unsigned long a1,
                       unsigned long a2) {
    register unsigned long r_a0 __asm__("a0") = a0;
    register unsigned long r_a1 __asm__("a1") = a1;
    register unsigned long r_a2 __asm__("a2") = a2;
    register unsigned long r_a6 __asm__("a6") = fid;
    register unsigned long r_a7 __asm__("a7") = eid;

    __asm__ volatile("ecall" : "+r"(r_a0), "+r"(r_a1) : "r"(r_a2), "r"(r_a6), "r"(r_a7) : "memory");
    return (struct sbiret){.error = (long)r_a0, .value = (long)r_a1};
}

struct sbiret sbi_call4(unsigned long eid, unsigned long fid, unsigned long a0, unsigned long a1,
                        unsigned long a2, unsigned long a3) {
    register unsigned long r_a0 __asm__("a0") = a0;
    register unsigned long r_a1 __asm__("a1") = a1;
    register unsigned long r_a2 __asm__("a2") = a2;
    register unsigned long r_a3 __asm__("a3") = a3;
    register unsigned long r_a6 __asm__("a6") = fid;
    register unsigned long r_a7 __asm__("a7") = eid;

    __asm__ volatile("ecall"
                     : "+r"(r_a0), "+r"(r_a1)
                     : "r"(r_a2), "r"(r_a3), "r"(r_a6), "r"(r_a7)
                     : "memory");
    return (struct sbiret){.error = (long)r_a0, .value = (long)r_a1};
}

bool sbi_probe(unsigned long eid) {
    struct sbiret r = sbi_call(SBI_EXT_BASE, SBI_BASE_PROBE_EXTENSION, eid, 0, 0);

    return r.error == 0 && r.value != 0;
}

void riscv_early_puts(const char *s) {
    if (early_kind == EARLY_UNKNOWN) {
        /* An SBI without the base extension (v0.1) still has the legacy call. */
        early_kind = sbi_probe(SBI_EXT_DBCN) ? EARLY_DBCN : EARLY_LEGACY;
    }
    for (; *s != '\0'; s++) {
        if (early_kind == EARLY_DBCN) {
            (void)sbi_call(SBI_EXT_DBCN, SBI_DBCN_WRITE_BYTE, (unsigned char)*s, 0, 0);
        } else {
            (void)sbi_call(SBI_EXT_LEGACY_PUTCHAR, 0, (unsigned char)*s, 0, 0);
        }
    }
}

void sbi_describe(char *buf, size_t cap) {
    static const char *const impl_names[] = {"BBL",     "OpenSBI", "Xvisor", "KVM",
                                             "RustSBI", "Diosix",  "Coffer"};
    struct sbiret spec = sbi_call(SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION, 0, 0, 0);
    struct sbiret id = sbi_call(SBI_EXT_BASE, SBI_BASE_GET_IMPL_ID, 0, 0, 0);
    struct sbiret ver = sbi_call(SBI_EXT_BASE, SBI_BASE_GET_IMPL_VERSION, 0, 0, 0);

    if (spec.error != 0 || id.error != 0) {
        ksnprintf(buf, cap, "SBI v0.1");
        return;
    }
    const char *name =
        (unsigned long)id.value < ARRAY_SIZE(impl_names) ? impl_names[id.value] : "unknown SBI";
    unsigned long spec_major = ((unsigned long)spec.value >> 24) & 0x7f;
    unsigned long spec_minor = (unsigned long)spec.value & 0xffffff;
    if (ver.error == 0 && id.value == 1) {
        /* OpenSBI reports major << 16 | minor. */
        ksnprintf(buf, cap, "%s %lu.%lu (SBI %lu.%lu)", name, (unsigned long)ver.value >> 16,
                  (unsigned long)ver.value & 0xffff, spec_major, spec_minor);
    } else {
        ksnprintf(buf, cap, "%s (SBI %lu.%lu)", name, spec_major, spec_minor);
    }
}

void sbi_shutdown(unsigned long reason) {
    if (sbi_probe(SBI_EXT_SRST)) {
        (void)sbi_call(SBI_EXT_SRST, SBI_SRST_RESET, SBI_SRST_TYPE_SHUTDOWN, reason, 0);
    }
    (void)sbi_call(SBI_EXT_LEGACY_SHUTDOWN, 0, 0, 0, 0);
}
