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

#include "riscv.h"

#define FDT_HEADER_SIZE 40
#define FDT_MAX_SIZE    (64u << 20) /* refuse absurd totalsize values */

/* Called from entry.S. */
__noreturn void riscv_boot_main(uint64_t hart, uint64_t dtb_pa, uint64_t entry_cycles);

static struct boot_info boot_info;
uint64_t riscv_boot_hart;
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

/* Direct-map every memory region, coalescing neighbours so big pages can be used. */
static void map_ram(const struct boot_info *bi) {
    uint64_t run_base = 0, run_end = 0;

    for (uint32_t i = 0; i <= bi->mem_count; i++) {
        const struct mem_region *r = i < bi->mem_count ? &bi->mem[i] : NULL;
        if (r != NULL && (r->type == MEM_MMIO || r->type == MEM_BAD)) {
            continue;
        }
        if (r != NULL && run_end != 0 && r->base <= ALIGN_UP(run_end, SZ_2M)) {
            run_end = MAX(run_end, r->base + r->size);
            continue;
        }
        if (run_end != 0) {
            kstatus_t st = riscv_direct_map(run_base, run_end - run_base);
            if (st != KEEL_OK) {
                boot_fail("cannot direct-map RAM", st);
            }
        }
        if (r != NULL) {
            run_base = r->base;
            run_end = r->base + r->size;
        }
    }
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
    map_ram(bi);

    if (bi->cpu_count == 0) {
        boot_fail("no CPUs in the device tree's /cpus", KEEL_ENOTFOUND);
    }
    /* OpenSBI's lottery picks any hart to boot; find it in the list. */
    riscv_boot_hart = hart;
    bi->boot_cpu = UINT32_MAX;
    for (uint32_t i = 0; i < bi->cpu_count; i++) {
        if (bi->cpus[i].hwid == hart) {
            bi->boot_cpu = i;
        }
    }
    if (bi->boot_cpu == UINT32_MAX) {
        boot_fail("the boot hart is not in the device tree's /cpus", KEEL_ENOTFOUND);
    }
    if (bi->console.type == BOOT_CONSOLE_NONE) {
        boot_fail("no console UART (ns16550a) in the device tree", KEEL_ENOTFOUND);
    }
    kmain(bi);
}
