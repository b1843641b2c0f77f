/* SPDX-License-Identifier: MIT */
/*
 * Start-up code of the other CPUs (INIT-SIPI-SIPI, smp.c). A CPU leaves wait-for-SIPI in
 * real mode at CS:IP = (page << 8):0, so this blob is copied to the page below 1 MiB that
 * the EFI loader reserved (bi->ap_trampoline) and runs from there, position independent
 * (it finds its own base from CS). Real mode -> 32-bit protected mode -> long mode on the
 * trampoline's own tables (identity map of the first 2 MiB + the kernel's upper half),
 * then x86_ap_entry64 at the kernel's link address switches to the kernel's CR3, takes
 * the stack smp.c chose and calls x86_ap_main(arg).
 */

/* Parameter block offsets; the same layout as struct ap_tramp_params in smp.c. */
#define P_STARTED  0
#define P_CR3_BOOT 8
#define P_CR3      16
#define P_ENTRY    24
#define P_STACK    32
#define P_ARG      40

#define TR(sym)    sym - x86_ap_tramp_start
#define PARAM(off) x86_ap_tramp_params - x86_ap_tramp_start + off

#define SEL_CODE32 0x08
#define SEL_DATA   0x10
#define SEL_CODE64 0x18

    .section .rodata, "a"
    .balign 16
    .globl x86_ap_tramp_start
    .code16
x86_ap_tramp_start:
    cli
    cld
    movw    %cs, %ax
    movw    %ax, %ds
    movw    %ax, %ss
    movw    $0x1000, %sp                /* the top of the trampoline page */
    movb    $1, PARAM(P_STARTED)        /* tell the boot CPU: the SIPI arrived */
    xorl    %ebx, %ebx
    movw    %ax, %bx
    shll    $4, %ebx                    /* ebx = linear address of this page */
    leal    TR(tr_gdt)(%ebx), %eax
    movl    %eax, TR(tr_gdtr) + 2
    lgdtl   TR(tr_gdtr)
    movl    %cr0, %eax
    orl     $1, %eax                    /* PE */
    movl    %eax, %cr0
    leal    TR(tr_prot)(%ebx), %eax
    pushl   $SEL_CODE32
    pushl   %eax
    lretl

    .code32
tr_prot:
    movl    $SEL_DATA, %eax
    movl    %eax, %ds
    movl    %eax, %es
    movl    %eax, %ss
    leal    0x1000(%ebx), %esp
    movl    %cr4, %eax
    orl     $(1 << 5), %eax             /* PAE */
    movl    %eax, %cr4
    movl    PARAM(P_CR3_BOOT)(%ebx), %eax
    movl    %eax, %cr3
    movl    $0xc0000080, %ecx           /* EFER: LME, and NXE for the kernel's NX entries */
    rdmsr
    orl     $((1 << 8) | (1 << 11)), %eax
    wrmsr
    movl    %cr0, %eax
    andl    $~((1 << 30) | (1 << 29)), %eax /* CD, NW: INIT leaves the caches disabled */
    orl     $((1 << 31) | (1 << 16)), %eax /* PG, WP */
    movl    %eax, %cr0
    leal    TR(tr_long)(%ebx), %eax
    pushl   $SEL_CODE64
    pushl   %eax
    lretl

    .code64
tr_long:
    movl    %ebx, %ebx                  /* zero-extend the base */
    movq    PARAM(P_ENTRY)(%rbx), %rax
    jmp     *%rax                       /* x86_ap_entry64, through the copied upper half */

    .balign 8
tr_gdtr:
    .word   4 * 8 - 1
    .long   0                           /* patched: linear address of tr_gdt */
    .balign 8
tr_gdt:
    .quad   0
    .quad   0x00cf9a000000ffff          /* 0x08: 32-bit code, flat */
    .quad   0x00cf92000000ffff          /* 0x10: data, flat */
    .quad   0x00af9a000000ffff          /* 0x18: 64-bit code */
    .balign 8
    .globl x86_ap_tramp_params
x86_ap_tramp_params:
    .fill   6, 8, 0
    .globl x86_ap_tramp_end
x86_ap_tramp_end:

/*
 * Long mode at the kernel's link address, still on the trampoline's tables; rbx = the
 * trampoline page. Load everything from it before the CR3 switch unmaps it.
 */
    .text
    .globl x86_ap_entry64
    .type x86_ap_entry64, @function
x86_ap_entry64:
    movq    PARAM(P_CR3)(%rbx), %rax
    movq    PARAM(P_STACK)(%rbx), %rsp
    movq    PARAM(P_ARG)(%rbx), %rdi
    movq    %rax, %cr3
    xorl    %ebp, %ebp                  /* the backtrace ends here */
    pushq   $0                          /* as if called: rsp + 8 is 16-byte aligned */
    jmp     x86_ap_main
    .size x86_ap_entry64, . - x86_ap_entry64

    .section .note.GNU-stack, "", @progbits
