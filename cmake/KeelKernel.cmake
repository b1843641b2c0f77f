# SPDX-License-Identifier: MIT
# The kernel for one arch: portable core (src/*/*.c) + the HAL in arch/${ARCH}/ + the
# in-kernel tests (tests/kernel/). Linked twice so backtraces can name functions: the
# second link carries the first link's symbol table, placed after all code.
#
# arch/${ARCH}/arch.cmake must provide:
#   KEEL_ARCH_SOURCES        C and assembly sources of the HAL
#   KEEL_ARCH_LINKER_SCRIPT  the kernel linker script
#   keel_arch_flags          INTERFACE library with the arch's compile/link options
#   keel_arch_artifacts(elf) function adding the boot artifacts built from keel.elf
#                            (keel-x86_64.img, Image, ...) as target `keel_image`

configure_file(${KEEL_ROOT}/include/kernel/version.h.in
               ${CMAKE_BINARY_DIR}/generated/kernel/version.h @ONLY)

add_library(keel_kernel_flags INTERFACE)
target_include_directories(keel_kernel_flags INTERFACE
    ${KEEL_ROOT}/include
    ${KEEL_ROOT}/arch/${ARCH}/include
    ${CMAKE_BINARY_DIR}/generated)
target_compile_definitions(keel_kernel_flags INTERFACE ${KEEL_CONFIG_DEFINES} KEEL_KERNEL=1)
target_compile_options(keel_kernel_flags INTERFACE
    $<$<COMPILE_LANGUAGE:C>:${KEEL_WARNINGS}>
    -ffreestanding -fno-stack-protector -fno-pic -fno-pie -fno-omit-frame-pointer
    -fno-strict-aliasing -fno-common -ffunction-sections -fdata-sections -g -O2)
target_link_options(keel_kernel_flags INTERFACE
    -nostdlib -static $<$<STREQUAL:${KEEL_COMPILER},gcc>:-no-pie> -Wl,--build-id=none -Wl,-z,max-page-size=4096
    -Wl,-z,noexecstack ${KEEL_LINKER_FLAGS})

include(${KEEL_ROOT}/arch/${ARCH}/arch.cmake)
foreach(v KEEL_ARCH_SOURCES KEEL_ARCH_LINKER_SCRIPT)
    if(NOT ${v})
        message(FATAL_ERROR "arch/${ARCH}/arch.cmake did not set ${v}")
    endif()
endforeach()

file(GLOB KEEL_PORTABLE_SOURCES CONFIGURE_DEPENDS ${KEEL_SRC}/*/*.c)
file(GLOB KEEL_KTEST_SOURCES CONFIGURE_DEPENDS ${KEEL_ROOT}/tests/kernel/*.c)
if(NOT KEEL_KTEST)
    set(KEEL_KTEST_SOURCES "")
endif()

add_library(keel_kernel_objs OBJECT
    ${KEEL_PORTABLE_SOURCES} ${KEEL_ARCH_SOURCES} ${KEEL_KTEST_SOURCES})
target_link_libraries(keel_kernel_objs PUBLIC keel_kernel_flags keel_arch_flags)
if(KEEL_COMPILER STREQUAL "gcc")
    # Keep gcc from turning the loops of memset/memcpy into calls to themselves.
    set_source_files_properties(${KEEL_SRC}/lib/string.c PROPERTIES
        COMPILE_OPTIONS "-fno-tree-loop-distribute-patterns")
endif()

# Stage 1: an empty symbol table. Stage 2: the real one, generated from stage 1.
set(_ksyms_empty ${CMAKE_BINARY_DIR}/generated/ksyms-empty.S)
set(_ksyms ${CMAKE_BINARY_DIR}/generated/ksyms.S)
execute_process(COMMAND ${KEEL_ROOT}/tools/gen-ksyms --empty OUTPUT_FILE ${_ksyms_empty})

add_executable(keel.stage1.elf $<TARGET_OBJECTS:keel_kernel_objs> ${_ksyms_empty})
add_custom_command(OUTPUT ${_ksyms}
    COMMAND ${KEEL_ROOT}/tools/gen-ksyms ${CMAKE_NM} $<TARGET_FILE:keel.stage1.elf> > ${_ksyms}
    DEPENDS keel.stage1.elf ${KEEL_ROOT}/tools/gen-ksyms
    COMMENT "Generating the kernel symbol table")
add_executable(keel.elf $<TARGET_OBJECTS:keel_kernel_objs> ${_ksyms})
add_custom_command(TARGET keel.elf POST_BUILD
    COMMAND ${KEEL_ROOT}/tools/gen-ksyms --compare ${CMAKE_NM}
            $<TARGET_FILE:keel.stage1.elf> $<TARGET_FILE:keel.elf>
    COMMENT "Checking that the symbol table moved no code")

foreach(t keel.stage1.elf keel.elf)
    target_link_libraries(${t} PRIVATE keel_kernel_flags keel_arch_flags)
    target_link_options(${t} PRIVATE -Wl,-T,${KEEL_ARCH_LINKER_SCRIPT} -Wl,-Map,${t}.map)
    set_target_properties(${t} PROPERTIES
        LINK_DEPENDS ${KEEL_ARCH_LINKER_SCRIPT}
        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}
        LINKER_LANGUAGE C)
endforeach()

keel_arch_artifacts(keel.elf)

# Booting in QEMU through the arch's firmware: tools/qemu-run holds the QEMU lines.
set(KEEL_QEMU_RUN ${KEEL_ROOT}/tools/qemu-run --arch ${ARCH} --build-dir ${CMAKE_BINARY_DIR})
add_custom_target(run COMMAND ${KEEL_QEMU_RUN} USES_TERMINAL DEPENDS keel_image
                  COMMENT "Booting Keel for ${ARCH} in QEMU (quit: Ctrl-A X)")
add_custom_target(debug COMMAND ${KEEL_QEMU_RUN} --gdb USES_TERMINAL DEPENDS keel_image
                  COMMENT "Booting Keel for ${ARCH}; QEMU waits for gdb on localhost:1234")
add_custom_target(bench COMMAND ${KEEL_ROOT}/tools/bench-boot --arch ${ARCH}
                  --build-dir ${CMAKE_BINARY_DIR} USES_TERMINAL DEPENDS keel_image
                  COMMENT "Benchmarks for ${ARCH} under -icount (JSON lines)")

include(KeelBootTests)
