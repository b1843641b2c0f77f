# SPDX-License-Identifier: MIT
# The AArch64 HAL: sources, linker script, compile flags and the boot artifact `Image`
# (arm64 Image format: keel.elf as a flat binary whose first 64 bytes are the header
# U-Boot's booti and QEMU's -kernel check). See cmake/KeelKernel.cmake for the contract.
set(_a64 ${KEEL_ROOT}/arch/aarch64)

set(KEEL_ARCH_SOURCES
    ${_a64}/entry.S
    ${_a64}/vectors.S
    ${_a64}/boot.c
    ${_a64}/context.S
    ${_a64}/cpu.c
    ${_a64}/fpu.c
    ${_a64}/fpu.S
    ${_a64}/gicv2.c
    ${_a64}/gicv3.c
    ${_a64}/irq.c
    ${_a64}/kspace.c
    ${_a64}/mmu.c
    ${_a64}/smp.c
    ${_a64}/thread.c
    ${_a64}/timer.c
    ${_a64}/trap.c)
if(KEEL_KTEST)
    list(APPEND KEEL_ARCH_SOURCES ${_a64}/ktest_aarch64.c ${_a64}/ktest_smp_aarch64.c
        ${_a64}/ktest_vm_aarch64.c)
endif()
set(KEEL_ARCH_LINKER_SCRIPT ${_a64}/kernel.ld)

add_library(keel_arch_flags INTERFACE)
# No FP/SIMD in the kernel (CPACR_EL1 traps it); no unwind tables (frame records instead).
target_compile_options(keel_arch_flags INTERFACE
    -march=armv8-a -mgeneral-regs-only -fno-asynchronous-unwind-tables -fno-unwind-tables)
if(KEEL_COMPILER STREQUAL "gcc")
    # Debian's gcc calls libgcc's __aarch64_* helpers for atomics by default; inline them.
    target_compile_options(keel_arch_flags INTERFACE -mno-outline-atomics)
endif()

function(keel_arch_artifacts elf)
    set(_image ${CMAKE_BINARY_DIR}/Image)
    add_custom_command(OUTPUT ${_image}
        COMMAND ${CMAKE_OBJCOPY} -O binary $<TARGET_FILE:${elf}> ${_image}
        COMMAND ${KEEL_ROOT}/arch/aarch64/check-image ${_image}
        DEPENDS ${elf} ${KEEL_ROOT}/arch/aarch64/check-image
        COMMENT "Making the arm64 Image")
    add_custom_target(keel_image ALL DEPENDS ${_image})
endfunction()
