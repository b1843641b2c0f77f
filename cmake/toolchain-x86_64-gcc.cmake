# SPDX-License-Identifier: MIT
# Keel kernel for x86_64, built with gcc (Debian's native gcc).
set(KEEL_TC_ARCH x86_64)
set(KEEL_TC_COMPILER gcc)
set(KEEL_TC_PREFIX "")
set(KEEL_TC_TRIPLE x86_64-unknown-none-elf)
include(${CMAKE_CURRENT_LIST_DIR}/KeelCross.cmake)
