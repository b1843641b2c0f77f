# SPDX-License-Identifier: MIT
# Build the x86_64 boot disk: a FAT file system on the whole disk ("superfloppy", which
# OVMF's default boot finds as a plain -drive) holding EFI/BOOT/BOOTX64.EFI, keel/kernel.elf,
# an empty keel/cmdline and, when the build has one, keel/initrd.
# cmake -DIMAGE=... -DEFI=... -DKERNEL=... -DCMDLINE=... [-DINITRD=...] -DSIZE_MIB=n
#       -DMFORMAT=... -DMMD=... -DMCOPY=... [-DTRUNCATE_KERNEL=bytes] -P mkimage.cmake
# TRUNCATE_KERNEL cuts the kernel file short: a broken disk for the loader's own tests.
foreach(v IMAGE EFI KERNEL CMDLINE SIZE_MIB MFORMAT MMD MCOPY)
    if(NOT DEFINED ${v})
        message(FATAL_ERROR "mkimage.cmake: ${v} not set")
    endif()
endforeach()

set(ENV{MTOOLS_SKIP_CHECK} 1)
set(tmp "${IMAGE}.tmp")
file(REMOVE "${tmp}")
math(EXPR sectors "${SIZE_MIB} * 2048")

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_QUIET)
    if(NOT rc EQUAL 0)
        file(REMOVE "${tmp}")
        message(FATAL_ERROR "mkimage.cmake: failed (${rc}): ${ARGN}")
    endif()
endfunction()

run(${MFORMAT} -C -i "${tmp}" -T ${sectors} -h 64 -s 32 -v KEEL ::)
run(${MMD} -i "${tmp}" ::/EFI ::/EFI/BOOT ::/keel)
run(${MCOPY} -i "${tmp}" "${EFI}" ::/EFI/BOOT/BOOTX64.EFI)
if(DEFINED TRUNCATE_KERNEL)
    set(cut "${IMAGE}.kernel")
    execute_process(COMMAND head -c ${TRUNCATE_KERNEL} "${KERNEL}" OUTPUT_FILE "${cut}"
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "mkimage.cmake: cannot cut the kernel")
    endif()
    set(KERNEL "${cut}")
endif()
run(${MCOPY} -i "${tmp}" "${KERNEL}" ::/keel/kernel.elf)
run(${MCOPY} -i "${tmp}" "${CMDLINE}" ::/keel/cmdline)
if(DEFINED INITRD AND EXISTS "${INITRD}")
    run(${MCOPY} -i "${tmp}" "${INITRD}" ::/keel/initrd)
endif()
file(RENAME "${tmp}" "${IMAGE}")
