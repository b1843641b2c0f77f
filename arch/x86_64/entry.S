/* SPDX-License-Identifier: MIT */
/*
 * Kernel entry from the EFI loader (efi/trampoline.S): long mode, interrupts off, the
 * loader's page tables (kernel at its link address, direct map), rdi = boot_info as a
 * direct-map address, rsi = X86_HANDOFF_MAGIC. The stack is still the firmware's, in
 * memory the kernel will reuse, so the first thing after the TSC is our own stack.
 */
    .section .text.entry, "ax"
    .globl _start
    .type _start, @function
_start:
    rdtsc                       /* first instruction: boot_info.entry_cycles */
    shlq    $32, %rdx
    orq     %rax, %rdx          /* third argument: the cycle count */
    cld
    leaq    __boot_stack_top(%rip), %rsp
    xorl    %ebp, %ebp          /* the backtrace ends here */
    call    x86_boot_main       /* (bi, magic, cycles); never returns */
1:  cli
    hlt
    jmp     1b
    .size _start, . - _start

    .section .note.GNU-stack, "", @progbits
