/* SPDX-License-Identifier: MIT */
/*
 * riscv64 trap frame: what trap_entry.S saves on the kernel stack. The layout is shared
 * with the assembly (the offsets below are checked against the struct).
 */
#ifndef ARCH_RISCV64_ARCH_TRAP_H
#define ARCH_RISCV64_ARCH_TRAP_H

#define TRAP_FRAME_SIZE    (36 * 8)
#define TRAP_FRAME_SEPC    (32 * 8)
#define TRAP_FRAME_SSTATUS (33 * 8)
#define TRAP_FRAME_SCAUSE  (34 * 8)
#define TRAP_FRAME_STVAL   (35 * 8)

/*
 * sstatus.FS: trap_entry.S restores sstatus from the frame except these bits, which keep
 * their live value (the F/D unit's state belongs to the hart: fpu.c).
 */
#define TRAP_SSTATUS_FS (3 << 13)

#ifndef __ASSEMBLER__
#include <kernel/compiler.h>
#include <stdint.h>

struct trap_frame {
    uint64_t x[32]; /* x[i] = register xi at the trap; x[0] is unused (x0 is zero) */
    uint64_t sepc;
    uint64_t sstatus;
    uint64_t scause;
    uint64_t stval;
};

STATIC_ASSERT(sizeof(struct trap_frame) == TRAP_FRAME_SIZE, "trap_entry.S frame size");
STATIC_ASSERT(TRAP_FRAME_SIZE % 16 == 0, "the RISC-V ABI keeps sp 16-byte aligned");
STATIC_ASSERT(__builtin_offsetof(struct trap_frame, sepc) == TRAP_FRAME_SEPC, "sepc");
STATIC_ASSERT(__builtin_offsetof(struct trap_frame, sstatus) == TRAP_FRAME_SSTATUS, "sstatus");
STATIC_ASSERT(__builtin_offsetof(struct trap_frame, scause) == TRAP_FRAME_SCAUSE, "scause");
STATIC_ASSERT(__builtin_offsetof(struct trap_frame, stval) == TRAP_FRAME_STVAL, "stval");
#endif

#endif /* ARCH_RISCV64_ARCH_TRAP_H */
