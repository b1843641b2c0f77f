/* SPDX-License-Identifier: MIT */
/*
 * The reference (pre-rewrite) device tree boot-info parser, kept for the host tests as an
 * oracle for src/boot/fdt_boot.c (see fdt_boot_ref.c).
 */
#ifndef BOOT_FDT_BOOT_REF_H
#define BOOT_FDT_BOOT_REF_H

#include <kernel/fdt.h>

/* fdt_parse_boot_info() as it was: same contract, same results, many tree walks. */
kstatus_t ref_fdt_parse_boot_info(const void *blob, size_t size, uint64_t blob_phys,
                                  struct boot_info *bi);

#endif /* BOOT_FDT_BOOT_REF_H */
