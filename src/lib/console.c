/* SPDX-License-Identifier: MIT */
/*
 * The console list. Output is serialised by one lock so lines from different CPUs do
 * not interleave mid-character; a panic breaks the lock rather than deadlock on it.
 */
#include <kernel/console.h>
#include <kernel/panic.h>
#include <kernel/spinlock.h>

static struct console *consoles[CONSOLE_MAX];
static unsigned console_count;
static spinlock_t console_lock = SPINLOCK_INIT;

kstatus_t console_register(struct console *con) {
    if (con == NULL || con->putc == NULL) {
        return KEEL_EINVAL;
    }
    if (console_count >= CONSOLE_MAX) {
        return KEEL_EEXHAUSTED;
    }
    consoles[console_count++] = con;
    return KEEL_OK;
}

void console_write(const char *s, size_t n) {
    unsigned long flags;
    bool locked = !panic_in_progress();

    if (locked) {
        spin_lock_irqsave(&console_lock, &flags);
    }
    for (unsigned i = 0; i < console_count; i++) {
        struct console *con = consoles[i];
        for (size_t j = 0; j < n; j++) {
            if (s[j] == '\n') {
                con->putc(con, '\r');
            }
            con->putc(con, s[j]);
        }
    }
    if (locked) {
        spin_unlock_irqrestore(&console_lock, flags);
    }
}
