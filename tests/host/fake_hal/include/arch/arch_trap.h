/* SPDX-License-Identifier: MIT */
/* Fake HAL for host tests: a trap frame is just a pc and a frame pointer. */
#ifndef FAKE_ARCH_TRAP_H
#define FAKE_ARCH_TRAP_H

#include <stdint.h>

struct trap_frame {
    uintptr_t pc;
    uintptr_t fp;
};

#endif /* FAKE_ARCH_TRAP_H */
