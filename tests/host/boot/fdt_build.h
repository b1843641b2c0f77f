/* SPDX-License-Identifier: MIT */
/*
 * A tiny DTB writer for tests: builds well-formed (or deliberately broken) blobs token
 * by token, so the parser can be fed exactly the malformation a test is about.
 */
#ifndef BOOT_FDT_BUILD_H
#define BOOT_FDT_BUILD_H

#include <stddef.h>
#include <stdint.h>

struct fdt_build {
    uint8_t st[32768];
    uint32_t st_len;
    char strs[4096];
    uint32_t strs_len;
    uint64_t rsv[16][2];
    uint32_t rsv_count;
    uint32_t boot_cpuid;
    int no_rsv_terminator; /* leave the reservation block unterminated */
};

void fb_init(struct fdt_build *b);
void fb_token(struct fdt_build *b, uint32_t token);
void fb_begin(struct fdt_build *b, const char *name);
void fb_end(struct fdt_build *b);
/* Property with raw data; the name is added to the strings block. */
void fb_prop(struct fdt_build *b, const char *name, const void *data, uint32_t len);
void fb_prop_str(struct fdt_build *b, const char *name, const char *s);
void fb_prop_u32(struct fdt_build *b, const char *name, uint32_t v);
/* Property of n big-endian cells. */
void fb_prop_cells(struct fdt_build *b, const char *name, int n, ...);
/* Offset of `name` in the strings block (added if new). */
uint32_t fb_string(struct fdt_build *b, const char *name);
void fb_reserve(struct fdt_build *b, uint64_t addr, uint64_t size);
/* Appends FDT_END and writes header + blocks to out (cap bytes); returns the size. */
size_t fb_finish(struct fdt_build *b, uint8_t *out, size_t cap);
/* Like fb_finish but without appending FDT_END. */
size_t fb_finish_raw(struct fdt_build *b, uint8_t *out, size_t cap);

#endif /* BOOT_FDT_BUILD_H */
