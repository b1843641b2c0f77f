# SPDX-License-Identifier: MIT
# riscv64 HAL for cmake/KeelKernel.cmake: sources, linker script, compile options and
# the boot artifacts. OpenSBI fw_jump + QEMU -kernel boot keel.elf directly (QEMU loads
# it by its physical load addresses); keel.bin is the same image as a flat binary for
# loaders that want one (U-Boot, fw_payload).
set(_rv ${KEEL_ROOT}/arch/riscv64)
set(KEEL_ARCH_SOURCES
    ${_rv}/entry.S ${_rv}/trap_entry.S ${_rv}/boot.c ${_rv}/cpu.c ${_rv}/mmu.c ${_rv}/sbi.c
    ${_rv}/trap.c ${_rv}/kernel_space.c ${_rv}/tlb.c ${_rv}/context.S
    ${_rv}/thread.c ${_rv}/irq.c ${_rv}/plic.c ${_rv}/smp.c ${_rv}/timer.c ${_rv}/fpu.c
    ${_rv}/fpu.S)
if(KEEL_KTEST)
    list(APPEND KEEL_ARCH_SOURCES ${_rv}/ktest_riscv64.c ${_rv}/ktest_vm.c ${_rv}/ktest_smp.c
        ${_rv}/ktest_fpu.c)
endif()
set(KEEL_ARCH_LINKER_SCRIPT ${_rv}/linker.ld)

# gcc 12 / binutils 2.40 need Zicsr and Zifencei spelled out; clang 14 rejects those
# names and implies them. lld 14 cannot relax, so clang objects must not ask for it.
if(KEEL_COMPILER STREQUAL "gcc")
    set(_rv_march -march=rv64imac_zicsr_zifencei)
else()
    set(_rv_march -march=rv64imac -mno-relax)
endif()
# fpu.S holds the kernel's only F/D instructions. binutils enables D inside it with
# ".option arch, +d"; clang 14's assembler lacks that directive, so it gets an -march with
# F and D for this file alone (a later -march wins; its .o carries no ISA attribute, and
# lld 14 keeps the first object's, rv64imac).
if(NOT KEEL_COMPILER STREQUAL "gcc")
    set_source_files_properties(${_rv}/fpu.S PROPERTIES COMPILE_OPTIONS "-march=rv64imafdc")
endif()
add_library(keel_arch_flags INTERFACE)
target_compile_options(keel_arch_flags INTERFACE
    ${_rv_march} -mabi=lp64 -mcmodel=medany -fno-asynchronous-unwind-tables
    -fno-unwind-tables)
target_link_options(keel_arch_flags INTERFACE ${_rv_march} -mabi=lp64)

function(keel_arch_artifacts elf)
    add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/keel.bin
        COMMAND ${CMAKE_OBJCOPY} -O binary $<TARGET_FILE:${elf}> ${CMAKE_BINARY_DIR}/keel.bin
        DEPENDS ${elf}
        COMMENT "Flat riscv64 image keel.bin (load at 0x80200000)")
    add_custom_target(keel_image ALL DEPENDS ${elf} ${CMAKE_BINARY_DIR}/keel.bin)
endfunction()

