/* SPDX-License-Identifier: MIT */
/*
 * x86_64 interrupt controllers: the local APIC of each CPU (x2APIC MSRs when the CPU has
 * them, else the xAPIC MMIO page) and the IOAPICs for device lines, both from the MADT
 * (bi->intc and the MADT's IOAPIC and interrupt-source-override entries). IPIs go through
 * the local APIC's interrupt command register. Vector plan in <arch/arch_irq.h>.
 */
#include <arch/io.h>
#include <arch/irq.h>
#include <arch/smp.h>
#include <arch/trap.h>
#include <kernel/acpi.h>
#include <kernel/irq.h>
#include <kernel/kprintf.h>
#include <kernel/percpu.h>
#include <kernel/spinlock.h>
#include <kernel/vm.h>

#include "apic.h"
#include "x86.h"

/* IA32_APIC_BASE (SDM vol. 3A 10.4.4): global enable and x2APIC mode. */
#define X86_MSR_APIC_BASE 0x1bU
#define APIC_BASE_EXTD    (1ULL << 10)
#define APIC_BASE_EN      (1ULL << 11)
#define CPUID1_ECX_X2APIC (1U << 21)

/* Local APIC registers: xAPIC MMIO offsets; the x2APIC MSR is 0x800 + offset / 16. */
#define LAPIC_ID        0x020
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0b0
#define LAPIC_SVR       0x0f0
#define LAPIC_ESR       0x280
#define LAPIC_ICR_LO    0x300
#define LAPIC_ICR_HI    0x310
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define X2APIC_MSR_ICR  0x830U

#define SVR_ENABLE        (1U << 8)
#define LVT_MASKED        (1U << 16)
#define LVT_NMI           (4U << 8)
#define ICR_DELIVERY_BUSY (1U << 12)
#define ICR_LEVEL_ASSERT  (1U << 14)
#define ICR_TRIGGER_LEVEL (1U << 15)
#define ICR_MODE_INIT     (5U << 8)
#define ICR_MODE_STARTUP  (6U << 8)
#define ICR_SPIN_LIMIT    1000000U

/* The legacy 8259 PICs: masked for good, the IOAPIC takes the ISA lines. */
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

/* IOAPIC (82093AA datasheet): an index register and a data window. */
#define IOAPIC_REGSEL    0x00
#define IOAPIC_WIN       0x10
#define IOAPIC_REG_VER   0x01
#define IOAPIC_REDIR(n)  (0x10 + 2 * (n))
#define IOAPIC_MAX       8
#define REDIR_ACTIVE_LOW (1U << 13)
#define REDIR_LEVEL      (1U << 15)
#define REDIR_MASKED     (1U << 16)

/* MADT entries (ACPI 6.5, 5.2.12): type, length, then the body. */
#define MADT_FIRST_ENTRY 44
#define MADT_IOAPIC      1
#define MADT_ISO         2 /* interrupt source override */
#define ISO_POL_MASK     0x3u
#define ISO_POL_LOW      0x3u
#define ISO_TRIG_MASK    0xcu
#define ISO_TRIG_LEVEL   0xcu
#define ISA_LINES        16

struct ioapic {
    volatile uint32_t *regs;
    uint32_t gsi_base;
    uint32_t count;
};

static bool x2apic;
static volatile uint8_t *lapic_mmio;
static struct ioapic ioapics[IOAPIC_MAX];
static unsigned ioapic_count;
static unsigned line_count;
static uint32_t line_flags[X86_VEC_DEVICE_COUNT]; /* REDIR_ACTIVE_LOW | REDIR_LEVEL */
static uint32_t boot_apic_id;
static spinlock_t ioapic_lock = SPINLOCK_INIT;
static bool irq_ready;

/* APIC id of each CPU index, recorded as CPUs are set up (x86_apic_note_cpu). */
static uint32_t apic_ids[PERCPU_MAX];

static uint32_t lapic_read(uint32_t reg) {
    if (x2apic) {
        return (uint32_t)x86_rdmsr(0x800U + (reg >> 4));
    }
    return *(volatile uint32_t *)(lapic_mmio + reg);
}

static void lapic_write(uint32_t reg, uint32_t v) {
    if (x2apic) {
        x86_wrmsr(0x800U + (reg >> 4), v);
        return;
    }
    *(volatile uint32_t *)(lapic_mmio + reg) = v;
}

