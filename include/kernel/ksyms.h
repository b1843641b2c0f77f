/* SPDX-License-Identifier: MIT */
/*
 * Kernel symbol table for backtraces. The build links the kernel twice: the second
 * link carries a table of the first link's text symbols (tools/gen-ksyms), placed
 * after all code so no code address moves.
 */
#ifndef KERNEL_KSYMS_H
#define KERNEL_KSYMS_H

#include <kernel/types.h>

/* Find the function containing addr. Returns its name and sets *offset, or NULL. */
const char *ksym_lookup(uintptr_t addr, uintptr_t *offset);

#endif /* KERNEL_KSYMS_H */
