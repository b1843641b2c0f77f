/* SPDX-License-Identifier: MIT */
/*
 * x86_64 traps: this CPU's GDT (kernel code/data and a TSS whose IST stacks catch
 * double faults, NMIs and machine checks even on a broken stack), the IDT for the 32
 * exception vectors, and the C side of the trap path: page faults go to the VM layer
 * (vm_fault), #NM to lazy FP/SIMD switching (fpu_trap), anything unresolved is described
 * in words and handed to trap_fatal(), unless a self test armed an expectation for it.
 */
#include <arch/cpu.h>
#include <arch/arch_mmu.h>
#include <arch/trap.h>
#include <kernel/fpu.h>
#include <kernel/heap.h>
#include <kernel/kprintf.h>
#include <kernel/panic.h>
#include <kernel/string.h>
#include <kernel/vmm.h>
#include <kernel/vm_fault.h>

#include "x86.h"

#define IDT_VECTORS     256
#define EXC_VECTORS     32
#define IRQ_STUB_STRIDE 16 /* trap_entry.S: one 16-byte stub per vector from 32 up */
#define IST_DF          1
#define IST_NMI         2
#define IST_MC          3

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __packed;

STATIC_ASSERT(sizeof(struct tss) == 104, "the 64-bit TSS is 104 bytes");

struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
} __packed;

struct descriptor_ptr {
    uint16_t limit;
    uint64_t base;
} __packed;

extern const uintptr_t x86_trap_stubs[EXC_VECTORS];
extern const char x86_irq_stubs[]; /* vector v >= 32 at x86_irq_stubs + (v - 32) * 16 */

/*
 * A CPU's GDT and TSS: null, kernel code (64-bit, DPL 0), kernel data, then the 16-byte
 * TSS descriptor (filled at run time: it holds the TSS address). The boot CPU's are
 * static; the other CPUs' come from x86_cpu_tables_alloc().
 */
struct x86_cpu_tables {
    uint64_t gdt[5];
    struct tss tss;
};

static struct x86_cpu_tables boot_tables;
static struct idt_gate idt[IDT_VECTORS];

struct x86_trap_expect *volatile x86_trap_expected;

static void gdt_load(struct x86_cpu_tables *t) {
    uint64_t *gdt = t->gdt;
    uint64_t base = (uint64_t)(uintptr_t)&t->tss;
    uint64_t limit = sizeof(t->tss) - 1;

    gdt[0] = 0;
    gdt[1] = 0x00af9a000000ffffULL;     /* 0x08: code, present, long mode */
    gdt[2] = 0x00cf92000000ffffULL;     /* 0x10: data, present, writable */
    t->tss.iomap_base = sizeof(t->tss); /* no I/O permission bitmap */

    /* Available 64-bit TSS (type 9), present. */
    gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
             ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
    gdt[4] = base >> 32;

    struct descriptor_ptr gdtr = {sizeof(t->gdt) - 1, (uint64_t)(uintptr_t)gdt};
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movl %2, %%eax\n\t"
                     "movl %%eax, %%ds\n\t"
                     "movl %%eax, %%es\n\t"
                     "movl %%eax, %%ss\n\t"
                     "xorl %%eax, %%eax\n\t"
                     "movl %%eax, %%fs\n\t"
                     "movl %%eax, %%gs\n\t"
                     "ltr %w3"
                     :
                     : "m"(gdtr), "i"(X86_KERNEL_CS), "i"(X86_KERNEL_DS), "r"(X86_TSS_SEL)
                     : "rax", "memory");
}

void x86_gdt_init(void) {
    /* The boot CPU's IST stacks sit in the image above unmapped guard pages (kernel.ld). */
    boot_tables.tss.ist[IST_DF - 1] = (uint64_t)(uintptr_t)__ist_df_top;
    boot_tables.tss.ist[IST_NMI - 1] = (uint64_t)(uintptr_t)__ist_nmi_top;
    boot_tables.tss.ist[IST_MC - 1] = (uint64_t)(uintptr_t)__ist_mc_top;
    gdt_load(&boot_tables);
}

kstatus_t x86_cpu_tables_alloc(struct x86_cpu_tables **out) {
    struct x86_cpu_tables *t = kmalloc(sizeof(*t), 0);
    if (t == NULL) {
        return KEEL_ENOMEM;
    }
    memset(t, 0, sizeof(*t));
    /* vmalloc puts an unmapped guard page after each area; one area per IST stack. */
    for (unsigned i = 0; i < X86_IST_COUNT; i++) {
        uint8_t *stack = vmalloc(X86_IST_STACK_SIZE);
        if (stack == NULL) {
            for (unsigned j = 0; j < i; j++) {
                vfree((void *)(uintptr_t)(t->tss.ist[j] - X86_IST_STACK_SIZE));
            }
            kfree(t);
            return KEEL_ENOMEM;
        }
        t->tss.ist[i] = (uint64_t)(uintptr_t)(stack + X86_IST_STACK_SIZE);
    }
    *out = t;
    return KEEL_OK;
}

