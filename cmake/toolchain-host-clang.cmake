# SPDX-License-Identifier: MIT
# Host build (portable core, CMocka tests, host benchmarks) with the machine's clang.
set(CMAKE_C_COMPILER clang)
set(CMAKE_ASM_COMPILER clang)
