# SPDX-License-Identifier: MIT
# Shared body of the cross toolchain files. The caller sets KEEL_TC_ARCH (the Keel arch),
# KEEL_TC_COMPILER (gcc or clang), KEEL_TC_PREFIX (Debian's GNU triplet prefix) and
# KEEL_TC_TRIPLE (clang's target triple).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR ${KEEL_TC_ARCH})
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

if(KEEL_TC_COMPILER STREQUAL "gcc")
    set(CMAKE_C_COMPILER ${KEEL_TC_PREFIX}gcc)
    set(CMAKE_ASM_COMPILER ${KEEL_TC_PREFIX}gcc)
    find_program(CMAKE_OBJCOPY ${KEEL_TC_PREFIX}objcopy REQUIRED)
    find_program(CMAKE_NM ${KEEL_TC_PREFIX}nm REQUIRED)
    set(KEEL_LINKER_FLAGS "")
else()
    set(CMAKE_C_COMPILER clang)
    set(CMAKE_ASM_COMPILER clang)
    set(CMAKE_C_COMPILER_TARGET ${KEEL_TC_TRIPLE})
    set(CMAKE_ASM_COMPILER_TARGET ${KEEL_TC_TRIPLE})
    find_program(CMAKE_OBJCOPY NAMES llvm-objcopy llvm-objcopy-14 REQUIRED)
    find_program(CMAKE_NM NAMES llvm-nm llvm-nm-14 REQUIRED)
    set(KEEL_LINKER_FLAGS "-fuse-ld=lld")
endif()

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
