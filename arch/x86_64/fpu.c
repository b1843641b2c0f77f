/* SPDX-License-Identifier: MIT */
/*
 * x86_64 lazy FP/SIMD (include/arch/fpu.h): CR0.TS disables the unit, so a thread's first
 * FP/SIMD instruction after a switch raises #NM (trap.c hands it to fpu_trap()). The state
 * is x87 + SSE (+ AVX when the CPU has it) moved with XSAVE64/XRSTOR64 under one XCR0 mask,
 * or with FXSAVE64/FXRSTOR64 on CPUs without XSAVE. The instructions are in fpu.S.
 */
#include <arch/fpu.h>
#include <kernel/heap.h>
#include <kernel/kprintf.h>
#include <kernel/string.h>

#include "x86.h"

STATIC_ASSERT(__alignof__(struct arch_fpu_state) <= KMALLOC_ALIGN,
              "struct thread (with its FP state) comes from kmalloc");
STATIC_ASSERT(sizeof(struct x86_fpu_regs) == 592, "struct x86_fpu_regs is shared with fpu.S");
STATIC_ASSERT(__builtin_offsetof(struct x86_fpu_regs, st) == 512, "fpu.S: REGS_ST");
STATIC_ASSERT(__builtin_offsetof(struct x86_fpu_regs, mxcsr) == 576, "fpu.S: REGS_MXCSR");
STATIC_ASSERT(__builtin_offsetof(struct x86_fpu_regs, fcw) == 580, "fpu.S: REGS_FCW");
STATIC_ASSERT(__builtin_offsetof(struct x86_fpu_regs, fsw) == 582, "fpu.S: REGS_FSW");
STATIC_ASSERT(__builtin_offsetof(struct x86_fpu_regs, ftw) == 584, "fpu.S: REGS_FTW");

/* CPUID.1 feature bits (SDM vol. 2A, CPUID). */
#define CPUID1_ECX_XSAVE (1U << 26)
#define CPUID1_ECX_AVX   (1U << 28)
#define CPUID_XSAVE_LEAF 0xdU

/* The legacy region of an XSAVE/FXSAVE area (SDM vol. 1, 10.5.1 and 13.4). */
#define AREA_FCW         0       /* x87 control word, 16 bits */
#define AREA_FTW         4       /* abridged x87 tag word, 8 bits: 0 = every register empty */
#define AREA_MXCSR       24      /* 32 bits */
#define AREA_XSTATE_BV   512     /* XSAVE header: which components the area holds */
#define FCW_DEFAULT      0x037fU /* all x87 exceptions masked, 64-bit precision, nearest */
#define MXCSR_DEFAULT    0x1f80U /* all SIMD exceptions masked, round to nearest */
#define MXCSR_RC_SHIFT   13
#define FCW_RC_SHIFT     10
#define FCW_CHECKED_BITS 0x0f3fU /* rounding, precision and exception masks */
#define FSW_TOP          0x3800U /* x87 status word: top-of-stack index */

bool x86_fpu_ready;
uint64_t x86_fpu_xcr0;
static uint32_t fpu_area_size = 512; /* bytes XSAVE writes for x86_fpu_xcr0, or FXSAVE's */

/* fpu.S */
void x86_fpu_xsave(void *area, uint64_t mask);
void x86_fpu_xrstor(const void *area, uint64_t mask);
void x86_fpu_fxsave(void *area);
void x86_fpu_fxrstor(const void *area);

static uint8_t *area_of(const struct arch_fpu_state *st) {
    uintptr_t a = (uintptr_t)st->buf;
    return (uint8_t *)((a + X86_FPU_AREA_ALIGN - 1) & ~(uintptr_t)(X86_FPU_AREA_ALIGN - 1));
}

/*
 * Boot CPU, once: pick the state and its instructions. XCR0 must be set before
 * CPUID.(EAX=0DH,ECX=0).EBX reports the area size for it; if that does not fit our
 * buffer, AVX is dropped, and if it still does not, FXSAVE is used (neither is expected:
 * the standard layout of these components is architectural).
 */
static void fpu_probe(void) {
    uint32_t r[4];
    x86_cpuid(1, 0, r);
    if ((r[2] & CPUID1_ECX_XSAVE) == 0) {
        x86_fpu_xcr0 = 0;
        fpu_area_size = 512;
        return;
    }
    x86_write_cr4(x86_read_cr4() | X86_CR4_OSXSAVE);
    x86_cpuid(CPUID_XSAVE_LEAF, 0, r);
    uint64_t supported = ((uint64_t)r[3] << 32) | r[0];
    uint64_t xcr0 = X86_XCR0_X87 | X86_XCR0_SSE;
    if ((supported & X86_XCR0_AVX) != 0) {
        x86_cpuid(1, 0, r);
        if ((r[2] & CPUID1_ECX_AVX) != 0) {
            xcr0 |= X86_XCR0_AVX;
        }
    }
    x86_xsetbv(0, xcr0);
    x86_cpuid(CPUID_XSAVE_LEAF, 0, r);
    if (r[1] > X86_FPU_AREA_MAX && (xcr0 & X86_XCR0_AVX) != 0) {
        kprintf("FPU: XSAVE area of %u bytes does not fit (max %u): AVX left off\n", r[1],
                (unsigned)X86_FPU_AREA_MAX);
        xcr0 &= ~X86_XCR0_AVX;
        x86_xsetbv(0, xcr0);
        x86_cpuid(CPUID_XSAVE_LEAF, 0, r);
    }
    if (r[1] > X86_FPU_AREA_MAX) {
        kprintf("FPU: XSAVE area of %u bytes does not fit: FXSAVE instead\n", r[1]);
        x86_fpu_xcr0 = 0;
        fpu_area_size = 512;
        return;
    }
    x86_fpu_xcr0 = xcr0;
    fpu_area_size = r[1];
}

