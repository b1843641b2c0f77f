# SPDX-License-Identifier: MIT
# Warnings are errors, for every arch and both compilers.
set(KEEL_WARNINGS
    -Wall -Wextra -Werror
    -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
    -Wpointer-arith -Wundef -Wformat=2)
