/* SPDX-License-Identifier: MIT */
/* Shared by the host tests of src/proc/, src/irq/ and src/smp/: fake allocators. */
#ifndef PROC_TEST_H
#define PROC_TEST_H

#include <stdbool.h>

extern long fake_kmalloc_live; /* kmalloc'd blocks not yet freed */
extern long fake_vmalloc_live; /* vmalloc'd areas not yet freed */
extern bool fake_vmalloc_fail; /* make vmalloc fail (out of memory) */

#endif /* PROC_TEST_H */
