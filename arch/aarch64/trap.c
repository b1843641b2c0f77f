/* SPDX-License-Identifier: MIT */
/*
 * AArch64 exceptions, C side: the handler the vectors call, the few faults it recovers
 * from (the probes, semihosting when QEMU has it off, the ktest breakpoint), page faults
 * routed to the VM layer (vm_fault) for a reason in words, the kernel's first FP/SIMD
 * instruction of a run routed to the lazy FP layer (fpu_trap), and for everything else the
 * cause from ESR_EL1 (Arm ARM D17.2.37), handed to trap_fatal() with the faulting
 * address and a full register dump.
 */
#include <arch/cpu.h>
#include <arch/trap.h>
#include <kernel/fpu.h>
#include <kernel/kprintf.h>
#include <kernel/panic.h>
#include <kernel/vm_fault.h>

#include "aarch64.h"

STATIC_ASSERT(__builtin_offsetof(struct trap_frame, sp) == TF_SP, "trap frame sp");
STATIC_ASSERT(__builtin_offsetof(struct trap_frame, elr) == TF_ELR, "trap frame elr");
STATIC_ASSERT(__builtin_offsetof(struct trap_frame, esr) == TF_ESR, "trap frame esr");
STATIC_ASSERT(__builtin_offsetof(struct trap_frame, far) == TF_FAR, "trap frame far");
STATIC_ASSERT(sizeof(struct trap_frame) == TF_SIZE, "trap frame size");
STATIC_ASSERT(TF_SIZE % 16 == 0, "SP must stay 16-byte aligned");

/* Exception classes (ESR_EL1.EC). */
#define EC_UNKNOWN     0x00
#define EC_FP_ACCESS   0x07 /* FP/SIMD with CPACR_EL1.FPEN trapping (lazy FP, fpu.c) */
#define EC_IABT_LOWER  0x20
#define EC_IABT_SAME   0x21
#define EC_PC_ALIGN    0x22
#define EC_DABT_LOWER  0x24
#define EC_DABT_SAME   0x25
#define EC_WATCH_LOWER 0x34
#define EC_WATCH_SAME  0x35
#define EC_BRK         0x3c

#define ISS_FNV (1u << 10) /* FAR not valid */
#define ISS_FSC 0x3fu      /* fault status code */
#define ISS_CM  (1u << 8)  /* cache maintenance */
#define ISS_WNR (1u << 6)  /* write, not read */

/* Tries on an address-space lock another CPU may hold before giving up on vm_fault(). */
#define FAULT_LOCK_TRIES 100000

extern char aarch64_semihost_insn[], aarch64_probe_insn[], aarch64_probe_write_insn[],
    aarch64_probe_fixup[];

volatile uint64_t aarch64_ktest_brk_count;
/* The address aarch64_probe_exec() is calling (0 when none); written by vectors.S. */
volatile uintptr_t aarch64_probe_exec_target;
const char *volatile aarch64_probe_reason;

static const char *const ec_names[64] = {
    [0x00] = "undefined instruction",
    [0x01] = "trapped WFI/WFE",
    [0x07] = "SVE/SIMD/FP access trap",
    [0x0e] = "illegal execution state",
    [0x11] = "SVC (AArch32)",
    [0x15] = "SVC",
    [0x16] = "HVC",
    [0x17] = "SMC",
    [0x18] = "trapped MSR/MRS or system instruction",
    [0x19] = "SVE access trap",
    [0x20] = "instruction abort",
    [0x21] = "instruction abort",
    [0x22] = "PC alignment fault",
    [0x24] = "data abort",
    [0x25] = "data abort",
    [0x26] = "SP alignment fault",
    [0x28] = "floating-point exception (AArch32)",
    [0x2c] = "floating-point exception",
    [0x2f] = "SError interrupt",
    [0x30] = "hardware breakpoint",
    [0x31] = "hardware breakpoint",
    [0x32] = "software step",
    [0x33] = "software step",
    [0x34] = "watchpoint",
    [0x35] = "watchpoint",
    [0x38] = "BKPT (AArch32)",
    [0x3c] = "BRK instruction",
};

static const char *const slot_kinds[4] = {"synchronous exception", "unexpected IRQ",
                                          "unexpected FIQ", "SError interrupt"};
static const char *const slot_origins[4] = {" (EL1, on SP_EL0)", "", " from EL0 (AArch64)",
                                            " from EL0 (AArch32)"};

/* Abort fault status code (DFSC/IFSC) in words; *level set for the per-level kinds. */
static const char *fault_status(uint32_t fsc, int *level) {
    *level = -1;
    if (fsc < 0x10) {
        static const char *const kinds[4] = {"address size fault", "translation fault",
                                             "access flag fault", "permission fault"};
        *level = (int)(fsc & 3);
        return kinds[fsc >> 2];
    }
    if (fsc >= 0x14 && fsc <= 0x17) {
        *level = (int)(fsc & 3);
        return "external abort on table walk";
    }
    switch (fsc) {
    case 0x10:
        return "synchronous external abort";
    case 0x18:
        return "parity/ECC error";
    case 0x21:
        return "alignment fault";
    case 0x30:
        return "TLB conflict abort";
    case 0x31:
        return "unsupported atomic hardware update";
    default:
        return "unknown fault status";
    }
}

