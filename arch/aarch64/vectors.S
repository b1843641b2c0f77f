/* SPDX-License-Identifier: MIT */
/*
 * The EL1 exception vector table (VBAR_EL1): 16 slots of 0x80 bytes, 2 KiB aligned
 * (Arm ARM D1.10.2): {current EL with SP_EL0, current EL with SP_ELx, lower EL AArch64,
 * lower EL AArch32} x {synchronous, IRQ, FIQ, SError}. Every slot saves a full struct
 * trap_frame on SP_EL1, calls aarch64_trap_entry(frame, slot) and, if that returns,
 * restores the (possibly edited) frame and erets. Also the tiny helpers whose faults
 * the trap handler knows how to recover from: the semihosting call and the probes.
 */
#include <keel/errors.h>

#include "aarch64.h"

    /* Push a struct trap_frame at sp; sp_src: 0 = SP_EL1 above it, 1 = SP_EL0, 2 = overflow. */
    .macro  save_frame sp_src
    stp     x0, x1, [sp, #TF_X(0)]
    stp     x2, x3, [sp, #TF_X(2)]
    stp     x4, x5, [sp, #TF_X(4)]
    stp     x6, x7, [sp, #TF_X(6)]
    stp     x8, x9, [sp, #TF_X(8)]
    stp     x10, x11, [sp, #TF_X(10)]
    stp     x12, x13, [sp, #TF_X(12)]
    stp     x14, x15, [sp, #TF_X(14)]
    stp     x16, x17, [sp, #TF_X(16)]
    stp     x18, x19, [sp, #TF_X(18)]
    stp     x20, x21, [sp, #TF_X(20)]
    stp     x22, x23, [sp, #TF_X(22)]
    stp     x24, x25, [sp, #TF_X(24)]
    stp     x26, x27, [sp, #TF_X(26)]
    stp     x28, x29, [sp, #TF_X(28)]
    .if \sp_src == 0
    add     x0, sp, #TF_SIZE
    .elseif \sp_src == 1
    mrs     x0, sp_el0
    .else
    mrs     x0, tpidr_el0
    add     x0, x0, #TF_SIZE
    .endif
    stp     x30, x0, [sp, #TF_X(30)]
    mrs     x0, elr_el1
    mrs     x1, spsr_el1
    stp     x0, x1, [sp, #TF_ELR]
    mrs     x0, esr_el1
    mrs     x1, far_el1
    stp     x0, x1, [sp, #TF_ESR]
    /* x29 -> the saved {x29, x30} pair: handler backtraces continue into the trapped code. */
    add     x29, sp, #TF_X(29)
    .endm

    .macro  trap_stub slot, from_el0
trap_slot_\slot:
    sub     sp, sp, #TF_SIZE
    .if \from_el0
    save_frame 1
    .else
    /*
     * Kernel stacks are 32 KiB aligned and 16 KiB long: bit 14 of SP set means the frame
     * would land below the stack. Test SP without a free register (sp += x0; x0 = sp - x0).
     */
    add     sp, sp, x0
    sub     x0, sp, x0
    tbnz    x0, #KERNEL_STACK_OVERFLOW_BIT, stack_overflow
    sub     x0, sp, x0
    sub     sp, sp, x0
    save_frame 0
    .endif
    mov     x0, sp
    mov     x1, #\slot
    bl      aarch64_trap_entry
    b       trap_return
    .endm

    .text
    .balign 2048
    .globl  aarch64_vectors
aarch64_vectors:
    .irp    slot, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    .balign 128
    b       trap_slot_\slot
    .endr

    trap_stub 0, 0
    trap_stub 1, 0
    trap_stub 2, 0
    trap_stub 3, 0
    trap_stub 4, 0
    trap_stub 5, 0
    trap_stub 6, 0
    trap_stub 7, 0
    trap_stub 8, 1
    trap_stub 9, 1
    trap_stub 10, 1
    trap_stub 11, 1
    trap_stub 12, 1
    trap_stub 13, 1
    trap_stub 14, 1
    trap_stub 15, 1

    /*
     * A kernel stack ran out: x0 = the overflowed SP, sp = it + the trapped x0. Park both
     * in the (user) thread-pointer registers, move to the overflow stack (the secondary
     * CPUs' own, the image's one on the boot CPU) and report.
     */
stack_overflow:
    msr     tpidr_el0, x0
    sub     x0, sp, x0
    msr     tpidrro_el0, x0
    mrs     x0, tpidr_el1           /* this CPU's own overflow stack, if it has one */
    cbz     x0, 1f
    ldr     x0, [x0, #PERCPU_OVERFLOW_TOP]
    cbnz    x0, 2f
1:  ldr     x0, =__overflow_stack_top
2:  mov     sp, x0
    sub     sp, sp, #TF_SIZE
    mrs     x0, tpidrro_el0
    save_frame 2
    mov     x0, sp
    mov     x1, #TRAP_SLOT_STACK_OVERFLOW
    bl      aarch64_trap_entry
3:  wfi
    b       3b
    .ltorg

trap_return:
    ldp     x0, x1, [sp, #TF_ELR]
    msr     elr_el1, x0
    msr     spsr_el1, x1
    ldp     x0, x1, [sp, #TF_X(0)]
    ldp     x2, x3, [sp, #TF_X(2)]
    ldp     x4, x5, [sp, #TF_X(4)]
    ldp     x6, x7, [sp, #TF_X(6)]
    ldp     x8, x9, [sp, #TF_X(8)]
    ldp     x10, x11, [sp, #TF_X(10)]
    ldp     x12, x13, [sp, #TF_X(12)]
    ldp     x14, x15, [sp, #TF_X(14)]
    ldp     x16, x17, [sp, #TF_X(16)]
    ldp     x18, x19, [sp, #TF_X(18)]
    ldp     x20, x21, [sp, #TF_X(20)]
    ldp     x22, x23, [sp, #TF_X(22)]
    ldp     x24, x25, [sp, #TF_X(24)]
    ldp     x26, x27, [sp, #TF_X(26)]
    ldp     x28, x29, [sp, #TF_X(28)]
    ldr     x30, [sp, #TF_X(30)]
    add     sp, sp, #TF_SIZE
    eret

    /* long aarch64_semihost(op, arg): HLT #0xf000; traps to a fixup when semihosting is off. */
    .globl  aarch64_semihost, aarch64_semihost_insn
aarch64_semihost:
aarch64_semihost_insn:
    hlt     #0xf000
    ret

    /* kstatus_t aarch64_probe_read64(addr, out): a load whose abort becomes KEEL_EFAULT. */
    .globl  aarch64_probe_read64, aarch64_probe_insn, aarch64_probe_fixup
aarch64_probe_read64:
aarch64_probe_insn:
    ldr     x2, [x0]
    str     x2, [x1]
    mov     w0, #0
    ret
aarch64_probe_fixup:
    mov     w0, #KEEL_EFAULT
    ret

    /* kstatus_t aarch64_probe_write64(addr, value): a store whose abort becomes KEEL_EFAULT. */
    .globl  aarch64_probe_write64, aarch64_probe_write_insn
aarch64_probe_write64:
aarch64_probe_write_insn:
    str     x1, [x0]
    mov     w0, #0
    ret

    /*
     * kstatus_t aarch64_probe_exec(addr): call addr with x0 = 0 (a RET there returns
     * KEEL_OK). An instruction abort at exactly the armed address resumes at our x30 with
     * x0 = KEEL_EFAULT (trap.c).
     */
    .globl  aarch64_probe_exec
aarch64_probe_exec:
    stp     x29, x30, [sp, #-16]!
    mov     x29, sp
    adrp    x1, aarch64_probe_exec_target
    str     x0, [x1, :lo12:aarch64_probe_exec_target]
    mov     x2, x0
    mov     x0, #0
    blr     x2
    adrp    x1, aarch64_probe_exec_target
    str     xzr, [x1, :lo12:aarch64_probe_exec_target]
    ldp     x29, x30, [sp], #16
    ret

    .section .note.GNU-stack, "", %progbits
