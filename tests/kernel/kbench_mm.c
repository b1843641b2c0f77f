/* SPDX-License-Identifier: MIT */
/*
 * Memory benchmarks on the target (issue: map a page against seL4's figure): map then
 * unmap one 4 KiB page, and one 2 MiB page, in a fresh user address space built with
 * the arch's own page-table format, as seL4 measures mapping a frame into a VSpace. And
 * what a thread's stack costs thread_create: vmalloc_stack + vfree (with its registered
 * guard page) next to vmalloc_aligned + vfree of the same size (without).
 */
#include <arch/cpu.h>
#include <arch/thread.h>
#include <kernel/frame.h>
#include <kernel/kbench.h>
#include <kernel/kprintf.h>
#include <kernel/thread.h>
#include <kernel/vmm.h>

#define BENCH_VA   0x40000000ULL /* 1 GiB: in the user half of every format */
#define ITERATIONS 256

static void bench_map_unmap(const char *name, uint64_t page_size) {
    static uint64_t samples[ITERATIONS];
    struct vm_space *us;
    phys_frame_t f;

    if (vmm_kernel_space == NULL) {
        kprintf("kbench: %s: no kernel address space (arch_mm_init did not build one)\n", name);
        return;
    }
    if (vm_space_create(vmm_kernel_space->fmt, vmm_kernel_space->tlb, false, vmm_kernel_space,
                        &us) != KEEL_OK) {
        kprintf("kbench: %s: cannot create an address space\n", name);
        return;
    }
    size_t frames = page_size / PAGE_SIZE;
    if (allocate_frames_aligned(frames, frames, ZONE_NORMAL, FRAME_NODE_DEFAULT, 0, &f) !=
        KEEL_OK) {
        kprintf("kbench: %s: no memory\n", name);
        vm_space_destroy(us);
        return;
    }
    unsigned n = 0;
    for (unsigned i = 0; i < ITERATIONS + 1; i++) {
        uint64_t t0 = arch_cycle_counter();
        kstatus_t a = vmm_map_page(us, VADDR(BENCH_VA), frame_to_paddr(f), page_size,
                                   VM_READ | VM_WRITE | VM_USER);
        kstatus_t b = vmm_unmap_page(us, VADDR(BENCH_VA), NULL);
        uint64_t t1 = arch_cycle_counter();
        if (a != KEEL_OK || b != KEEL_OK) {
            kprintf("kbench: %s: map %d, unmap %d\n", name, a, b);
            break;
        }
        if (i > 0) { /* the first pass allocates the intermediate tables */
            samples[n++] = t1 - t0;
        }
    }
    kbench_report(name, samples, n);
    if (free_frames(f, frames) != KEEL_OK) {
        kprintf("kbench: %s: frames not returned\n", name);
    }
    vm_space_destroy(us);
}

KBENCH(map_unmap_4k) {
    bench_map_unmap("map_unmap_4k", PAGE_SIZE);
}

KBENCH(map_unmap_2m) {
    bench_map_unmap("map_unmap_2m", 2ULL << 20);
}

static void bench_stack(const char *name, bool guarded) {
    static uint64_t samples[ITERATIONS];
    unsigned n = 0;
    for (unsigned i = 0; i < ITERATIONS; i++) {
        uint64_t t0 = arch_cycle_counter();
        void *s = guarded ? vmalloc_stack(THREAD_STACK_SIZE, ARCH_THREAD_STACK_ALIGN)
                          : vmalloc_aligned(THREAD_STACK_SIZE, ARCH_THREAD_STACK_ALIGN);
        vfree(s);
        uint64_t t1 = arch_cycle_counter();
        if (s == NULL) {
            kprintf("kbench: %s: no memory\n", name);
            return;
        }
        samples[n++] = t1 - t0;
    }
    kbench_report(name, samples, n);
}

KBENCH(thread_stack_alloc_free) {
    bench_stack("thread_stack_alloc_free", true);
}

KBENCH(vmalloc_16k_alloc_free) {
    bench_stack("vmalloc_16k_alloc_free", false);
}