void x86_apic_eoi(void) {
    lapic_write(LAPIC_EOI, 0);
}

bool x86_apic_is_x2apic(void) {
    return x2apic;
}

uint32_t x86_apic_read(uint32_t reg) {
    return lapic_read(reg);
}

void x86_apic_write(uint32_t reg, uint32_t v) {
    lapic_write(reg, v);
}

uint32_t x86_apic_id(void) {
    uint32_t id = lapic_read(LAPIC_ID);
    return x2apic ? id : id >> 24;
}

void x86_apic_note_cpu(unsigned index, uint32_t apic_id) {
    if (index < PERCPU_MAX) {
        __atomic_store_n(&apic_ids[index], apic_id, __ATOMIC_RELEASE);
    }
}

/*
 * Write the interrupt command register: deliver icr_lo's vector and mode to the APIC id
 * dest. xAPIC needs two writes and the previous IPI accepted first, so interrupts stay
 * masked around them. KEEL_ETIMEOUT if the xAPIC never reports the send done.
 */
kstatus_t x86_apic_send_icr(uint32_t dest, uint32_t icr_lo) {
    if (x2apic) {
        /* WRMSR to the x2APIC ICR does not wait for earlier stores: order them first. */
        __asm__ volatile("mfence" : : : "memory");
        x86_wrmsr(X2APIC_MSR_ICR, (uint64_t)dest << 32 | icr_lo);
        return KEEL_OK;
    }
    unsigned long flags = arch_irq_save();
    kstatus_t st = KEEL_OK;
    unsigned spins = 0;
    while (lapic_read(LAPIC_ICR_LO) & ICR_DELIVERY_BUSY) {
        if (++spins == ICR_SPIN_LIMIT) {
            st = KEEL_ETIMEOUT;
            break;
        }
        arch_cpu_relax();
    }
    if (st == KEEL_OK) {
        lapic_write(LAPIC_ICR_HI, dest << 24);
        lapic_write(LAPIC_ICR_LO, icr_lo);
    }
    arch_irq_restore(flags);
    return st;
}

void arch_ipi_send(unsigned cpu_index, enum ipi_kind kind) {
    if (cpu_index >= PERCPU_MAX || (unsigned)kind >= IPI_KIND_COUNT) {
        return;
    }
    uint32_t dest = __atomic_load_n(&apic_ids[cpu_index], __ATOMIC_ACQUIRE);
    kstatus_t st = x86_apic_send_icr(dest, ICR_LEVEL_ASSERT | (X86_VEC_IPI_BASE + (uint32_t)kind));
    (void)st; /* only a wedged xAPIC fails; the sender's wait then times out */
}

void arch_irq_init_cpu(void) {
    uint64_t base = x86_rdmsr(X86_MSR_APIC_BASE);
    base |= APIC_BASE_EN;
    if (x2apic) {
        base |= APIC_BASE_EXTD;
    }
    x86_wrmsr(X86_MSR_APIC_BASE, base);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED); /* no 8259 virtual wire */
    lapic_write(LAPIC_LVT_LINT1, LVT_NMI);    /* NMI as wired by the firmware */
    lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
    lapic_write(LAPIC_ESR, 0);
    lapic_write(LAPIC_SVR, SVR_ENABLE | X86_VEC_SPURIOUS);
    x86_timer_init_cpu();
    x86_apic_eoi(); /* drop anything left in service by the firmware */
}

/* ---- IOAPIC ---- */

static uint32_t ioapic_read(const struct ioapic *io, uint32_t reg) {
    io->regs[IOAPIC_REGSEL / 4] = reg;
    return io->regs[IOAPIC_WIN / 4];
}

static void ioapic_write(const struct ioapic *io, uint32_t reg, uint32_t v) {
    io->regs[IOAPIC_REGSEL / 4] = reg;
    io->regs[IOAPIC_WIN / 4] = v;
}

static const struct ioapic *ioapic_of(unsigned gsi, unsigned *pin) {
    for (unsigned i = 0; i < ioapic_count; i++) {
        if (gsi >= ioapics[i].gsi_base && gsi - ioapics[i].gsi_base < ioapics[i].count) {
            *pin = gsi - ioapics[i].gsi_base;
            return &ioapics[i];
        }
    }
    return NULL;
}