static bool is_abort(uint32_t ec) {
    return ec == EC_DABT_SAME || ec == EC_DABT_LOWER || ec == EC_IABT_SAME || ec == EC_IABT_LOWER;
}

/*
 * A page fault is an abort whose status is a translation, access-flag or permission fault
 * (FSC 0x04-0x0f) with a valid FAR; alignment, external and address-size aborts are not.
 */
static bool is_page_fault(uint32_t ec, uint32_t iss) {
    uint32_t fsc = iss & ISS_FSC;
    return is_abort(ec) && fsc >= 0x04 && fsc <= 0x0f && (iss & ISS_FNV) == 0;
}

/* What the faulting access did, as VM_FAULT_* bits. */
static uint32_t fault_access(uint32_t ec, uint32_t iss) {
    uint32_t access;
    if (ec == EC_IABT_SAME || ec == EC_IABT_LOWER) {
        access = VM_FAULT_EXEC;
    } else {
        /* Cache maintenance reports WnR = 1 but only needs the page readable. */
        access = (iss & ISS_WNR) && !(iss & ISS_CM) ? VM_FAULT_WRITE : VM_FAULT_READ;
    }
    return access | (ec == EC_DABT_LOWER || ec == EC_IABT_LOWER ? VM_FAULT_USER : 0);
}

/*
 * Ask the VM layer about a page fault at va. The kernel half goes to vmm_kernel_space;
 * there are no user address spaces yet (TTBR0 walks are off), so the lower half is simply
 * unmapped. If the space's lock stays held (a fault inside the VM layer itself on this
 * CPU), vm_fault() would deadlock: the fault is then reported unclassified.
 */
static kstatus_t classify(uint64_t va, uint32_t access, const char **reason) {
    if ((va >> 48) != 0xffff) {
        *reason = "not mapped (no user address space is active)";
        return KEEL_EFAULT;
    }
    struct vm_space *as = vmm_kernel_space;
    if (as != NULL) {
        unsigned tries = 0;
        while (!spin_trylock(&as->lock)) {
            if (++tries == FAULT_LOCK_TRIES) {
                *reason = "not classified: the address-space lock is held (fault in the VM "
                          "layer?)";
                return KEEL_EFAULT;
            }
            arch_cpu_relax();
        }
        spin_unlock(&as->lock);
    }
    return vm_fault(as, VADDR(va), access, reason);
}

/* The recoverable cases. True if handled (the frame was edited to resume). */
static bool try_fixup(struct trap_frame *tf, uint32_t ec) {
    uint32_t iss = (uint32_t)tf->esr & 0x1ffffff;
    bool probe = (ec == EC_DABT_SAME && (tf->elr == (uintptr_t)aarch64_probe_insn ||
                                         tf->elr == (uintptr_t)aarch64_probe_write_insn)) ||
                 (ec == EC_IABT_SAME && aarch64_probe_exec_target != 0 &&
                  tf->elr == aarch64_probe_exec_target);
    if (probe) {
        const char *reason = "not a page fault";
        if (is_page_fault(ec, iss)) {
            (void)classify(tf->far, fault_access(ec, iss), &reason);
        }
        aarch64_probe_reason = reason;
        if (ec == EC_IABT_SAME) {
            tf->x[0] = (uint64_t)(int64_t)KEEL_EFAULT;
            tf->elr = tf->x[30]; /* back into aarch64_probe_exec */
        } else {
            tf->elr = (uintptr_t)aarch64_probe_fixup;
        }
        return true;
    }
    if (ec == EC_UNKNOWN && tf->elr == (uintptr_t)aarch64_semihost_insn) {
        tf->x[0] = (uint64_t)(int64_t)SEMIHOST_UNAVAILABLE;
        tf->elr += 4;
        return true;
    }
    if (ec == EC_BRK && (tf->esr & 0xffff) == AARCH64_KTEST_BRK) {
        aarch64_ktest_brk_count++;
        tf->elr += 4;
        return true;
    }
    return false;
}

