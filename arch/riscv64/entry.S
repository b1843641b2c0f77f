/* SPDX-License-Identifier: MIT */
/*
 * riscv64 kernel entry. OpenSBI fw_jump enters _start in S-mode at the load address
 * (0x80200000 on QEMU virt) with a0 = hart id, a1 = DTB physical address, MMU off.
 * This code runs at the physical address, so it uses PC-relative addressing only: it
 * installs an early trap handler, reads the cycle counter, clears .bss, builds the
 * early page tables (kernel image in the higher half, a temporary identity map), turns
 * on Sv48 if the hart has it (else Sv39), jumps to the link address and calls
 * riscv_boot_main(hart, dtb, entry_cycles). Only the first hart to arrive runs that path:
 * a later one (OpenSBI 1.1 can let a starting hart in here) is sent on to its secondary
 * entry or parked. docs/boot-riscv64.md walks through it.
 */

#define PTE_V    0x01
#define PTE_LEAF_KERNEL 0xef /* V R W X G A D: the kernel image, boot mapping */
#define PTE_LEAF_IDENT  0xcf /* V R W X A D: the temporary identity mapping */
#define SATP_SV39 8
#define SATP_SV48 9
#define SBI_EXT_SRST 0x53525354
#define SBI_EXT_HSM  0x48534d
#define SBI_HSM_HART_STOP 1
#define HIGH_KERNEL_SLOT 510 /* (0xffffffff80000000 >> 30) & 511 */
#define PERCPU_STACK_LIMIT 8  /* struct percpu.arch_scratch */
/* struct riscv_hart_boot (smp.c): what a secondary hart needs before it has a stack. */
#define HART_BOOT_SELF  0
#define HART_BOOT_SATP  8
#define HART_BOOT_SP    16
#define HART_BOOT_TP    24
#define HART_BOOT_LIMIT 32
#define HART_BOOT_ENTRY 40
#define HART_BOOT_VIA_START 48
/* struct riscv_start_request (riscv.h): one per CPU index, PERCPU_MAX of them. */
#define START_REQUESTS     64
#define START_REQUEST_SIZE 16

    .section .text.boot, "ax"
    .globl _start
_start:
    /* A fault from here on is reported through SBI instead of jumping into the void. */
    lla     t0, early_trap
    csrw    stvec, t0
    rdcycle s2                       /* entry_cycles: the 4th instruction of the kernel */
    mv      s0, a0                   /* hart id */
    mv      s1, a1                   /* DTB physical address */
    /*
     * Claim the boot: riscv_boot_claim (in .data, so valid before .bss is cleared) goes
     * from 0 to hart id + 1 once. A hart that finds it taken must not touch .bss, the boot
     * stack or the page tables, which the boot hart is using: see late_hart.
     */
    lla     t0, riscv_boot_claim
    addi    t3, a0, 1
1:  lr.d.aqrl t1, (t0)
    bnez    t1, late_hart
    sc.d.rl t2, t3, (t0)
    bnez    t2, 1b
    csrw    sie, zero
    csrci   sstatus, 2               /* SIE off */
    csrw    sscratch, zero           /* sscratch is 0 while the hart runs kernel code */
    li      tp, 0                    /* tp: per-CPU pointer (SMP issue); none yet */
    li      gp, 0                    /* gp is unused: no gp-relative addressing */
    csrw    satp, zero

    /* Where were we loaded? The megapage mapping needs 2 MiB alignment. */
    lla     s3, _kernel_start
    li      t0, 0x1fffff
    and     t1, s3, t0
    lla     a0, msg_misaligned
    bnez    t1, early_fail
    /* Sv39 identity-maps the kernel in the lower half: below 256 GiB. */
    srli    t1, s3, 38
    lla     a0, msg_too_high
    bnez    t1, early_fail

    /* Clear .bss (page tables, boot stack): 64 bytes a round, both ends page-aligned. */
    lla     t0, _bss_start
    lla     t1, _bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    sd      zero, 8(t0)
    sd      zero, 16(t0)
    sd      zero, 24(t0)
    sd      zero, 32(t0)
    sd      zero, 40(t0)
    sd      zero, 48(t0)
    sd      zero, 56(t0)
    addi    t0, t0, 64
    j       1b
