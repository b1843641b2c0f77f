/* SPDX-License-Identifier: MIT */
/*
 * AArch64 entry: the arm64 Image header booti checks, then the path from the firmware's
 * hand-over (x0 = DTB physical address, MMU and D-cache off, EL2 or EL1, anywhere in RAM
 * on a 2 MiB boundary) to aarch64_boot_c() at the link address with the MMU on. Until
 * the MMU is on this code only uses PC-relative addressing (adr/adrp) and literals that
 * hold link-time constants. docs/boot-aarch64.md walks through it step by step.
 */
#include "aarch64.h"

/* Registers kept across the early path. */
#define DTB_PA     x19
#define CYCLES     x20
#define ENTRY_EL   x21
#define FLAGS      x22
#define KERNEL_PA  x23
#define POOL_NEXT  x24 /* next free early page table (physical) */
#define POOL_END   x25

    /*
     * EL2: no hypervisor here; make EL1 AArch64 with nothing trapped and drop into it at
     * `target` (the boot CPU and the secondaries alike). Clobbers x0, x1.
     */
    .macro  drop_to_el1 target
    mov     x0, #HCR_EL2_RW
    msr     hcr_el2, x0
    mrs     x0, cnthctl_el2
    orr     x0, x0, #3              /* EL1PCTEN | EL1PCEN: EL1 owns the physical timer */
    msr     cnthctl_el2, x0
    msr     cntvoff_el2, xzr
    mrs     x0, midr_el1
    msr     vpidr_el2, x0
    mrs     x0, mpidr_el1
    msr     vmpidr_el2, x0
    mov     x0, #CPTR_EL2_RES1      /* no FP/SIMD traps to EL2 */
    msr     cptr_el2, x0
    msr     hstr_el2, xzr
    mrs     x0, pmcr_el0
    ubfx    x0, x0, #11, #5         /* MDCR_EL2.HPMN = PMCR_EL0.N: EL1 sees every counter */
    msr     mdcr_el2, x0
    msr     vttbr_el2, xzr
    mrs     x0, id_aa64pfr0_el1
    ubfx    x0, x0, #24, #4         /* GIC: system register interface present? */
    cbz     x0, 3f
    mrs     x0, S3_4_C12_C9_5       /* ICC_SRE_EL2 */
    mov     x1, #ICC_SRE_EL2_SRE_ENABLE
    orr     x0, x0, x1
    msr     S3_4_C12_C9_5, x0
    isb
3:  ldr     x0, =SCTLR_EL1_RES1
    msr     sctlr_el1, x0
    mov     x0, #SPSR_EL1H_MASKED
    msr     spsr_el2, x0
    adr     x0, \target
    msr     elr_el2, x0
    isb
    eret

    .endm

    .section .text.head, "ax"
    .globl _start
_start:
    /* arm64 Image header (Linux Documentation/arch/arm64/booting.rst). */
    b       primary_entry           /* code0 */
    .long   0                       /* code1 */
    .quad   0                       /* text_offset: load at the 2 MiB aligned base */
    .quad   __image_size            /* image_size, .bss included */
    .quad   0xa                     /* flags: little endian, 4 KiB pages, anywhere in RAM */
    .quad   0, 0, 0                 /* res2..res4 */
    .ascii  "ARM\x64"               /* magic */
    .long   0                       /* res5: no PE/COFF header */

    .section .text.boot, "ax"
primary_entry:
    mov     DTB_PA, x0
    msr     daifset, #0xf
    /* The cycle counter first: PMCCNTR_EL0 if there is a PMU, else the virtual count. */
    mov     FLAGS, #0
    mrs     x0, id_aa64dfr0_el1
    ubfx    x0, x0, #8, #4          /* PMUVer: 0 none, 0xf IMPLEMENTATION DEFINED */
    cbz     x0, 1f
    cmp     x0, #0xf
    b.eq    1f
    msr     pmccfiltr_el0, xzr      /* count at EL1 and EL0 */
    mov     x0, #(PMCR_E | PMCR_LC)
    msr     pmcr_el0, x0
    mov     x0, #PMCNTEN_C
    msr     pmcntenset_el0, x0
    isb
    mrs     CYCLES, pmccntr_el0
    mov     FLAGS, #BOOTF_HAVE_PMU
    b       2f
1:  isb
    mrs     CYCLES, cntvct_el0
2:
    mrs     ENTRY_EL, CurrentEL
    ubfx    ENTRY_EL, ENTRY_EL, #2, #2
    cmp     ENTRY_EL, #1
    b.eq    in_el1
    cmp     ENTRY_EL, #2
    b.eq    el2_to_el1
    adr     x0, msg_bad_el
    b       early_fail

el2_to_el1:
    drop_to_el1 in_el1

