# SPDX-License-Identifier: MIT
# Host build (portable core, CMocka tests, host benchmarks) with the machine's gcc.
set(CMAKE_C_COMPILER gcc)
set(CMAKE_ASM_COMPILER gcc)
