/* SPDX-License-Identifier: MIT */
/* The KBENCH runner and the JSON report (median and p99 of the samples). */
#include <arch/cpu.h>
#include <kernel/kbench.h>
#include <kernel/kprintf.h>

extern const struct kbench __start_kbench[];
extern const struct kbench __stop_kbench[];

void kbench_sort_u64(uint64_t *v, unsigned n) {
    for (unsigned i = 1; i < n; i++) {
        uint64_t x = v[i];
        unsigned j = i;
        for (; j > 0 && v[j - 1] > x; j--) {
            v[j] = v[j - 1];
        }
        v[j] = x;
    }
}

void kbench_report(const char *name, uint64_t *samples, unsigned n) {
    if (n == 0) {
        kprintf("kbench: %s: no samples\n", name);
        return;
    }
    kbench_sort_u64(samples, n);
    unsigned p99 = (n * 99 + 99) / 100 - 1;
    kprintf("{\"bench\":\"%s\",\"arch\":\"%s\",\"unit\":\"instructions\",\"median\":%llu,"
            "\"p99\":%llu,\"n\":%u}\n",
            name, arch_name, (unsigned long long)samples[n / 2],
            (unsigned long long)samples[p99 < n ? p99 : n - 1], n);
}

void kbench_run_all(void) {
    for (const struct kbench *b = __start_kbench; b < __stop_kbench; b++) {
        b->fn();
    }
}
