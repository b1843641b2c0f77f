/* SPDX-License-Identifier: MIT */
/*
 * x86_64 CPUs: the per-CPU pointer in IA32_GS_BASE, idling with sti; hlt, and starting
 * the other CPUs with INIT-SIPI-SIPI (SDM vol. 3A 8.4.4) through the trampoline in
 * ap_trampoline.S, copied to the low pages the EFI loader reserved (bi->ap_trampoline):
 * page 0 the code and its parameters, pages 1-3 its PML4, PDPT and PD (the first 2 MiB
 * identity mapped, the upper half shared with the kernel's tables).
 */
#include <arch/irq.h>
#include <arch/smp.h>
#include <arch/x86_pt.h>
#include <kernel/percpu.h>
#include <kernel/smp.h>
#include <kernel/string.h>
#include <kernel/vm.h>

#include "apic.h"
#include "x86.h"

#define X86_MSR_GS_BASE 0xc0000101U

#define TRAMP_PAGES       4
#define TRAMP_LIMIT       0x100000ULL /* a SIPI vector names a page below 1 MiB */
#define INIT_DELAY_NS     10000000ULL /* INIT -> first SIPI: 10 ms */
#define SIPI_DELAY_NS     200000ULL   /* between the SIPIs: 200 us */
#define SIPI_ATTEMPTS     2
#define PML4_KERNEL_FIRST 256

/* Same layout as x86_ap_tramp_params in ap_trampoline.S. */
struct ap_tramp_params {
    uint64_t started; /* byte 0 set by the CPU in real mode */
    uint64_t cr3_boot;
    uint64_t cr3;
    uint64_t entry;
    uint64_t stack;
    uint64_t arg;
};

/* What x86_ap_main needs, one per CPU (kept, so a slow CPU never reads another's). */
struct ap_start {
    struct percpu *pc;
    struct x86_cpu_tables *tables;
};

extern const char x86_ap_tramp_start[], x86_ap_tramp_params[], x86_ap_tramp_end[];
void x86_ap_entry64(void);
__noreturn void x86_ap_main(struct ap_start *a);

static struct ap_start ap_starts[PERCPU_MAX];

void arch_set_this_cpu(struct percpu *pc) {
    x86_wrmsr(X86_MSR_GS_BASE, (uint64_t)(uintptr_t)pc);
}

void arch_cpu_idle(void) {
    /* sti holds interrupts off for one more instruction, so no wake-up slips in before hlt. */
    __asm__ volatile("sti\n\thlt\n\tcli" : : : "memory");
}

/* First C code of a secondary CPU, on its idle stack in the kernel address space. */
void x86_ap_main(struct ap_start *a) {
    x86_cpu_tables_load(a->tables);
    x86_wrmsr(X86_MSR_PAT, X86_PAT_KEEL);
    x86_write_cr4(x86_read_cr4() | X86_CR4_PGE);
    x86_tlb_flush_all();
    arch_set_this_cpu(a->pc);
    smp_secondary_main(a->pc);
}

/* Copy the trampoline and build its tables in the low block. */
static void tramp_prepare(uint64_t pa) {
    uint8_t *low = phys_to_virt(PADDR(pa));
    uint64_t *pml4 = (uint64_t *)(low + 1 * X86_PAGE_4K);
    uint64_t *pdpt = (uint64_t *)(low + 2 * X86_PAGE_4K);
    uint64_t *pd = (uint64_t *)(low + 3 * X86_PAGE_4K);
    const uint64_t *kpml4 = phys_to_virt(PADDR(x86_read_cr3() & X86_PTE_ADDR));

    memset(low, 0, TRAMP_PAGES * X86_PAGE_4K);
    memcpy(low, x86_ap_tramp_start, (size_t)(x86_ap_tramp_end - x86_ap_tramp_start));
    pml4[0] = (pa + 2 * X86_PAGE_4K) | X86_PTE_P | X86_PTE_W;
    pdpt[0] = (pa + 3 * X86_PAGE_4K) | X86_PTE_P | X86_PTE_W;
    pd[0] = 0 | X86_PTE_P | X86_PTE_W | X86_PTE_PS;
    /* The upper half as the kernel has it now (the new CPU's idle stack included). */
    for (unsigned i = PML4_KERNEL_FIRST; i < 512; i++) {
        pml4[i] = kpml4[i];
    }
}

kstatus_t arch_cpu_start(const struct boot_info *bi, struct percpu *pc, uintptr_t stack_top) {
    uint64_t pa = bi->ap_trampoline.pa;
    if (bi->ap_trampoline_size < TRAMP_PAGES * X86_PAGE_4K) {
        return KEEL_ENOTSUP; /* the loader found no low memory */
    }
    if ((pa & (X86_PAGE_4K - 1)) != 0 || pa + TRAMP_PAGES * X86_PAGE_4K > TRAMP_LIMIT ||
        pc->index >= PERCPU_MAX || pc->hwid > UINT32_MAX || (stack_top & 15) != 0) {
        return KEEL_EINVAL;
    }
    uint32_t apic_id = (uint32_t)pc->hwid;
    if (apic_id == x86_apic_id()) {
        return KEEL_EBUSY;
    }
    if (!x86_apic_is_x2apic() && apic_id > 0xff) {
        return KEEL_EINVAL;
    }
    struct ap_start *a = &ap_starts[pc->index];
    if (a->tables == NULL) {
        kstatus_t st = x86_cpu_tables_alloc(&a->tables);
        if (st != KEEL_OK) {
            return st;
        }
    }
    a->pc = pc;
    x86_apic_note_cpu(pc->index, apic_id);

    tramp_prepare(pa);
    volatile struct ap_tramp_params *p =
        (volatile struct ap_tramp_params *)((uint8_t *)phys_to_virt(PADDR(pa)) +
                                            (x86_ap_tramp_params - x86_ap_tramp_start));
    p->cr3_boot = pa + X86_PAGE_4K;
    p->cr3 = x86_read_cr3();
    p->entry = (uint64_t)(uintptr_t)x86_ap_entry64;
    p->stack = stack_top;
    p->arg = (uint64_t)(uintptr_t)a;
    p->started = 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    kstatus_t st = x86_apic_send_icr(apic_id, X86_ICR_INIT | X86_ICR_LEVEL_ASSERT);
    if (st != KEEL_OK) {
        return st;
    }
    x86_delay_ns(INIT_DELAY_NS);
    for (unsigned i = 0; i < SIPI_ATTEMPTS && p->started == 0; i++) {
        st = x86_apic_send_icr(apic_id, X86_ICR_STARTUP | (uint32_t)(pa >> 12));
        if (st != KEEL_OK) {
            return st;
        }
        x86_delay_ns(SIPI_DELAY_NS);
    }
    return KEEL_OK;
}
