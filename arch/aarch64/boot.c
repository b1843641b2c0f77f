/* SPDX-License-Identifier: MIT */
/*
 * AArch64 boot, C side: runs at the link address once entry.S has the MMU on. Parses
 * the device tree booti handed over (already mapped in the direct map by the entry
 * code), builds the direct map of all RAM, fills struct boot_info and calls kmain().
 * Bad firmware input ends here with a message on the semihosting console and power-off
 * status 3.
 */
#include <arch/cpu.h>
#include <arch/trap.h>
#include <kernel/boot_info.h>
#include <kernel/console.h>
#include <kernel/fdt.h>
#include <kernel/kprintf.h>
#include <kernel/memmap.h>
#include <kernel/string.h>

#include "aarch64.h"

#define BLOCK_2M       0x200000ULL
#define BOOT_FAIL_CODE 3

static struct boot_info boot_info;
static char firmware_name[96];

static const char *status_name(kstatus_t st) {
    static const char *const names[KEEL_ERROR_COUNT] = {
        "ok",           "invalid", "not found",    "permission denied", "out of memory",
        "busy",         "timeout", "exhausted",    "bad capability",    "IPC error",
        "memory error", "corrupt", "out of range", "not supported",     "bad address",
        "exists"};
    return st <= 0 && st > -KEEL_ERROR_COUNT ? names[-st] : "unknown error";
}

