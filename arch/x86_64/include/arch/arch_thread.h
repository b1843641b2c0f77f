/* SPDX-License-Identifier: MIT */
/*
 * x86_64 body of struct arch_context (include/arch/thread.h). A thread that is not running
 * keeps its callee-saved registers (rbx, rbp, r12-r15) and its resume address on its own
 * stack (context.S), so the context itself is one word: the saved stack pointer.
 */
#ifndef ARCH_X86_64_ARCH_THREAD_H
#define ARCH_X86_64_ARCH_THREAD_H

#include <kernel/types.h>

struct arch_context {
    uint64_t rsp; /* offset 0: context.S stores and loads it */
};

#endif /* ARCH_X86_64_ARCH_THREAD_H */
