/* SPDX-License-Identifier: MIT */
/*
 * Page-fault classification: every kind of bad access gets its reason, guard regions
 * are recognised, nothing is ever "resolved" without demand paging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <kernel/heap.h>
#include <kernel/vm_fault.h>
#include <kernel/vmm.h>

#include "mm_test.h"

#define KVA 0xffffffff90000000ULL
#define UVA 0x400000ULL

static void test_reasons(void **state) {
    (void)state;
    struct vm_space *ks;
    struct vm_space *us;
    const char *why = NULL;
    mmt_backed_init(0x40000000, 32ULL << 20);
    assert_int_equal(heap_init(), KEEL_OK);
    assert_int_equal(vm_space_create(&pt_format_x86_64, NULL, true, NULL, &ks), KEEL_OK);
    assert_int_equal(vm_space_create(&pt_format_x86_64, NULL, false, ks, &us), KEEL_OK);
    assert_int_equal(vmm_map(ks, VADDR(KVA), PADDR(0x40100000), 4096, VM_READ), KEEL_OK);
    assert_int_equal(vmm_map(ks, VADDR(KVA + 4096), PADDR(0x40101000), 4096, VM_READ | VM_EXEC),
                     KEEL_OK);
    assert_int_equal(vmm_map(us, VADDR(UVA), PADDR(0x40102000), 4096, VM_READ | VM_WRITE | VM_USER),
                     KEEL_OK);

    assert_int_equal(vm_fault(ks, VADDR(KVA + 8192), VM_FAULT_READ, &why), KEEL_EFAULT);
    assert_string_equal(why, "not mapped");
    assert_int_equal(vm_fault(ks, VADDR(KVA), VM_FAULT_WRITE, &why), KEEL_EFAULT);
    assert_string_equal(why, "write to a read-only page");
    assert_int_equal(vm_fault(ks, VADDR(KVA), VM_FAULT_EXEC, &why), KEEL_EFAULT);
    assert_string_equal(why, "execute of a non-executable page");
    assert_int_equal(vm_fault(ks, VADDR(KVA + 4096), VM_FAULT_READ | VM_FAULT_USER, &why),
                     KEEL_EFAULT);
    assert_string_equal(why, "user access to a kernel page");
    assert_int_equal(vm_fault(us, VADDR(UVA), VM_FAULT_READ, &why), KEEL_EFAULT);
    assert_string_equal(why, "kernel access to a user page");
    assert_int_equal(vm_fault(us, VADDR(UVA), VM_FAULT_WRITE | VM_FAULT_USER, &why), KEEL_EFAULT);
    assert_string_equal(why, "mapped and permitted (stale TLB entry?)");
    assert_int_equal(vm_fault(NULL, VADDR(KVA), VM_FAULT_READ, &why), KEEL_EFAULT);
    assert_string_equal(why, "before the VM layer is up");

    spin_lock(&ks->lock); /* a fault inside the VM layer must not deadlock */
    assert_int_equal(vm_fault(ks, VADDR(KVA), VM_FAULT_WRITE, &why), KEEL_EFAULT);
    assert_string_equal(why, "fault while the address space was locked (inside the VM layer?)");
    spin_unlock(&ks->lock);

    assert_int_equal(vm_fault_add_guard(VADDR(KVA + 8192), 4096), KEEL_OK);
    assert_int_equal(vm_fault(ks, VADDR(KVA + 8192 + 100), VM_FAULT_WRITE, &why), KEEL_EFAULT);
    assert_string_equal(why, "in a guard page (kernel stack overflow?)");
    vm_fault_remove_guard(VADDR(KVA + 8192));
    assert_int_equal(vm_fault(ks, VADDR(KVA + 8192 + 100), VM_FAULT_WRITE, &why), KEEL_EFAULT);
    assert_string_equal(why, "not mapped");
    assert_int_equal(vm_fault_add_guard(VADDR(KVA), 0), KEEL_EINVAL);

    vm_space_destroy(us);
    vm_space_destroy(ks);
}

static void test_guard_table_full(void **state) {
    (void)state;
    for (unsigned i = 0; i < VM_FAULT_MAX_GUARDS; i++) {
        assert_int_equal(vm_fault_add_guard(VADDR(0x1000ULL * (i + 1)), 4096), KEEL_OK);
    }
    assert_int_equal(vm_fault_add_guard(VADDR(0x900000), 4096), KEEL_EEXHAUSTED);
    vm_fault_remove_guard(VADDR(0x1000));
    assert_int_equal(vm_fault_add_guard(VADDR(0x900000), 4096), KEEL_OK);
}

static void test_access_names(void **state) {
    (void)state;
    assert_string_equal(vm_fault_access_name(VM_FAULT_READ), "read");
    assert_string_equal(vm_fault_access_name(VM_FAULT_WRITE), "write");
    assert_string_equal(vm_fault_access_name(VM_FAULT_EXEC | VM_FAULT_USER),
                        "execute from user mode");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_guard_table_full),
        cmocka_unit_test(test_access_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
