/* SPDX-License-Identifier: MIT */
/*
 * ACPI table walker for x86_64 boot: RSDP -> XSDT/RSDT -> MADT (CPUs, local APIC,
 * IOAPIC), SRAT (NUMA affinity) and SLIT (NUMA distances). Physical memory is reached
 * only through a caller-supplied mapper, so host tests serve tables from a buffer and
 * the kernel uses its direct map. Every length and checksum is checked before use.
 */
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H

#include <kernel/boot_info.h>

/*
 * Make [phys, phys+len) readable and return a pointer to it, or NULL if that range is
 * not accessible. The pointer must stay valid until acpi_parse_boot_info() returns.
 */
typedef const void *(*acpi_map_fn)(void *ctx, uint64_t phys, size_t len);

#define ACPI_SIG_MADT "APIC"
#define ACPI_SIG_SRAT "SRAT"
#define ACPI_SIG_SLIT "SLIT"

/* Common header of every system description table (ACPI 6.5, 5.2.6). */
struct acpi_sdt_header {
    char signature[4];
    uint32_t length; /* of the whole table, header included */
    uint8_t revision;
    uint8_t checksum; /* all bytes of the table sum to 0 mod 256 */
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} __packed;

STATIC_ASSERT(sizeof(struct acpi_sdt_header) == 36, "ACPI SDT header is 36 bytes");

/*
 * Find the table with `sig` (4 chars) through the RSDP at rsdp_phys; on success *out
 * points at its validated header (length and checksum correct, whole table mapped).
 * KEEL_ENOTFOUND if absent; KEEL_ECORRUPT on a bad RSDP/XSDT/RSDT or table.
 */
__must_check kstatus_t acpi_find_table(uint64_t rsdp_phys, acpi_map_fn map, void *ctx,
                                       const char *sig, const struct acpi_sdt_header **out);

/*
 * Fill bi from ACPI: bi->acpi_rsdp; CPUs from the MADT (local APIC and x2APIC entries
 * that are enabled or online-capable); bi->intc (BOOT_INTC_APIC: base[0] = local APIC,
 * honouring a type-5 override; base[1] = first IOAPIC); bi->numa from the SRAT and SLIT
 * if present, applied to bi->mem and CPU nodes. KEEL_ECORRUPT on malformed or truncated
 * tables (bad checksum, length, zero-length entry, unmappable pointer); KEEL_ENOTFOUND
 * if there is no MADT; KEEL_ERANGE if more than BOOT_MAX_NUMA_NODES proximity domains.
 * Boot only, single-threaded.
 */
__must_check kstatus_t acpi_parse_boot_info(uint64_t rsdp_phys, acpi_map_fn map, void *ctx,
                                            struct boot_info *bi);

#endif /* KERNEL_ACPI_H */
