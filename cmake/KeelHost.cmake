# SPDX-License-Identifier: MIT
# Host build of the portable core: CMocka unit tests against the fake HAL, and host
# benchmarks. Each tests/host/<subsystem>/CMakeLists.txt uses the two functions below.
find_library(CMOCKA_LIBRARY cmocka REQUIRED)
find_path(CMOCKA_INCLUDE_DIR cmocka.h REQUIRED)
find_package(Threads REQUIRED)

set(KEEL_HOST_INCLUDES
    ${KEEL_ROOT}/include
    ${KEEL_ROOT}/tests/host/fake_hal/include)
# The fake HAL plus the kernel's own console/printf/panic/command-line code, which every
# portable file may use; tests must not list these again.
file(GLOB KEEL_FAKE_HAL_SOURCES CONFIGURE_DEPENDS ${KEEL_ROOT}/tests/host/fake_hal/*.c)
list(APPEND KEEL_FAKE_HAL_SOURCES
    ${KEEL_SRC}/lib/console.c ${KEEL_SRC}/lib/kprintf.c ${KEEL_SRC}/lib/panic.c
    ${KEEL_SRC}/lib/ksyms.c ${KEEL_SRC}/lib/strlcpy.c ${KEEL_SRC}/lib/cmdline.c)
set(KEEL_HOST_FLAGS -O2 -g -fno-omit-frame-pointer -fno-strict-aliasing)
set(KEEL_SANITIZER_FLAGS_asan -fsanitize=address -fno-sanitize-recover=all)
set(KEEL_SANITIZER_FLAGS_ubsan -fsanitize=undefined -fno-sanitize-recover=all)
set(KEEL_SANITIZER_FLAGS_tsan -fsanitize=thread)

# keel_host_test(NAME <name> SOURCES <files...> [SANITIZERS asan ubsan tsan]
#                [LABELS <labels...>] [TIMEOUT <s>] [ARGS <args...>])
# Builds <name> from the test sources plus the portable sources it lists (give the
# src/ files under test explicitly) plus the fake HAL, links CMocka, and registers
# it with ctest. Each sanitizer named builds and registers <name>.<sanitizer> too.
function(keel_host_test)
    cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;SANITIZERS;LABELS;ARGS" ${ARGN})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 300)
    endif()
    foreach(variant "" ${T_SANITIZERS})
        if(variant STREQUAL "")
            set(exe ${T_NAME})
            set(sflags "")
        else()
            set(exe ${T_NAME}.${variant})
            set(sflags ${KEEL_SANITIZER_FLAGS_${variant}})
            if(NOT sflags)
                message(FATAL_ERROR "keel_host_test(${T_NAME}): unknown sanitizer '${variant}'")
            endif()
        endif()
        add_executable(${exe} ${T_SOURCES} ${KEEL_FAKE_HAL_SOURCES})
        target_include_directories(${exe} PRIVATE ${KEEL_HOST_INCLUDES} ${CMOCKA_INCLUDE_DIR})
        target_compile_definitions(${exe} PRIVATE ${KEEL_CONFIG_DEFINES} KEEL_HOST=1)
        target_compile_options(${exe} PRIVATE ${KEEL_WARNINGS} ${KEEL_HOST_FLAGS} ${sflags})
        target_link_options(${exe} PRIVATE ${sflags})
        target_link_libraries(${exe} PRIVATE ${CMOCKA_LIBRARY} Threads::Threads)
        add_test(NAME host.${exe} COMMAND ${exe} ${T_ARGS})
        set_tests_properties(host.${exe} PROPERTIES TIMEOUT ${T_TIMEOUT}
                             LABELS "host;${T_LABELS}")
    endforeach()
endfunction()

# keel_host_bench(NAME <name> SOURCES <files...> [ARGS <args...>])
# Builds a host benchmark; `cmake --build --preset host --target bench` runs them all.
# A benchmark prints one JSON object per line (design.md section 7).
set_property(GLOBAL PROPERTY KEEL_HOST_BENCHES "")
function(keel_host_bench)
    cmake_parse_arguments(B "" "NAME" "SOURCES;ARGS" ${ARGN})
    add_executable(${B_NAME} ${B_SOURCES} ${KEEL_FAKE_HAL_SOURCES})
    target_include_directories(${B_NAME} PRIVATE ${KEEL_HOST_INCLUDES})
    target_compile_definitions(${B_NAME} PRIVATE ${KEEL_CONFIG_DEFINES} KEEL_HOST=1)
    target_compile_options(${B_NAME} PRIVATE ${KEEL_WARNINGS} -O2 -g -fno-strict-aliasing)
    target_link_libraries(${B_NAME} PRIVATE Threads::Threads)
    set_property(GLOBAL APPEND PROPERTY KEEL_HOST_BENCHES "${B_NAME}")
    set_property(GLOBAL APPEND PROPERTY KEEL_HOST_BENCH_CMDS
                 "COMMAND;$<TARGET_FILE:${B_NAME}>;${B_ARGS}")
endfunction()
