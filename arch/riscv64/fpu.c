/* SPDX-License-Identifier: MIT */
/*
 * riscv64 lazy FP (include/arch/fpu.h): sstatus.FS gates the F/D unit. FS = Off makes
 * every F/D instruction and fcsr access an illegal-instruction trap; riscv_fpu_trap()
 * tells those apart from really illegal instructions and hands them to fpu_trap(). FS is
 * the hart's, not a thread's: trap_entry.S never restores it from a trap frame.
 */
#include <arch/fpu.h>
#include <arch/trap.h>
#include <kernel/fpu.h>
#include <kernel/kprintf.h>
#include <kernel/panic.h>
#include <kernel/string.h>

#include "riscv.h"

STATIC_ASSERT(SSTATUS_FS == TRAP_SSTATUS_FS, "trap_entry.S keeps these bits of sstatus");

/* fpu.S (arch_fpu_save and arch_fpu_restore are there too). */
void riscv_fpu_fill(uint64_t base, uint64_t step, uint64_t fcsr);
uint64_t riscv_fpu_check(uint64_t base, uint64_t step, uint64_t fcsr);

/* Instruction fields (unprivileged spec, chapter 34 "RV32/64G Instruction Set Listings"). */
#define OPC_LOAD_FP  0x07
#define OPC_STORE_FP 0x27
#define OPC_MADD     0x43
#define OPC_MSUB     0x47
#define OPC_NMSUB    0x4b
#define OPC_NMADD    0x4f
#define OPC_OP_FP    0x53
#define OPC_SYSTEM   0x73
#define CSR_FFLAGS   0x001
#define CSR_FCSR     0x003

/* The KTEST pattern: fi = base + i * FILL_STEP, so every 16-bit lane differs. */
#define FILL_STEP 0x0001000100010001ull
#define FILL_MIX  0x9e3779b97f4a7c15ull

bool riscv_fpu_present;
static bool fpu_probed;

/* Does FS hold a non-Off value? (Without an FP unit it may be read-only zero.) */
static bool fs_writable(void) {
    csr_set(sstatus, SSTATUS_FS_INITIAL);
    bool on = (csr_read(sstatus) & SSTATUS_FS) != 0;
    csr_clear(sstatus, SSTATUS_FS);
    return on;
}

void arch_fpu_cpu_init(void) {
    if (!fpu_probed) {
        /* The boot hart, from thread_init(), before any secondary hart is started. */
        fpu_probed = true;
        riscv_fpu_present = riscv_dt_fpu && fs_writable();
        kprintf("FP: %s%s (F and D in the device tree: %s)\n", arch_fpu_describe(),
                riscv_fpu_present ? ", switched lazily" : "", riscv_dt_fpu ? "yes" : "no");
    }
    csr_clear(sstatus, SSTATUS_FS);
}

void arch_fpu_enable(void) {
    csr_set(sstatus, SSTATUS_FS_CLEAN); /* from Off; the first write makes it Dirty */
}

void arch_fpu_disable(void) {
    csr_clear(sstatus, SSTATUS_FS);
}

void arch_fpu_state_init(struct arch_fpu_state *st) {
    memset(st, 0, sizeof(*st)); /* +0.0 everywhere; fcsr 0: round to nearest, no flags */
}

bool riscv_insn_is_fp(uint32_t insn) {
    if ((insn & 3) != 3) {
        /* RV64 C: C.FLD and C.FSD (quadrant 0), C.FLDSP and C.FSDSP (quadrant 2). */
        uint32_t funct3 = (insn >> 13) & 7;
        return (insn & 3) != 1 && (funct3 == 1 || funct3 == 5);
    }
    switch (insn & 0x7f) {
    case OPC_LOAD_FP:
    case OPC_STORE_FP:
    case OPC_MADD:
    case OPC_MSUB:
    case OPC_NMSUB:
    case OPC_NMADD:
    case OPC_OP_FP:
        return true;
    case OPC_SYSTEM: {
        /* CSRRW/S/C and their immediate forms (funct3 1-3, 5-7) on fflags, frm or fcsr. */
        uint32_t funct3 = (insn >> 12) & 7;
        uint32_t csr = insn >> 20;
        return funct3 != 0 && funct3 != 4 && csr >= CSR_FFLAGS && csr <= CSR_FCSR;
    }
    default:
        return false;
    }
}

/* The instruction at pc (kernel text, 2-byte aligned), in 16-bit halves. */
static uint32_t fetch_insn(uintptr_t pc) {
    uint32_t insn = *(const volatile uint16_t *)pc;
    if ((insn & 3) == 3) {
        insn |= (uint32_t) * (const volatile uint16_t *)(pc + 2) << 16;
    }
    return insn;
}

bool riscv_fpu_trap(struct trap_frame *tf) {
    char buf[112];

    if (!riscv_fpu_present || (tf->sstatus & SSTATUS_SPP) == 0 ||
        (tf->sstatus & SSTATUS_FS) != SSTATUS_FS_OFF || !riscv_insn_is_fp(fetch_insn(tf->sepc))) {
        return false;
    }
    if (fpu_trap()) {
        return true; /* FS is on now; sret re-runs the instruction */
    }
    ksnprintf(buf, sizeof(buf), "FP/SIMD used %s (illegal instruction, sstatus.FS off)",
              fpu_refusal_reason());
    trap_fatal(tf, buf, tf->stval);
}

static void fill_pattern(uint64_t seed, uint64_t *base, uint64_t *fcsr) {
    uint64_t h = seed * FILL_MIX;
    *base = h ^ 0x5a5a5a5a5a5a5a5aull;
    /* frm: one of the five valid rounding modes (bits 7:5); fflags: bits 4:0. */
    *fcsr = ((h >> 32) % 5) << 5 | ((h >> 40) & 0x1f);
}

/* The test helpers without a unit: say so once; fill does nothing, check fails. */
static void no_unit(void) {
    static bool told;
    if (!told) {
        told = true;
        kprintf("fpu: no F and D extensions: nothing to fill, every check fails\n");
    }
}

void arch_fpu_test_fill(uint64_t seed) {
    uint64_t base, fcsr;

    if (!riscv_fpu_present) {
        no_unit();
        return;
    }
    fill_pattern(seed, &base, &fcsr);
    riscv_fpu_fill(base, FILL_STEP, fcsr);
}

bool arch_fpu_test_check(uint64_t seed) {
    uint64_t base, fcsr, bad;

    if (!riscv_fpu_present) {
        no_unit();
        return false;
    }
    fill_pattern(seed, &base, &fcsr);
    bad = riscv_fpu_check(base, FILL_STEP, fcsr);
    if (bad != 0) {
        kprintf("fpu: seed %#llx lost (bit i: fi, bit 32: fcsr): %#llx\n", (unsigned long long)seed,
                (unsigned long long)bad);
    }
    return bad == 0;
}

const char *arch_fpu_describe(void) {
    return riscv_fpu_present ? "F+D (f0-f31, fcsr)" : "none";
}
