/* SPDX-License-Identifier: MIT */
/*
 * The kernel's printf: one formatter (kvformat) feeding either the consoles or a
 * buffer. Freestanding, no allocation, no floating point.
 */
#include <kernel/console.h>
#include <kernel/kprintf.h>
#include <kernel/string.h>

#define F_LEFT  0x01
#define F_ZERO  0x02
#define F_PLUS  0x04
#define F_SPACE 0x08
#define F_ALT   0x10
#define F_UPPER 0x20

struct out {
    kprintf_sink_t sink;
    void *ctx;
    size_t count;
};

static void emit(struct out *o, const char *s, size_t n) {
    if (n != 0) {
        o->sink(o->ctx, s, n);
        o->count += n;
    }
}

static void emit_pad(struct out *o, char c, int n) {
    char pad[16];
    memset(pad, c, sizeof(pad));
    while (n > 0) {
        int chunk = n > (int)sizeof(pad) ? (int)sizeof(pad) : n;
        emit(o, pad, (size_t)chunk);
        n -= chunk;
    }
}

/* Emit body (n chars) with prefix, honouring width, precision (min digits) and flags. */
static void emit_field(struct out *o, const char *prefix, const char *body, int n, int width,
                       int min_digits, unsigned flags) {
    int plen = (int)strlen(prefix);
    int zeros = min_digits > n ? min_digits - n : 0;
    int total = plen + zeros + n;
    int pad = width > total ? width - total : 0;

    if ((flags & F_ZERO) && !(flags & F_LEFT) && min_digits < 0) {
        zeros += pad;
        pad = 0;
    }
    if (!(flags & F_LEFT)) {
        emit_pad(o, ' ', pad);
    }
    emit(o, prefix, (size_t)plen);
    emit_pad(o, '0', zeros);
    emit(o, body, (size_t)n);
    if (flags & F_LEFT) {
        emit_pad(o, ' ', pad);
    }
}

static void emit_number(struct out *o, unsigned long long v, bool negative, unsigned base,
                        int width, int precision, unsigned flags) {
    const char *digits = (flags & F_UPPER) ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    int n = 0;
    char prefix[4] = {0};
    int p = 0;

    if (precision == 0 && v == 0) {
        n = 0; /* C rule: zero with precision 0 prints no digits */
    } else {
        do {
            buf[sizeof(buf) - 1 - n++] = digits[v % base];
            v /= base;
        } while (v != 0);
    }
    if (negative) {
        prefix[p++] = '-';
    } else if (flags & F_PLUS) {
        prefix[p++] = '+';
    } else if (flags & F_SPACE) {
        prefix[p++] = ' ';
    }
    if ((flags & F_ALT) && n > 0) {
        if (base == 16) {
            prefix[p++] = '0';
            prefix[p++] = (flags & F_UPPER) ? 'X' : 'x';
        } else if (base == 8 && buf[sizeof(buf) - n] != '0') {
            prefix[p++] = '0';
        }
    }
    emit_field(o, prefix, buf + sizeof(buf) - n, n, width, precision, flags);
}

static int parse_int(const char **fmt) {
    int v = 0;
    while (**fmt >= '0' && **fmt <= '9') {
        if (v < 100000) {
            v = v * 10 + (**fmt - '0');
        }
        (*fmt)++;
    }
    return v;
}