# riscv64-only QEMU tests, added once cmake/KeelBootTests.cmake has defined
# keel_qemu_test (it is included after this file): the VM layer on Sv39 (forced with
# "mmu=sv39" on a hart that has Sv48), with Svpbmt, and a real boot-stack overflow.
function(keel_riscv64_tests)
    keel_qemu_test(NAME ktest.riscv64.sv39
        EXPECT "Paging: sv39 " "[1-9][0-9]* passed, 0 failed"
        RUN --cmdline "ktest mmu=sv39")
    keel_qemu_test(NAME ktest.riscv64.svpbmt
        EXPECT "Paging: sv48\\+svpbmt \\(Svpbmt in the device tree: yes, working: yes\\)"
               "[1-9][0-9]* passed, 0 failed"
        RUN --cmdline ktest -- -cpu rv64,svpbmt=on)
    # The timer both ways: stimecmp (Sstc, QEMU 7.2's default hart) and SBI set_timer.
    keel_qemu_test(NAME ktest.riscv64.sstc_timer
        EXPECT "Timer: stimecmp \\(Sstc\\)" "[1-9][0-9]* passed, 0 failed"
        RUN --smp 2 --cmdline ktest=riscv64)
    keel_qemu_test(NAME ktest.riscv64.sbi_timer
        EXPECT "Timer: SBI TIME set_timer" "[1-9][0-9]* passed, 0 failed"
        RUN --smp 4 --cmdline "ktest timer=sbi")
    # A hart without F and D: no FP unit in use, FP instructions stay illegal instructions.
    keel_qemu_test(NAME ktest.riscv64.no_fpu
        EXPECT "FP: none \\(F and D in the device tree: no\\)"
               "riscv64_fpu_preempted_keeps_registers: no F and D" "[1-9][0-9]* passed, 0 failed"
        RUN --smp 2 --cmdline ktest=riscv64 -- -cpu rv64,f=false,d=false)
    # Several harts under -icount (one count per instruction, how benchmarks run): QEMU 7.2
    # starves a hart that another one waits for unless the kernel's "icount" mode, which
    # tools/qemu-run --icount turns on, yields in spin-waits and avoids SBI RFENCE. Both
    # hung before (docs/boot-riscv64.md); each takes seconds, so a hang shows in 120 s.
    set(_kb "\"bench\":\"")
    set(_ki "\",\"arch\":\"riscv64\",\"unit\":\"instructions\",\"median\":[1-9]")
    keel_qemu_test(NAME bench.riscv64.icount_smp2 TIMEOUT 120
        EXPECT "CPUs online: 2$" "Command line: \"bench poweroff icount\""
               "${_kb}ipi_round_trip${_ki}" "${_kb}wakeup_cross_cpu${_ki}"
               "${_kb}context_switch${_ki}" "Boot complete"
        FORBID "kbench: "
        RUN --smp 2 --icount --cmdline "bench poweroff")
    keel_qemu_test(NAME ktest.riscv64.icount_smp4 TIMEOUT 120
        EXPECT "CPUs online: 4$" "[1-9][0-9]* passed, 0 failed"
        RUN --smp 4 --icount --cmdline ktest)
    # A hart that enters the kernel at _start after the boot hart (OpenSBI 1.1 lets one in
    # there when it looks at its HSM state between hart_start's state change and the
    # address stores; docs/boot-riscv64.md). The selftest starts harts at _start with the
    # DTB, as that race does: with a start request they go on as secondaries, without one
    # the hart parks itself with HSM hart_stop and the boot goes on without it.
    set(_late "entered the kernel at _start, not at its start address")
    keel_qemu_test(NAME ktest.riscv64.hart_at_start
        EXPECT "smp: hart [0-9]+ ${_late}" "CPUs online: 4$" "[1-9][0-9]* passed, 0 failed"
        RUN --smp 4 --cmdline "ktest selftest=hart_at_start")
    keel_qemu_test(NAME ktest.riscv64.hart_at_start_parked
        EXPECT "Keel: hart 0x[0-9a-f]+ entered the kernel at _start after hart 0x[0-9a-f]+ "
               "booted it, with no start request for it: parked \\(SBI HSM hart_stop\\)"
               "smp: CPU [0-9]+ \\(hwid 0x[0-9a-f]+\\) did not come online; left out"
               "CPUs online: 3$" "riscv64_late_hart_start_requests" "1 passed, 0 failed"
        RUN --smp 4 --cmdline "ktest=riscv64_late_hart selftest=hart_at_start_parked")
    keel_qemu_test(NAME fault.riscv64.stack_overflow STATUS 1 ALLOW_FAULT
        EXPECT "KERNEL FAULT: page fault \\(write\\): in a guard page" "  addr 0x"
               "Backtrace:" "overflow_stack[.a-z0-9]*\\+0x"
        FORBID "KERNEL PANIC"
        RUN --cmdline selftest=stack_overflow)
endfunction()
cmake_language(DEFER CALL keel_riscv64_tests)
