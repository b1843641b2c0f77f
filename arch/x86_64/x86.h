/* SPDX-License-Identifier: MIT */
/*
 * x86_64 internals shared by the files of this port (not part of the HAL): port I/O,
 * control registers, MSRs, CPUID, the early COM1 writer and the boot-time state that
 * boot.c records for traps, the MMU code and the self tests.
 */
#ifndef ARCH_X86_64_X86_H
#define ARCH_X86_64_X86_H

#include <kernel/boot_info.h>
#include <kernel/types.h>
#include <kernel/vmm.h>

struct trap_frame;

#define X86_COM1 0x3f8

/* QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4): exit (v << 1) | 1. */
#define X86_DEBUG_EXIT_PORT 0xf4

#define X86_MSR_EFER       0xc0000080U
#define X86_EFER_NXE       (1ULL << 11)
#define X86_CR0_MP         (1ULL << 1) /* WAIT/FWAIT honour TS */
#define X86_CR0_EM         (1ULL << 2) /* x87 emulation: every x87/SSE instruction faults */
#define X86_CR0_TS         (1ULL << 3) /* task switched: FP/SIMD instructions raise #NM */
#define X86_CR0_NE         (1ULL << 5) /* x87 errors as #MF, not the legacy IRQ 13 */
#define X86_CR0_WP         (1ULL << 16)
#define X86_CR4_PGE        (1ULL << 7)
#define X86_CR4_OSFXSR     (1ULL << 9)  /* FXSAVE/FXRSTOR and SSE instructions */
#define X86_CR4_OSXMMEXCPT (1ULL << 10) /* unmasked SIMD FP exceptions raise #XM */
#define X86_CR4_LA57       (1ULL << 12)
#define X86_CR4_OSXSAVE    (1ULL << 18) /* XSAVE/XRSTOR, XGETBV/XSETBV, XCR0 */

/*
 * IA32_PAT (SDM vol. 3A 11.12): eight 3-bit memory types selected by PAT:PCD:PWT. The
 * reset value is WB, WT, UC-, UC twice; Keel makes entry 1 (PWT only) write-combining,
 * the encoding pt_format_x86_64 uses for VM_WC, and keeps 0 = WB and 3 = UC (PCD+PWT,
 * VM_DEVICE).
 */
#define X86_MSR_PAT 0x277U
#define X86_PAT_UC  0x00ULL
#define X86_PAT_WC  0x01ULL
#define X86_PAT_WT  0x04ULL
#define X86_PAT_WB  0x06ULL
#define X86_PAT_UCM 0x07ULL /* UC- */
#define X86_PAT_KEEL                                                                               \
    (X86_PAT_WB | X86_PAT_WC << 8 | X86_PAT_UCM << 16 | X86_PAT_UC << 24 | X86_PAT_WB << 32 |      \
     X86_PAT_WT << 40 | X86_PAT_UCM << 48 | X86_PAT_UC << 56)

#define X86_KERNEL_CS 0x08
#define X86_KERNEL_DS 0x10
#define X86_TSS_SEL   0x18

/* Exception vectors that the self tests use. */
#define X86_VEC_UD 6
#define X86_VEC_NM 7 /* device not available: an FP/SIMD instruction with CR0.TS set */
#define X86_VEC_BP 3
#define X86_VEC_DF 8
#define X86_VEC_PF 14

/* Page-fault error code bits (SDM 4.7). */
#define X86_PF_P    (1U << 0) /* protection violation (else not present) */
#define X86_PF_W    (1U << 1) /* write */
#define X86_PF_U    (1U << 2) /* user mode */
#define X86_PF_RSVD (1U << 3) /* reserved bit set in a paging entry */
#define X86_PF_I    (1U << 4) /* instruction fetch */

