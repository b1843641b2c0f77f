/* SPDX-License-Identifier: MIT */
/*
 * riscv64 trap handling in C: names the cause from scause, routes page faults to the VM
 * layer (vm_fault) and reports what it cannot resolve, hands other unexpected traps to
 * trap_fatal() with stval as the fault address, gives F/D instructions that trapped
 * with the unit off to the lazy FP code (fpu.c), reports kernel stack overflows caught by
 * trap_entry.S, and lets the arch KTESTs take one expected trap and step over the
 * instruction. Register dump with ABI names.
 */
#include <arch/trap.h>
#include <kernel/irq.h>
#include <kernel/kprintf.h>
#include <kernel/panic.h>
#include <kernel/vm_fault.h>

#include "riscv.h"

/* Called from trap_entry.S. */
void riscv_trap_handler(struct trap_frame *tf);
__noreturn void riscv_stack_overflow(struct trap_frame *tf);
extern char trap_entry[];

struct riscv_trap_expect riscv_trap_expect;

/* Exception codes of scause (privileged spec v1.12, table 4.2). */
static const char *const exception_names[] = {
    [0] = "instruction address misaligned",
    [1] = "instruction access fault",
    [2] = "illegal instruction",
    [3] = "breakpoint",
    [4] = "load address misaligned",
    [5] = "load access fault",
    [6] = "store/AMO address misaligned",
    [7] = "store/AMO access fault",
    [8] = "environment call from U-mode",
    [9] = "environment call from S-mode",
    [12] = "instruction page fault",
    [13] = "load page fault",
    [15] = "store/AMO page fault",
    [18] = "software check",
    [19] = "hardware error",
};

static const char *const interrupt_names[] = {
    [1] = "supervisor software interrupt",
    [5] = "supervisor timer interrupt",
    [9] = "supervisor external interrupt",
    [13] = "counter-overflow interrupt",
};

