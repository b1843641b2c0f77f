/* SPDX-License-Identifier: MIT */
/*
 * The AArch64 trap frame: what the vectors (arch/aarch64/vectors.S) push on SP_EL1 for
 * every exception. The field offsets are fixed (TF_* in arch/aarch64/aarch64.h, checked
 * by static asserts in trap.c).
 */
#ifndef ARCH_ARCH_TRAP_H
#define ARCH_ARCH_TRAP_H

#include <stdint.h>

struct trap_frame {
    uint64_t x[31]; /* x0..x30 (x29 = frame pointer, x30 = link register) */
    uint64_t sp;    /* stack pointer of the interrupted context */
    uint64_t elr;   /* ELR_EL1: where the exception was taken (or the next instruction) */
    uint64_t spsr;  /* SPSR_EL1: the interrupted PSTATE */
    uint64_t esr;   /* ESR_EL1: exception class and syndrome */
    uint64_t far;   /* FAR_EL1: faulting virtual address (aborts, alignment) */
};

#endif /* ARCH_ARCH_TRAP_H */
