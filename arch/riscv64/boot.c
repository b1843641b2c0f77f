/* SPDX-License-Identifier: MIT */
/*
 * riscv64 boot, the C half: entry.S arrives here on the boot stack, running at the link
 * address with the kernel image mapped. This turns OpenSBI's handover (hart id, DTB)
 * into struct boot_info, extends the direct map over all RAM, finds the power-off
 * device, and calls kmain(). A bad handover ends in a message through SBI and a
 * failing power-off, never a silent hang.
 */
#include <arch/cpu.h>
#include <arch/io.h>
#include <arch/trap.h>
#include <kernel/fdt.h>
#include <kernel/kprintf.h>
#include <kernel/memmap.h>
#include <kernel/percpu.h>
#include <kernel/string.h>

#include "riscv.h"

#define FDT_HEADER_SIZE 40
#define FDT_MAX_SIZE    (64u << 20) /* refuse absurd totalsize values */

/* Called from entry.S. */
__noreturn void riscv_boot_main(uint64_t hart, uint64_t dtb_pa, uint64_t entry_cycles);

static struct boot_info boot_info;
uint64_t riscv_boot_hart;
bool riscv_dt_svpbmt;
bool riscv_dt_fpu;
static char firmware_name[48];

/*
 * Report a fatal boot problem on the SBI console and power off with failure. Before the
 * test device is known this is SBI SRST "system failure", which OpenSBI 1.1 turns into
 * QEMU exit status 0: the message is the reliable signal there.
 */
