# SPDX-License-Identifier: MIT
# Force OpenSBI 1.1's HSM hart_start race on riscv64 (docs/boot-riscv64.md, "A hart at
# _start after the boot hart"): only hart 0 runs until it is inside hart_start, right after
# the target's state became START_PENDING and before the start address is stored; then
# only hart 1 runs, from reset, and leaves the firmware at fw_jump's default address.
# The addresses are those of Debian 12's opensbi 1.1-2 generic/fw_jump.bin.
#
#   tools/qemu-run --arch riscv64 --build-dir build/riscv64 --smp 2 --cmdline poweroff --gdb
#   gdb-multiarch -batch -x tools/riscv64-hsm-race.gdb        (in another terminal)
set pagination off
set confirm off
set architecture riscv:rv64
target remote :1234
set scheduler-locking on
thread 1
# sbi_hsm_hart_start: the instruction after the STOPPED -> START_PENDING cmpxchg.
break *0x80009b42
continue
printf "hart 0 in hart_start after the state change; hart 1's next_arg1, next_addr, mode:\n"
x/3gx $s2+16
printf "what hart 0 is about to store there: priv %#lx saddr %#lx mode %#lx\n", $s5, $s4, $s3
delete
thread 2
break *0x80200000
continue
printf "hart 1 left the firmware at %#lx with a0 %#lx a1 %#lx\n", $pc, $a0, $a1
delete
set scheduler-locking off
continue