void aarch64_trap_entry(struct trap_frame *tf, uint64_t slot) {
    static char cause[192];
    uint32_t ec = (uint32_t)(tf->esr >> 26) & 0x3f;
    uint32_t iss = (uint32_t)tf->esr & 0x1ffffff;
    uintptr_t addr = tf->elr;
    unsigned kind = slot & 3;
    const char *origin = slot_origins[(slot >> 2) & 3];

    if (slot == TRAP_SLOT_STACK_OVERFLOW) {
        /* Usually a push into the guard page below the stack: say what the VM layer sees. */
        const char *reason = NULL;
        uint32_t access = VM_FAULT_READ;
        if (is_page_fault(ec, iss)) {
            access = fault_access(ec, iss);
            (void)classify(tf->far, access, &reason);
        }
        if (reason != NULL) {
            ksnprintf(cause, sizeof(cause),
                      "kernel stack overflow: page fault (%s): %s (ESR %#llx)",
                      vm_fault_access_name(access), reason, (unsigned long long)tf->esr);
        } else {
            ksnprintf(cause, sizeof(cause), "kernel stack overflow (while taking ESR %#llx)",
                      (unsigned long long)tf->esr);
        }
        trap_fatal(tf, cause, tf->sp - TF_SIZE);
    }
    if (slot == 5 || slot == 9) {
        aarch64_irq_entry(tf); /* IRQ from EL1 (SP_EL1) or from EL0 (AArch64) */
        return;
    }
    if (slot == 4 && try_fixup(tf, ec)) {
        return;
    }
    if (slot == 4 && ec == EC_FP_ACCESS) {
        if (fpu_trap()) {
            return; /* the unit is on and holds this thread's registers: re-execute */
        }
        ksnprintf(cause, sizeof(cause), "FP/SIMD used %s (ESR %#llx)", fpu_refusal_reason(),
                  (unsigned long long)tf->esr);
        trap_fatal(tf, cause, addr);
    }
    if (kind != 0) {
        ksnprintf(cause, sizeof(cause), "%s%s (ESR %#llx)", slot_kinds[kind], origin,
                  (unsigned long long)tf->esr);
        trap_fatal(tf, cause, addr);
    }
    const char *name = ec_names[ec] != NULL ? ec_names[ec] : "unknown exception class";
    if (is_page_fault(ec, iss)) {
        uint32_t access = fault_access(ec, iss);
        const char *reason;
        if (classify(tf->far, access, &reason) == KEEL_OK) {
            return; /* resolved: retry the access */
        }
        int level;
        const char *fs = fault_status(iss & ISS_FSC, &level);
        ksnprintf(cause, sizeof(cause), "page fault (%s): %s [%s%s, %s, level %d]",
                  vm_fault_access_name(access), reason, name, origin, fs, level);
        trap_fatal(tf, cause, tf->far);
    }
    if (is_abort(ec)) {
        int level;
        const char *fs = fault_status(iss & 0x3f, &level);
        bool data = ec == EC_DABT_SAME || ec == EC_DABT_LOWER;
        const char *access = !data             ? ""
                             : (iss & ISS_CM)  ? ", cache maintenance"
                             : (iss & ISS_WNR) ? ", write"
                                               : ", read";
        char lvl[16] = "";
        if (level >= 0) {
            ksnprintf(lvl, sizeof(lvl), ", level %d", level);
        }
        ksnprintf(cause, sizeof(cause), "%s%s (%s%s%s)", name, origin, fs, lvl, access);
        if ((iss & ISS_FNV) == 0) {
            addr = tf->far;
        }
    } else {
        ksnprintf(cause, sizeof(cause), "%s%s (EC %#x, ISS %#x)", name, origin, ec, iss);
        if (ec == EC_PC_ALIGN || ec == EC_WATCH_SAME || ec == EC_WATCH_LOWER) {
            addr = tf->far;
        }
    }
    trap_fatal(tf, cause, addr);
}

void arch_trap_init(void) {
    __asm__ volatile("msr vbar_el1, %0\n\tisb" ::"r"(aarch64_vectors) : "memory");
}

void arch_trap_dump_regs(const struct trap_frame *tf) {
    for (unsigned i = 0; i < 28; i += 4) {
        kprintf("  x%-2u %016llx  x%-2u %016llx  x%-2u %016llx  x%-2u %016llx\n", i,
                (unsigned long long)tf->x[i], i + 1, (unsigned long long)tf->x[i + 1], i + 2,
                (unsigned long long)tf->x[i + 2], i + 3, (unsigned long long)tf->x[i + 3]);
    }
    kprintf("  x28 %016llx  fp  %016llx  lr  %016llx  sp  %016llx\n", (unsigned long long)tf->x[28],
            (unsigned long long)tf->x[29], (unsigned long long)tf->x[30],
            (unsigned long long)tf->sp);
    kprintf("  elr %016llx  spsr %016llx (EL%u, DAIF %#x)\n", (unsigned long long)tf->elr,
            (unsigned long long)tf->spsr, (unsigned)(tf->spsr >> 2) & 3,
            (unsigned)(tf->spsr >> 6) & 0xf);
    kprintf("  esr %016llx (EC %#x, ISS %#x)  far %016llx\n", (unsigned long long)tf->esr,
            (unsigned)(tf->esr >> 26) & 0x3f, (unsigned)tf->esr & 0x1ffffff,
            (unsigned long long)tf->far);
}

uintptr_t arch_trap_pc(const struct trap_frame *tf) {
    return tf->elr;
}

uintptr_t arch_trap_fp(const struct trap_frame *tf) {
    return tf->x[29];
}

uintptr_t arch_unmapped_address(void) {
    /* In the hole between the direct map's 128 TiB and the device window: never mapped. */
    return 0xffff8000dead0000;
}
