# SPDX-License-Identifier: MIT
# QEMU tier: boot tests, in-kernel KTEST runs and the deliberate-fault test for ${ARCH}.
# Each boots the real firmware path through tools/qemu-test.
set(KEEL_QEMU_TIMEOUT 360 CACHE STRING "Seconds before a QEMU test counts as hung")
set(_logdir ${CMAKE_BINARY_DIR}/test-logs)
file(MAKE_DIRECTORY ${_logdir})

# keel_qemu_test(NAME <n> [STATUS <s>] [ALLOW_FAULT] [TIMEOUT <s>] EXPECT <re>...
#                [FORBID <re>...] RUN <qemu-run args...>)
# TIMEOUT: seconds before the run counts as hung (default KEEL_QEMU_TIMEOUT).
function(keel_qemu_test)
    cmake_parse_arguments(Q "ALLOW_FAULT" "NAME;STATUS;TIMEOUT" "EXPECT;FORBID;RUN" ${ARGN})
    if(NOT DEFINED Q_TIMEOUT)
        set(Q_TIMEOUT ${KEEL_QEMU_TIMEOUT})
    endif()
    set(args --name ${Q_NAME} --timeout ${Q_TIMEOUT})
    if(Q_ALLOW_FAULT)
        list(APPEND args --allow-fault)
    endif()
    if(DEFINED Q_STATUS)
        list(APPEND args --status ${Q_STATUS})
    endif()
    foreach(re ${Q_EXPECT})
        list(APPEND args --expect ${re})
    endforeach()
    foreach(re ${Q_FORBID})
        list(APPEND args --forbid ${re})
    endforeach()
    add_test(NAME ${Q_NAME}
             COMMAND ${KEEL_ROOT}/tools/qemu-test ${args} --
                     --arch ${ARCH} --build-dir ${CMAKE_BINARY_DIR} ${Q_RUN})
    set_tests_properties(${Q_NAME} PROPERTIES
        LABELS "qemu;${ARCH}"
        ENVIRONMENT QEMU_TEST_LOG_DIR=${_logdir}
        TIMEOUT 480)
    # Several CPUs' worth of lock hand-offs is slow under TCG when the host has fewer
    # cores than the guest has CPUs: never run two of those guests at once.
    if(Q_NAME MATCHES "^ktest\\..*\\.smp[2-9]$")
        set_tests_properties(${Q_NAME} PROPERTIES RUN_SERIAL TRUE)
    endif()
endfunction()

set(_banner "Keel [0-9]+\\.[0-9]+\\.[0-9]+ \\(${ARCH}\\) booted by")
set(_mem "Usable memory: [1-9][0-9]* MiB")

keel_qemu_test(NAME boot.${ARCH}.smp1
    EXPECT ${_banner} "CPUs: 1$" ${_mem} "Memory map \\([0-9]+ regions\\)" "CPUs online: 1$"
           "Boot complete"
    RUN --smp 1 --cmdline poweroff)
keel_qemu_test(NAME boot.${ARCH}.smp2
    EXPECT ${_banner} "CPUs: 2$" "CPUs online: 2$" "Boot complete"
    RUN --smp 2 --cmdline poweroff)
keel_qemu_test(NAME boot.${ARCH}.smp4
    EXPECT ${_banner} "CPUs: 4$" ${_mem} "CPUs online: 4$" "Boot complete"
    RUN --smp 4 --cmdline poweroff)
keel_qemu_test(NAME boot.${ARCH}.mem128m
    EXPECT ${_banner} "Usable memory: (9[0-9]|1[0-2][0-9]) MiB" "Boot complete"
    RUN --mem 128M --cmdline poweroff)
keel_qemu_test(NAME boot.${ARCH}.mem4g
    EXPECT ${_banner} "Usable memory: (3[5-9][0-9][0-9]|40[0-9][0-9]) MiB" "Boot complete"
    RUN --mem 4G --cmdline poweroff)
keel_qemu_test(NAME boot.${ARCH}.numa2
    EXPECT ${_banner} "CPUs: 2$" "usable +node 1" "CPUs online: 2$" "Boot complete"
    RUN --smp 2 --mem 1G --numa 2 --cmdline poweroff)
keel_qemu_test(NAME ktest.${ARCH}.smp1
    EXPECT "[1-9][0-9]* passed, 0 failed"
    RUN --smp 1 --cmdline ktest)
keel_qemu_test(NAME ktest.${ARCH}.smp4
    EXPECT "[1-9][0-9]* passed, 0 failed"
    RUN --smp 4 --cmdline ktest)
# Kernel-space changes from several CPUs at once (TLB shootdown under the space lock):
# two CPUs, where a deadlock stops the whole machine and only the timeout can see it.
keel_qemu_test(NAME ktest.${ARCH}.vm_smp.smp2 TIMEOUT 240
    EXPECT "[1-9][0-9]* passed, 0 failed"
    RUN --smp 2 --cmdline ktest=vm_smp)
# The memory KTESTs on small, large and two-node machines.
keel_qemu_test(NAME ktest.${ARCH}.mem128m
    EXPECT "[1-9][0-9]* passed, 0 failed"
    RUN --mem 128M --cmdline ktest)
keel_qemu_test(NAME ktest.${ARCH}.mem4g
    EXPECT "[1-9][0-9]* passed, 0 failed"
    RUN --mem 4G --cmdline ktest)
keel_qemu_test(NAME ktest.${ARCH}.numa2
    EXPECT "[1-9][0-9]* passed, 0 failed" "usable +node 1"
    RUN --smp 2 --mem 1G --numa 2 --cmdline ktest)
# A command line naming no test must fail, not pass vacuously.
keel_qemu_test(NAME ktest.${ARCH}.nomatch STATUS 1
    EXPECT "no test matched 'no_such_test'" "0 passed, 1 failed"
    RUN --cmdline ktest=no_such_test)
# The trap path: a read of an unmapped address must end in a full fault report.
keel_qemu_test(NAME fault.${ARCH} STATUS 1 ALLOW_FAULT
    EXPECT "KERNEL FAULT: .*page fault \\(read\\): not mapped" "  addr 0x" "Registers:" "Backtrace:"
           "deliberate_fault\\+0x"
    FORBID "KERNEL PANIC"
    RUN --cmdline selftest=fault)
# A kernel thread's stack overflow hits the guard page vmalloc_stack() keeps below every
# thread stack and is reported as a guard-page hit (x86_64 through #DF, AArch64 and
# RISC-V through their overflow stacks), on the boot CPU and on a secondary one.
foreach(_smp 1 2)
    math(EXPR _cpu "${_smp} - 1")
    keel_qemu_test(NAME fault.${ARCH}.thread_stack_overflow.smp${_smp} STATUS 1 ALLOW_FAULT
        EXPECT "selftest: overflowing the stack of thread 'overflow' on CPU ${_cpu}"
               "KERNEL FAULT: .*page fault \\(write\\): in a guard page" "  addr 0x"
               "Backtrace:" "thread_overflow_recurse[.a-z0-9]*\\+0x"
        FORBID "KERNEL PANIC" "survived depth"
        RUN --smp ${_smp} --cmdline selftest=thread_stack_overflow)
endforeach()
if(ARCH STREQUAL "aarch64")
    keel_qemu_test(NAME boot.aarch64.gicv2
        EXPECT ${_banner} "Boot complete"
        RUN --gic 2 --cmdline poweroff)
endif()
