/* SPDX-License-Identifier: MIT */
/* The QEMU device-tree fixtures (tests/fixtures/dtb/), shared by the boot parser tests. */
#ifndef BOOT_TEST_FIXTURE_H
#define BOOT_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

/* Read fixture `name` (without ".dtb") into a malloc'd buffer of exactly its size; the
 * calling CMocka test fails if it cannot. The caller frees it. */
uint8_t *load_fixture(const char *name, size_t *size);

#endif /* BOOT_TEST_FIXTURE_H */
