/* SPDX-License-Identifier: MIT */
/*
 * The FP/SIMD instructions of lazy FP switching (include/arch/fpu.h), kept out of C: the
 * kernel is compiled -mgeneral-regs-only, so this is the only file that touches V0-V31,
 * FPSR and FPCR. Save/restore of struct arch_fpu_state (arch_fpu.h) with q-register
 * pairs, and the KTEST helpers that fill and check every register from a seed.
 */
#include "aarch64.h"

    /* clang's integrated assembler follows -mgeneral-regs-only; this file may use FP/SIMD. */
    .arch_extension fp
    .arch_extension simd

    .text
    /* void arch_fpu_save(struct arch_fpu_state *st): V0-V31 at 0, FPSR at 512, FPCR at 520. */
    .globl  arch_fpu_save
    .type   arch_fpu_save, %function
arch_fpu_save:
    stp     q0, q1, [x0, #0]
    stp     q2, q3, [x0, #32]
    stp     q4, q5, [x0, #64]
    stp     q6, q7, [x0, #96]
    stp     q8, q9, [x0, #128]
    stp     q10, q11, [x0, #160]
    stp     q12, q13, [x0, #192]
    stp     q14, q15, [x0, #224]
    stp     q16, q17, [x0, #256]
    stp     q18, q19, [x0, #288]
    stp     q20, q21, [x0, #320]
    stp     q22, q23, [x0, #352]
    stp     q24, q25, [x0, #384]
    stp     q26, q27, [x0, #416]
    stp     q28, q29, [x0, #448]
    stp     q30, q31, [x0, #480]
    mrs     x1, fpsr
    mrs     x2, fpcr
    str     x1, [x0, #512]
    str     x2, [x0, #520]
    ret
    .size   arch_fpu_save, . - arch_fpu_save

    /* void arch_fpu_restore(const struct arch_fpu_state *st): the reverse. */
    .globl  arch_fpu_restore
    .type   arch_fpu_restore, %function
arch_fpu_restore:
    ldp     q0, q1, [x0, #0]
    ldp     q2, q3, [x0, #32]
    ldp     q4, q5, [x0, #64]
    ldp     q6, q7, [x0, #96]
    ldp     q8, q9, [x0, #128]
    ldp     q10, q11, [x0, #160]
    ldp     q12, q13, [x0, #192]
    ldp     q14, q15, [x0, #224]
    ldp     q16, q17, [x0, #256]
    ldp     q18, q19, [x0, #288]
    ldp     q20, q21, [x0, #320]
    ldp     q22, q23, [x0, #352]
    ldp     q24, q25, [x0, #384]
    ldp     q26, q27, [x0, #416]
    ldp     q28, q29, [x0, #448]
    ldp     q30, q31, [x0, #480]
    ldr     x1, [x0, #512]
    ldr     x2, [x0, #520]
    msr     fpsr, x1
    msr     fpcr, x2
    ret
    .size   arch_fpu_restore, . - arch_fpu_restore

    /*
     * The test pattern: a 64-bit LCG (Knuth's MMIX constants, full period) started at the
     * seed gives, in order, V0's low and high halves, V1's, ... V31's: 64 distinct values.
     * FPCR's RMode/FZ/DN take seed & 0xf, FPSR's cumulative flags (seed + 1) & 0x9f.
     */
    .macro  lcg_setup
    ldr     x11, =0x5851f42d4c957f2d
    ldr     x12, =0x14057b7ef767814f
    mov     x10, x0
    .endm

    .macro  lcg_next
    madd    x10, x10, x11, x12
    .endm

    /* void arch_fpu_test_fill(uint64_t seed); the first fmov traps if the unit is off. */
    .globl  arch_fpu_test_fill
    .type   arch_fpu_test_fill, %function
arch_fpu_test_fill:
    lcg_setup
    .irp    n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    lcg_next
    fmov    d\n, x10                /* low half; clears the high half */
    lcg_next
    mov     v\n\().d[1], x10        /* high half */
    .endr
    mrs     x1, fpcr
    and     x2, x0, #0xf
    bic     x1, x1, #FPCR_TEST_MASK
    orr     x1, x1, x2, lsl #FPCR_TEST_SHIFT
    msr     fpcr, x1
    mrs     x1, fpsr
    add     x2, x0, #1
    mov     x3, #FPSR_TEST_MASK
    and     x2, x2, x3
    bic     x1, x1, x3
    orr     x1, x1, x2
    msr     fpsr, x1
    ret
    .size   arch_fpu_test_fill, . - arch_fpu_test_fill

    /* bool arch_fpu_test_check(uint64_t seed): every half, FPCR and FPSR bits as filled. */
    .globl  arch_fpu_test_check
    .type   arch_fpu_test_check, %function
arch_fpu_test_check:
    lcg_setup
    mov     x9, #0                  /* OR of every difference */
    .irp    n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    lcg_next
    fmov    x13, d\n
    eor     x13, x13, x10
    orr     x9, x9, x13
    lcg_next
    mov     x13, v\n\().d[1]
    eor     x13, x13, x10
    orr     x9, x9, x13
    .endr
    mrs     x1, fpcr
    and     x1, x1, #FPCR_TEST_MASK
    and     x2, x0, #0xf
    eor     x1, x1, x2, lsl #FPCR_TEST_SHIFT
    orr     x9, x9, x1
    mrs     x1, fpsr
    add     x2, x0, #1
    mov     x3, #FPSR_TEST_MASK
    eor     x1, x1, x2
    and     x1, x1, x3
    orr     x9, x9, x1
    cmp     x9, #0
    cset    w0, eq
    ret
    .size   arch_fpu_test_check, . - arch_fpu_test_check
    .ltorg

    .section .note.GNU-stack, "", %progbits