in_el1:
    msr     spsel, #1
    msr     cpacr_el1, xzr          /* FP/SIMD trap: the kernel is general-registers-only */
    ldr     x0, =SCTLR_EL1_RES1     /* MMU, caches and alignment checks off for now */
    msr     sctlr_el1, x0
    adr     x0, early_vectors
    msr     vbar_el1, x0
    isb
    adrp    KERNEL_PA, __kernel_start

    /* Zero .bss (page tables and boot stack included) with the MMU off. */
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
1:  stp     xzr, xzr, [x0], #16
    cmp     x0, x1
    b.lo    1b

    /* Page-table pool: page 0 is the TTBR1 root, page 1 the TTBR0 root. */
    adrp    POOL_NEXT, early_pt_pool
    add     POOL_END, POOL_NEXT, #(EARLY_PT_POOL_PAGES * 4096)
    add     POOL_NEXT, POOL_NEXT, #(2 * 4096)

    /* Kernel image: 4 KiB pages at the link address; text RX, rodata R, data RW. */
    ldr     x26, =__kernel_start
    ldr     x27, =__kernel_end
    ldr     x10, =__text_end
    ldr     x11, =__rodata_end
    ldr     x12, =__boot_stack_guard
    ldr     x17, =__overflow_stack_guard
    ldr     x13, =KEEL_KERNEL_BASE
    sub     x13, x13, KERNEL_PA     /* pa = va - x13 */
    ldr     x14, =(PTE_KERNEL_RO | PTE_UXN | PTE_PAGE)
    ldr     x15, =(PTE_KERNEL_RO | PTE_UXN | PTE_PXN | PTE_PAGE)
    ldr     x16, =(PTE_KERNEL_RW | PTE_UXN | PTE_PXN | PTE_PAGE)
4:  cmp     x26, x27
    b.hs    6f
    cmp     x26, x12
    b.eq    5f                      /* the guard pages stay unmapped */
    cmp     x26, x17
    b.eq    5f
    cmp     x26, x10
    csel    x2, x14, x15, lo
    cmp     x26, x11
    csel    x2, x2, x16, lo
    sub     x0, x26, x13
    orr     x2, x2, x0
    adrp    x0, early_pt_pool
    mov     x1, x26
    mov     x3, #3
    bl      early_map
5:  add     x26, x26, #4096
    b       4b
