/* SPDX-License-Identifier: MIT */
/*
 * x86_64 self tests (run with "ktest=x86"): traps taken on purpose and resumed (int3,
 * ud2, page faults on an unmapped address and on read-only text), the live page tables
 * (W^X kernel sections, stack guard page, direct map of RAM) and arch_mmio_map. Also
 * x86_probe(), the recoverable access the VM tests (ktest_vm_x86_64.c) build on.
 */
#include <arch/cpu.h>
#include <arch/io.h>
#include <arch/trap.h>
#include <arch/x86_pt.h>
#include <kernel/ktest.h>
#include <kernel/vm.h>
#include <kernel/vmm.h>

#include "x86.h"

#define MSR_APIC_BASE  0x1bU
#define APIC_BASE_EXTD (1ULL << 10) /* x2APIC mode: the MMIO registers are off */
#define APIC_VERSION   0x30

static volatile uint64_t ktest_data_word = 0x1122334455667788ULL;

static bool nx_on(void) {
    return (x86_rdmsr(X86_MSR_EFER) & X86_EFER_NXE) != 0;
}

KTEST(x86_breakpoint_resumes) {
    struct x86_trap_expect exp = {.vector = X86_VEC_BP};
    uint64_t keep = 0x0123456789abcdefULL;
    x86_trap_expected = &exp;
    __asm__ volatile("int3" : "+b"(keep) : : "memory");
    KTEST_EXPECT_EQ(exp.hits, 1);
    KTEST_EXPECT_EQ(keep, 0x0123456789abcdefULL); /* registers survive the round trip */
    KTEST_EXPECT(x86_trap_expected == NULL);
}

KTEST(x86_invalid_opcode_fixup) {
    struct x86_trap_expect exp = {.vector = X86_VEC_UD};
    x86_trap_expected = &exp;
    __asm__ volatile("leaq 1f(%%rip), %%rax\n\t"
                     "movq %%rax, %c[off](%[e])\n\t"
                     "ud2\n"
                     "1:"
                     :
                     : [e] "r"(&exp), [off] "i"(__builtin_offsetof(struct x86_trap_expect, resume))
                     : "rax", "memory");
    KTEST_EXPECT_EQ(exp.hits, 1);
    KTEST_EXPECT(exp.fault_rip != 0 && exp.fault_rip + 2 == exp.resume);
}

/* rax is free for the fixup address: the probes clobber it. */
#define PROBE_ARM "leaq 1f(%%rip), %%rax\n\tmovq %%rax, %c[off](%[e])\n\t"

bool x86_probe(struct x86_trap_expect *exp, uintptr_t addr, enum x86_probe_kind kind) {
    *exp = (struct x86_trap_expect){.vector = X86_VEC_PF};
    x86_trap_expected = exp;
    if (kind == X86_PROBE_WRITE) {
        __asm__ volatile(PROBE_ARM "movb $0, (%[a])\n"
                                   "1:"
                         :
                         : [e] "r"(exp), [a] "r"(addr),
                           [off] "i"(__builtin_offsetof(struct x86_trap_expect, resume))
                         : "rax", "memory");
    } else if (kind == X86_PROBE_EXEC) {
        /* Call addr (a ret instruction when it works); r12 restores rsp after a fault. */
        __asm__ volatile(PROBE_ARM "movq %%rsp, %%r12\n\t"
                                   "call *%[a]\n"
                                   "1:\n\t"
                                   "movq %%r12, %%rsp"
                         :
                         : [e] "r"(exp), [a] "r"(addr),
                           [off] "i"(__builtin_offsetof(struct x86_trap_expect, resume))
                         : "rax", "r12", "memory");
    } else {
        __asm__ volatile(PROBE_ARM "movb (%[a]), %%al\n"
                                   "1:"
                         :
                         : [e] "r"(exp), [a] "r"(addr),
                           [off] "i"(__builtin_offsetof(struct x86_trap_expect, resume))
                         : "rax", "memory");
    }
    x86_trap_expected = NULL;
    return exp->hits != 0;
}

KTEST(x86_unmapped_read_faults) {
    struct x86_trap_expect exp;
    uintptr_t bad = arch_unmapped_address();
    KTEST_EXPECT(x86_probe(&exp, bad, X86_PROBE_READ));
    KTEST_EXPECT_EQ(exp.hits, 1);
    KTEST_EXPECT_EQ(exp.cr2, bad);
    KTEST_EXPECT_EQ(exp.error & (X86_PF_P | X86_PF_W | X86_PF_I | X86_PF_U), 0);
}

KTEST(x86_text_is_read_only) {
    struct x86_trap_expect exp;
    uintptr_t text = (uintptr_t)__text_start + 64;
    uint8_t before = *(volatile uint8_t *)text;
    KTEST_EXPECT(x86_probe(&exp, text, X86_PROBE_WRITE));
    KTEST_EXPECT_EQ(exp.hits, 1);
    KTEST_EXPECT_EQ(exp.cr2, text);
    KTEST_EXPECT_EQ(exp.error & (X86_PF_P | X86_PF_W), X86_PF_P | X86_PF_W);
    KTEST_EXPECT_EQ(*(volatile uint8_t *)text, before);
}

