# SPDX-License-Identifier: MIT
# x86_64 port: the HAL sources, the kernel linker script and compile flags, and the boot
# artifact keel-x86_64.img (a FAT disk holding our GNU-EFI loader and the kernel).
# The loader is a PE/COFF UEFI application: compiled with its own flags (never the
# kernel's), linked with GNU ld against gnu-efi and converted with GNU objcopy.
set(_x86 ${KEEL_ROOT}/arch/x86_64)

set(KEEL_ARCH_SOURCES
    ${_x86}/entry.S
    ${_x86}/trap_entry.S
    ${_x86}/boot.c
    ${_x86}/cpu.c
    ${_x86}/mmu.c
    ${_x86}/kspace.c
    ${_x86}/tlb.c
    ${_x86}/trap.c
    ${_x86}/context.S
    ${_x86}/thread.c
    ${_x86}/fpu.S
    ${_x86}/fpu.c
    ${_x86}/smp.c
    ${_x86}/ap_trampoline.S
    ${_x86}/apic.c
    ${_x86}/timer.c)
if(KEEL_KTEST)
    list(APPEND KEEL_ARCH_SOURCES ${_x86}/ktest_x86_64.c ${_x86}/ktest_vm_x86_64.c
         ${_x86}/ktest_smp_x86_64.c ${_x86}/ktest_fpu_x86_64.c
         ${_x86}/kbench_x86_64.c ${_x86}/kbench_fpu_x86_64.c)
endif()
set(KEEL_ARCH_LINKER_SCRIPT ${_x86}/kernel.ld)

# No SSE/x87 state in the kernel, no red zone (interrupts use the kernel stack), and the
# kernel code model for the top 2 GiB.
add_library(keel_arch_flags INTERFACE)
target_compile_options(keel_arch_flags INTERFACE
    -mcmodel=kernel -mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mno-avx -mno-80387)
target_link_options(keel_arch_flags INTERFACE -mcmodel=kernel)

