/* SPDX-License-Identifier: MIT */
/*
 * The last loader instructions: switch to the kernel's page tables and jump. This code
 * must be identity mapped in the new tables (the loader maps these pages), since rip
 * still points here when cr3 changes.
 *   keel_efi_enter_kernel(cr3 rdi, boot_info rsi, entry rdx, magic rcx, nxe r8)
 */
    .text
    .balign 64
    .globl keel_efi_trampoline_start, keel_efi_trampoline_end
    .globl keel_efi_enter_kernel
keel_efi_trampoline_start:
keel_efi_enter_kernel:
    cli
    movq    %rcx, %r9               /* rdmsr/wrmsr use ecx and edx:eax */
    movq    %rdx, %r10
    testq   %r8, %r8
    jz      1f
    movl    $0xc0000080, %ecx       /* EFER */
    rdmsr
    orl     $(1 << 11), %eax        /* NXE: the tables use the NX bit */
    wrmsr
1:  movq    %cr0, %rax
    orq     $(1 << 16), %rax        /* WP: read-only pages stay read-only in ring 0 */
    movq    %rax, %cr0
    movq    %rdi, %cr3
    movq    %rsi, %rdi
    movq    %r9, %rsi
    jmp     *%r10
keel_efi_trampoline_end:

    .section .note.GNU-stack, "", @progbits
