/* SPDX-License-Identifier: MIT */
/*
 * Private to arch/riscv64: CSR access, SBI calls, the early (pre-UART) console and the
 * page-table helpers shared by boot.c, mmu.c, trap.c and the arch KTESTs. Portable code
 * never includes this; it reaches the arch only through include/arch/.
 */
#ifndef RISCV64_RISCV_H
#define RISCV64_RISCV_H

#include <arch/arch_mmu.h>
#include <arch/cpu.h>
#include <kernel/boot_info.h>
#include <kernel/types.h>

#define csr_read(csr)                                                                              \
    ({                                                                                             \
        unsigned long csr_v_;                                                                      \
        __asm__ volatile("csrr %0, " #csr : "=r"(csr_v_)::"memory");                               \
        csr_v_;                                                                                    \
    })
#define csr_write(csr, v)                                                                          \
    __asm__ volatile("csrw " #csr ", %0" ::"rK"((unsigned long)(v)) : "memory")
#define csr_set(csr, v) __asm__ volatile("csrs " #csr ", %0" ::"rK"((unsigned long)(v)) : "memory")
#define csr_clear(csr, v)                                                                          \
    __asm__ volatile("csrc " #csr ", %0" ::"rK"((unsigned long)(v)) : "memory")

/* sstatus bits (privileged spec v1.12, 4.1.1). */
#define SSTATUS_SIE  (1UL << 1)
#define SSTATUS_SPIE (1UL << 5)
#define SSTATUS_SPP  (1UL << 8)
#define SSTATUS_SUM  (1UL << 18)

/* sstatus.FS (bits 14:13), the F/D unit's state: Off traps every FP instruction. */
#define SSTATUS_FS         (3UL << 13)
#define SSTATUS_FS_OFF     (0UL << 13)
#define SSTATUS_FS_INITIAL (1UL << 13)
#define SSTATUS_FS_CLEAN   (2UL << 13)
#define SSTATUS_FS_DIRTY   (3UL << 13)

/* scause: the top bit marks an interrupt; the rest is the code. */
#define SCAUSE_INTERRUPT (1UL << 63)
#define CAUSE_BREAKPOINT 3
#define CAUSE_FETCH_PAGE 12
#define CAUSE_LOAD_PAGE  13
#define CAUSE_STORE_PAGE 15

/* satp (4.1.11): MODE in bits 63:60, PPN of the root table in 43:0. */
#define SATP_MODE_SHIFT 60
#define SATP_MODE_SV39  8UL
#define SATP_MODE_SV48  9UL
#define SATP_PPN_MASK   ((1UL << 44) - 1)

/* Page-table entry bits (4.3.1 / 4.4.1). A leaf has R, W or X set; else it points down. */
#define PTE_V          (1UL << 0)
#define PTE_R          (1UL << 1)
#define PTE_W          (1UL << 2)
#define PTE_X          (1UL << 3)
#define PTE_U          (1UL << 4)
#define PTE_G          (1UL << 5)
#define PTE_A          (1UL << 6)
#define PTE_D          (1UL << 7)
#define PTE_PBMT_NC    (1UL << 61) /* Svpbmt: non-cacheable, idempotent memory */
#define PTE_PPN_SHIFT  10
#define PTE_LEAF_MASK  (PTE_R | PTE_W | PTE_X)
#define PTE_ENTRIES    512
#define PTE_TO_PA(pte) (((pte) >> PTE_PPN_SHIFT) << PAGE_SHIFT)
#define PA_TO_PTE(pa)  (((uint64_t)(pa) >> PAGE_SHIFT) << PTE_PPN_SHIFT)

#define SZ_2M (1ULL << 21)
#define SZ_1G (1ULL << 30)

typedef uint64_t pte_t;

/*
 * Set by entry.S: the page tables it built and the paging mode it chose. Once
 * arch_mm_init() has switched to the VM layer's tables, riscv_satp_mode is the mode of
 * those (they may use Sv39 on an Sv48 hart: "mmu=sv39") and the boot tables are idle.
 */
extern pte_t boot_pt_root[PTE_ENTRIES];   /* Sv48 level 3; unused under Sv39 */
extern pte_t boot_pt_high[PTE_ENTRIES];   /* level 2: the top 256 GiB (Sv39 root) */
extern pte_t boot_pt_kernel[PTE_ENTRIES]; /* level 1: the image's gigabyte, 2 MiB leaves */
extern uint64_t riscv_satp_mode;          /* SATP_MODE_SV48 or SATP_MODE_SV39 */
extern uint64_t riscv_kernel_phys;        /* physical address of _kernel_start */

/* Linker-script symbols (linker.ld). */
extern char _kernel_start[], _kernel_end[], _text_start[], _text_end[];
extern char _ro_start[], _ro_end[], _data_start[];
extern char _boot_stack_guard[], _boot_stack_bottom[], _boot_stack_top[];
extern char _overflow_stack_guard[], _overflow_stack_bottom[], _overflow_stack_top[];

/*
 * Per hart, tp points at its struct percpu from high_entry on (riscv_early_percpu until
 * arch_set_this_cpu). percpu.arch_scratch is the lowest address the current kernel stack
 * may hold (the top of its guard page): trap_entry.S switches to the overflow stack when
 * a trap frame would go below it. It travels with each thread's context (context.S).
 * The arch[] words below are private to arch/riscv64; their offsets are used by asm.
 */
#define PERCPU_STACK_LIMIT_OFF 8  /* struct percpu.arch_scratch */
#define PERCPU_ARCH_OFF        96 /* struct percpu.arch[0] (checked in smp.c) */
enum riscv_percpu_word {
    RV_PCPU_OVERFLOW_SP = 0, /* the bad sp, parked by trap_entry.S on a stack overflow */
    RV_PCPU_IPI_PENDING = 1, /* bit per enum ipi_kind, set by senders (irq.c) */
    RV_PCPU_PLIC_CTX = 2,    /* this hart's S-mode PLIC context + 1 (0: none) */
    RV_PCPU_TIMER_IRQS = 3,  /* supervisor timer interrupts taken (arch KTESTs) */
    RV_PCPU_IPI_IRQS = 4,    /* IPI kinds handled (arch KTESTs) */
    RV_PCPU_IDLE_WAITS = 5,  /* arch_cpu_idle() calls (arch KTESTs) */
    RV_PCPU_TIMER_AT = 6,    /* time CSR when the last timer interrupt was taken */
};

struct percpu;
extern struct percpu riscv_early_percpu;

/* The current stack limit of this hart (see above). */
uintptr_t riscv_stack_limit(void);
/* Set it: for code that moves to another stack outside arch_context_switch. */
void riscv_set_stack_limit(uintptr_t limit);
/* This hart's private per-CPU word w (enum riscv_percpu_word). */
uintptr_t *riscv_percpu_word(unsigned w);

/* The struct percpu of CPU index (registered by arch_set_this_cpu / start), or NULL. */
struct percpu *riscv_cpu(unsigned index);

/* Supervisor interrupt numbers (scause codes and sie/sip bits). */
#define IRQ_S_SOFT         1
#define IRQ_S_TIMER        5
#define IRQ_S_EXT          9
#define SIE_SSIE           (1UL << IRQ_S_SOFT)
#define SIE_STIE           (1UL << IRQ_S_TIMER)
#define SIE_SEIE           (1UL << IRQ_S_EXT)
#define CAUSE_ILLEGAL_INSN 2

/* Timer (timer.c): the time CSR frequency, and the deadline path chosen at boot. */
extern uint64_t riscv_timebase_hz;
extern bool riscv_dt_sstc;    /* the device tree lists Sstc for the boot hart */
extern bool riscv_timer_sstc; /* deadlines go to stimecmp (else SBI TIME set_timer) */
/* Choose SBI or Sstc ("timer=sbi" forces SBI). Boot CPU, before the first deadline. */
void riscv_timer_init(const struct boot_info *bi);
/* The supervisor timer interrupt: mask it until the next deadline, count, run the tick. */
void riscv_timer_interrupt(void);

/* Interrupt sources other than the timer (irq.c): the IPI and the PLIC claim loop. */
void riscv_ipi_interrupt(void);
void riscv_external_interrupt(void);

/*
 * Start hart hwid through SBI HSM in the kernel address space on stack_top (whose limit
 * is stack_top - THREAD_STACK_SIZE) with tp = pc; it calls entry(pc) with interrupts
 * masked. KEEL_ENOTSUP without HSM, KEEL_EBUSY if the hart is running, KEEL_EINVAL.
 */
__must_check kstatus_t riscv_hart_start(struct percpu *pc, uintptr_t stack_top,
                                        void (*entry)(struct percpu *pc));
/* HSM hart_get_status of hwid: 0 started, 1 stopped, 2/3 pending, < 0 SBI error. */
long riscv_hart_status(uint64_t hwid);

/*
 * entry.S's boot claim (boot hart id + 1, taken by the first hart at _start) and the start
 * requests a hart that arrives at _start later looks for: one per CPU index, written by
 * riscv_hart_start before its SBI call, cleared once the hart runs (docs/boot-riscv64.md).
 */
struct riscv_start_request {
    uint64_t hwid_plus1; /* 0: none */
    uint64_t boot_pa;    /* physical address of its struct riscv_hart_boot */
};
#define RISCV_START_REQUESTS 64
extern uint64_t riscv_boot_claim;
extern struct riscv_start_request riscv_start_requests[RISCV_START_REQUESTS];
/* The CPU index "selftest=hart_at_start_parked" started unasked, else UINT32_MAX. */
extern unsigned riscv_selftest_parked_cpu;
/* Did CPU index come in through _start (entry.S's late-hart path)? Any context. */
bool riscv_hart_entered_at_start(unsigned index);

/* The device tree lists Svpbmt for the boot hart (riscv,isa or riscv,isa-extensions). */
extern bool riscv_dt_svpbmt;

/* FP (fpu.c): the boot hart's device tree lists F and D; and the unit is in use (FS can
 * be turned on too; decided by the boot hart's arch_fpu_cpu_init). */
extern bool riscv_dt_fpu;
extern bool riscv_fpu_present;
struct trap_frame;
/*
 * An illegal instruction from S-mode: if it is an F/D instruction that trapped because
 * FS was Off, let fpu_trap() enable the unit (true: return to the instruction). A refusal
 * (interrupt handler, idle thread, ...) is fatal. false: not an FP trap, handle as before.
 */
bool riscv_fpu_trap(struct trap_frame *tf);
/* Does this instruction (16 or 32 bits) need sstatus.FS on? F/D/Q/Zfh and fcsr access. */
bool riscv_insn_is_fp(uint32_t insn);

/* Direct-map pointer to physical address pa (valid once riscv_direct_map() covered it). */
static inline void *dm_ptr(uint64_t pa) {
    return (void *)(uintptr_t)(KEEL_DIRECT_MAP_BASE + pa);
}

/* Physical address of a kernel-image object (text, data, bss, boot tables). */
static inline uint64_t kernel_virt_to_phys(const void *p) {
    return (uint64_t)((uintptr_t)p - (uintptr_t)_kernel_start) + riscv_kernel_phys;
}

/* SBI (RISC-V SBI spec v1.0/v2.0): a0 = error, a1 = value. */
struct sbiret {
    long error;
    long value;
};

#define SBI_EXT_BASE            0x10
#define SBI_EXT_TIME            0x54494d45
#define SBI_EXT_IPI             0x735049
#define SBI_EXT_RFENCE          0x52464e43
#define SBI_EXT_HSM             0x48534d
#define SBI_EXT_SRST            0x53525354
#define SBI_EXT_DBCN            0x4442434e
#define SBI_EXT_LEGACY_PUTCHAR  0x01
#define SBI_EXT_LEGACY_SHUTDOWN 0x08

struct sbiret sbi_call(unsigned long eid, unsigned long fid, unsigned long a0, unsigned long a1,
                       unsigned long a2);
/* The same with a fourth argument (a3), for RFENCE. */
struct sbiret sbi_call4(unsigned long eid, unsigned long fid, unsigned long a0, unsigned long a1,
                        unsigned long a2, unsigned long a3);
bool sbi_probe(unsigned long eid);

/* Early console through SBI: for messages before (or without) the UART. Any context. */
void riscv_early_puts(const char *s);

/* Fill a firmware description ("OpenSBI 1.1") into buf from the SBI base extension. */
void sbi_describe(char *buf, size_t cap);

/* SRST system shutdown (reason 0 = none, 1 = system failure); returns only on failure. */
void sbi_shutdown(unsigned long reason);

/*
 * Map [pa, pa+size) into the direct map (R/W, never X), 2 MiB or 1 GiB pages, rounding
 * outward to 2 MiB. KEEL_ENOMEM when the static table pool is exhausted, KEEL_ERANGE
 * when the range is beyond what the direct map covers. Boot CPU only.
 */
__must_check kstatus_t riscv_direct_map(uint64_t pa, uint64_t size);

/* Walk the live page table for va: the leaf PTE and its size, or false if unmapped.
 * Lock-free (reads what the hardware walker would), so usable from trap context. */
bool riscv_walk(uintptr_t va, pte_t *leaf, uint64_t *page_size);

/*
 * Call fn(base, size, ctx) for each run of RAM-like memory in the map (everything but
 * MMIO and bad RAM), neighbours within 2 MiB coalesced so large pages fit. Stops at and
 * returns the first error. Boot only.
 */
__must_check kstatus_t riscv_ram_runs(const struct boot_info *bi,
                                      kstatus_t (*fn)(uint64_t base, uint64_t size, void *ctx),
                                      void *ctx);

/*
 * True when the hart honours Svpbmt memory types: a 2 MiB alias of the image with PBMT=NC
 * reads back instead of faulting (reserved bits, or menvcfg.PBMTE left clear by the
 * firmware). Uses the boot tables; boot CPU only, before arch_mm_init() switches.
 */
bool riscv_probe_svpbmt(void);

struct vm_space;
struct vm_tlb_ops;

/* Map every device window arch_mmio_map() handed out so far into ks (VM_DEVICE). */
__must_check kstatus_t riscv_mmio_replay(struct vm_space *ks);

/* TLB maintenance for the VM layer (tlb.c): sfence.vma on this hart, RFENCE to others. */
extern const struct vm_tlb_ops riscv_tlb_ops;
/* Harts started besides the boot hart: the TLB ops send fences only when > 0. */
extern unsigned riscv_other_harts;

/* Hart id of the hart that entered the kernel (a0 from the firmware). */
extern uint64_t riscv_boot_hart;

/* The "sifive,test0" device mapped at boot (NULL when absent), written by power-off. */
extern volatile uint32_t *riscv_test_dev;

/* A recoverable-trap hook for KTESTs: armed with the scause it expects. */
struct riscv_trap_expect {
    bool armed;
    unsigned long cause; /* scause that is expected */
    unsigned long hits;  /* how many expected traps were taken */
    unsigned long stval; /* stval of the last one */
    unsigned long sepc;  /* sepc of the last one */
    const char *reason;  /* for page faults: what vm_fault() said */
};
extern struct riscv_trap_expect riscv_trap_expect;

#endif /* RISCV64_RISCV_H */
