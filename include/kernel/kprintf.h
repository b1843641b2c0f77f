/* SPDX-License-Identifier: MIT */
/*
 * Formatted output. kprintf() writes to every registered console; the k*snprintf()
 * family formats into a buffer and never truncates silently (they return the length
 * the full output needs). Formats: %d %i %u %x %X %o %c %s %p %% with the flags
 * '-', '0', '+', ' ', '#', a width and a precision (both may be '*'), and the length
 * modifiers hh h l ll z t j.
 */
#ifndef KERNEL_KPRINTF_H
#define KERNEL_KPRINTF_H

#include <stdarg.h>

#include <kernel/types.h>

/* Output sink for kvformat(): called once per chunk of output. */
typedef void (*kprintf_sink_t)(void *ctx, const char *s, size_t n);

/* Format into a sink. Returns the number of characters produced. Any context. */
size_t kvformat(kprintf_sink_t sink, void *ctx, const char *fmt, va_list ap);

/*
 * Format into buf (capacity cap, always NUL-terminated when cap > 0). Returns the length
 * the whole output needs, excluding the NUL: a result >= cap means it was truncated.
 */
size_t ksnprintf(char *buf, size_t cap, const char *fmt, ...) __printf_like(3, 4);
size_t kvsnprintf(char *buf, size_t cap, const char *fmt, va_list ap) __printf_like(3, 0);

/* Print to the consoles. Returns the number of characters printed. Any context. */
size_t kprintf(const char *fmt, ...) __printf_like(1, 2);
size_t kvprintf(const char *fmt, va_list ap) __printf_like(1, 0);

#endif /* KERNEL_KPRINTF_H */
