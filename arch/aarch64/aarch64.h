/* SPDX-License-Identifier: MIT */
/*
 * AArch64 facts shared by the entry assembly and the C side of the port: system
 * register bits (Arm ARM D13/D19), page-table descriptor bits for the 4 KiB granule
 * (Arm ARM D8.3), the memory-attribute slots we program into MAIR_EL1, and the layout of
 * struct trap_frame as the vectors see it. Private to arch/aarch64/.
 */
#ifndef AARCH64_PRIVATE_H
#define AARCH64_PRIVATE_H

#include <arch/arch_mmu.h>

/* BIT(n) as a 64-bit constant in C, a plain number for the assembler. */
#ifdef __ASSEMBLER__
#define BIT(n) (1 << (n))
#else
#define BIT(n) (1ULL << (n))
#endif

/* Semihosting (Arm "Semihosting for AArch32 and AArch64"): HLT #0xf000, op in w0. */
#define SEMIHOST_SYS_WRITE0  0x04
#define SEMIHOST_SYS_EXIT    0x18
#define SEMIHOST_APP_EXIT    0x20026 /* ADP_Stopped_ApplicationExit */
#define SEMIHOST_UNAVAILABLE (-1)    /* what our trap fixup leaves in x0 */

/* PSCI 0.2 function ids (SMC32 calling convention). */
#define PSCI_SYSTEM_OFF 0x84000008

/* PMU: PMCR_EL0.E enables counters, .LC makes PMCCNTR 64-bit; PMCNTENSET bit 31 = PMCCNTR. */
#define PMCR_E    BIT(0)
#define PMCR_LC   BIT(6)
#define PMCNTEN_C BIT(31)

/* SCTLR_EL1: RES1 bits of ARMv8.0 (11, 20, 22, 23, 28, 29) plus what we turn on. */
#define SCTLR_EL1_RES1 0x30d00800
#define SCTLR_M        BIT(0)
#define SCTLR_C        BIT(2)
#define SCTLR_SA       BIT(3)
#define SCTLR_I        BIT(12)

/* HCR_EL2.RW: EL1 is AArch64. SPSR for EL1h with D, A, I, F masked. */
#define HCR_EL2_RW             BIT(31)
#define SPSR_EL1H_MASKED       0x3c5
#define CPTR_EL2_RES1          0x33ff
#define ICC_SRE_EL2_SRE_ENABLE 0x9 /* SRE | Enable: EL1 may use the GICv3 sysregs */

/*
 * CPACR_EL1.FPEN (bits 21:20): 0b11 lets EL1 and EL0 run FP/SIMD instructions, 0b00 traps
 * them to EL1 with ESR_EL1.EC = 0x07. ZEN/SMEN stay 0 (SVE/SME trap). Arm ARM D19.2.30.
 */
#define CPACR_EL1_FP_TRAP 0
#define CPACR_EL1_FP_ON   (3 << 20)

/* FPCR RMode (23:22), FZ (24), DN (25) and FPSR's cumulative flags IOC..IXC, IDC (bit 7):
 * the control/status bits the FP/SIMD KTEST helpers set and check (fpu.S). */
#define FPCR_TEST_SHIFT 22
#define FPCR_TEST_MASK  (0xf << FPCR_TEST_SHIFT)
#define FPSR_TEST_MASK  0x9f

/* MAIR_EL1 slots: 0 normal write-back RW-allocate, 1 device-nGnRE, 2 normal non-cacheable. */
#define MAIR_IDX_NORMAL    0
#define MAIR_IDX_DEVICE    1
#define MAIR_IDX_NORMAL_NC 2
#define MAIR_VALUE         0x4404ff

/*
 * TCR_EL1: T0SZ = T1SZ = 16 (48-bit VA), 4 KiB granules, walks inner/outer write-back
 * write-allocate, inner shareable. IPS (bits 34:32) is ORed in from ID_AA64MMFR0_EL1.
 */
#define TCR_T0SZ      16
#define TCR_T1SZ      (16 << 16)
#define TCR_WALK0     (BIT(8) | BIT(10) | (3 << 12))  /* IRGN0 ORGN0 SH0 */
#define TCR_WALK1     (BIT(24) | BIT(26) | (3 << 28)) /* IRGN1 ORGN1 SH1 */
#define TCR_TG1_4K    BIT(31)                         /* TG1 = 0b10 */
#define TCR_EPD0      BIT(7)                          /* no TTBR0 walks: the low half faults */
#define TCR_EPD1      BIT(23)                         /* no TTBR1 walks (the table switch) */
#define TCR_BASE      (TCR_T0SZ | TCR_T1SZ | TCR_WALK0 | TCR_WALK1 | TCR_TG1_4K)
#define TCR_IPS_SHIFT 32