void arch_fpu_cpu_init(void) {
    if (!x86_fpu_ready) {
        fpu_probe();
    }
    uint64_t cr4 = x86_read_cr4() | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
    if (x86_fpu_xcr0 != 0) {
        cr4 |= X86_CR4_OSXSAVE;
    }
    x86_write_cr4(cr4);
    if (x86_fpu_xcr0 != 0) {
        x86_xsetbv(0, x86_fpu_xcr0);
    }
    uint64_t cr0 = x86_read_cr0() & ~X86_CR0_EM;
    x86_write_cr0(cr0 | X86_CR0_MP | X86_CR0_NE | X86_CR0_TS);
    if (!x86_fpu_ready) {
        kprintf("FPU: %s, %u bytes per thread\n", arch_fpu_describe(), fpu_area_size);
        x86_fpu_ready = true;
    }
}

void arch_fpu_enable(void) {
    __asm__ volatile("clts" : : : "memory");
}

void arch_fpu_disable(void) {
    x86_write_cr0(x86_read_cr0() | X86_CR0_TS);
}

void arch_fpu_save(struct arch_fpu_state *st) {
    if (x86_fpu_xcr0 != 0) {
        x86_fpu_xsave(area_of(st), x86_fpu_xcr0);
    } else {
        x86_fpu_fxsave(area_of(st));
    }
}

void arch_fpu_restore(const struct arch_fpu_state *st) {
    if (x86_fpu_xcr0 != 0) {
        x86_fpu_xrstor(area_of(st), x86_fpu_xcr0);
    } else {
        x86_fpu_fxrstor(area_of(st));
    }
}

/*
 * Zero registers, FCW 0x037F, FTW all empty (abridged tag 0), MXCSR 0x1F80. With XSAVE
 * the header says the area holds x87 and SSE (loaded as written) and not AVX (so XRSTOR
 * zeroes the upper YMM halves); XCOMP_BV and the rest of the header stay zero.
 */
void arch_fpu_state_init(struct arch_fpu_state *st) {
    uint8_t *a = area_of(st);
    uint16_t fcw = FCW_DEFAULT;
    uint32_t mxcsr = MXCSR_DEFAULT;
    uint64_t xstate_bv = X86_XCR0_X87 | X86_XCR0_SSE;
    memset(st, 0, sizeof(*st));
    memcpy(a + AREA_FCW, &fcw, sizeof(fcw));
    a[AREA_FTW] = 0;
    memcpy(a + AREA_MXCSR, &mxcsr, sizeof(mxcsr));
    if (x86_fpu_xcr0 != 0) {
        memcpy(a + AREA_XSTATE_BV, &xstate_bv, sizeof(xstate_bv));
    }
}

static bool fpu_avx(void) {
    return (x86_fpu_xcr0 & X86_XCR0_AVX) != 0;
}

/* splitmix64: distinct, well-mixed values per (seed, slot). Integer only. */
static uint64_t mix(uint64_t seed, unsigned slot) {
    uint64_t z = seed * 0x9e3779b97f4a7c15ULL + (slot + 1) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/*
 * The pattern of seed: every YMM lane from mix(); ST(i) a normal double (sign 0, biased
 * exponent 0x3ff + i, mantissa from mix(), so exact in any rounding mode); the rounding
 * control of MXCSR and of the x87 control word from the seed's low bits (so consecutive
 * seeds differ there too).
 */
static void fpu_pattern(uint64_t seed, struct x86_fpu_regs *r) {
    memset(r, 0, sizeof(*r));
    for (unsigned i = 0; i < 16; i++) {
        for (unsigned l = 0; l < 4; l++) {
            r->ymm[i][l] = mix(seed, i * 4 + l);
        }
    }
    for (unsigned i = 0; i < 8; i++) {
        r->st[i] = ((uint64_t)(0x3ff + i) << 52) | (mix(seed, 64 + i) & ((1ULL << 52) - 1));
    }
    r->mxcsr = MXCSR_DEFAULT | (uint32_t)((seed & 3) << MXCSR_RC_SHIFT);
    r->fcw = (uint16_t)(FCW_DEFAULT | (((seed + 1) & 3) << FCW_RC_SHIFT));
}

void arch_fpu_test_fill(uint64_t seed) {
    struct x86_fpu_regs r;
    fpu_pattern(seed, &r);
    x86_fpu_regs_load(&r, fpu_avx());
}

bool arch_fpu_test_check(uint64_t seed) {
    struct x86_fpu_regs want;
    struct x86_fpu_regs got;
    bool avx = fpu_avx();
    fpu_pattern(seed, &want);
    memset(&got, 0, sizeof(got));
    x86_fpu_regs_store(&got, avx);
    for (unsigned i = 0; i < 16; i++) {
        for (unsigned l = 0; l < (avx ? 4u : 2u); l++) {
            if (got.ymm[i][l] != want.ymm[i][l]) {
                return false;
            }
        }
    }
    for (unsigned i = 0; i < 8; i++) {
        if (got.st[i] != want.st[i]) {
            return false;
        }
    }
    /* All eight x87 slots still in use, TOP back at 0 after the eight pushes. */
    return got.ftw == 0xff && (got.fsw & FSW_TOP) == 0 && got.mxcsr == want.mxcsr &&
           (got.fcw & FCW_CHECKED_BITS) == (want.fcw & FCW_CHECKED_BITS);
}

const char *arch_fpu_describe(void) {
    if (x86_fpu_xcr0 == 0) {
        return "x87+SSE (fxsave)";
    }
    return fpu_avx() ? "x87+SSE+AVX (xsave)" : "x87+SSE (xsave)";
}