static inline uint8_t x86_inb(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void x86_outb(uint16_t port, uint8_t v) {
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t x86_read_cr0(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static inline void x86_write_cr0(uint64_t v) {
    __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline uint64_t x86_read_cr2(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline uint64_t x86_read_cr3(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

static inline void x86_write_cr3(uint64_t v) {
    __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline uint64_t x86_read_cr4(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static inline void x86_write_cr4(uint64_t v) {
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline uint64_t x86_rdmsr(uint32_t msr) {
    uint32_t lo;
    uint32_t hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void x86_wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline void x86_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

/* Extended control register xcr (0: XCR0, the XSAVE feature mask). Needs CR4.OSXSAVE. */
static inline uint64_t x86_xgetbv(uint32_t xcr) {
    uint32_t lo;
    uint32_t hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(xcr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void x86_xsetbv(uint32_t xcr, uint64_t v) {
    __asm__ volatile("xsetbv" : : "c"(xcr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline void x86_invlpg(uintptr_t va) {
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* Linker-script symbols (kernel.ld). */
extern char __kernel_start[], __kernel_end[];
extern char __text_start[], __text_end[];
extern char __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[];
extern char __boot_stack_bottom[], __boot_stack_top[];
/* The IST stacks for #DF, NMI and #MC, each above its own unmapped guard page. */
extern char __ist_df_bottom[], __ist_df_top[];
extern char __ist_nmi_bottom[], __ist_nmi_top[];
extern char __ist_mc_bottom[], __ist_mc_top[];

/* Boot-time facts recorded by boot.c before kmain. */
extern uint64_t x86_kernel_phys; /* physical address of __kernel_start */
extern bool x86_in_kmain;        /* kmain's console is up: traps may use kprintf */

/* Polled writes to COM1 for messages before kmain's console exists. Any context. */
void x86_early_puts(const char *s);
void x86_early_hex(uint64_t v);

/* True when QEMU's isa-debug-exit device answers at port 0xf4. Any context. */
bool x86_have_debug_exit(void);

/* Load this CPU's GDT, TSS and IDT. Boot only, interrupts masked. */
void x86_gdt_init(void);
void x86_idt_init(void);

/* Load the shared IDT (built by x86_idt_init) on this CPU. Interrupts masked. */
void x86_idt_load(void);

/*
 * A secondary CPU's GDT and TSS with its own guarded IST stacks (#DF, NMI, #MC):
 * x86_cpu_tables_alloc prepares them on the boot CPU (KEEL_ENOMEM), the new CPU loads
 * them with x86_cpu_tables_load (GDT, TSS, segment registers and the IDT; this clears
 * GS base, so arch_set_this_cpu comes after). Interrupts masked.
 */
#define X86_IST_COUNT      3
#define X86_IST_STACK_SIZE 8192
struct x86_cpu_tables;
__must_check kstatus_t x86_cpu_tables_alloc(struct x86_cpu_tables **out);
void x86_cpu_tables_load(struct x86_cpu_tables *t);

/* An interrupt (vector >= 32) from trap_entry.S, dispatched to the portable handlers
 * between irq_enter() and irq_exit(). Interrupts masked. */
void x86_irq_dispatch(struct trap_frame *tf);

/* Called by trap_entry.S with the frame it built; returns to resume it. */
void x86_trap_handler(struct trap_frame *tf);

/*
 * A trap a self test provokes on purpose: if vector `vec` hits and this is armed, the
 * handler counts it, records the error code and cr2, sets rip to `resume` (0: leave
 * rip, or for a fault that cannot be retried, the test's own fixup) and returns.
 */
struct x86_trap_expect {
    uint64_t vector;
    uintptr_t resume; /* new rip, or 0 to resume where the CPU left off */
    uint64_t hits;
    uint64_t error;
    uint64_t cr2;
    uint64_t fault_rip;
    const char *reason; /* page faults: what vm_fault() said about the address */
};
extern struct x86_trap_expect *volatile x86_trap_expected;

/*
 * Self tests (ktest_x86_64.c, KTEST builds only): read a byte at addr, write 0 to it, or
 * call it as code (expected to be a ret), with a one-shot page-fault expectation armed.
 * True if it faulted; *exp then holds the error code, cr2 and vm_fault's reason.
 */
enum x86_probe_kind { X86_PROBE_READ, X86_PROBE_WRITE, X86_PROBE_EXEC };
bool x86_probe(struct x86_trap_expect *exp, uintptr_t addr, enum x86_probe_kind kind);

/*
 * Lazy FP/SIMD (fpu.c, fpu.S; HAL contract in include/arch/fpu.h). x86_fpu_ready: the
 * boot CPU ran arch_fpu_cpu_init, so a #NM may go to fpu_trap(). x86_fpu_xcr0: the XSAVE
 * feature mask every CPU uses (X86_XCR0_*), 0 when the state moves with FXSAVE64.
 */
#define X86_XCR0_X87 (1ULL << 0)
#define X86_XCR0_SSE (1ULL << 1)
#define X86_XCR0_AVX (1ULL << 2) /* upper halves of YMM0-15 */
extern bool x86_fpu_ready;
extern uint64_t x86_fpu_xcr0;

/*
 * The registers the FP self tests compare (fpu.S moves them in and out): YMM0-15 (only
 * the low 16 bytes of each when AVX is off), ST(0)-ST(7) as 64-bit doubles, MXCSR, the
 * x87 control and status words and the x87 tags. Offsets are shared with fpu.S.
 */
struct x86_fpu_regs {
    uint64_t ymm[16][4]; /* offset 0: lanes 0-1 = XMMn, lanes 2-3 = the upper half */
    uint64_t st[8];      /* offset 512: ST(i), bit patterns of doubles */
    uint32_t mxcsr;      /* offset 576 */
    uint16_t fcw;        /* offset 580 */
    uint16_t fsw;        /* offset 582: store only; bits 11-13 = TOP */
    uint8_t ftw;         /* offset 584: store only; abridged tags, bit i = R(i) in use */
    uint8_t pad[7];
};

/*
 * fpu.S: load every register of r into the unit (fninit first, so the x87 stack ends up
 * holding exactly r->st, all 8 slots in use) / store the unit's registers into r without
 * changing them (the status and tag words through an FXSAVE64 to the stack). avx: move
 * all 32 bytes of each YMM register, else 16 of XMM. FP/SIMD instructions: a thread with
 * the unit disabled traps (#NM) on the first one. Interrupts in any state.
 */
void x86_fpu_regs_load(const struct x86_fpu_regs *r, bool avx);
void x86_fpu_regs_store(struct x86_fpu_regs *r, bool avx);

/* fpu.S, for the benchmark: one SSE instruction that changes no register (so it traps
 * with the unit disabled, like any first FP/SIMD use). */
void x86_fpu_touch(void);

/*
 * Look up the mapping of va in the live page tables. On success *pte is the leaf entry
 * and *page_size its size (4 KiB, 2 MiB or 1 GiB). KEEL_ENOTFOUND if unmapped.
 */
__must_check kstatus_t x86_pt_lookup(uintptr_t va, uint64_t *pte, uint64_t *page_size);

/* Drop the loader's identity map of its trampoline (PML4 slots 0-255). Boot only. */
void x86_mmu_init(const struct boot_info *bi);

/*
 * TLB maintenance for the portable VM layer (tlb.c): INVLPG per page, a full flush
 * (INVPCID all-contexts, else a CR4.PGE toggle) for large ranges. This CPU only.
 */
extern const struct vm_tlb_ops x86_tlb_ops;

/* True if va lies in the unmapped guard page below one of the image's stacks. */
bool x86_in_stack_guard(uint64_t va);

/* Drop every TLB entry on this CPU, global ones included. Any context. */
void x86_tlb_flush_all(void);

/*
 * Move the device windows arch_mmio_map() handed out on the boot tables into the kernel
 * space ks (same virtual addresses); from then on arch_mmio_map maps through the VM
 * layer. KEEL_ENOMEM. Boot only, before the switch to ks.
 */
__must_check kstatus_t x86_mmio_adopt(struct vm_space *ks);

#endif /* ARCH_X86_64_X86_H */
