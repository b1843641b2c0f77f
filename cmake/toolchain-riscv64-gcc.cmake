# SPDX-License-Identifier: MIT
# Keel kernel for riscv64, built with gcc (Debian's riscv64-linux-gnu-gcc).
set(KEEL_TC_ARCH riscv64)
set(KEEL_TC_COMPILER gcc)
set(KEEL_TC_PREFIX "riscv64-linux-gnu-")
set(KEEL_TC_TRIPLE riscv64-unknown-elf)
include(${CMAKE_CURRENT_LIST_DIR}/KeelCross.cmake)