2:
    lla     sp, _boot_stack_top

    /* Kernel image: megapages VA 0xffffffff80000000 + i*2M -> PA s3 + i*2M. */
    lla     t0, boot_pt_kernel
    lla     t1, _kernel_end
    sub     t1, t1, s3
    li      t2, 0x1fffff
    add     t1, t1, t2
    srli    t1, t1, 21               /* number of 2 MiB pages */
    li      t2, 512
    lla     a0, msg_too_big
    bgtu    t1, t2, early_fail
    mv      t3, s3
3:  srli    t4, t3, 12
    slli    t4, t4, 10
    ori     t4, t4, PTE_LEAF_KERNEL
    sd      t4, 0(t0)
    addi    t0, t0, 8
    li      t2, 0x200000
    add     t3, t3, t2
    addi    t1, t1, -1
    bnez    t1, 3b

    /* boot_pt_high[510] -> boot_pt_kernel. */
    lla     t0, boot_pt_high
    lla     t1, boot_pt_kernel
    srli    t1, t1, 12
    slli    t1, t1, 10
    ori     t1, t1, PTE_V
    li      t2, HIGH_KERNEL_SLOT * 8
    add     t2, t0, t2
    sd      t1, 0(t2)

    /* Sv48 root: [511] -> boot_pt_high, [pa >> 39] = identity 512 GiB leaf at 0. */
    lla     t0, boot_pt_root
    lla     t1, boot_pt_high
    srli    t1, t1, 12
    slli    t1, t1, 10
    ori     t1, t1, PTE_V
    li      t2, 511 * 8
    add     t2, t0, t2
    sd      t1, 0(t2)
    srli    s5, s3, 39               /* s5 = identity slot in the root (0 here) */
    slli    t2, s5, 3
    add     t2, t0, t2
    slli    t1, s5, 39               /* 512 GiB aligned base */
    srli    t1, t1, 12
    slli    t1, t1, 10
    ori     t1, t1, PTE_LEAF_IDENT
    sd      t1, 0(t2)

    /* Try Sv48: an unsupported MODE leaves satp unchanged (privileged spec 4.1.11). */
    srli    t0, t0, 12
    li      t1, SATP_SV48
    slli    t1, t1, 60
    or      t0, t0, t1
    sfence.vma
    csrw    satp, t0
    sfence.vma
    csrr    t1, satp
    li      s4, SATP_SV48
    beq     t0, t1, paging_on

    /* Sv39: boot_pt_high is the root; identity 1 GiB leaf at [pa >> 30]. */
    lla     t0, boot_pt_high
    srli    s5, s3, 30
    slli    t2, s5, 3
    add     t2, t0, t2
    slli    t1, s5, 30
    srli    t1, t1, 12
    slli    t1, t1, 10
    ori     t1, t1, PTE_LEAF_IDENT
    sd      t1, 0(t2)
    srli    t0, t0, 12
    li      t1, SATP_SV39
    slli    t1, t1, 60
    or      t0, t0, t1
    sfence.vma
    csrw    satp, t0
    sfence.vma
    csrr    t1, satp
    li      s4, SATP_SV39
    lla     a0, msg_no_paging
    bne     t0, t1, early_fail

paging_on:
    /* Still at the physical address, through the identity map. Go high. */
    lla     t0, high_entry_addr
    ld      t0, 0(t0)
    jr      t0

