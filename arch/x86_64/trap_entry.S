/* SPDX-License-Identifier: MIT */
/*
 * The 32 exception vectors. Each stub makes the stack look the same (pushes a 0 error
 * code where the CPU pushes none, then its vector number) and joins x86_trap_common,
 * which saves every general register and cr2 into a struct trap_frame (arch_trap.h)
 * and calls x86_trap_handler(frame). If that returns, the frame (possibly with a new
 * rip) is restored and iretq resumes it.
 */
    .text

/* Vectors for which the CPU pushes an error code: 8, 10-14, 17, 21, 29, 30. */
.macro VECTOR n, err
    .balign 16
x86_vector_\n:
    .if \err == 0
    pushq   $0
    .endif
    pushq   $\n
    jmp     x86_trap_common
.endm

    VECTOR 0, 0
    VECTOR 1, 0
    VECTOR 2, 0
    VECTOR 3, 0
    VECTOR 4, 0
    VECTOR 5, 0
    VECTOR 6, 0
    VECTOR 7, 0
    VECTOR 8, 1
    VECTOR 9, 0
    VECTOR 10, 1
    VECTOR 11, 1
    VECTOR 12, 1
    VECTOR 13, 1
    VECTOR 14, 1
    VECTOR 15, 0
    VECTOR 16, 0
    VECTOR 17, 1
    VECTOR 18, 0
    VECTOR 19, 0
    VECTOR 20, 0
    VECTOR 21, 1
    VECTOR 22, 0
    VECTOR 23, 0
    VECTOR 24, 0
    VECTOR 25, 0
    VECTOR 26, 0
    VECTOR 27, 0
    VECTOR 28, 0
    VECTOR 29, 1
    VECTOR 30, 1
    VECTOR 31, 0

    .balign 16
    .globl x86_trap_common
    .type x86_trap_common, @function
x86_trap_common:
    pushq   %rax
    pushq   %rbx
    pushq   %rcx
    pushq   %rdx
    pushq   %rsi
    pushq   %rdi
    pushq   %rbp
    pushq   %r8
    pushq   %r9
    pushq   %r10
    pushq   %r11
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    movq    %cr2, %rax
    pushq   %rax
    cld
    movq    %rsp, %rdi          /* struct trap_frame * */
    movq    %rsp, %rbx          /* callee-saved: the frame, to come back to */
    andq    $-16, %rsp          /* the ABI wants a 16-byte aligned call */
    call    x86_trap_handler
    movq    %rbx, %rsp
    addq    $8, %rsp            /* cr2 */
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %r11
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rbp
    popq    %rdi
    popq    %rsi
    popq    %rdx
    popq    %rcx
    popq    %rbx
    popq    %rax
    addq    $16, %rsp           /* vector, error code */
    iretq
    .size x86_trap_common, . - x86_trap_common

/*
 * Vectors 32-255 (device lines, the LAPIC timer, IPIs, spurious): no error code. Each stub
 * is 16 bytes apart (pushq $0: 2 bytes, pushq $v: 2 or 5, jmp rel32: 5) so the IDT finds
 * vector v at x86_irq_stubs + (v - 32) * 16. x86_trap_handler passes them to
 * x86_irq_dispatch; they run on the interrupted kernel stack (no IST), so irq_exit() may
 * switch threads and come back later to finish the iretq.
 */
    .balign 16
    .globl x86_irq_stubs
x86_irq_stubs:
    .set irq_vec, 32
    .rept 224
    .balign 16
    pushq   $0
    pushq   $irq_vec
    jmp     x86_trap_common
    .set irq_vec, irq_vec + 1
    .endr

/* Stub addresses for the IDT, indexed by vector. */
    .section .rodata
    .balign 8
    .globl x86_trap_stubs
x86_trap_stubs:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad x86_vector_\n
    .endr

    .section .note.GNU-stack, "", @progbits