unsigned arch_irq_line_count(void) {
    return line_count;
}

kstatus_t arch_irq_line_enable(unsigned irq) {
    unsigned pin = 0;
    const struct ioapic *io = irq < line_count ? ioapic_of(irq, &pin) : NULL;
    if (io == NULL) {
        return KEEL_EINVAL;
    }
    unsigned long flags;
    spin_lock_irqsave(&ioapic_lock, &flags);
    /* Fixed delivery, physical destination: the boot CPU. High half first. */
    ioapic_write(io, IOAPIC_REDIR(pin) + 1, boot_apic_id << 24);
    ioapic_write(io, IOAPIC_REDIR(pin), line_flags[irq] | (X86_VEC_DEVICE_BASE + irq));
    spin_unlock_irqrestore(&ioapic_lock, flags);
    return KEEL_OK;
}

void arch_irq_line_disable(unsigned irq) {
    unsigned pin = 0;
    const struct ioapic *io = irq < line_count ? ioapic_of(irq, &pin) : NULL;
    if (io == NULL) {
        return;
    }
    unsigned long flags;
    spin_lock_irqsave(&ioapic_lock, &flags);
    ioapic_write(io, IOAPIC_REDIR(pin),
                 REDIR_MASKED | line_flags[irq] | (X86_VEC_DEVICE_BASE + irq));
    spin_unlock_irqrestore(&ioapic_lock, flags);
}

