/* SPDX-License-Identifier: MIT */
/*
 * x86_64 body of struct arch_fpu_state (include/arch/fpu.h): one thread's FP/SIMD
 * registers in the XSAVE (or FXSAVE64) memory layout. XSAVE wants a 64-byte-aligned area
 * but threads come from kmalloc (16-byte aligned), so the buffer carries 48 bytes of
 * slack and fpu.c aligns the pointer inside it at run time.
 */
#ifndef ARCH_X86_64_ARCH_FPU_H
#define ARCH_X86_64_ARCH_FPU_H

#include <kernel/types.h>

/*
 * The largest area Keel uses: XSAVE standard format for x87 + SSE + AVX = the 512-byte
 * legacy region (x87, MXCSR, XMM0-15), the 64-byte XSAVE header and YMM_Hi128 (256 bytes
 * at offset 576). fpu.c checks CPUID.(EAX=0DH,ECX=0).EBX against it at boot.
 */
#define X86_FPU_AREA_MAX   832
#define X86_FPU_AREA_ALIGN 64
#define X86_FPU_AREA_SLACK (X86_FPU_AREA_ALIGN - 16)

struct arch_fpu_state {
    uint8_t buf[X86_FPU_AREA_MAX + X86_FPU_AREA_SLACK];
} __aligned(16);

#endif /* ARCH_X86_64_ARCH_FPU_H */
