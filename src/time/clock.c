/* SPDX-License-Identifier: MIT */
/*
 * Monotonic time in nanoseconds from the arch counter, and exact ns<->tick conversions.
 * The counter read arrives through clock_register() so that this file links before every
 * arch implements include/arch/timer.h; the arch boot code passes arch_timer_now_ticks.
 */
#include <kernel/timer.h>

/*
 * Conversions split the value at whole seconds so that no product exceeds 64 bits:
 *   ticks -> ns: (t / f) * 10^9 + ((t % f) * 10^9) / f      with (t % f) * 10^9 < f * 10^9
 *   ns -> ticks: (n / 10^9) * f + ((n % 10^9) * f) / 10^9   with (n % 10^9) * f < 10^9 * f
 * and f <= 10^10 keeps f * 10^9 <= 10^19 < 2^64. Both are exact floors; only 64-bit
 * division (native on all three arches) is used.
 */
static bool freq_ok(uint64_t f) {
    return f >= CLOCK_FREQ_MIN_HZ && f <= CLOCK_FREQ_MAX_HZ;
}

/* a * b + c, saturating at UINT64_MAX. */
static uint64_t mul_add_sat(uint64_t a, uint64_t b, uint64_t c) {
    if (b != 0 && a > UINT64_MAX / b) {
        return UINT64_MAX;
    }
    uint64_t p = a * b;
    return p > UINT64_MAX - c ? UINT64_MAX : p + c;
}

/* clock_ticks_to_ns() for a frequency already checked (the clock's, at registration). */
static inline uint64_t ticks_to_ns(uint64_t ticks, uint64_t freq_hz) {
    return mul_add_sat(ticks / freq_hz, NSEC_PER_SEC, ((ticks % freq_hz) * NSEC_PER_SEC) / freq_hz);
}

uint64_t clock_ticks_to_ns(uint64_t ticks, uint64_t freq_hz) {
    return freq_ok(freq_hz) ? ticks_to_ns(ticks, freq_hz) : 0;
}

uint64_t clock_ns_to_ticks(uint64_t ns, uint64_t freq_hz) {
    if (!freq_ok(freq_hz)) {
        return 0;
    }
    uint64_t secs = ns / NSEC_PER_SEC;
    uint64_t rem = ns % NSEC_PER_SEC;
    return mul_add_sat(secs, freq_hz, (rem * freq_hz) / NSEC_PER_SEC);
}

uint64_t clock_ns_to_ticks_ceil(uint64_t ns, uint64_t freq_hz) {
    if (!freq_ok(freq_hz)) {
        return 0;
    }
    uint64_t secs = ns / NSEC_PER_SEC;
    uint64_t rem = ns % NSEC_PER_SEC;
    uint64_t p = rem * freq_hz;
    uint64_t part = p / NSEC_PER_SEC + (p % NSEC_PER_SEC != 0 ? 1 : 0);
    return mul_add_sat(secs, freq_hz, part);
}

static struct {
    uint64_t (*read)(void);
    uint64_t freq_hz;
    uint64_t base_ticks;
    uint64_t last_ns; /* highest value handed out, so time never goes back */
    uint64_t wall_offset_ns;
} clk;

kstatus_t clock_register(uint64_t freq_hz, uint64_t (*read)(void)) {
    if (read == NULL) {
        return KEEL_EINVAL;
    }
    if (!freq_ok(freq_hz)) {
        return KEEL_ERANGE;
    }
    clk.freq_hz = freq_hz;
    clk.base_ticks = read();
    __atomic_store_n(&clk.last_ns, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&clk.read, read, __ATOMIC_RELEASE);
    return KEEL_OK;
}

uint64_t get_monotonic_time(void) {
    uint64_t (*read)(void) = __atomic_load_n(&clk.read, __ATOMIC_ACQUIRE);
    if (read == NULL) {
        return 0;
    }
    uint64_t t = read();
    uint64_t ns = t > clk.base_ticks ? ticks_to_ns(t - clk.base_ticks, clk.freq_hz) : 0;
    /* Clamp against the last value seen: counters of different CPUs may differ slightly. */
    uint64_t last = __atomic_load_n(&clk.last_ns, __ATOMIC_RELAXED);
    while (ns > last) {
        if (__atomic_compare_exchange_n(&clk.last_ns, &last, ns, true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED)) {
            return ns;
        }
    }
    return last;
}

uint64_t get_system_time(void) {
    return get_monotonic_time() + __atomic_load_n(&clk.wall_offset_ns, __ATOMIC_RELAXED);
}

void clock_set_system_time(uint64_t unix_ns) {
    uint64_t mono = get_monotonic_time();
    __atomic_store_n(&clk.wall_offset_ns, unix_ns > mono ? unix_ns - mono : 0, __ATOMIC_RELAXED);
}

uint64_t clock_deadline_to_ticks(uint64_t mono_ns) {
    if (clk.freq_hz == 0) {
        return 0;
    }
    uint64_t t = clock_ns_to_ticks_ceil(mono_ns, clk.freq_hz);
    return t > UINT64_MAX - clk.base_ticks ? UINT64_MAX : t + clk.base_ticks;
}