KTEST(x86_kernel_sections_wx) {
    uint64_t pte = 0;
    uint64_t size = 0;
    uint64_t nx = nx_on() ? X86_PTE_NX : 0;

    KTEST_EXPECT_EQ(x86_pt_lookup((uintptr_t)__text_start, &pte, &size), KEEL_OK);
    KTEST_EXPECT_EQ(pte & (X86_PTE_W | X86_PTE_NX), 0);
    KTEST_EXPECT_EQ(x86_pt_lookup((uintptr_t)__rodata_start, &pte, &size), KEEL_OK);
    KTEST_EXPECT_EQ(pte & (X86_PTE_W | X86_PTE_NX), nx);
    KTEST_EXPECT_EQ(x86_pt_lookup((uintptr_t)&ktest_data_word, &pte, &size), KEEL_OK);
    KTEST_EXPECT_EQ(pte & (X86_PTE_W | X86_PTE_NX), X86_PTE_W | nx);
    KTEST_EXPECT_EQ(size, X86_PAGE_4K);
    /* The page under the boot stack is a guard; the test address is never mapped. */
    KTEST_EXPECT_EQ(x86_pt_lookup((uintptr_t)__boot_stack_bottom - 8, &pte, &size), KEEL_ENOTFOUND);
    KTEST_EXPECT_EQ(x86_pt_lookup(arch_unmapped_address(), &pte, &size), KEEL_ENOTFOUND);
    /* The loader's identity mapping of its trampoline is gone. */
    KTEST_EXPECT_EQ(x86_pt_lookup((uintptr_t)x86_kernel_phys, &pte, &size), KEEL_ENOTFOUND);
}

KTEST(x86_direct_map_reads_ram) {
    uint64_t pte = 0;
    uint64_t size = 0;
    uintptr_t va = (uintptr_t)&ktest_data_word;
    KTEST_EXPECT_EQ(x86_pt_lookup(va, &pte, &size), KEEL_OK);
    paddr_t pa = PADDR((pte & X86_PTE_ADDR & ~(size - 1)) + (va & (size - 1)));
    volatile uint64_t *alias = phys_to_virt(pa);
    KTEST_EXPECT_EQ(*alias, 0x1122334455667788ULL);
    *alias = 0x8877665544332211ULL;
    KTEST_EXPECT_EQ(ktest_data_word, 0x8877665544332211ULL);
    ktest_data_word = 0x1122334455667788ULL;
    KTEST_EXPECT_EQ(virt_to_phys((const void *)alias).pa, pa.pa);
    /* Direct-map pages are data: never executable when NX is on. */
    KTEST_EXPECT_EQ(x86_pt_lookup((uintptr_t)alias, &pte, &size), KEEL_OK);
    KTEST_EXPECT_EQ(pte & X86_PTE_NX, nx_on() ? X86_PTE_NX : 0);
}

KTEST(x86_mmio_map_is_uncached) {
    volatile void *va = NULL;
    uint64_t apic = x86_rdmsr(MSR_APIC_BASE);
    paddr_t base = PADDR(apic & X86_PTE_ADDR);

    KTEST_EXPECT_EQ(arch_mmio_map(base, 0, &va), KEEL_EINVAL);
    KTEST_EXPECT_EQ(arch_mmio_map(PADDR(~0ULL - 8), 64, &va), KEEL_EINVAL);
    KTEST_EXPECT_EQ(arch_mmio_map(base, 0x400, &va), KEEL_OK);
    uint64_t pte = 0;
    uint64_t size = 0;
    KTEST_EXPECT_EQ(x86_pt_lookup((uintptr_t)va, &pte, &size), KEEL_OK);
    KTEST_EXPECT_EQ(pte & X86_PTE_ADDR, base.pa);
    KTEST_EXPECT_EQ(pte & (X86_PTE_PCD | X86_PTE_PWT | X86_PTE_W),
                    X86_PTE_PCD | X86_PTE_PWT | X86_PTE_W);
    KTEST_EXPECT_EQ(pte & X86_PTE_NX, nx_on() ? X86_PTE_NX : 0);
    /* PCD+PWT select PAT entry 3, which must stay uncached; PWT alone (VM_WC) is entry 1. */
    KTEST_EXPECT_EQ((x86_rdmsr(X86_MSR_PAT) >> 24) & 0x7, X86_PAT_UC);
    KTEST_EXPECT_EQ((x86_rdmsr(X86_MSR_PAT) >> 8) & 0x7, X86_PAT_WC);
    uint32_t flags = 0;
    KTEST_EXPECT_EQ(vmm_query(vmm_kernel_space, VADDR((uintptr_t)va), NULL, &flags, NULL), KEEL_OK);
    KTEST_EXPECT_EQ(flags, VM_READ | VM_WRITE | VM_DEVICE | VM_GLOBAL);
    if (!(apic & APIC_BASE_EXTD)) {
        uint32_t ver = *(volatile uint32_t *)((volatile uint8_t *)va + APIC_VERSION) & 0xff;
        KTEST_EXPECT(ver >= 0x10 && ver <= 0x1f); /* an integrated local APIC */
    }
}

KTEST(x86_frame_step_rejects_garbage) {
    uintptr_t next = 0;
    uintptr_t ret = 0;
    KTEST_EXPECT(!arch_frame_step(0x1234, &next, &ret));
    KTEST_EXPECT(!arch_frame_step(arch_unmapped_address(), &next, &ret));
    KTEST_EXPECT(!arch_frame_step((uintptr_t)__boot_stack_top + 3, &next, &ret));
    KTEST_EXPECT(arch_frame_step(arch_frame_pointer(), &next, &ret));
    KTEST_EXPECT(ret >= (uintptr_t)__text_start && ret < (uintptr_t)__text_end);
}
