/* SPDX-License-Identifier: MIT */
/*
 * The one boot contract: every arch turns what its firmware hands over (UEFI memory
 * map and ACPI, or a flattened device tree) into a struct boot_info and calls kmain().
 * src/ never sees EFI, FDT or SBI types; it sees this.
 */
#ifndef KERNEL_BOOT_INFO_H
#define KERNEL_BOOT_INFO_H

#include <kernel/types.h>

#define BOOT_MAX_MEM_REGIONS 256
#define BOOT_MAX_CPUS        64
#define BOOT_CMDLINE_MAX     1024
#define BOOT_MAX_NUMA_NODES  8

/* Memory region types. When regions overlap, the higher value wins (see memmap.h). */
enum mem_type {
    MEM_USABLE = 1,       /* free RAM the kernel may allocate */
    MEM_ACPI_RECLAIM = 2, /* ACPI tables; reclaimable once parsed */
    MEM_FIRMWARE = 3,     /* firmware code/data kept at run time (EFI runtime, OpenSBI) */
    MEM_ACPI_NVS = 4,     /* ACPI non-volatile storage */
    MEM_RESERVED = 5,     /* reserved by firmware or the device tree; never touch */
    MEM_MMIO = 6,         /* device registers */
    MEM_BAD = 7,          /* faulty RAM */
    MEM_DTB = 8,          /* the flattened device tree blob */
    MEM_INITRD = 9,       /* the initial ramdisk */
    MEM_KERNEL = 10,      /* the kernel image, its page tables and boot stacks */
};

struct mem_region {
    uint64_t base; /* physical address */
    uint64_t size; /* bytes; never 0 in a normalised map */
    uint32_t type; /* enum mem_type */
    uint32_t node; /* NUMA node, 0 when unknown */
};

struct boot_cpu {
    uint64_t hwid; /* x86 APIC id, AArch64 MPIDR affinity bits, RISC-V hart id */
    uint32_t node; /* NUMA node */
    uint32_t enabled;
};

enum boot_console_type {
    BOOT_CONSOLE_NONE = 0,
    BOOT_CONSOLE_UART16550_PIO,  /* base is an I/O port (x86 COM1 = 0x3f8) */
    BOOT_CONSOLE_UART16550_MMIO, /* base is a physical address; reg_shift/reg_width apply */
    BOOT_CONSOLE_PL011,          /* base is a physical address */
};

struct boot_console {
    uint32_t type;      /* enum boot_console_type */
    uint32_t reg_shift; /* register stride is 1 << reg_shift bytes */
    uint32_t reg_width; /* access width in bytes: 1 or 4 */
    uint32_t clock_hz;  /* input clock, 0 if unknown (leave the divisor as firmware set it) */
    uint64_t base;
    uint64_t size;
};

enum boot_intc_type {
    BOOT_INTC_NONE = 0,
    BOOT_INTC_APIC, /* x86 local APIC + IOAPIC (from the MADT) */
    BOOT_INTC_GICV2,
    BOOT_INTC_GICV3,
    BOOT_INTC_PLIC,
};

struct boot_intc {
    uint32_t type; /* enum boot_intc_type */
    uint32_t pad;
    uint64_t base[2]; /* GIC: distributor, redistributor/CPU interface; PLIC: base */
    uint64_t size[2]; /* APIC: base[0] = LAPIC, base[1] = first IOAPIC */
};

struct boot_framebuffer {
    uint64_t base; /* physical; 0 when there is none */
    uint32_t width, height, pitch, bpp;
};

/* How PSCI calls are made on AArch64 (the device tree's /psci "method"). */
enum boot_psci_method {
    BOOT_PSCI_NONE = 0,
    BOOT_PSCI_HVC,
    BOOT_PSCI_SMC,
};

/* A 32-bit register that powers the machine off (RISC-V virt: the sifive,test device). */
struct boot_poweroff {
    uint64_t base;   /* physical; 0 when there is none */
    uint32_t offset; /* write `value` (32 bits) at base + offset */
    uint32_t value;  /* 0x5555 = pass on the QEMU test device */
};

#define BOOT_MAX_NUMA_RANGES 32

/* A physical range and the NUMA node it belongs to (ACPI SRAT memory affinity). */
struct boot_numa_range {
    uint64_t base;
    uint64_t size;
    uint32_t node;
    uint32_t pad;
};

/* NUMA topology. Node numbers are dense (0..node_count-1); domain[] maps them back. */
struct boot_numa {
    uint32_t node_count;                  /* 0: no NUMA information (all node 0) */
    uint32_t range_count;                 /* entries used in range[] */
    uint32_t domain[BOOT_MAX_NUMA_NODES]; /* firmware id: ACPI proximity domain / DT id */
    struct boot_numa_range range[BOOT_MAX_NUMA_RANGES];
    uint8_t distance[BOOT_MAX_NUMA_NODES][BOOT_MAX_NUMA_NODES]; /* SLIT; 0 = unknown */
};

struct boot_info {
    /* Physical memory map, normalised: sorted, no overlaps, neighbours of a type merged. */
    struct mem_region mem[BOOT_MAX_MEM_REGIONS];
    uint32_t mem_count;
    uint32_t mem_dropped; /* regions that did not fit; > 0 is reported at boot */

    char cmdline[BOOT_CMDLINE_MAX];

    paddr_t initrd_base;
    uint64_t initrd_size;
    paddr_t dtb; /* 0 when booted through ACPI */
    uint64_t dtb_size;
    paddr_t acpi_rsdp; /* 0 when booted through a device tree */

    struct boot_cpu cpus[BOOT_MAX_CPUS];
    uint32_t cpu_count;
    uint32_t boot_cpu; /* index into cpus[] of the CPU running kmain */

    struct boot_console console;
    struct boot_intc intc;
    uint64_t timer_freq_hz; /* 0 when it has to be calibrated */
    struct boot_framebuffer fb;

    paddr_t kernel_phys_base; /* where the kernel image was loaded */
    uint64_t kernel_size;     /* image + bss + boot page tables */
    const char *firmware;     /* "UEFI", "U-Boot", "OpenSBI": what handed over */
    uint64_t entry_cycles;    /* arch_cycle_counter() at the first kernel instruction */

    /* Filled by the FDT / ACPI parsers (src/boot/); zero when the firmware has none. */
    uint32_t cpu_dropped;          /* CPUs beyond BOOT_MAX_CPUS; > 0 is reported at boot */
    uint32_t psci_method;          /* enum boot_psci_method */
    struct boot_poweroff poweroff; /* RISC-V virt test device; base 0 when absent */
    struct boot_numa numa;

    /* x86_64: physical block below 1 MiB that the loader reserved (as MEM_KERNEL) for the
     * AP start-up trampoline, page aligned; size 0 when there is none. */
    paddr_t ap_trampoline;
    uint64_t ap_trampoline_size;
};

/* The portable kernel entry point; the same on every arch. Never returns. */
__noreturn void kmain(const struct boot_info *bi);

/* The boot info kmain() was given (for self tests and diagnostics); NULL before. */
extern const struct boot_info *kmain_boot_info;

#endif /* KERNEL_BOOT_INFO_H */