6:
    /*
     * The DTB: if x0 points at an FDT header, map the 2 MiB blocks holding it (at most
     * EARLY_DTB_MAX_BLOCKS) into the direct map, so C can parse it with the MMU on.
     */
    cbz     DTB_PA, 8f
    tst     DTB_PA, #7
    b.ne    8f
    ldr     w0, [DTB_PA]
    ldr     w1, =0xedfe0dd0         /* FDT_MAGIC as stored (big endian) */
    cmp     w0, w1
    b.ne    8f
    ldr     w0, [DTB_PA, #4]
    rev     w0, w0                  /* totalsize */
    cmp     x0, #64
    mov     x1, #64
    csel    x0, x0, x1, hs          /* a silly size still maps the whole header */
    and     x26, DTB_PA, #~0x1fffff
    add     x27, DTB_PA, x0
    sub     x27, x27, #1
    and     x27, x27, #~0x1fffff
    add     x28, x26, #((EARLY_DTB_MAX_BLOCKS - 1) * 0x200000)
    cmp     x27, x28
    csel    x27, x27, x28, ls
    ldr     x14, =KEEL_DIRECT_MAP_BASE
    ldr     x15, =(PTE_KERNEL_RW | PTE_UXN | PTE_PXN | PTE_BLOCK)
7:  adrp    x0, early_pt_pool
    add     x1, x26, x14
    orr     x2, x26, x15
    mov     x3, #2
    bl      early_map
    add     x26, x26, #0x200000
    cmp     x26, x27
    b.ls    7b
    orr     FLAGS, FLAGS, #BOOTF_DTB_MAPPED
8:
    /* Identity map (TTBR0) of the 2 MiB block holding the MMU switch, for the switch. */
    adrp    x26, mmu_switch
    and     x26, x26, #~0x1fffff
    adrp    x0, early_pt_pool
    add     x0, x0, #4096
    mov     x1, x26
    ldr     x2, =(PTE_KERNEL_RW | PTE_UXN | PTE_BLOCK)
    orr     x2, x2, x26
    mov     x3, #2
    bl      early_map

    /* Drop any stale cache lines over what we wrote with the MMU off. */
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
    dmb     sy
    mrs     x3, ctr_el0
    ubfx    x3, x3, #16, #4         /* DminLine: log2 of words */
    mov     x2, #4
    lsl     x2, x2, x3
    sub     x3, x2, #1
    bic     x0, x0, x3
9:  dc      ivac, x0
    add     x0, x0, x2
    cmp     x0, x1
    b.lo    9b
    dsb     sy

    /* Translation regime: MAIR, TCR (IPS from the CPU's PA range), both roots. */
    ldr     x0, =MAIR_VALUE
    msr     mair_el1, x0
    mrs     x1, id_aa64mmfr0_el1
    and     x1, x1, #0xf            /* PARange */
    mov     x2, #5                  /* 48 bits is the most a 4 KiB, 48-bit VA regime uses */
    cmp     x1, x2
    csel    x1, x1, x2, ls
    ldr     x0, =TCR_BASE
    orr     x0, x0, x1, lsl #TCR_IPS_SHIFT
    msr     tcr_el1, x0
    adrp    x0, early_pt_pool
    msr     ttbr1_el1, x0
    add     x0, x0, #4096
    msr     ttbr0_el1, x0
    isb
    tlbi    vmalle1
    dsb     nsh
    isb
    ic      iallu
    dsb     nsh
    isb
    adrp    x0, early_pt_pool
    sub     x27, POOL_NEXT, x0
    lsr     x27, x27, #12           /* early tables used, for C to continue after */
    ldr     x0, =(SCTLR_EL1_RES1 | SCTLR_M | SCTLR_C | SCTLR_SA | SCTLR_I)
    ldr     x1, =high_entry
mmu_switch:
    msr     sctlr_el1, x0
    isb
    br      x1

    /*
     * void aarch64_switch_ttbr1(uint64_t root_pa, uint64_t va_minus_pa)
     * Move the kernel half onto a new root, break-before-make for the whole of TTBR1:
     * the old and new tables map some addresses with different block sizes, so no TLB
     * entry of the old tables may survive into the new ones. Runs from the identity
     * block the entry code left in TTBR0 (this code is in the same 2 MiB block as
     * mmu_switch): TTBR1 walks off (EPD1), TLBI, new root, walks on, return to the
     * caller's kernel address. No stack; interrupts must be masked. Boot CPU only;
     * the caller turns TTBR0 walks off again afterwards.
     */
    .globl  aarch64_switch_ttbr1
aarch64_switch_ttbr1:
    mrs     x2, tcr_el1
    bic     x2, x2, #TCR_EPD0       /* TTBR0 walks on: the identity block */
    msr     tcr_el1, x2
    isb
    adr     x3, 1f
    sub     x3, x3, x1
    br      x3                      /* continue at the physical alias */
1:  orr     x2, x2, #TCR_EPD1       /* no walks of the old kernel tables from here */
    msr     tcr_el1, x2
    isb
    dsb     ishst                   /* the new tables are written */
    tlbi    vmalle1is               /* break: no old kernel translation survives */
    dsb     ish
    isb
    msr     ttbr1_el1, x0           /* make: the new root */
    bic     x2, x2, #TCR_EPD1
    msr     tcr_el1, x2
    isb
    ret                             /* x30: the caller's kernel address */

    /*
     * Secondary CPUs: PSCI CPU_ON starts them here at the physical address, MMU off, at
     * EL2 or EL1, with x0 = the physical address of their struct aarch64_secondary_boot
     * (smp.c). They take the boot CPU's path in short: drop to EL1, program the same
     * translation regime (MAIR, TCR, TTBR1 = the kernel space's root), turn the MMU on
     * through the identity block the boot CPU's early TTBR0 tables still map (this code
     * shares its 2 MiB block with mmu_switch), then continue at the link address.
     */
    .globl  aarch64_secondary_entry
aarch64_secondary_entry:
    msr     daifset, #0xf
    mov     x19, x0
    mrs     x0, CurrentEL
    ubfx    x0, x0, #2, #2
    cmp     x0, #2
    b.ne    sec_el1
    drop_to_el1 sec_el1
sec_el1:
    msr     spsel, #1
    msr     cpacr_el1, xzr
    ldr     x0, =SCTLR_EL1_RES1
    msr     sctlr_el1, x0
    adr     x0, early_vectors
    msr     vbar_el1, x0
    isb
    ldr     x0, [x19, #SB_FLAGS]
    tbz     x0, #1, 1f              /* BOOTF_HAVE_PMU: this CPU's cycle counter too */
    msr     pmccfiltr_el0, xzr
    mov     x0, #(PMCR_E | PMCR_LC)
    msr     pmcr_el0, x0
    mov     x0, #PMCNTEN_C
    msr     pmcntenset_el0, x0
1:  ldr     x0, [x19, #SB_MAIR]
    msr     mair_el1, x0
    ldr     x0, [x19, #SB_TCR]
    bic     x0, x0, #TCR_EPD0       /* TTBR0 walks on for the identity block */
    bic     x0, x0, #TCR_EPD1
    msr     tcr_el1, x0
    ldr     x0, [x19, #SB_TTBR1]
    msr     ttbr1_el1, x0
    adrp    x0, early_pt_pool
    add     x0, x0, #4096
    msr     ttbr0_el1, x0
    isb
    tlbi    vmalle1
    dsb     nsh
    isb
    ic      iallu
    dsb     nsh
    isb
    ldr     x20, [x19, #SB_STACK]
    ldr     x21, [x19, #SB_PERCPU]
    ldr     x0, =(SCTLR_EL1_RES1 | SCTLR_M | SCTLR_C | SCTLR_SA | SCTLR_I)
    ldr     x1, =secondary_high
    msr     sctlr_el1, x0
    isb
    br      x1
    .ltorg

    /* x0 root (physical), x1 va, x2 descriptor, x3 level (2 or 3). Clobbers x4-x9. */
early_map:
    mov     x4, x0
    mov     x5, #0
1:  mov     x6, #39
    mov     x7, #9
    msub    x6, x5, x7, x6          /* shift = 39 - 9 * level */
    lsr     x7, x1, x6
    and     x7, x7, #511
    cmp     x5, x3
    b.eq    3f
    ldr     x8, [x4, x7, lsl #3]
    tbnz    x8, #0, 2f
    cmp     POOL_NEXT, POOL_END
    b.hs    early_pool_empty
    orr     x8, POOL_NEXT, #PTE_TABLE
    add     POOL_NEXT, POOL_NEXT, #4096
    str     x8, [x4, x7, lsl #3]
2:  tbz     x8, #1, early_map_conflict
    and     x4, x8, #PTE_ADDR_MASK
    add     x5, x5, #1
    b       1b
3:  str     x2, [x4, x7, lsl #3]
    ret

early_pool_empty:
    adr     x0, msg_pool
    b       early_fail
early_map_conflict:
    adr     x0, msg_conflict
    b       early_fail

    /*
     * Before the console is known: say why through semihosting SYS_WRITE0 and exit with
     * status 3. If semihosting is off, the HLT traps and early_trap stops the CPU.
     */
early_fail:
    mov     x1, x0
    mov     x0, #SEMIHOST_SYS_WRITE0
    hlt     #0xf000
    adr     x1, exit_block
    mov     x0, #SEMIHOST_SYS_EXIT
    hlt     #0xf000
early_stop:
    wfi
    b       early_stop

    /* Any exception before the MMU is on: report once, then stop. */
early_trap:
    cmp     x28, #0xbad
    b.eq    early_stop
    mov     x28, #0xbad
    adr     x0, msg_early_trap
    b       early_fail

    .ltorg
    .balign 8
exit_block:
    .quad   SEMIHOST_APP_EXIT, 3
msg_bad_el:
    .asciz  "keel: entered at EL3 (or EL0); the boot protocol wants EL2 or EL1\n"
msg_pool:
    .asciz  "keel: out of early page tables\n"
msg_conflict:
    .asciz  "keel: early page tables: conflicting mapping\n"
msg_early_trap:
    .asciz  "keel: exception before the MMU was on\n"

    .balign 2048
early_vectors:
    .rept   16
    .balign 128
    b       early_trap
    .endr

    .text
    /* Now at the link address: stack, real vectors, then C. */
high_entry:
    ldr     x0, =__boot_stack_top
    mov     sp, x0
    mov     x29, xzr
    mov     x30, xzr
    ldr     x0, =aarch64_vectors
    msr     vbar_el1, x0
    isb
    mov     x5, x27
    mov     x0, DTB_PA
    mov     x1, KERNEL_PA
    mov     x2, CYCLES
    mov     x3, ENTRY_EL
    mov     x4, FLAGS
    bl      aarch64_boot_c
1:  wfi
    b       1b
    .ltorg

    /* A secondary CPU at the link address: TTBR0 off again, vectors, stack, per-CPU, C. */
secondary_high:
    mov     sp, x20
    mrs     x0, tcr_el1
    orr     x0, x0, #TCR_EPD0
    msr     tcr_el1, x0
    isb
    tlbi    vmalle1
    dsb     nsh
    isb
    ldr     x0, =aarch64_vectors
    msr     vbar_el1, x0
    msr     tpidr_el1, x21
    isb
    mov     x29, xzr
    mov     x30, xzr
    mov     x0, x21
    bl      aarch64_secondary_c
1:  wfi
    b       1b
    .ltorg

    .section .bss.pagetables, "aw", %nobits
    .balign 4096
    .globl  early_pt_pool
early_pt_pool:
    .space  EARLY_PT_POOL_PAGES * 4096

    .section .note.GNU-stack, "", %progbits
