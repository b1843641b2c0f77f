/* SPDX-License-Identifier: MIT */
/*
 * Symbol lookup over the table generated at build time (tools/gen-ksyms): a sorted
 * array of text addresses with offsets into a string blob. Binary search, no locks.
 */
#include <kernel/ksyms.h>

/* Emitted by tools/gen-ksyms into ksyms.S; empty in the first link. */
extern const uint64_t ksyms_count;
extern const uint64_t ksyms_addrs[];
extern const uint32_t ksyms_name_offsets[];
extern const char ksyms_names[];

const char *ksym_lookup(uintptr_t addr, uintptr_t *offset) {
    uint64_t lo = 0;
    uint64_t hi = ksyms_count;

    if (hi == 0 || addr < ksyms_addrs[0]) {
        return NULL;
    }
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (ksyms_addrs[mid] <= addr) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    *offset = addr - (uintptr_t)ksyms_addrs[lo];
    return &ksyms_names[ksyms_name_offsets[lo]];
}
