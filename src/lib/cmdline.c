/* SPDX-License-Identifier: MIT */
/* Parsing of the kernel command line: whole-word matches only ("ktestx" is not "ktest"). */
#include <kernel/cmdline.h>
#include <kernel/string.h>

bool cmdline_find(const char *cmdline, const char *key, const char **value, size_t *len) {
    size_t klen = strlen(key);
    const char *p = cmdline;

    if (klen == 0) {
        return false;
    }
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        const char *word = p;
        while (*p != '\0' && *p != ' ' && *p != '\t') {
            p++;
        }
        size_t wlen = (size_t)(p - word);
        if (wlen >= klen && strncmp(word, key, klen) == 0 && (wlen == klen || word[klen] == '=')) {
            if (value != NULL) {
                *value = wlen == klen ? word + klen : word + klen + 1;
            }
            if (len != NULL) {
                *len = wlen == klen ? 0 : wlen - klen - 1;
            }
            return true;
        }
    }
    return false;
}

bool cmdline_value_is(const char *cmdline, const char *key, const char *expected) {
    const char *v;
    size_t n;
    return cmdline_find(cmdline, key, &v, &n) && n == strlen(expected) &&
           strncmp(v, expected, n) == 0;
}
