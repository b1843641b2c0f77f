/* SPDX-License-Identifier: MIT */
/*
 * x86_64 in-kernel benchmark (KTEST builds, run by "bench"): what map_unmap_4k costs in
 * the live kernel space, where unmapping really executes INVLPG, with map and unmap
 * also reported on their own so a regression points at one half.
 */
#include <arch/cpu.h>
#include <arch/mmu.h>
#include <kernel/frame.h>
#include <kernel/kbench.h>
#include <kernel/kprintf.h>
#include <kernel/vmm.h>

/* tests/kernel/kbench_mm.c's map_unmap_4k uses a user space that is not in CR3, whose
 * unmap needs no INVLPG; this one maps at the kernel space's scratch address. */
#define KBENCH_ROUNDS 256

KBENCH(x86_map_unmap_4k_kernel) {
    static uint64_t both[KBENCH_ROUNDS], map[KBENCH_ROUNDS], unmap[KBENCH_ROUNDS];
    struct vm_space *ks = vmm_kernel_space;
    phys_frame_t f;
    if (allocate_frames(1, ZONE_NORMAL, &f) != KEEL_OK) {
        kprintf("kbench: x86_map_unmap_4k_kernel: no memory\n");
        return;
    }
    paddr_t a = frame_to_paddr(f);
    unsigned n = 0;
    for (unsigned i = 0; i < KBENCH_ROUNDS + 1; i++) {
        uint64_t t0 = arch_cycle_counter();
        kstatus_t st =
            vmm_map_page(ks, VADDR(X86_SCRATCH_BASE), a, PAGE_SIZE, VM_READ | VM_WRITE | VM_GLOBAL);
        uint64_t t1 = arch_cycle_counter();
        kstatus_t su = vmm_unmap_page(ks, VADDR(X86_SCRATCH_BASE), NULL);
        uint64_t t2 = arch_cycle_counter();
        if (st != KEEL_OK || su != KEEL_OK) {
            kprintf("kbench: x86_map_unmap_4k_kernel: map %d, unmap %d\n", st, su);
            break;
        }
        if (i > 0) { /* the first round may allocate tables */
            both[n] = t2 - t0;
            map[n] = t1 - t0;
            unmap[n] = t2 - t1;
            n++;
        }
    }
    kbench_report("x86_map_unmap_4k_kernel", both, n);
    kbench_report("x86_map_4k_kernel", map, n);
    kbench_report("x86_unmap_4k_kernel", unmap, n);
    if (free_frames(f, 1) != KEEL_OK) {
        kprintf("kbench: x86_map_unmap_4k_kernel: frame not returned\n");
    }
}
