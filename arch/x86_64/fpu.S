/* SPDX-License-Identifier: MIT */
/*
 * Every FP/SIMD instruction of the x86_64 kernel lives here (the C code is built with
 * -mno-sse -mno-80387): saving and loading a thread's state with XSAVE64/XRSTOR64 or
 * FXSAVE64/FXRSTOR64 (fpu.c picks one at boot), and the self-test helpers that move
 * every register the state covers in and out (struct x86_fpu_regs in x86.h).
 */
    .text

/* void x86_fpu_xsave(void *area, uint64_t mask): area 64-byte aligned. */
    .globl x86_fpu_xsave
    .type x86_fpu_xsave, @function
    .balign 16
x86_fpu_xsave:
    movl    %esi, %eax
    shrq    $32, %rsi
    movl    %esi, %edx
    xsave64 (%rdi)
    ret
    .size x86_fpu_xsave, . - x86_fpu_xsave

/* void x86_fpu_xrstor(const void *area, uint64_t mask) */
    .globl x86_fpu_xrstor
    .type x86_fpu_xrstor, @function
    .balign 16
x86_fpu_xrstor:
    movl    %esi, %eax
    shrq    $32, %rsi
    movl    %esi, %edx
    xrstor64 (%rdi)
    ret
    .size x86_fpu_xrstor, . - x86_fpu_xrstor

/* void x86_fpu_fxsave(void *area): area 16-byte aligned. */
    .globl x86_fpu_fxsave
    .type x86_fpu_fxsave, @function
    .balign 16
x86_fpu_fxsave:
    fxsave64 (%rdi)
    ret
    .size x86_fpu_fxsave, . - x86_fpu_fxsave

/* void x86_fpu_fxrstor(const void *area) */
    .globl x86_fpu_fxrstor
    .type x86_fpu_fxrstor, @function
    .balign 16
x86_fpu_fxrstor:
    fxrstor64 (%rdi)
    ret
    .size x86_fpu_fxrstor, . - x86_fpu_fxrstor

/* struct x86_fpu_regs offsets (x86.h). */
    .set REGS_ST, 512
    .set REGS_MXCSR, 576
    .set REGS_FCW, 580
    .set REGS_FSW, 582
    .set REGS_FTW, 584

/*
 * void x86_fpu_regs_load(const struct x86_fpu_regs *r, bool avx). fninit empties the x87
 * stack; ST(7)..ST(0) are then pushed so that ST(i) = r->st[i] and every slot is valid.
 */
    .globl x86_fpu_regs_load
    .type x86_fpu_regs_load, @function
    .balign 16
x86_fpu_regs_load:
    fninit
    fldcw   REGS_FCW(%rdi)
    ldmxcsr REGS_MXCSR(%rdi)
    fldl    REGS_ST + 7 * 8(%rdi)
    fldl    REGS_ST + 6 * 8(%rdi)
    fldl    REGS_ST + 5 * 8(%rdi)
    fldl    REGS_ST + 4 * 8(%rdi)
    fldl    REGS_ST + 3 * 8(%rdi)
    fldl    REGS_ST + 2 * 8(%rdi)
    fldl    REGS_ST + 1 * 8(%rdi)
    fldl    REGS_ST + 0 * 8(%rdi)
    testb   %sil, %sil
    jz      1f
    vmovdqu 0 * 32(%rdi), %ymm0
    vmovdqu 1 * 32(%rdi), %ymm1
    vmovdqu 2 * 32(%rdi), %ymm2
    vmovdqu 3 * 32(%rdi), %ymm3
    vmovdqu 4 * 32(%rdi), %ymm4
    vmovdqu 5 * 32(%rdi), %ymm5
    vmovdqu 6 * 32(%rdi), %ymm6
    vmovdqu 7 * 32(%rdi), %ymm7
    vmovdqu 8 * 32(%rdi), %ymm8
    vmovdqu 9 * 32(%rdi), %ymm9
    vmovdqu 10 * 32(%rdi), %ymm10
    vmovdqu 11 * 32(%rdi), %ymm11
    vmovdqu 12 * 32(%rdi), %ymm12
    vmovdqu 13 * 32(%rdi), %ymm13
    vmovdqu 14 * 32(%rdi), %ymm14
    vmovdqu 15 * 32(%rdi), %ymm15
    ret
1:
    movdqu  0 * 32(%rdi), %xmm0
    movdqu  1 * 32(%rdi), %xmm1
    movdqu  2 * 32(%rdi), %xmm2
    movdqu  3 * 32(%rdi), %xmm3
    movdqu  4 * 32(%rdi), %xmm4
    movdqu  5 * 32(%rdi), %xmm5
    movdqu  6 * 32(%rdi), %xmm6
    movdqu  7 * 32(%rdi), %xmm7
    movdqu  8 * 32(%rdi), %xmm8
    movdqu  9 * 32(%rdi), %xmm9
    movdqu  10 * 32(%rdi), %xmm10
    movdqu  11 * 32(%rdi), %xmm11
    movdqu  12 * 32(%rdi), %xmm12
    movdqu  13 * 32(%rdi), %xmm13
    movdqu  14 * 32(%rdi), %xmm14
    movdqu  15 * 32(%rdi), %xmm15
    ret
    .size x86_fpu_regs_load, . - x86_fpu_regs_load