/* ACPI tables through the direct map (the kernel maps ACPI reclaim/NVS RAM). */
static const void *acpi_map(void *ctx, uint64_t phys, size_t len) {
    (void)ctx;
    if (len == 0 || phys + len < phys || phys + len > KEEL_DIRECT_MAP_SIZE ||
        !x86_kernel_readable((uintptr_t)(KEEL_DIRECT_MAP_BASE + phys), len)) {
        return NULL;
    }
    return phys_to_virt(PADDR(phys));
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static kstatus_t ioapic_add(uint64_t pa, uint32_t gsi_base) {
    if (ioapic_count == IOAPIC_MAX) {
        kprintf("x86_64: more than %u IOAPICs; the rest are ignored\n", IOAPIC_MAX);
        return KEEL_OK;
    }
    volatile void *regs = NULL;
    kstatus_t st = arch_mmio_map(PADDR(pa), 0x1000, &regs);
    if (st != KEEL_OK) {
        return st;
    }
    struct ioapic *io = &ioapics[ioapic_count];
    io->regs = (volatile uint32_t *)regs;
    io->gsi_base = gsi_base;
    io->count = ((ioapic_read(io, IOAPIC_REG_VER) >> 16) & 0xff) + 1;
    for (unsigned pin = 0; pin < io->count; pin++) {
        ioapic_write(io, IOAPIC_REDIR(pin), REDIR_MASKED);
    }
    ioapic_count++;
    return KEEL_OK;
}

/* Polarity and trigger of a GSI: ISA lines default to edge/high, the rest (PCI) to
 * level/low, unless an interrupt source override says otherwise. */
static void apply_iso(uint32_t gsi, uint32_t iso_flags) {
    if (gsi >= X86_VEC_DEVICE_COUNT) {
        return;
    }
    uint32_t f = line_flags[gsi];
    if ((iso_flags & ISO_POL_MASK) != 0) {
        f = (iso_flags & ISO_POL_MASK) == ISO_POL_LOW ? f | REDIR_ACTIVE_LOW
                                                      : f & ~REDIR_ACTIVE_LOW;
    }
    if ((iso_flags & ISO_TRIG_MASK) != 0) {
        f = (iso_flags & ISO_TRIG_MASK) == ISO_TRIG_LEVEL ? f | REDIR_LEVEL : f & ~REDIR_LEVEL;
    }
    line_flags[gsi] = f;
}

/* IOAPICs and overrides from the MADT; the first IOAPIC of bi->intc if there is none. */
static kstatus_t scan_madt(const struct boot_info *bi) {
    for (unsigned gsi = 0; gsi < X86_VEC_DEVICE_COUNT; gsi++) {
        line_flags[gsi] = gsi < ISA_LINES ? 0 : REDIR_ACTIVE_LOW | REDIR_LEVEL;
    }
    const struct acpi_sdt_header *madt = NULL;
    if (bi->acpi_rsdp.pa != 0 &&
        acpi_find_table(bi->acpi_rsdp.pa, acpi_map, NULL, ACPI_SIG_MADT, &madt) == KEEL_OK) {
        const uint8_t *t = (const uint8_t *)madt;
        for (uint32_t off = MADT_FIRST_ENTRY; off + 2 <= madt->length;) {
            const uint8_t *e = t + off;
            if (e[1] < 2 || off + e[1] > madt->length) {
                return KEEL_ECORRUPT;
            }
            if (e[0] == MADT_IOAPIC && e[1] >= 12) {
                kstatus_t st = ioapic_add(le32(e + 4), le32(e + 8));
                if (st != KEEL_OK) {
                    return st;
                }
            } else if (e[0] == MADT_ISO && e[1] >= 10) {
                apply_iso(le32(e + 4), (uint32_t)e[8] | (uint32_t)e[9] << 8);
            }
            off += e[1];
        }
    }
    if (ioapic_count == 0 && bi->intc.base[1] != 0) {
        return ioapic_add(bi->intc.base[1], 0);
    }
    return KEEL_OK;
}

kstatus_t arch_irq_init(const struct boot_info *bi) {
    if (irq_ready) {
        return KEEL_OK;
    }
    if (bi->intc.type != BOOT_INTC_APIC || bi->intc.base[0] == 0) {
        return KEEL_ENOTSUP;
    }
    x86_outb(PIC1_DATA, 0xff);
    x86_outb(PIC2_DATA, 0xff);

    uint32_t r[4];
    x86_cpuid(1, 0, r);
    x2apic = (r[2] & CPUID1_ECX_X2APIC) != 0;
    if (!x2apic) {
        volatile void *regs = NULL;
        kstatus_t st = arch_mmio_map(PADDR(bi->intc.base[0]), 0x1000, &regs);
        if (st != KEEL_OK) {
            return st;
        }
        lapic_mmio = (volatile uint8_t *)regs;
    }
    kstatus_t st = scan_madt(bi);
    if (st != KEEL_OK) {
        return st;
    }
    for (unsigned i = 0; i < ioapic_count; i++) {
        uint32_t end = ioapics[i].gsi_base + ioapics[i].count;
        if (end > line_count) {
            line_count = end < X86_VEC_DEVICE_COUNT ? end : X86_VEC_DEVICE_COUNT;
        }
    }
    arch_irq_init_cpu(); /* the boot CPU's local APIC: the timer calibration uses it */
    st = x86_timer_init(bi);
    if (st != KEEL_OK) {
        return st;
    }
    boot_apic_id = x86_apic_id();
    struct percpu *pc = arch_this_cpu();
    if (pc != NULL) {
        x86_apic_note_cpu(pc->index, boot_apic_id);
    }
    irq_ready = true;
    kprintf("x86_64: %s, %u IOAPIC(s) with %u lines; %s\n", x2apic ? "x2APIC" : "xAPIC",
            ioapic_count, line_count, x86_timer_describe());
    return KEEL_OK;
}

/* ---- interrupt entry ---- */

void x86_irq_dispatch(struct trap_frame *tf) {
    uint64_t vec = tf->vector;
    if (vec == X86_VEC_SPURIOUS) {
        return; /* no EOI for the spurious vector */
    }
    irq_enter();
    if (vec == X86_VEC_TIMER) {
        x86_apic_eoi();
        if (x86_timer_due()) {
            irq_handle_timer();
        }
    } else if (vec >= X86_VEC_IPI_BASE && vec < X86_VEC_IPI_BASE + IPI_KIND_COUNT) {
        x86_apic_eoi();
        irq_handle_ipi((enum ipi_kind)(vec - X86_VEC_IPI_BASE));
    } else if (vec >= X86_VEC_DEVICE_BASE && vec < X86_VEC_DEVICE_BASE + X86_VEC_DEVICE_COUNT) {
        /* Level-triggered lines stay masked in the IOAPIC until the handler quiets them:
         * EOI after the handlers run. */
        irq_handle_device((unsigned)(vec - X86_VEC_DEVICE_BASE));
        x86_apic_eoi();
    } else {
        x86_apic_eoi();
    }
    irq_exit();
}