/* Say why the boot cannot go on (semihosting, and the DTB console if known); power off. */
static __noreturn __printf_like(1, 2) void boot_fail(const char *fmt, ...) {
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    kvsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    aarch64_early_puts("keel: boot failed: ");
    aarch64_early_puts(msg);
    aarch64_early_puts("\n");
    if (boot_info.console.type != BOOT_CONSOLE_NONE &&
        console_init_boot(&boot_info.console) == KEEL_OK) {
        kprintf("keel: boot failed: %s\n", msg);
    }
    arch_power_off(BOOT_FAIL_CODE);
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The direct map: every /memory reg range, page-rounded inward, RW and never executable. */
static kstatus_t map_ram(const void *blob, size_t size) {
    struct fdt fdt;
    kstatus_t st = fdt_init(&fdt, blob, size);
    fdt_node_t root = fdt_root(&fdt);

    for (fdt_node_t n = fdt_first_child(&fdt, root); st == KEEL_OK && n != FDT_NONE;
         n = fdt_next_sibling(&fdt, n)) {
        const char *type;
        if (fdt_get_string(&fdt, n, "device_type", &type) != KEEL_OK ||
            strcmp(type, "memory") != 0 || !fdt_is_enabled(&fdt, n)) {
            continue;
        }
        uint64_t base, len;
        for (uint32_t i = 0; fdt_get_reg(&fdt, n, i, &base, &len) == KEEL_OK; i++) {
            uint64_t start = ALIGN_UP(base, (uint64_t)PAGE_SIZE);
            uint64_t end = base + len < base ? UINT64_MAX : base + len;
            end = ALIGN_DOWN(MIN(end, (uint64_t)KEEL_DIRECT_MAP_MAX), (uint64_t)PAGE_SIZE);
            if (end <= start) {
                continue;
            }
            st = aarch64_map_ram(start, end);
            if (st != KEEL_OK) {
                break;
            }
        }
    }
    return st;
}

/* "U-Boot <version>" when U-Boot left its mark in /chosen, else a generic name. */
static void name_firmware(const void *blob, size_t size, uint64_t entry_el) {
    struct fdt fdt;
    fdt_node_t chosen;
    const char *version = NULL;

    if (fdt_init(&fdt, blob, size) == KEEL_OK &&
        fdt_find_path(&fdt, "/chosen", &chosen) == KEEL_OK &&
        fdt_get_string(&fdt, chosen, "u-boot,version", &version) != KEEL_OK) {
        version = NULL;
    }
    if (version != NULL) {
        ksnprintf(firmware_name, sizeof(firmware_name), "U-Boot %s, entered at EL%u", version,
                  (unsigned)entry_el);
    } else {
        ksnprintf(firmware_name, sizeof(firmware_name),
                  "a device-tree loader (booti protocol), entered at EL%u", (unsigned)entry_el);
    }
    boot_info.firmware = firmware_name;
}

/*
 * The EL1 virtual timer's INTID: the third entry of the arm,armv8-timer node's
 * "interrupts" (GIC cells: type, number, flags; type 1 = PPI, INTID = number + 16).
 * Without the node the Arm BSA's PPI 11 (irq.c's default) stays.
 */
static void find_timer_intid(const void *blob, size_t size) {
    struct fdt fdt;
    fdt_node_t n;
    const void *val;
    uint32_t len;

    if (fdt_init(&fdt, blob, size) != KEEL_OK ||
        fdt_find_compatible(&fdt, FDT_NONE, "arm,armv8-timer", &n) != KEEL_OK ||
        fdt_get_prop(&fdt, n, "interrupts", &val, &len) != KEEL_OK || len < 36 || len % 12 != 0) {
        return;
    }
    const uint8_t *virt = (const uint8_t *)val + 24;
    if (be32(virt) == 1 && be32(virt + 4) < 16) {
        aarch64_set_timer_intid(be32(virt + 4) + 16);
    }
}

void aarch64_boot_c(uint64_t dtb_pa, uint64_t kernel_pa, uint64_t entry_cycles, uint64_t entry_el,
                    uint64_t flags, uint64_t pool_used) {
    struct boot_info *bi = &boot_info;
    kstatus_t st;

    aarch64_cycles_from_pmu = (flags & BOOTF_HAVE_PMU) != 0;
    aarch64_mmu_init(kernel_pa, pool_used);
    arch_trap_init();
    aarch64_drop_identity_map();

    bi->entry_cycles = entry_cycles;
    bi->kernel_phys_base = PADDR(kernel_pa);
    bi->kernel_size = (uint64_t)(__kernel_end - __kernel_start);
    if ((flags & BOOTF_DTB_MAPPED) == 0) {
        boot_fail("no flattened device tree at x0 = %#llx (no FDT magic there)",
                  (unsigned long long)dtb_pa);
    }
    const uint8_t *blob = (const uint8_t *)(uintptr_t)(KEEL_DIRECT_MAP_BASE + dtb_pa);
    uint64_t size = be32(blob + 4);
    uint64_t window_end = ALIGN_DOWN(dtb_pa, BLOCK_2M) + EARLY_DTB_MAX_BLOCKS * BLOCK_2M;
    if (dtb_pa + size > window_end) {
        boot_fail("device tree at %#llx is %llu bytes; the early window maps at most %llu",
                  (unsigned long long)dtb_pa, (unsigned long long)size,
                  (unsigned long long)(window_end - dtb_pa));
    }
    st = memmap_add(bi, kernel_pa, bi->kernel_size, MEM_KERNEL, 0);
    if (st == KEEL_OK) {
        st = fdt_parse_boot_info(blob, size, dtb_pa, bi);
    }
    if (st != KEEL_OK) {
        boot_fail("device tree at %#llx rejected: %s", (unsigned long long)dtb_pa, status_name(st));
    }
    st = map_ram(blob, size);
    if (st != KEEL_OK) {
        boot_fail("cannot build the direct map of RAM: %s", status_name(st));
    }
    if (memmap_usable_bytes(bi) == 0) {
        boot_fail("the device tree describes no usable memory");
    }
    if (bi->console.type == BOOT_CONSOLE_NONE) {
        boot_fail("no console in the device tree (/chosen stdout-path or an arm,pl011 node)");
    }
    if (bi->timer_freq_hz == 0) {
        uint64_t frq;
        __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frq));
        bi->timer_freq_hz = frq & 0xffffffff;
    }
    aarch64_timer_set_freq(bi->timer_freq_hz);
    find_timer_intid(blob, size);
    aarch64_set_psci(bi->psci_method);
    name_firmware(blob, size, entry_el);
    kmain(bi);
}
