/* SPDX-License-Identifier: MIT */
/*
 * Host benchmark of the device tree parser on QEMU virt fixtures: fdt_init() alone and
 * the whole fdt_parse_boot_info(), one JSON line per metric (design.md section 7).
 * `bench_fdt --calls N` instead runs N untimed parses per fixture and prints nothing
 * else, as a driver for `valgrind --tool=callgrind` (instruction counts per function).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kernel/fdt.h>

#ifndef KEEL_FIXTURE_DIR
#error "KEEL_FIXTURE_DIR must name tests/fixtures/dtb"
#endif

#define SAMPLES 5000

/* The fixtures timed: what QEMU hands the kernel on each arch with -smp 2 -m 1G. */
static const struct {
    const char *arch;
    const char *file;
} fixtures[] = {
    {"aarch64", "aarch64-gicv3-smp2-1g"},
    {"riscv64", "riscv64-smp2-1g"},
};

static volatile uint32_t sink;
static double samples[SAMPLES];
static struct boot_info bi_template, bi_work;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Print one result line; samples are nanoseconds per operation. */
static void report(const char *name, double *s, size_t n) {
    qsort(s, n, sizeof(s[0]), cmp_double);
    double median = s[n / 2];
    double p99 = s[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
    printf("{\"bench\":\"%s\",\"arch\":\"host\",\"unit\":\"ns\",\"median\":%llu,\"p99\":%llu,"
           "\"n\":%zu}\n",
           name, (unsigned long long)(median + 0.5), (unsigned long long)(p99 + 0.5), n);
    fflush(stdout);
}

static uint8_t *load_fixture(const char *name, size_t *size) {
    char path[512];
    FILE *f;
    long n;
    uint8_t *buf;

    snprintf(path, sizeof(path), "%s/%s.dtb", KEEL_FIXTURE_DIR, name);
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "bench_fdt: cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "bench_fdt: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* A fresh boot_info as the kernel has it before the parse: the kernel image mapped. */
static void prepare_bi(uint64_t ram) {
    memcpy(&bi_work, &bi_template, sizeof(bi_work));
    bi_work.mem[0] = (struct mem_region){ram + (32u << 20), 2u << 20, MEM_KERNEL, 0};
    bi_work.mem_count = 1;
}

/* One parse into the prepared bi_work; any failure ends the benchmark. */
static void parse_once(const uint8_t *blob, size_t size, uint64_t ram) {
    kstatus_t st = fdt_parse_boot_info(blob, size, ram + (64u << 20), &bi_work);

    if (st != KEEL_OK) {
        fprintf(stderr, "bench_fdt: fdt_parse_boot_info failed: %d\n", st);
        exit(1);
    }
    sink += bi_work.cpu_count;
}

static void bench_fixture(const char *arch, const uint8_t *blob, size_t size, uint64_t ram) {
    char name[64];
    struct fdt fdt;

    for (size_t i = 0; i < SAMPLES; i++) {
        uint64_t t0 = now_ns();
        kstatus_t st = fdt_init(&fdt, blob, size);
        uint64_t t1 = now_ns();

        if (st != KEEL_OK) {
            fprintf(stderr, "bench_fdt: fdt_init failed: %d\n", st);
            exit(1);
        }
        samples[i] = (double)(t1 - t0);
    }
    snprintf(name, sizeof(name), "fdt_init_%s", arch);
    report(name, samples, SAMPLES);

    for (size_t i = 0; i < SAMPLES; i++) {
        uint64_t t0, t1;

        prepare_bi(ram);
        t0 = now_ns();
        parse_once(blob, size, ram);
        t1 = now_ns();
        samples[i] = (double)(t1 - t0);
    }
    snprintf(name, sizeof(name), "fdt_parse_boot_info_%s", arch);
    report(name, samples, SAMPLES);
}

int main(int argc, char **argv) {
    long calls = 0;

    if (argc == 3 && strcmp(argv[1], "--calls") == 0) {
        calls = strtol(argv[2], NULL, 0);
    } else if (argc != 1) {
        fprintf(stderr, "usage: bench_fdt [--calls N]\n");
        return 2;
    }
    for (size_t k = 0; k < sizeof(fixtures) / sizeof(fixtures[0]); k++) {
        size_t size;
        uint8_t *blob = load_fixture(fixtures[k].file, &size);
        uint64_t ram = strcmp(fixtures[k].arch, "riscv64") == 0 ? 0x80000000u : 0x40000000u;

        if (calls > 0) {
            for (long i = 0; i < calls; i++) {
                prepare_bi(ram);
                parse_once(blob, size, ram);
            }
        } else {
            bench_fixture(fixtures[k].arch, blob, size, ram);
        }
        free(blob);
    }
    return 0;
}
