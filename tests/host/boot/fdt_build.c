/* SPDX-License-Identifier: MIT */
/*
 * DTB writer for the FDT parser tests (see fdt_build.h). Layout: 40-byte header, the
 * memory reservation block at 40, the struct block, then the strings block.
 */
#include "fdt_build.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void st_bytes(struct fdt_build *b, const void *p, uint32_t len) {
    if (b->st_len + len + 4 > sizeof(b->st)) {
        abort();
    }
    memcpy(b->st + b->st_len, p, len);
    b->st_len += len;
    while (b->st_len % 4) {
        b->st[b->st_len++] = 0;
    }
}

void fb_init(struct fdt_build *b) {
    memset(b, 0, sizeof(*b));
}

void fb_token(struct fdt_build *b, uint32_t token) {
    uint8_t t[4];

    put32(t, token);
    st_bytes(b, t, 4);
}

void fb_begin(struct fdt_build *b, const char *name) {
    fb_token(b, 1);
    st_bytes(b, name, (uint32_t)strlen(name) + 1);
}

void fb_end(struct fdt_build *b) {
    fb_token(b, 2);
}

uint32_t fb_string(struct fdt_build *b, const char *name) {
    uint32_t len = (uint32_t)strlen(name) + 1;

    for (uint32_t off = 0; off < b->strs_len; off += (uint32_t)strlen(b->strs + off) + 1) {
        if (strcmp(b->strs + off, name) == 0) {
            return off;
        }
    }
    if (b->strs_len + len > sizeof(b->strs)) {
        abort();
    }
    memcpy(b->strs + b->strs_len, name, len);
    b->strs_len += len;
    return b->strs_len - len;
}

void fb_prop(struct fdt_build *b, const char *name, const void *data, uint32_t len) {
    uint8_t h[8];

    fb_token(b, 3);
    put32(h, len);
    put32(h + 4, fb_string(b, name));
    st_bytes(b, h, 8);
    if (len > 0) {
        st_bytes(b, data, len);
    }
}

void fb_prop_str(struct fdt_build *b, const char *name, const char *s) {
    fb_prop(b, name, s, (uint32_t)strlen(s) + 1);
}

void fb_prop_u32(struct fdt_build *b, const char *name, uint32_t v) {
    fb_prop_cells(b, name, 1, v);
}

void fb_prop_cells(struct fdt_build *b, const char *name, int n, ...) {
    uint8_t buf[256];
    va_list ap;

    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        put32(buf + 4 * i, va_arg(ap, uint32_t));
    }
    va_end(ap);
    fb_prop(b, name, buf, (uint32_t)(4 * n));
}

void fb_reserve(struct fdt_build *b, uint64_t addr, uint64_t size) {
    b->rsv[b->rsv_count][0] = addr;
    b->rsv[b->rsv_count][1] = size;
    b->rsv_count++;
}

size_t fb_finish_raw(struct fdt_build *b, uint8_t *out, size_t cap) {
    uint32_t rsv_len = (b->rsv_count + (b->no_rsv_terminator ? 0 : 1)) * 16;
    uint32_t off_rsv = 40;
    uint32_t off_st = off_rsv + rsv_len;
    uint32_t off_str = off_st + b->st_len;
    uint32_t total = off_str + b->strs_len;

    if (total > cap) {
        abort();
    }
    memset(out, 0, total);
    put32(out + 0, 0xd00dfeed);
    put32(out + 4, total);
    put32(out + 8, off_st);
    put32(out + 12, off_str);
    put32(out + 16, off_rsv);
    put32(out + 20, 17);
    put32(out + 24, 16);
    put32(out + 28, b->boot_cpuid);
    put32(out + 32, b->strs_len);
    put32(out + 36, b->st_len);
    for (uint32_t i = 0; i < b->rsv_count; i++) {
        uint8_t *e = out + off_rsv + 16 * i;

        put32(e, (uint32_t)(b->rsv[i][0] >> 32));
        put32(e + 4, (uint32_t)b->rsv[i][0]);
        put32(e + 8, (uint32_t)(b->rsv[i][1] >> 32));
        put32(e + 12, (uint32_t)b->rsv[i][1]);
    }
    memcpy(out + off_st, b->st, b->st_len);
    memcpy(out + off_str, b->strs, b->strs_len);
    return total;
}

size_t fb_finish(struct fdt_build *b, uint8_t *out, size_t cap) {
    fb_token(b, 9);
    return fb_finish_raw(b, out, cap);
}