static const char *const reg_names[32] = {
    "zero", "ra", "sp", "gp", "tp",  "t0",  "t1", "t2", "s0", "s1", "a0",
    "a1",   "a2", "a3", "a4", "a5",  "a6",  "a7", "s2", "s3", "s4", "s5",
    "s6",   "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

void arch_trap_init(void) {
    csr_write(sscratch, 0);
    csr_write(stvec, (uintptr_t)trap_entry); /* direct mode: bits 1:0 = 0 */
}

uintptr_t arch_trap_pc(const struct trap_frame *tf) {
    return tf->sepc;
}

uintptr_t arch_trap_fp(const struct trap_frame *tf) {
    return tf->x[8];
}

uintptr_t arch_unmapped_address(void) {
    /* The last page of the kernel-image gigabyte: mapped only by a 1 GiB kernel. */
    return KEEL_MMIO_BASE - PAGE_SIZE;
}

void arch_trap_dump_regs(const struct trap_frame *tf) {
    for (unsigned i = 1; i < 32; i += 4) {
        for (unsigned j = i; j < i + 4 && j < 32; j++) {
            kprintf("  %-4s %016llx", reg_names[j], (unsigned long long)tf->x[j]);
        }
        kprintf("\n");
    }
    kprintf("  sepc %016llx  sstatus %016llx\n  scause %016llx  stval %016llx\n",
            (unsigned long long)tf->sepc, (unsigned long long)tf->sstatus,
            (unsigned long long)tf->scause, (unsigned long long)tf->stval);
    kprintf("  satp %016llx  stvec %016llx\n", (unsigned long long)csr_read(satp),
            (unsigned long long)csr_read(stvec));
}

/* Length of the instruction at pc: 2 for compressed ones, else 4 (no longer forms). */
static uintptr_t insn_length(uintptr_t pc) {
    uint16_t low = *(const volatile uint16_t *)pc;
    return (low & 3) == 3 ? 4 : 2;
}

/*
 * An expected trap (KTEST probe) of this cause: skip the instruction, or for a fetch
 * fault (the probe jumped with jalr ra) resume at the return address.
 */
static bool take_expected(struct trap_frame *tf, unsigned long code, const char *reason) {
    bool fetch = code == CAUSE_FETCH_PAGE;
    uintptr_t resume = fetch ? tf->x[1] : tf->sepc;

    if (!riscv_trap_expect.armed || code != riscv_trap_expect.cause ||
        !riscv_kernel_range_ok(resume, 2)) {
        return false;
    }
    riscv_trap_expect.armed = false;
    riscv_trap_expect.hits++;
    riscv_trap_expect.stval = tf->stval;
    riscv_trap_expect.sepc = tf->sepc;
    riscv_trap_expect.reason = reason;
    tf->sepc = fetch ? resume : tf->sepc + insn_length(tf->sepc);
    return true;
}

static bool is_page_fault(unsigned long code) {
    return code == CAUSE_FETCH_PAGE || code == CAUSE_LOAD_PAGE || code == CAUSE_STORE_PAGE;
}

/*
 * A page fault goes to the VM layer first; what it does not resolve is an expected probe
 * or fatal: "page fault (<access>): <reason>". Only kernel addresses can be mapped yet,
 * so every address is looked up in the kernel space (user spaces come with processes).
 */
static void page_fault(struct trap_frame *tf, unsigned long code) {
    uint32_t access = code == CAUSE_FETCH_PAGE   ? VM_FAULT_EXEC
                      : code == CAUSE_STORE_PAGE ? VM_FAULT_WRITE
                                                 : VM_FAULT_READ;
    const char *reason = "unknown";
    char buf[96];

    if ((tf->sstatus & SSTATUS_SPP) == 0) {
        access |= VM_FAULT_USER;
    }
    if (vm_fault(vmm_kernel_space, VADDR(tf->stval), access, &reason) == KEEL_OK) {
        return; /* resolved: retry the access */
    }
    if (take_expected(tf, code, reason)) {
        return;
    }
    ksnprintf(buf, sizeof(buf), "page fault (%s): %s", vm_fault_access_name(access), reason);
    trap_fatal(tf, buf, tf->stval);
}

void riscv_stack_overflow(struct trap_frame *tf) {
    unsigned long code = tf->scause & ~SCAUSE_INTERRUPT;
    char buf[96];

    riscv_set_stack_limit((uintptr_t)_overflow_stack_bottom); /* now on the overflow stack */
    if ((tf->scause & SCAUSE_INTERRUPT) == 0 && is_page_fault(code)) {
        page_fault(tf, code); /* names the guard page when that is where it hit */
    }
    ksnprintf(buf, sizeof(buf), "kernel stack overflow (sp %#llx, scause %#lx)",
              (unsigned long long)tf->x[2], tf->scause);
    trap_fatal(tf, buf, tf->stval);
}

/*
 * A supervisor interrupt, bracketed by irq_enter/irq_exit; irq_exit may switch threads,
 * in which case this returns (and the frame is restored) when the thread runs again.
 */
static void handle_interrupt(unsigned long code) {
    irq_enter();
    if (code == IRQ_S_TIMER) {
        riscv_timer_interrupt();
    } else if (code == IRQ_S_SOFT) {
        riscv_ipi_interrupt();
    } else {
        riscv_external_interrupt();
    }
    irq_exit();
}

void riscv_trap_handler(struct trap_frame *tf) {
    unsigned long cause = tf->scause;
    unsigned long code = cause & ~SCAUSE_INTERRUPT;
    char buf[64];
    const char *what = NULL;

    if ((cause & SCAUSE_INTERRUPT) != 0) {
        if (code == IRQ_S_TIMER || code == IRQ_S_SOFT || code == IRQ_S_EXT) {
            handle_interrupt(code);
            return;
        }
        if (code < ARRAY_SIZE(interrupt_names)) {
            what = interrupt_names[code];
        }
        ksnprintf(buf, sizeof(buf), "unexpected %s (scause %#lx)",
                  what != NULL ? what : "interrupt", cause);
        trap_fatal(tf, buf, tf->stval);
    }
    if (is_page_fault(code)) {
        page_fault(tf, code);
        return;
    }
    if (code == CAUSE_ILLEGAL_INSN && riscv_fpu_trap(tf)) {
        return; /* an F/D instruction with the unit off: it is on now (fpu.c) */
    }
    if (take_expected(tf, code, NULL)) {
        return;
    }
    if (code < ARRAY_SIZE(exception_names)) {
        what = exception_names[code];
    }
    if (what == NULL) {
        ksnprintf(buf, sizeof(buf), "exception %lu (reserved or custom)", code);
        what = buf;
    } else if ((tf->sstatus & SSTATUS_SPP) == 0) {
        ksnprintf(buf, sizeof(buf), "%s from U-mode (no user mode yet)", what);
        what = buf;
    }
    trap_fatal(tf, what, tf->stval);
}