static __noreturn void boot_fail(const char *what, kstatus_t st) {
    char buf[160];

    ksnprintf(buf, sizeof(buf), "\nKeel: boot failed: %s (error %d)\n", what, st);
    riscv_early_puts(buf);
    arch_power_off(1);
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Map the DTB into the direct map (header first, then its totalsize); return its size. */
static uint32_t map_dtb(uint64_t dtb_pa) {
    if (dtb_pa == 0 || !IS_ALIGNED(dtb_pa, 8)) {
        boot_fail("no device tree from the firmware (a1 is 0 or misaligned)", KEEL_EINVAL);
    }
    kstatus_t st = riscv_direct_map(dtb_pa, FDT_HEADER_SIZE);
    if (st != KEEL_OK) {
        boot_fail("device tree address out of range", st);
    }
    const uint8_t *hdr = dm_ptr(dtb_pa);
    uint32_t size = be32(hdr + 4);
    if (be32(hdr) != FDT_MAGIC) {
        boot_fail("device tree has a bad magic number", KEEL_ECORRUPT);
    }
    if (size < FDT_HEADER_SIZE || size > FDT_MAX_SIZE) {
        boot_fail("device tree has an impossible totalsize", KEEL_ECORRUPT);
    }
    st = riscv_direct_map(dtb_pa, size);
    if (st != KEEL_OK) {
        boot_fail("cannot map the device tree", st);
    }
    return size;
}

static kstatus_t direct_map_run(uint64_t base, uint64_t size, void *ctx) {
    (void)ctx;
    return riscv_direct_map(base, size);
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

/*
 * True if the ISA string names single-letter extension c (lower case): in the letters
 * after "rv64" ("rv64imafdc_zicsr"; "g" is "imafd") or in a later single-letter part
 * (the versioned form "rv64i2p1_m2p0_f2p2_d2p2"; a "p" between digits is a version).
 */
static bool isa_string_has_letter(const char *isa, size_t len, char c) {
    if (len < 4 || (isa[0] | 0x20) != 'r' || (isa[1] | 0x20) != 'v') {
        return false;
    }
    bool single = true; /* in a part of single-letter extensions */
    for (size_t i = 4; i < len && isa[i] != '\0'; i++) {
        char l = (char)(isa[i] | 0x20);
        if (isa[i] == '_') {
            /* Multi-letter names start with z, s, x or h; anything else is single letters. */
            char next = i + 1 < len ? (char)(isa[i + 1] | 0x20) : '\0';
            single = next != 'z' && next != 's' && next != 'x' && next != 'h';
            continue;
        }
        if (!single || is_digit(isa[i]) ||
            (l == 'p' && is_digit(isa[i - 1]) && i + 1 < len && is_digit(isa[i + 1]))) {
            continue;
        }
        if (l == c || (l == 'g' && (c == 'i' || c == 'm' || c == 'a' || c == 'f' || c == 'd'))) {
            return true;
        }
    }
    return false;
}

/* True if the ISA string (riscv,isa: "rv64imac_zicsr_svpbmt") names extension ext. */
static bool isa_string_has(const char *isa, size_t len, const char *ext) {
    size_t n = strlen(ext);
    if (n == 1) {
        return isa_string_has_letter(isa, len, ext[0]);
    }
    for (size_t i = 0; i < len && isa[i] != '\0'; i++) {
        /* Multi-letter extensions follow an underscore; names are case-insensitive. */
        if (isa[i] != '_' || i + 1 + n > len) {
            continue;
        }
        size_t k = 0;
        while (k < n && (isa[i + 1 + k] | 0x20) == ext[k]) {
            k++;
        }
        char next = i + 1 + n < len ? isa[i + 1 + n] : '\0';
        if (k == n && (next == '\0' || next == '_')) {
            return true;
        }
    }
    return false;
}

/* The /cpus child whose reg is this hart id, or FDT_NONE. */
static fdt_node_t hart_node(const struct fdt *fdt, uint64_t hart) {
    fdt_node_t cpus;

    if (fdt_find_path(fdt, "/cpus", &cpus) != KEEL_OK) {
        return FDT_NONE;
    }
    for (fdt_node_t n = fdt_first_child(fdt, cpus); n != FDT_NONE; n = fdt_next_sibling(fdt, n)) {
        uint64_t id, unused;
        if (fdt_get_reg(fdt, n, 0, &id, &unused) == KEEL_OK && id == hart) {
            return n;
        }
    }
    return FDT_NONE;
}

/* Does the hart's /cpus node (FDT_NONE: no) list extension ext (lower case)? */
static bool hart_has_extension(const struct fdt *fdt, fdt_node_t n, const char *ext) {
    const void *prop;
    uint32_t len;

    if (n == FDT_NONE) {
        return false;
    }
    /* riscv,isa-extensions: a string list, one name each (newer device trees). */
    if (fdt_get_prop(fdt, n, "riscv,isa-extensions", &prop, &len) == KEEL_OK) {
        const char *s = prop;
        size_t want = strlen(ext);
        for (uint32_t at = 0; at < len;) {
            size_t l = strnlen(s + at, len - at);
            if (l == want && memcmp(s + at, ext, want) == 0) {
                return true;
            }
            at += (uint32_t)l + 1;
        }
    }
    if (fdt_get_prop(fdt, n, "riscv,isa", &prop, &len) == KEEL_OK) {
        return isa_string_has(prop, len, ext);
    }
    return false;
}

/* The boot hart's extensions that the kernel uses, from its /cpus node (one blob check). */
static void read_hart_extensions(const void *dtb, uint32_t size, uint64_t hart) {
    struct fdt fdt;
    fdt_node_t n = FDT_NONE;

    if (fdt_init(&fdt, dtb, size) == KEEL_OK) {
        n = hart_node(&fdt, hart);
    }
    riscv_dt_svpbmt = hart_has_extension(&fdt, n, "svpbmt");
    riscv_dt_sstc = hart_has_extension(&fdt, n, "sstc");
    riscv_dt_fpu = hart_has_extension(&fdt, n, "f") && hart_has_extension(&fdt, n, "d");
}

/* Map the "sifive,test0" device (QEMU virt's exit finisher) for arch_power_off(). */
static void find_test_device(const void *dtb, uint32_t size) {
    struct fdt fdt;
    fdt_node_t node;
    uint64_t base, len;
    volatile void *va;

    if (fdt_init(&fdt, dtb, size) != KEEL_OK ||
        fdt_find_compatible(&fdt, FDT_NONE, "sifive,test0", &node) != KEEL_OK ||
        fdt_get_reg(&fdt, node, 0, &base, &len) != KEEL_OK || len < 4 ||
        arch_mmio_map(PADDR(base), 4, &va) != KEEL_OK) {
        return; /* power-off falls back to SBI SRST */
    }
    riscv_test_dev = (volatile uint32_t *)va;
}

void riscv_boot_main(uint64_t hart, uint64_t dtb_pa, uint64_t entry_cycles) {
    struct boot_info *bi = &boot_info;
    kstatus_t st;

    bi->entry_cycles = entry_cycles;
    arch_trap_init();
    sbi_describe(firmware_name, sizeof(firmware_name));
    bi->firmware = firmware_name;
    bi->kernel_phys_base = PADDR(riscv_kernel_phys);
    bi->kernel_size = (uint64_t)(_kernel_end - _kernel_start);
    st = memmap_add(bi, riscv_kernel_phys, bi->kernel_size, MEM_KERNEL, 0);
    if (st != KEEL_OK) {
        boot_fail("cannot record the kernel image in the memory map", st);
    }

    uint32_t dtb_size = map_dtb(dtb_pa);
    const void *dtb = dm_ptr(dtb_pa);
    /* First, so that a failure below can still report its status through it. */
    find_test_device(dtb, dtb_size);
    st = fdt_parse_boot_info(dtb, dtb_size, dtb_pa, bi);
    if (st != KEEL_OK) {
        boot_fail("the device tree was rejected", st);
    }
    st = riscv_ram_runs(bi, direct_map_run, NULL);
    if (st != KEEL_OK) {
        boot_fail("cannot direct-map RAM", st);
    }

    if (bi->cpu_count == 0) {
        boot_fail("no CPUs in the device tree's /cpus", KEEL_ENOTFOUND);
    }
    /* OpenSBI's lottery picks any hart to boot; find it in the list. */
    riscv_boot_hart = hart;
    riscv_early_percpu.hwid = hart;
    bi->boot_cpu = UINT32_MAX;
    for (uint32_t i = 0; i < bi->cpu_count; i++) {
        if (bi->cpus[i].hwid == hart) {
            bi->boot_cpu = i;
        }
    }
    if (bi->boot_cpu == UINT32_MAX) {
        boot_fail("the boot hart is not in the device tree's /cpus", KEEL_ENOTFOUND);
    }
    read_hart_extensions(dtb, dtb_size, hart);
    if (bi->console.type == BOOT_CONSOLE_NONE) {
        boot_fail("no console UART (ns16550a) in the device tree", KEEL_ENOTFOUND);
    }
    kmain(bi);
}