size_t kvformat(kprintf_sink_t sink, void *ctx, const char *fmt, va_list ap) {
    struct out o = {sink, ctx, 0};
    va_list args;

    va_copy(args, ap);
    while (*fmt != '\0') {
        const char *start = fmt;
        while (*fmt != '\0' && *fmt != '%') {
            fmt++;
        }
        emit(&o, start, (size_t)(fmt - start));
        if (*fmt == '\0') {
            break;
        }
        const char *spec_start = fmt++;

        unsigned flags = 0;
        for (;; fmt++) {
            if (*fmt == '-') {
                flags |= F_LEFT;
            } else if (*fmt == '0') {
                flags |= F_ZERO;
            } else if (*fmt == '+') {
                flags |= F_PLUS;
            } else if (*fmt == ' ') {
                flags |= F_SPACE;
            } else if (*fmt == '#') {
                flags |= F_ALT;
            } else {
                break;
            }
        }
        int width = 0;
        if (*fmt == '*') {
            width = va_arg(args, int);
            if (width < 0) {
                flags |= F_LEFT;
                width = -width;
            }
            fmt++;
        } else {
            width = parse_int(&fmt);
        }
        int precision = -1;
        if (*fmt == '.') {
            fmt++;
            if (*fmt == '*') {
                precision = va_arg(args, int);
                fmt++;
            } else {
                precision = parse_int(&fmt);
            }
        }
        int size = 0; /* 0 int, 1 long, 2 long long, -1 short, -2 char */
        if (*fmt == 'h') {
            size = (fmt[1] == 'h') ? -2 : -1;
            fmt += (fmt[1] == 'h') ? 2 : 1;
        } else if (*fmt == 'l') {
            size = (fmt[1] == 'l') ? 2 : 1;
            fmt += (fmt[1] == 'l') ? 2 : 1;
        } else if (*fmt == 'z' || *fmt == 't' || *fmt == 'j') {
            size = 2;
            fmt++;
        }

        char conv = *fmt;
        if (conv == '\0') {
            emit(&o, spec_start, (size_t)(fmt - spec_start));
            break;
        }
        fmt++;
        switch (conv) {
        case 'd':
        case 'i': {
            long long v;
            if (size == 2) {
                v = va_arg(args, long long);
            } else if (size == 1) {
                v = va_arg(args, long);
            } else {
                v = va_arg(args, int);
                v = size == -1 ? (short)v : size == -2 ? (signed char)v : v;
            }
            unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
            emit_number(&o, mag, v < 0, 10, width, precision, flags);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            unsigned long long v;
            if (size == 2) {
                v = va_arg(args, unsigned long long);
            } else if (size == 1) {
                v = va_arg(args, unsigned long);
            } else {
                v = va_arg(args, unsigned int);
                v = size == -1 ? (unsigned short)v : size == -2 ? (unsigned char)v : v;
            }
            unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
            emit_number(&o, v, false, base, width, precision,
                        (flags & ~(unsigned)(F_PLUS | F_SPACE)) | (conv == 'X' ? F_UPPER : 0));
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(args, void *);
            emit_number(&o, v, false, 16, width, (int)(2 * sizeof(void *)), F_ALT);
            break;
        }
        case 'c': {
            char c = (char)va_arg(args, int);
            emit_field(&o, "", &c, 1, width, -1, flags & F_LEFT);
            break;
        }
        case 's': {
            const char *s = va_arg(args, const char *);
            if (s == NULL) {
                s = "(null)";
            }
            size_t n = precision >= 0 ? strnlen(s, (size_t)precision) : strlen(s);
            emit_field(&o, "", s, (int)n, width, -1, flags & F_LEFT);
            break;
        }
        case '%':
            emit(&o, "%", 1);
            break;
        default:
            /* Unknown conversion: print it as written so the mistake is visible. */
            emit(&o, spec_start, (size_t)(fmt - spec_start));
            break;
        }
    }
    va_end(args);
    return o.count;
}

struct buf_ctx {
    char *buf;
    size_t cap;
    size_t len;
};

static void buf_sink(void *ctx, const char *s, size_t n) {
    struct buf_ctx *b = ctx;
    if (b->cap > 0 && b->len < b->cap - 1) {
        size_t room = b->cap - 1 - b->len;
        size_t take = n < room ? n : room;
        memcpy(b->buf + b->len, s, take);
        b->len += take;
    }
}

size_t kvsnprintf(char *buf, size_t cap, const char *fmt, va_list ap) {
    struct buf_ctx b = {buf, cap, 0};
    size_t total = kvformat(buf_sink, &b, fmt, ap);
    if (cap > 0) {
        buf[b.len] = '\0';
    }
    return total;
}

size_t ksnprintf(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = kvsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

static void console_sink(void *ctx, const char *s, size_t n) {
    (void)ctx;
    console_write(s, n);
}

size_t kvprintf(const char *fmt, va_list ap) {
    return kvformat(console_sink, NULL, fmt, ap);
}

size_t kprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}
