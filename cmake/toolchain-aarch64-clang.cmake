# SPDX-License-Identifier: MIT
# Keel kernel for aarch64, built with clang and lld.
set(KEEL_TC_ARCH aarch64)
set(KEEL_TC_COMPILER clang)
set(KEEL_TC_PREFIX "aarch64-linux-gnu-")
set(KEEL_TC_TRIPLE aarch64-unknown-none-elf)
include(${CMAKE_CURRENT_LIST_DIR}/KeelCross.cmake)