/* Descriptor bits (stage 1, 4 KiB granule). */
#define PTE_VALID     BIT(0)
#define PTE_TABLE     (3 << 0) /* table (levels 0-2) or page (level 3) */
#define PTE_BLOCK     BIT(0)   /* block (levels 1-2) */
#define PTE_PAGE      (3 << 0)
#define PTE_ATTR(i)   ((i) << 2)
#define PTE_AP_RO     BIT(7) /* AP[2]: read-only */
#define PTE_SH_INNER  (3 << 8)
#define PTE_AF        BIT(10)
#define PTE_PXN       BIT(53) /* privileged execute-never */
#define PTE_UXN       BIT(54) /* unprivileged execute-never */
#define PTE_ADDR_MASK 0x0000fffffffff000

/* Early mapping attributes (without the type bits). */
#define PTE_KERNEL_RW (PTE_ATTR(MAIR_IDX_NORMAL) | PTE_SH_INNER | PTE_AF)
#define PTE_KERNEL_RO (PTE_KERNEL_RW | PTE_AP_RO)
#define PTE_DEVICE    (PTE_ATTR(MAIR_IDX_DEVICE) | PTE_AF)

/* Early page tables: static, in .bss, handed out in order by the entry code then by C. */
#define EARLY_PT_POOL_PAGES  32
#define EARLY_DTB_MAX_BLOCKS 4 /* the DTB window: at most 4 x 2 MiB mapped early */

/* Flags the entry code passes to aarch64_boot_c(). */
#define BOOTF_DTB_MAPPED BIT(0) /* x0 held an FDT header; the DTB is mapped */
#define BOOTF_HAVE_PMU   BIT(1) /* PMCCNTR_EL0 is the cycle counter */

/* struct aarch64_secondary_boot (smp.c) as aarch64_secondary_entry (entry.S) reads it. */
#define SB_TTBR1  0
#define SB_TCR    8
#define SB_MAIR   16
#define SB_STACK  24
#define SB_PERCPU 32
#define SB_FLAGS  40
#define SB_SIZE   64 /* one cache line of Cortex-A53 */

/* PSCI 0.2 CPU_ON (SMC64) and its return codes. */
#define PSCI_CPU_ON_64          0xc4000003
#define PSCI_SUCCESS            0
#define PSCI_NOT_SUPPORTED      (-1)
#define PSCI_INVALID_PARAMETERS (-2)
#define PSCI_DENIED             (-3)
#define PSCI_ALREADY_ON         (-4)
#define PSCI_ON_PENDING         (-5)
#define PSCI_INTERNAL_FAILURE   (-6)
#define PSCI_INVALID_ADDRESS    (-9)

/* Kernel stacks: 16 KiB, aligned to 32 KiB (bit 14 of SP set = overflowed, see vectors.S). */
#define KERNEL_STACK_SIZE         16384
#define KERNEL_STACK_OVERFLOW_BIT 14
#define TRAP_SLOT_STACK_OVERFLOW  16 /* aarch64_trap_entry's slot for an overflow */
/* struct percpu's arch[7]: top of a secondary CPU's overflow stack (0: the image's). */
#define PERCPU_OVERFLOW_SLOT      7
#define PERCPU_OVERFLOW_TOP       152

/* struct trap_frame layout (arch_trap.h), in bytes. */
#define TF_X(n) ((n)*8)
#define TF_SP   248
#define TF_ELR  256
#define TF_SPSR 264
#define TF_ESR  272
#define TF_FAR  280
#define TF_SIZE 288

/* The ktest breakpoint: BRK with this immediate is counted and skipped by the handler. */
#define AARCH64_KTEST_BRK 0x4b54

#ifndef __ASSEMBLER__
#include <kernel/types.h>

struct percpu;
struct trap_frame;
struct vm_space;

/* Entry code hands over here, running at the link address with the MMU on. */
__noreturn void aarch64_boot_c(uint64_t dtb_pa, uint64_t kernel_pa, uint64_t entry_cycles,
                               uint64_t entry_el, uint64_t flags, uint64_t pool_used);

/* Called by the vectors with the saved frame and the vector slot (0..15). */
void aarch64_trap_entry(struct trap_frame *tf, uint64_t slot);

/*
 * Early page tables (mmu.c). aarch64_mmu_init adopts the tables the entry code built;
 * aarch64_map maps [va, va+size) to pa with attrs (PTE_* without the type bits), using
 * blocks where alignment allows. KEEL_ENOMEM when the table pool is empty, KEEL_EEXIST
 * on a conflicting mapping, KEEL_EINVAL on misalignment. Boot CPU only.
 */