# ---- the GNU-EFI loader ---------------------------------------------------------------
set(KEEL_GNUEFI_LIBDIR "/usr/lib" CACHE PATH "Where gnu-efi's crt0, linker script and libs are")
set(KEEL_GNUEFI_INCDIR "/usr/include/efi" CACHE PATH "gnu-efi headers")
find_file(KEEL_GNUEFI_CRT0 crt0-efi-x86_64.o PATHS ${KEEL_GNUEFI_LIBDIR} /usr/lib64
          NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
find_file(KEEL_GNUEFI_LDS elf_x86_64_efi.lds PATHS ${KEEL_GNUEFI_LIBDIR} /usr/lib64
          NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
if(NOT KEEL_GNUEFI_CRT0 OR NOT KEEL_GNUEFI_LDS OR NOT EXISTS ${KEEL_GNUEFI_INCDIR}/efi.h)
    message(FATAL_ERROR "x86_64 needs gnu-efi (apt-get install gnu-efi): crt0-efi-x86_64.o, "
                        "elf_x86_64_efi.lds and ${KEEL_GNUEFI_INCDIR}/efi.h")
endif()
get_filename_component(_gnuefi_libdir ${KEEL_GNUEFI_CRT0} DIRECTORY)
# gnu-efi's linker script and PE conversion need GNU binutils, also in the clang build.
find_program(KEEL_GNU_LD NAMES ld.bfd x86_64-linux-gnu-ld.bfd REQUIRED)
find_program(KEEL_GNU_OBJCOPY NAMES x86_64-linux-gnu-objcopy objcopy REQUIRED)
find_program(KEEL_MFORMAT mformat REQUIRED)
find_program(KEEL_MMD mmd REQUIRED)
find_program(KEEL_MCOPY mcopy REQUIRED)

add_library(keel_efi_objs OBJECT
    ${_x86}/efi/loader.c
    ${_x86}/efi/elf_check.c
    ${_x86}/efi/paging.c
    ${_x86}/efi/trampoline.S)
target_include_directories(keel_efi_objs PRIVATE
    ${KEEL_GNUEFI_INCDIR} ${KEEL_GNUEFI_INCDIR}/x86_64
    ${KEEL_ROOT}/include ${_x86}/include)
# The UEFI ABI (ms_abi calls, no red zone, position independent, 16-bit wchar_t). gcc
# also wants -maccumulate-outgoing-args for ms_abi calls; clang has no such option.
target_compile_definitions(keel_efi_objs PRIVATE GNU_EFI_USE_MS_ABI KEEL_EFI_LOADER=1)
target_compile_options(keel_efi_objs PRIVATE
    -ffreestanding -fpic -fshort-wchar -mno-red-zone -fno-stack-protector
    -fno-strict-aliasing -fno-builtin -mno-mmx -mno-sse -Wall -Wextra -Werror -O2 -g
    $<$<STREQUAL:${KEEL_COMPILER},gcc>:-maccumulate-outgoing-args>)

set(_efi_so ${CMAKE_BINARY_DIR}/BOOTX64.so)
set(_efi ${CMAKE_BINARY_DIR}/BOOTX64.EFI)
add_custom_command(OUTPUT ${_efi}
    COMMAND ${KEEL_GNU_LD} -nostdlib -znocombreloc -shared -Bsymbolic -T ${KEEL_GNUEFI_LDS}
            ${KEEL_GNUEFI_CRT0} $<TARGET_OBJECTS:keel_efi_objs>
            -L${_gnuefi_libdir} -lgnuefi -lefi -o ${_efi_so}
    COMMAND ${KEEL_GNU_OBJCOPY} -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel
            -j .rela -j .rel.* -j .rela.* -j .reloc --target efi-app-x86_64 --subsystem=10
            ${_efi_so} ${_efi}
    DEPENDS keel_efi_objs $<TARGET_OBJECTS:keel_efi_objs>
    COMMAND_EXPAND_LISTS
    COMMENT "Linking the EFI loader BOOTX64.EFI")

function(keel_arch_artifacts elf)
    set(_kernel ${CMAKE_BINARY_DIR}/keel-x86_64.kernel.elf)
    set(_img ${CMAKE_BINARY_DIR}/keel-x86_64.img)
    set(_cmdline ${CMAKE_BINARY_DIR}/generated/x86_64-cmdline)
    file(WRITE ${_cmdline} "")
    add_custom_command(OUTPUT ${_kernel}
        COMMAND ${CMAKE_OBJCOPY} --strip-all $<TARGET_FILE:${elf}> ${_kernel}
        DEPENDS ${elf}
        COMMENT "Stripping the kernel for the boot disk")
    add_custom_command(OUTPUT ${_img}
        COMMAND ${CMAKE_COMMAND} -DIMAGE=${_img} -DEFI=${_efi} -DKERNEL=${_kernel}
                -DCMDLINE=${_cmdline} -DINITRD=${CMAKE_BINARY_DIR}/initrd -DSIZE_MIB=32
                -DMFORMAT=${KEEL_MFORMAT} -DMMD=${KEEL_MMD} -DMCOPY=${KEEL_MCOPY}
                -P ${_x86}/mkimage.cmake
        DEPENDS ${_efi} ${_kernel} ${_x86}/mkimage.cmake
        COMMENT "Building the FAT boot disk keel-x86_64.img")
    add_custom_target(keel_image ALL DEPENDS ${_img})
endfunction()

# The loader's own QEMU tests: bad boot input must end in a clear message and a failing
# power-off (status 4), not a hang. Deferred until KeelBootTests has defined keel_qemu_test.
function(_keel_x86_loader_tests)
    set(_bad ${CMAKE_BINARY_DIR}/x86-bad-elf)
    file(MAKE_DIRECTORY ${_bad})
    add_custom_command(OUTPUT ${_bad}/keel-x86_64.img
        COMMAND ${CMAKE_COMMAND} -DIMAGE=${_bad}/keel-x86_64.img -DEFI=${_efi}
                -DKERNEL=${CMAKE_BINARY_DIR}/keel-x86_64.kernel.elf
                -DCMDLINE=${CMAKE_BINARY_DIR}/generated/x86_64-cmdline -DSIZE_MIB=32
                -DTRUNCATE_KERNEL=4000 -DMFORMAT=${KEEL_MFORMAT} -DMMD=${KEEL_MMD}
                -DMCOPY=${KEEL_MCOPY} -P ${_x86}/mkimage.cmake
        DEPENDS ${_efi} ${CMAKE_BINARY_DIR}/keel-x86_64.kernel.elf ${_x86}/mkimage.cmake
        COMMENT "Building a boot disk with a truncated kernel (loader test)")
    add_custom_target(keel_x86_test_images ALL DEPENDS ${_bad}/keel-x86_64.img)

    keel_qemu_test(NAME loader.x86_64.truncated_elf STATUS 4
        EXPECT "keel-efi: error: keel/kernel.elf rejected: ELF segment data lies outside the file"
        FORBID "Keel [0-9]"
        RUN --build-dir ${_bad} --cmdline poweroff) # the last --build-dir wins

    string(REPEAT "x" 1100 _long)
    keel_qemu_test(NAME loader.x86_64.long_cmdline STATUS 4
        EXPECT "keel-efi: error: keel/cmdline is too long"
        FORBID "Keel [0-9]"
        RUN --cmdline ${_long})
endfunction()
cmake_language(DEFER CALL _keel_x86_loader_tests)

# The VM layer's fault reports: a read of an unmapped address names the access and the
# reason, and a boot-stack overflow (a #PF that becomes #DF) is reported as a guard-page
# hit with a backtrace, not a triple fault.
function(_keel_x86_vm_tests)
    keel_qemu_test(NAME fault.x86_64.not_mapped STATUS 1 ALLOW_FAULT
        EXPECT "KERNEL FAULT: page fault \\(read\\): not mapped" "  addr 0xfffffe00deadbee8"
               "deliberate_fault\\+0x"
        FORBID "KERNEL PANIC"
        RUN --cmdline selftest=fault)
    keel_qemu_test(NAME fault.x86_64.stack_overflow STATUS 1 ALLOW_FAULT
        EXPECT "KERNEL FAULT: page fault \\(write\\): in a guard page" "  addr 0x"
               "vector 8 " "overflow_stack\\+0x"
        FORBID "KERNEL PANIC" "survived depth"
        RUN --cmdline selftest=stack_overflow)
endfunction()
cmake_language(DEFER CALL _keel_x86_vm_tests)