high_entry:
    /* From here on lla yields link (virtual) addresses. */
    lla     sp, _boot_stack_top
    /* tp: the early percpu, whose stack limit trap_entry checks (see riscv.h). */
    lla     tp, riscv_early_percpu
    sd      tp, 0(tp)
    lla     t0, _boot_stack_bottom
    sd      t0, PERCPU_STACK_LIMIT(tp)
    lla     t0, trap_entry
    csrw    stvec, t0
    lla     t0, riscv_satp_mode
    sd      s4, 0(t0)
    lla     t0, riscv_kernel_phys
    sd      s3, 0(t0)

    /* Drop the identity mapping. */
    li      t0, SATP_SV48
    lla     t1, boot_pt_root
    beq     s4, t0, 4f
    lla     t1, boot_pt_high
4:  slli    t2, s5, 3
    add     t1, t1, t2
    sd      zero, 0(t1)
    sfence.vma

    mv      a0, s0
    mv      a1, s1
    mv      a2, s2
    li      s0, 0                    /* fp = 0 ends backtraces here */
    li      ra, 0
    call    riscv_boot_main
5:  wfi
    j       5b

    .balign 8
high_entry_addr:
    .dword  high_entry
secondary_high_addr:
    .dword  secondary_high

/*
 * Secondary harts, started by SBI HSM hart_start (smp.c): S-mode, MMU off, at the
 * physical address of riscv_secondary_entry, a0 = hart id, a1 = physical address of
 * this hart's struct riscv_hart_boot. The kernel tables have no identity map, so stvec
 * is pointed at the virtual secondary_high first: the fetch right after the satp write
 * faults (or the jr lands) there, already at the link address.
 */
    .balign 4
    .globl riscv_secondary_entry
riscv_secondary_entry:
    csrw    sie, zero
    csrci   sstatus, 2
    csrw    sscratch, zero
    li      gp, 0
    ld      s1, HART_BOOT_SELF(a1)   /* the struct's virtual address */
    ld      t0, HART_BOOT_SATP(a1)
    lla     t1, secondary_high_addr
    ld      t1, 0(t1)
    csrw    stvec, t1
    sfence.vma
    csrw    satp, t0
    sfence.vma
    jr      t1

    .balign 4
secondary_high:
    sfence.vma
    ld      sp, HART_BOOT_SP(s1)
    ld      tp, HART_BOOT_TP(s1)
    ld      t0, HART_BOOT_LIMIT(s1)
    sd      t0, PERCPU_STACK_LIMIT(tp)
    lla     t0, trap_entry
    csrw    stvec, t0
    ld      t1, HART_BOOT_ENTRY(s1)
    mv      a0, tp
    li      s0, 0                    /* fp = 0 ends backtraces here */
    li      ra, 0
    jalr    t1
7:  wfi
    j       7b

/*
 * A hart that reached _start after the boot hart had claimed it (t1 = boot hart id + 1,
 * s0 = its hart id; MMU off, no stack). OpenSBI 1.1 marks a hart START_PENDING before it
 * stores the address and argument of hart_start, so a hart that looks in that window
 * leaves the firmware at fw_jump's default, _start, with a1 = the DTB. If the kernel has
 * asked for this hart (riscv_start_requests, written before the SBI call), it goes on to
 * riscv_secondary_entry with its struct riscv_hart_boot, marked via_start for smp.c to
 * report. Otherwise nobody expects it: it says so on the SBI console and stops itself
 * with SBI HSM hart_stop (so a later hart_start works), else waits with interrupts off.
 */
late_hart:
    mv      s3, t1
    lla     t0, riscv_start_requests
    li      t2, START_REQUESTS
1:  ld      t4, 0(t0)
    beq     t4, t3, 2f
    addi    t0, t0, START_REQUEST_SIZE
    addi    t2, t2, -1
    bnez    t2, 1b
    j       park_hart
2:  fence   r, r                     /* the address is stored before the hart id */
    ld      a1, 8(t0)
    andi    t4, a1, 7
    bnez    t4, park_hart
    beqz    a1, park_hart
    li      t4, 1
    sd      t4, HART_BOOT_VIA_START(a1)
    mv      a0, s0
    j       riscv_secondary_entry