void aarch64_mmu_init(uint64_t kernel_pa, uint64_t pool_used);
__must_check kstatus_t aarch64_map(uint64_t va, uint64_t pa, uint64_t size, uint64_t attrs);

/*
 * Direct-map [start, end) of RAM (page aligned, below KEEL_DIRECT_MAP_MAX) in the early
 * tables and remember the range for the kernel space. KEEL_EEXHAUSTED when too many
 * discontiguous ranges; else as aarch64_map. Boot only, before mm_init.
 */
struct aarch64_range {
    uint64_t start, end;
};
__must_check kstatus_t aarch64_map_ram(uint64_t start, uint64_t end);

/* The RAM ranges aarch64_map_ram recorded (contiguous ones merged), and their count. */
unsigned aarch64_ram_ranges(const struct aarch64_range **out);

/* Map every device window handed out so far into ks (at the same addresses). vmm errors. */
__must_check kstatus_t aarch64_mmio_carry_over(struct vm_space *ks);

/* TTBR1 left the early tables: aarch64_map refuses (KEEL_ENOTSUP) from now on. */
void aarch64_early_tables_retired(void);

/*
 * Move TTBR1_EL1 to the root at root_pa, break-before-make for the whole kernel half,
 * running from the entry code's identity block (entry.S). va_minus_pa: kernel-image
 * offset. Interrupts masked; boot CPU. Leaves TTBR0 walks on (see drop_identity_map).
 */
void aarch64_switch_ttbr1(uint64_t root_pa, uint64_t va_minus_pa);

/* TLB maintenance for every address space (kspace.c). */
extern const struct vm_tlb_ops aarch64_tlb_ops;

/*
 * The leaf descriptor mapping va in the live TTBR1 tables (early or VM layer) and its
 * Arm level; false if unmapped. Needs the direct map (reads tables through it).
 */
bool aarch64_lookup(uint64_t va, uint64_t *desc, unsigned *level);

/* Physical address of a kernel-image address (valid once aarch64_mmu_init ran). */
uint64_t aarch64_kimg_to_phys(const void *p);

/* Turn off TTBR0 walks (the identity map used for the MMU switch). */
void aarch64_drop_identity_map(void);

/*
 * Probes whose fault is recovered instead of reported: read or write 8 bytes at addr, or
 * call addr (which should hold a RET: returns KEEL_OK if it ran). KEEL_EFAULT if the
 * access aborts; the VM layer's reason is then in aarch64_probe_reason. Any context.
 */
__must_check kstatus_t aarch64_probe_read64(uintptr_t addr, uint64_t *out);
__must_check kstatus_t aarch64_probe_write64(uintptr_t addr, uint64_t value);
__must_check kstatus_t aarch64_probe_exec(uintptr_t addr);
extern const char *volatile aarch64_probe_reason;

/* Semihosting call; returns SEMIHOST_UNAVAILABLE when QEMU has semihosting off. */
long aarch64_semihost(unsigned long op, const void *arg);

/* Write msg through semihosting SYS_WRITE0 (the console before the DTB one is known). */
void aarch64_early_puts(const char *msg);

/* Set the PSCI conduit (enum boot_psci_method) arch_power_off() falls back to. */
void aarch64_set_psci(uint32_t method);

/* A PSCI call through that conduit: x0 = fn, x1..x3 args; PSCI_NOT_SUPPORTED if none. */
int64_t aarch64_psci_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3);

/* Where aarch64_secondary_entry hands a started CPU over (smp.c). */
__noreturn void aarch64_secondary_c(struct percpu *pc);

/* The generic timer's frequency from the device tree (0: read CNTFRQ_EL0). */
void aarch64_timer_set_freq(uint64_t freq_hz);

/* The generic timer's interrupt (INTID; the device tree's virtual-timer PPI + 16). */
void aarch64_set_timer_intid(unsigned intid);
unsigned aarch64_timer_intid(void);

/* True if SGI/PPI intid is pending at the GIC for this CPU (tests; irq.c). */
bool aarch64_irq_ppi_pending(unsigned intid);

/* The vectors' IRQ path (irq.c). */
void aarch64_irq_entry(struct trap_frame *tf);

/* Breakpoints the ktest BRK hit so far (ktest_aarch64.c). */
extern volatile uint64_t aarch64_ktest_brk_count;

/* Linker-script symbols. */
extern char __kernel_start[], __kernel_end[], __text_end[], __rodata_end[];
extern char __boot_stack_guard[], __boot_stack_bottom[], __boot_stack_top[];
extern char __overflow_stack_guard[], __overflow_stack_bottom[], __overflow_stack_top[];
extern char aarch64_vectors[];
#endif

#endif /* AARCH64_PRIVATE_H */
