/* SPDX-License-Identifier: MIT */
/*
 * The x86_64 trap frame: what the vector stubs in trap_entry.S push, lowest address
 * first. The hardware pushes rip..ss (and an error code for some vectors); the stub
 * pushes 0 when the CPU does not, then the vector, the general registers and cr2.
 */
#ifndef ARCH_X86_64_ARCH_TRAP_H
#define ARCH_X86_64_ARCH_TRAP_H

#include <kernel/types.h>

struct trap_frame {
    uint64_t cr2; /* faulting address of a page fault; stale for other vectors */
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error; /* the CPU's error code, or 0 for vectors that have none */
    uint64_t rip, cs, rflags, rsp, ss;
};

STATIC_ASSERT(sizeof(struct trap_frame) == 23 * 8, "trap_frame layout is shared with asm");

#define X86_TRAP_FRAME_SIZE (23 * 8)

#endif /* ARCH_X86_64_ARCH_TRAP_H */
