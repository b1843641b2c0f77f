/* SPDX-License-Identifier: MIT */
/*
 * The fake HAL's FP/SIMD unit (include/arch/fpu.h): per fake CPU a small register file
 * and an enable flag. The test fill/check helpers "trap" through fake_fpu_trap_hook when
 * the unit is disabled, exactly where real hardware would, so the portable lazy layer
 * (src/proc/fpu.c) runs unchanged on the host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arch/fpu.h>
#include <kernel/percpu.h>

bool (*fake_fpu_trap_hook)(void);
unsigned long fake_fpu_refused;

#define FAKE_FPU_CPUS 64

static struct {
    uint64_t reg[FAKE_FPU_REGS];
    uint64_t control;
    bool enabled;
} fake_units[FAKE_FPU_CPUS];

static unsigned unit_index(void) {
    unsigned i = this_cpu_index();
    if (i >= FAKE_FPU_CPUS) {
        fprintf(stderr, "fake FPU: CPU %u out of range\n", i);
        abort();
    }
    return i;
}

static void need_enabled(const char *what) {
    if (!fake_units[unit_index()].enabled) {
        fprintf(stderr, "fake FPU: %s with the unit disabled\n", what);
        abort();
    }
}

/* What an FP/SIMD instruction does: trap while disabled. false if the trap refused. */
static bool fpu_use(void) {
    if (fake_units[unit_index()].enabled) {
        return true;
    }
    if (fake_fpu_trap_hook == NULL) {
        fprintf(stderr, "fake FPU: trap with no handler\n");
        abort();
    }
    if (!fake_fpu_trap_hook()) {
        fake_fpu_refused++;
        return false;
    }
    need_enabled("trap returned");
    return true;
}

void arch_fpu_cpu_init(void) {
    fake_units[unit_index()].enabled = false;
}

void arch_fpu_enable(void) {
    fake_units[unit_index()].enabled = true;
}

void arch_fpu_disable(void) {
    fake_units[unit_index()].enabled = false;
}

void arch_fpu_save(struct arch_fpu_state *st) {
    need_enabled("save");
    memcpy(st->reg, fake_units[unit_index()].reg, sizeof(st->reg));
    st->control = fake_units[unit_index()].control;
}

void arch_fpu_restore(const struct arch_fpu_state *st) {
    need_enabled("restore");
    memcpy(fake_units[unit_index()].reg, st->reg, sizeof(st->reg));
    fake_units[unit_index()].control = st->control;
}

void arch_fpu_state_init(struct arch_fpu_state *st) {
    memset(st, 0, sizeof(*st));
    st->control = 0x37f;
}

void arch_fpu_test_fill(uint64_t seed) {
    if (!fpu_use()) {
        return;
    }
    for (unsigned r = 0; r < FAKE_FPU_REGS; r++) {
        fake_units[unit_index()].reg[r] = seed * 0x9e3779b97f4a7c15ull + r;
    }
}

bool arch_fpu_test_check(uint64_t seed) {
    if (!fpu_use()) {
        return false;
    }
    for (unsigned r = 0; r < FAKE_FPU_REGS; r++) {
        if (fake_units[unit_index()].reg[r] != seed * 0x9e3779b97f4a7c15ull + r) {
            return false;
        }
    }
    return true;
}

const char *arch_fpu_describe(void) {
    return "fake";
}

bool fake_fpu_enabled(void) {
    return fake_units[unit_index()].enabled;
}
