/* SPDX-License-Identifier: MIT */
/*
 * From the EFI loader's handoff to kmain(): install the GDT/IDT first, check that what
 * the loader passed is a boot_info we can trust, then finish it the portable way (ACPI
 * MADT/SRAT through acpi_parse_boot_info, memmap_normalize) and call kmain. Anything
 * wrong is reported on COM1 and ends in a failing power-off, never a silent hang.
 */
#include <arch/cpu.h>
#include <arch/trap.h>
#include <arch/x86_pt.h>
#include <kernel/acpi.h>
#include <kernel/boot_info.h>
#include <kernel/memmap.h>
#include <kernel/string.h>
#include <kernel/vm.h>

#include "x86.h"

/* Power-off status when the loader's handoff or the firmware's tables are unusable. */
#define BOOT_INPUT_ERROR  3
#define FIRMWARE_NAME_MAX 64

bool x86_in_kmain;

/* Entered from entry.S on the boot stack; never returns. */
__noreturn void x86_boot_main(struct boot_info *bi, uint64_t magic, uint64_t entry_cycles);

static __noreturn void boot_fail(const char *what, uint64_t code) {
    x86_early_puts("keel: boot failed: ");
    x86_early_puts(what);
    if (code != 0) {
        x86_early_puts(" (");
        x86_early_hex(code);
        x86_early_puts(")");
    }
    x86_early_puts("\n");
    arch_power_off(BOOT_INPUT_ERROR);
}

/* The ACPI walker reads tables through the direct map; refuse what it does not cover. */
static const void *acpi_map(void *ctx, uint64_t phys, size_t len) {
    (void)ctx;
    if (len == 0 || phys + len < phys || phys + len > KEEL_DIRECT_MAP_SIZE ||
        !x86_kernel_readable((uintptr_t)(KEEL_DIRECT_MAP_BASE + phys), len)) {
        return NULL;
    }
    return phys_to_virt(PADDR(phys));
}

/* The loader's promises (docs/boot-x86_64.md); a mismatch means a foreign or stale loader. */
static void check_handoff(struct boot_info *bi, uint64_t magic) {
    uintptr_t va = (uintptr_t)bi;
    if (magic != X86_HANDOFF_MAGIC) {
        boot_fail("entered without the Keel EFI loader's handoff, magic", magic);
    }
    if (va < KEEL_DIRECT_MAP_BASE ||
        va > KEEL_DIRECT_MAP_BASE + KEEL_DIRECT_MAP_SIZE - sizeof(*bi) || (va & 7) != 0) {
        boot_fail("boot_info pointer outside the direct map", va);
    }
    uint64_t pte = 0;
    uint64_t page = 0;
    if (x86_pt_lookup((uintptr_t)__kernel_start, &pte, &page) != KEEL_OK) {
        boot_fail("kernel image not mapped", (uintptr_t)__kernel_start);
    }
    x86_kernel_phys = (pte & X86_PTE_ADDR & ~(page - 1)) + ((uintptr_t)__kernel_start & (page - 1));
    /* boot_info sits in the block the loader reserved for the kernel. */
    uint64_t bi_pa = va - KEEL_DIRECT_MAP_BASE;
    if (x86_pt_lookup(va, &pte, &page) != KEEL_OK ||
        x86_pt_lookup(va + sizeof(*bi) - 1, &pte, &page) != KEEL_OK) {
        boot_fail("boot_info not mapped", va);
    }
    if (bi->kernel_phys_base.pa != x86_kernel_phys || bi_pa < x86_kernel_phys ||
        bi_pa + sizeof(*bi) > x86_kernel_phys + bi->kernel_size) {
        boot_fail("boot_info names another kernel block", bi->kernel_phys_base.pa);
    }
    if (bi->mem_count == 0 || bi->mem_count > BOOT_MAX_MEM_REGIONS) {
        boot_fail("no usable memory map from the loader, regions", bi->mem_count);
    }
    if (strnlen(bi->cmdline, sizeof(bi->cmdline)) == sizeof(bi->cmdline)) {
        boot_fail("command line not terminated", 0);
    }
}

/* The firmware name is a string the loader left in the kernel block; else say "UEFI". */
static void check_firmware_name(struct boot_info *bi) {
    uintptr_t name = (uintptr_t)bi->firmware;
    if (name == 0 || !x86_kernel_readable(name, FIRMWARE_NAME_MAX) ||
        strnlen(bi->firmware, FIRMWARE_NAME_MAX) == FIRMWARE_NAME_MAX) {
        bi->firmware = "UEFI";
    }
}

/* Our local APIC id: CPUID leaf 0xb (x2APIC id) when present, else leaf 1. */
static uint32_t boot_apic_id(void) {
    uint32_t r[4];
    x86_cpuid(0, 0, r);
    if (r[0] >= 0xb) {
        x86_cpuid(0xb, 0, r);
        if (r[1] != 0) {
            return r[3];
        }
    }
    x86_cpuid(1, 0, r);
    return r[1] >> 24;
}

/* TSC frequency from CPUID 0x15 (crystal ratio) when the CPU states it; else 0. */
static uint64_t tsc_frequency(void) {
    uint32_t r[4];
    x86_cpuid(0, 0, r);
    if (r[0] < 0x15) {
        return 0;
    }
    x86_cpuid(0x15, 0, r);
    if (r[0] == 0 || r[1] == 0 || r[2] == 0) {
        return 0;
    }
    return (uint64_t)r[2] * r[1] / r[0];
}

static void find_cpus(struct boot_info *bi) {
    if (bi->acpi_rsdp.pa == 0) {
        boot_fail("no ACPI RSDP from the firmware: cannot find the CPUs", 0);
    }
    kstatus_t st = acpi_parse_boot_info(bi->acpi_rsdp.pa, acpi_map, NULL, bi);
    if (st != KEEL_OK) {
        boot_fail("ACPI tables unusable (RSDP/XSDT/MADT/SRAT), status", (uint64_t)(int64_t)st);
    }
    if (bi->cpu_count == 0) {
        boot_fail("the ACPI MADT lists no usable CPU", 0);
    }
    uint32_t me = boot_apic_id();
    bi->boot_cpu = 0;
    for (uint32_t i = 0; i < bi->cpu_count && i < BOOT_MAX_CPUS; i++) {
        if (bi->cpus[i].hwid == me) {
            bi->boot_cpu = i;
        }
    }
}

void x86_boot_main(struct boot_info *bi, uint64_t magic, uint64_t entry_cycles) {
    arch_trap_init();
    check_handoff(bi, magic);
    bi->entry_cycles = entry_cycles;
    x86_mmu_init(bi);
    check_firmware_name(bi);

    bi->console = (struct boot_console){
        .type = BOOT_CONSOLE_UART16550_PIO,
        .reg_shift = 0,
        .reg_width = 1,
        .clock_hz = 0, /* keep the firmware's 115200 8N1 divisor */
        .base = X86_COM1,
        .size = 8,
    };
    bi->timer_freq_hz = tsc_frequency();
    find_cpus(bi);

    kstatus_t st = memmap_normalize(bi);
    if (st != KEEL_OK && st != KEEL_EEXHAUSTED) {
        boot_fail("memory map normalisation failed, status", (uint64_t)(int64_t)st);
    }
    /* KEEL_EEXHAUSTED dropped regions; kmain reports bi->mem_dropped. */
    x86_in_kmain = true;
    kmain(bi);
}
