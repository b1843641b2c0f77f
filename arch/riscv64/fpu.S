/* SPDX-License-Identifier: MIT */
/*
 * The only F/D instructions in the kernel (the rest is built -march=rv64imac): save and
 * load f0-f31 and fcsr for lazy switching (fpu.c), and the KTEST helpers that fill every
 * FP register and fcsr with a pattern and find which ones lost it. Each runs with
 * sstatus.FS on, or its first FP instruction traps (fpu.c, trap.c).
 */
#include <arch/arch_fpu.h>

/*
 * binutils (2.40 here) enables D for this file's code only; with push/pop around it the
 * object's ISA attribute stays rv64imac (without, it records the last arch: +f +d).
 * clang 14 has no ".option arch" and gets -march=rv64imafdc for this file (arch.cmake).
 */
#ifndef __riscv_d
    .option push
    .option arch, +d
#endif

    .section .text.fpu, "ax"
    .balign 4

/* void arch_fpu_save(struct arch_fpu_state *st (a0)) */
    .globl arch_fpu_save
arch_fpu_save:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fsd     f\i, ARCH_FPU_F0 + 8*\i(a0)
    .endr
    frcsr   t0
    sd      t0, ARCH_FPU_FCSR(a0)
    ret

/* void arch_fpu_restore(const struct arch_fpu_state *st (a0)) */
    .globl arch_fpu_restore
arch_fpu_restore:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fld     f\i, ARCH_FPU_F0 + 8*\i(a0)
    .endr
    ld      t0, ARCH_FPU_FCSR(a0)
    fscsr   t0
    ret

/*
 * void riscv_fpu_fill(uint64_t base (a0), uint64_t step (a1), uint64_t fcsr (a2)):
 * fi := base + i * step (raw bits), fcsr := fcsr.
 */
    .globl riscv_fpu_fill
riscv_fpu_fill:
    fscsr   a2
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fmv.d.x f\i, a0
    add     a0, a0, a1
    .endr
    ret

/*
 * uint64_t riscv_fpu_check(uint64_t base (a0), uint64_t step (a1), uint64_t fcsr (a2)):
 * the registers that do not hold what riscv_fpu_fill(base, step, fcsr) put there, as a
 * mask: bit i for fi, bit 32 for fcsr (frm and fflags). 0 when all do.
 */
    .globl riscv_fpu_check
riscv_fpu_check:
    mv      t0, a0
    frcsr   t1
    andi    t1, t1, 0xff
    xor     t1, t1, a2
    snez    t1, t1
    slli    a0, t1, 32
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fmv.x.d t1, f\i
    xor     t1, t1, t0
    snez    t1, t1
    slli    t1, t1, \i
    or      a0, a0, t1
    add     t0, t0, a1
    .endr
    ret

#ifndef __riscv_d
    .option pop
#endif