park_hart:
    lla     a0, msg_late_hart
    call    early_puts
    mv      a0, s0
    call    early_puthex
    lla     a0, msg_late_boot
    call    early_puts
    addi    a0, s3, -1
    call    early_puthex
    lla     a0, msg_late_park
    call    early_puts
    li      a7, SBI_EXT_HSM
    li      a6, SBI_HSM_HART_STOP
    ecall                            /* returns only if it failed */
    csrw    sie, zero
    csrci   sstatus, 2
3:  wfi
    j       3b

/*
 * Early failure paths: print through SBI legacy putchar (EID 0x01, present in every
 * OpenSBI) and shut down with SRST reason "system failure". Run at either address.
 */
    .balign 4
early_trap:
    lla     a0, msg_trap
    call    early_puts
    csrr    a0, scause
    call    early_puthex
    lla     a0, msg_sepc
    call    early_puts
    csrr    a0, sepc
    call    early_puthex
    lla     a0, msg_stval
    call    early_puts
    csrr    a0, stval
    call    early_puthex
    lla     a0, msg_nl
    /* fall through */

    .globl early_fail
early_fail:                          /* a0 = message */
    call    early_puts
    li      a7, SBI_EXT_SRST
    li      a6, 0
    li      a0, 0                    /* shutdown */
    li      a1, 1                    /* reason: system failure */
    ecall
    li      a7, 8                    /* legacy shutdown */
    ecall
6:  wfi
    j       6b

/* Print the NUL-terminated string at a0. Clobbers a0, a1, a6, a7, t0. */
early_puts:
    mv      t0, a0
1:  lbu     a0, 0(t0)
    beqz    a0, 2f
    li      a7, 1
    li      a6, 0
    ecall
    addi    t0, t0, 1
    j       1b
2:  ret

/* Print a0 as 0x followed by 16 hex digits. Clobbers a0, a1, a6, a7, t0-t2. */
early_puthex:
    mv      t1, a0
    li      a7, 1
    li      a6, 0
    li      a0, '0'
    ecall
    li      a0, 'x'
    ecall
    li      t2, 60
1:  srl     t0, t1, t2
    andi    t0, t0, 15
    addi    a0, t0, '0'
    li      a1, 10
    blt     t0, a1, 2f
    addi    a0, t0, 'a' - 10
2:  ecall
    addi    t2, t2, -4
    bgez    t2, 1b
    ret

    .section .rodata.boot, "a"
msg_trap:       .asciz "\nKeel: trap during early boot: scause "
msg_sepc:       .asciz " sepc "
msg_stval:      .asciz " stval "
msg_nl:         .asciz "\n"
msg_misaligned: .asciz "\nKeel: kernel not loaded at a 2 MiB boundary; cannot map it\n"
msg_too_high:   .asciz "\nKeel: kernel loaded above 256 GiB; cannot identity-map it\n"
msg_too_big:    .asciz "\nKeel: kernel image larger than 1 GiB\n"
msg_no_paging:  .asciz "\nKeel: hart supports neither Sv48 nor Sv39 paging\n"
msg_late_hart:  .asciz "\nKeel: hart "
msg_late_boot:  .asciz " entered the kernel at _start after hart "
msg_late_park:  .asciz " booted it, with no start request for it: parked (SBI HSM hart_stop)\n"

/* Early page tables: zeroed with .bss, filled above, extended by mmu.c. */
    .section .bss.boot_pt, "aw", @nobits
    .balign 4096
    .globl boot_pt_root, boot_pt_high, boot_pt_kernel
boot_pt_root:   .space 4096
boot_pt_high:   .space 4096
boot_pt_kernel: .space 4096

    .section .data.boot, "aw"
    .balign 8
    .globl riscv_satp_mode, riscv_kernel_phys
riscv_satp_mode:   .dword 0
riscv_kernel_phys: .dword 0
/* The boot claim and the start requests: read by harts that arrive at _start late. */
    .globl riscv_boot_claim, riscv_start_requests
riscv_boot_claim:  .dword 0
riscv_start_requests: .space START_REQUESTS * START_REQUEST_SIZE