/*
 * void x86_fpu_regs_store(struct x86_fpu_regs *r, bool avx). Changes no register it
 * reports: ST(i) is read by swapping it to the top, storing it without a pop (fstl) and
 * swapping it back. The tags and status word are taken first, by an FXSAVE64 to the
 * stack, because reading an empty slot raises a (masked) stack fault that marks it.
 */
    .globl x86_fpu_regs_store
    .type x86_fpu_regs_store, @function
    .balign 16
x86_fpu_regs_store:
    pushq   %rbp
    movq    %rsp, %rbp
    subq    $512, %rsp
    andq    $-16, %rsp
    fxsave64 (%rsp)             /* legacy area: FSW at byte 2, abridged FTW at byte 4 */
    movzwl  2(%rsp), %eax
    movw    %ax, REGS_FSW(%rdi)
    movzbl  4(%rsp), %eax
    movb    %al, REGS_FTW(%rdi)
    leave
    fnstcw  REGS_FCW(%rdi)
    stmxcsr REGS_MXCSR(%rdi)
    fstl    REGS_ST(%rdi)
    fxch    %st(1)
    fstl    REGS_ST + 1 * 8(%rdi)
    fxch    %st(1)
    fxch    %st(2)
    fstl    REGS_ST + 2 * 8(%rdi)
    fxch    %st(2)
    fxch    %st(3)
    fstl    REGS_ST + 3 * 8(%rdi)
    fxch    %st(3)
    fxch    %st(4)
    fstl    REGS_ST + 4 * 8(%rdi)
    fxch    %st(4)
    fxch    %st(5)
    fstl    REGS_ST + 5 * 8(%rdi)
    fxch    %st(5)
    fxch    %st(6)
    fstl    REGS_ST + 6 * 8(%rdi)
    fxch    %st(6)
    fxch    %st(7)
    fstl    REGS_ST + 7 * 8(%rdi)
    fxch    %st(7)
    testb   %sil, %sil
    jz      1f
    vmovdqu %ymm0, 0 * 32(%rdi)
    vmovdqu %ymm1, 1 * 32(%rdi)
    vmovdqu %ymm2, 2 * 32(%rdi)
    vmovdqu %ymm3, 3 * 32(%rdi)
    vmovdqu %ymm4, 4 * 32(%rdi)
    vmovdqu %ymm5, 5 * 32(%rdi)
    vmovdqu %ymm6, 6 * 32(%rdi)
    vmovdqu %ymm7, 7 * 32(%rdi)
    vmovdqu %ymm8, 8 * 32(%rdi)
    vmovdqu %ymm9, 9 * 32(%rdi)
    vmovdqu %ymm10, 10 * 32(%rdi)
    vmovdqu %ymm11, 11 * 32(%rdi)
    vmovdqu %ymm12, 12 * 32(%rdi)
    vmovdqu %ymm13, 13 * 32(%rdi)
    vmovdqu %ymm14, 14 * 32(%rdi)
    vmovdqu %ymm15, 15 * 32(%rdi)
    ret
1:
    movdqu  %xmm0, 0 * 32(%rdi)
    movdqu  %xmm1, 1 * 32(%rdi)
    movdqu  %xmm2, 2 * 32(%rdi)
    movdqu  %xmm3, 3 * 32(%rdi)
    movdqu  %xmm4, 4 * 32(%rdi)
    movdqu  %xmm5, 5 * 32(%rdi)
    movdqu  %xmm6, 6 * 32(%rdi)
    movdqu  %xmm7, 7 * 32(%rdi)
    movdqu  %xmm8, 8 * 32(%rdi)
    movdqu  %xmm9, 9 * 32(%rdi)
    movdqu  %xmm10, 10 * 32(%rdi)
    movdqu  %xmm11, 11 * 32(%rdi)
    movdqu  %xmm12, 12 * 32(%rdi)
    movdqu  %xmm13, 13 * 32(%rdi)
    movdqu  %xmm14, 14 * 32(%rdi)
    movdqu  %xmm15, 15 * 32(%rdi)
    ret
    .size x86_fpu_regs_store, . - x86_fpu_regs_store

/* void x86_fpu_touch(void) */
    .globl x86_fpu_touch
    .type x86_fpu_touch, @function
    .balign 16
x86_fpu_touch:
    movaps  %xmm0, %xmm0
    ret
    .size x86_fpu_touch, . - x86_fpu_touch

    .section .note.GNU-stack, "", @progbits