void x86_cpu_tables_load(struct x86_cpu_tables *t) {
    gdt_load(t);
    x86_idt_load();
}

static void idt_set(unsigned vec, uintptr_t handler, uint8_t ist) {
    idt[vec].offset_lo = (uint16_t)handler;
    idt[vec].selector = X86_KERNEL_CS;
    idt[vec].ist = ist;
    idt[vec].type_attr = 0x8e; /* present, DPL 0, 64-bit interrupt gate (IF cleared) */
    idt[vec].offset_mid = (uint16_t)(handler >> 16);
    idt[vec].offset_hi = (uint32_t)(handler >> 32);
    idt[vec].reserved = 0;
}

void x86_idt_load(void) {
    struct descriptor_ptr idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

void x86_idt_init(void) {
    for (unsigned v = EXC_VECTORS; v < IDT_VECTORS; v++) {
        idt_set(v, (uintptr_t)x86_irq_stubs + (v - EXC_VECTORS) * IRQ_STUB_STRIDE, 0);
    }
    for (unsigned v = 0; v < EXC_VECTORS; v++) {
        uint8_t ist = 0;
        if (v == 8) {
            ist = IST_DF;
        } else if (v == 2) {
            ist = IST_NMI;
        } else if (v == 18) {
            ist = IST_MC;
        }
        idt_set(v, x86_trap_stubs[v], ist);
    }
    x86_idt_load();
}

void arch_trap_init(void) {
    x86_gdt_init();
    x86_idt_init();
}

static const char *const vector_names[EXC_VECTORS] = {
    "divide error",
    "debug exception",
    "non-maskable interrupt",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack-segment fault",
    "general protection fault",
    "page fault",
    "reserved exception 15",
    "x87 floating-point error",
    "alignment check",
    "machine check",
    "SIMD floating-point exception",
    "virtualization exception",
    "control protection exception",
    "reserved exception 22",
    "reserved exception 23",
    "reserved exception 24",
    "reserved exception 25",
    "reserved exception 26",
    "reserved exception 27",
    "hypervisor injection exception",
    "VMM communication exception",
    "security exception",
    "reserved exception 31",
};

/* Vectors that push a selector-style error code worth showing in the cause. */
static bool has_selector_error(uint64_t vec) {
    return vec == 10 || vec == 11 || vec == 12 || vec == 13;
}

static const char *describe(const struct trap_frame *tf, char *buf, size_t cap) {
    uint64_t vec = tf->vector;
    if (vec >= EXC_VECTORS) {
        ksnprintf(buf, cap, "unknown vector %llu", (unsigned long long)vec);
        return buf;
    }
    if (has_selector_error(vec) && tf->error != 0) {
        ksnprintf(buf, cap, "%s (error code %#llx)", vector_names[vec],
                  (unsigned long long)tf->error);
        return buf;
    }
    return vector_names[vec];
}

/* Before kmain the console list is empty: say what happened on COM1 directly. */
static __noreturn void early_fatal(const struct trap_frame *tf, const char *cause) {
    x86_early_puts("\nKERNEL FAULT before kmain: ");
    x86_early_puts(cause);
    x86_early_puts("\n  rip ");
    x86_early_hex(tf->rip);
    x86_early_puts(" cr2 ");
    x86_early_hex(tf->cr2);
    x86_early_puts(" error ");
    x86_early_hex(tf->error);
    x86_early_puts(" rsp ");
    x86_early_hex(tf->rsp);
    x86_early_puts("\n");
    arch_power_off(1);
}

/* The portable access bits of a page-fault error code (SDM vol. 3A 4.7). */
static uint32_t pf_access(uint64_t error) {
    uint32_t access = (error & X86_PF_I)   ? VM_FAULT_EXEC
                      : (error & X86_PF_W) ? VM_FAULT_WRITE
                                           : VM_FAULT_READ;
    return access | ((error & X86_PF_U) ? VM_FAULT_USER : 0);
}

/*
 * Ask the VM layer about a fault at va. NULL: resolved, retry the access. There are no
 * user address spaces yet, so the kernel space answers for both halves (a user-half
 * address is "not mapped"). On one CPU a locked kernel space means the fault came from
 * inside vmm code, where vm_fault() would wait for the lock forever.
 */
static const char *pf_reason(uint64_t va, uint32_t access) {
    struct vm_space *ks = vmm_kernel_space;
    const char *reason = "unknown";
    if (ks != NULL && __atomic_load_n(&ks->lock.next, __ATOMIC_RELAXED) !=
                          __atomic_load_n(&ks->lock.owner, __ATOMIC_RELAXED)) {
        return "inside the page-table code (the kernel address space is locked)";
    }
    if (vm_fault(ks, VADDR(va), access, &reason) == KEEL_OK) {
        return NULL;
    }
    return reason;
}

/*
 * A stack overflow into a guard page cannot be reported as a page fault: the CPU cannot
 * push the #PF frame on the overflowed stack and raises #DF instead (on its IST stack).
 * cr2 still names the guard page then.
 */
static const char *describe_double_fault(const struct trap_frame *tf, char *buf, size_t cap) {
    static const char guard[] = "in a guard page";
    const char *reason = pf_reason(tf->cr2, VM_FAULT_WRITE);
    /* The image's stacks, or a guard the VM layer knows (kernel thread stacks). */
    if (!x86_in_stack_guard(tf->cr2) &&
        (reason == NULL || strncmp(reason, guard, sizeof(guard) - 1) != 0)) {
        return NULL;
    }
    ksnprintf(buf, cap, "page fault (%s): %s; reported by the double fault handler",
              vm_fault_access_name(VM_FAULT_WRITE), reason != NULL ? reason : "unknown");
    return buf;
}

void x86_trap_handler(struct trap_frame *tf) {
    if (tf->vector >= EXC_VECTORS) {
        x86_irq_dispatch(tf); /* apic.c: device lines, the timer, IPIs */
        return;
    }
    char buf[160];
    const char *cause = NULL;
    const char *reason = NULL; /* static strings from vm_fault() */
    uintptr_t addr = 0;

    if (tf->vector == X86_VEC_PF) {
        uint32_t access = pf_access(tf->error);
        reason = pf_reason(tf->cr2, access);
        if (reason == NULL) {
            return; /* resolved by the VM layer: retry the access */
        }
        ksnprintf(buf, sizeof(buf), "page fault (%s): %s%s", vm_fault_access_name(access), reason,
                  (tf->error & X86_PF_RSVD) ? " (reserved bit set in a paging entry)" : "");
        cause = buf;
        addr = tf->cr2;
    }

    /* CR0.TS set: the unit is off for this thread until fpu_trap() loads its registers. */
    if (tf->vector == X86_VEC_NM && (tf->cs & 3) == 0 && x86_fpu_ready) {
        if (fpu_trap()) {
            return; /* the instruction runs again, with the unit on */
        }
        ksnprintf(buf, sizeof(buf), "FP/SIMD used %s (device not available, #NM)",
                  fpu_refusal_reason());
        cause = buf;
    }

    struct x86_trap_expect *exp = x86_trap_expected;
    if (exp != NULL && exp->vector == tf->vector) {
        exp->hits++;
        exp->error = tf->error;
        exp->cr2 = tf->cr2;
        exp->fault_rip = tf->rip;
        exp->reason = reason;
        if (exp->resume != 0) {
            tf->rip = exp->resume;
        }
        x86_trap_expected = NULL; /* one shot: a second trap is a real fault */
        return;
    }

    if (tf->vector == X86_VEC_DF) {
        cause = describe_double_fault(tf, buf, sizeof(buf));
        addr = cause != NULL ? tf->cr2 : 0;
    }
    if (cause == NULL) {
        cause = describe(tf, buf, sizeof(buf));
    }
    if (!x86_in_kmain) {
        early_fatal(tf, cause);
    }
    trap_fatal(tf, cause, addr);
}

void arch_trap_dump_regs(const struct trap_frame *tf) {
    kprintf("  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n", (unsigned long long)tf->rax,
            (unsigned long long)tf->rbx, (unsigned long long)tf->rcx, (unsigned long long)tf->rdx);
    kprintf("  rsi %016llx rdi %016llx rbp %016llx rsp %016llx\n", (unsigned long long)tf->rsi,
            (unsigned long long)tf->rdi, (unsigned long long)tf->rbp, (unsigned long long)tf->rsp);
    kprintf("  r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n", (unsigned long long)tf->r8,
            (unsigned long long)tf->r9, (unsigned long long)tf->r10, (unsigned long long)tf->r11);
    kprintf("  r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n", (unsigned long long)tf->r12,
            (unsigned long long)tf->r13, (unsigned long long)tf->r14, (unsigned long long)tf->r15);
    kprintf("  rip %016llx rflags %08llx cs %04llx ss %04llx\n", (unsigned long long)tf->rip,
            (unsigned long long)tf->rflags, (unsigned long long)tf->cs, (unsigned long long)tf->ss);
    kprintf("  vector %llu error %#llx cr2 %016llx cr3 %016llx\n", (unsigned long long)tf->vector,
            (unsigned long long)tf->error, (unsigned long long)tf->cr2,
            (unsigned long long)x86_read_cr3());
    kprintf("  cr0 %016llx cr4 %016llx efer %016llx\n", (unsigned long long)x86_read_cr0(),
            (unsigned long long)x86_read_cr4(), (unsigned long long)x86_rdmsr(X86_MSR_EFER));
}

uintptr_t arch_trap_pc(const struct trap_frame *tf) {
    return tf->rip;
}

uintptr_t arch_trap_fp(const struct trap_frame *tf) {
    return tf->rbp;
}

uintptr_t arch_unmapped_address(void) {
    return X86_GUARD_BASE + 0xdeadbee8ULL;
}
