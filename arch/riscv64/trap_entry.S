/* SPDX-License-Identifier: MIT */
/*
 * riscv64 trap vector (stvec, direct mode). Kernel-only for now: the trap is taken on
 * the current kernel stack, all of x1-x31 plus sepc, sstatus, scause and stval are
 * saved in a struct trap_frame, riscv_trap_handler(tf) runs (interrupts included: it may
 * switch threads before it returns), and the frame (possibly with a new sepc) is
 * restored before sret, all but sstatus.FS (the hart's F/D unit state, fpu.c). A frame
 * that would go below this hart's stack limit (tp's percpu.arch_scratch: a stack
 * overflow into the guard page) is built on the overflow stack instead and
 * riscv_stack_overflow(tf) reports it; the first hart to overflow owns that stack, later
 * ones stop. sscratch is 0 while in the kernel; the vector borrows it for one register.
 * The user-mode issue will keep the kernel tp there.
 */
#include <arch/arch_trap.h>

#define PERCPU_STACK_LIMIT 8   /* struct percpu.arch_scratch */
#define PERCPU_OVERFLOW_SP 96  /* struct percpu.arch[RV_PCPU_OVERFLOW_SP] */

/* Save everything but sp (x2) and t0 (x5), and the trap CSRs, into the frame at sp. */
.macro SAVE_FRAME
    sd      x1, 1*8(sp)
    sd      x3, 3*8(sp)
    sd      x4, 4*8(sp)
    sd      x6, 6*8(sp)
    sd      x7, 7*8(sp)
    sd      x8, 8*8(sp)
    sd      x9, 9*8(sp)
    sd      x10, 10*8(sp)
    sd      x11, 11*8(sp)
    sd      x12, 12*8(sp)
    sd      x13, 13*8(sp)
    sd      x14, 14*8(sp)
    sd      x15, 15*8(sp)
    sd      x16, 16*8(sp)
    sd      x17, 17*8(sp)
    sd      x18, 18*8(sp)
    sd      x19, 19*8(sp)
    sd      x20, 20*8(sp)
    sd      x21, 21*8(sp)
    sd      x22, 22*8(sp)
    sd      x23, 23*8(sp)
    sd      x24, 24*8(sp)
    sd      x25, 25*8(sp)
    sd      x26, 26*8(sp)
    sd      x27, 27*8(sp)
    sd      x28, 28*8(sp)
    sd      x29, 29*8(sp)
    sd      x30, 30*8(sp)
    sd      x31, 31*8(sp)
    csrr    t0, sepc
    sd      t0, TRAP_FRAME_SEPC(sp)
    csrr    t0, sstatus
    sd      t0, TRAP_FRAME_SSTATUS(sp)
    csrr    t0, scause
    sd      t0, TRAP_FRAME_SCAUSE(sp)
    csrr    t0, stval
    sd      t0, TRAP_FRAME_STVAL(sp)
.endm

    .section .text.trap, "ax"
    .balign 4
    .globl trap_entry
trap_entry:
    /* Room for a frame above the stack limit? t0 is parked in sscratch meanwhile. */
    csrw    sscratch, t0
    ld      t0, PERCPU_STACK_LIMIT(tp)
    addi    t0, t0, TRAP_FRAME_SIZE
    bltu    sp, t0, stack_overflow
    csrrw   t0, sscratch, zero
    addi    sp, sp, -TRAP_FRAME_SIZE
    sd      t0, 5*8(sp)
    SAVE_FRAME
    addi    t0, sp, TRAP_FRAME_SIZE  /* the interrupted sp */
    sd      t0, 2*8(sp)

    mv      a0, sp
    call    riscv_trap_handler

    ld      t0, TRAP_FRAME_SEPC(sp)
    csrw    sepc, t0
    /*
     * sstatus from the frame, but FS (the F/D unit's state) as it is now: the handler
     * may have turned the unit on (fpu_trap) or this thread may have been switched out
     * and resumed here with the unit off and another thread's registers in it.
     * t0 ^= (t0 ^ live) & FS: the frame's value with the live FS bits.
     */
    ld      t0, TRAP_FRAME_SSTATUS(sp)
    csrr    t1, sstatus
    li      t2, TRAP_SSTATUS_FS
    xor     t1, t1, t0
    and     t1, t1, t2
    xor     t0, t0, t1
    csrw    sstatus, t0
    ld      x1, 1*8(sp)
    ld      x3, 3*8(sp)
    /*
     * Not x4 (tp): it is this hart's percpu, and the interrupted thread may have been
     * switched out in irq_exit() and resumed here on another hart (user mode will restore
     * the user's tp on the way back to U-mode only).
     */
    ld      x5, 5*8(sp)
    ld      x6, 6*8(sp)
    ld      x7, 7*8(sp)
    ld      x8, 8*8(sp)
    ld      x9, 9*8(sp)
    ld      x10, 10*8(sp)
    ld      x11, 11*8(sp)
    ld      x12, 12*8(sp)
    ld      x13, 13*8(sp)
    ld      x14, 14*8(sp)
    ld      x15, 15*8(sp)
    ld      x16, 16*8(sp)
    ld      x17, 17*8(sp)
    ld      x18, 18*8(sp)
    ld      x19, 19*8(sp)
    ld      x20, 20*8(sp)
    ld      x21, 21*8(sp)
    ld      x22, 22*8(sp)
    ld      x23, 23*8(sp)
    ld      x24, 24*8(sp)
    ld      x25, 25*8(sp)
    ld      x26, 26*8(sp)
    ld      x27, 27*8(sp)
    ld      x28, 28*8(sp)
    ld      x29, 29*8(sp)
    ld      x30, 30*8(sp)
    ld      x31, 31*8(sp)
    addi    sp, sp, TRAP_FRAME_SIZE
    sret

/*
 * The kernel stack ran into (or is about to run into) its guard page: build the frame
 * on the overflow stack, keep the bad sp in it, and report. Never returns. One overflow
 * stack for all harts: the first one takes it (amoswap on riscv_overflow_owner), any
 * later one parks here with interrupts masked while the first reports.
 */
stack_overflow:
    sd      sp, PERCPU_OVERFLOW_SP(tp)
    lla     sp, riscv_overflow_owner
    li      t0, 1
    amoswap.w.aq t0, t0, (sp)
    bnez    t0, 3f
    lla     sp, _overflow_stack_top
    addi    sp, sp, -TRAP_FRAME_SIZE
    ld      t0, PERCPU_OVERFLOW_SP(tp)
    sd      t0, 2*8(sp)
    csrrw   t0, sscratch, zero
    sd      t0, 5*8(sp)
    SAVE_FRAME
    mv      a0, sp
    call    riscv_stack_overflow
2:  wfi
    j       2b
3:  wfi
    j       3b

    .section .bss.overflow_owner, "aw", @nobits
    .balign 4
    .globl riscv_overflow_owner
riscv_overflow_owner:
    .space 4
