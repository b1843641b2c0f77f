/* SPDX-License-Identifier: MIT */
/*
 * Page-fault classification: every kind of bad access gets its reason, guard regions
 * are recognised (the fixed pool and caller-kept records, which never fill up however
 * many come and go), nothing is ever "resolved" without demand paging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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
    for (unsigned i = 1; i < VM_FAULT_MAX_GUARDS; i++) {
        vm_fault_remove_guard(VADDR(0x1000ULL * (i + 1)));
    }
    vm_fault_remove_guard(VADDR(0x900000));
}

static bool is_guard(uint64_t va) {
    const char *why = NULL;
    assert_int_equal(vm_fault(NULL, VADDR(va), VM_FAULT_WRITE, &why), KEEL_EFAULT);
    return strcmp(why, "in a guard page (kernel stack overflow?)") == 0;
}

/* Caller-kept guards: bad input refused, exact bounds, removal from any list position. */
static void test_guard_records(void **state) {
    (void)state;
    struct vm_guard a = {0}, b = {0}, c = {0};
    assert_int_equal(vm_fault_guard_insert(NULL, VADDR(0x10000), 4096), KEEL_EINVAL);
    assert_int_equal(vm_fault_guard_insert(&a, VADDR(0x10000), 0), KEEL_EINVAL);
    assert_int_equal(vm_fault_guard_insert(&a, VADDR(0xfffffffffffff000ULL), 0x2000), KEEL_EINVAL);
    assert_int_equal(a.size, 0);
    vm_fault_guard_remove(&a); /* never inserted: ignored */
    vm_fault_guard_remove(NULL);

    assert_int_equal(vm_fault_guard_insert(&a, VADDR(0x10000), 4096), KEEL_OK);
    assert_int_equal(vm_fault_guard_insert(&b, VADDR(0x20000), 8192), KEEL_OK);
    assert_int_equal(vm_fault_guard_insert(&c, VADDR(0x30000), 4096), KEEL_OK);
    assert_int_equal(vm_fault_guard_insert(&c, VADDR(0x60000), 4096), KEEL_EEXIST);
    assert_false(is_guard(0x60000));
    assert_int_equal(vm_fault_add_guard(VADDR(0x40000), 4096), KEEL_OK); /* the fixed pool too */
    assert_false(is_guard(0xffff));
    assert_true(is_guard(0x10000));
    assert_true(is_guard(0x10fff));
    assert_false(is_guard(0x11000));
    assert_true(is_guard(0x21fff));
    assert_false(is_guard(0x22000));
    assert_true(is_guard(0x40800));

    vm_fault_guard_remove(&b); /* the middle of the list */
    assert_false(is_guard(0x20000));
    assert_true(is_guard(0x10000) && is_guard(0x30000) && is_guard(0x40000));
    vm_fault_guard_remove(&b); /* twice: ignored */
    vm_fault_guard_remove(&c); /* the head */
    assert_false(is_guard(0x30000));
    assert_true(is_guard(0x10000));
    vm_fault_remove_guard(VADDR(0x40000));
    assert_false(is_guard(0x40000));
    vm_fault_guard_remove(&a); /* the last one */
    assert_false(is_guard(0x10000));
    /* Re-inserting a removed record works. */
    assert_int_equal(vm_fault_guard_insert(&b, VADDR(0x50000), 4096), KEEL_OK);
    assert_true(is_guard(0x50000));
    vm_fault_guard_remove(&b);
    assert_false(is_guard(0x50000));
}

/*
 * Far more live guards than the fixed pool holds, and a million insert/remove steps in
 * random order against a model: nothing fills up, each page is a guard exactly while its
 * record is in. Seed: KEEL_SEED or argv[1] (printed by mmt_seed in main).
 */
static void test_guard_records_churn(void **state) {
    (void)state;
    enum { N = 4096, STEPS = 1000000, PROBES = 64 };
    struct vm_guard *g = calloc(N, sizeof(*g));
    bool *in = calloc(N, sizeof(*in));
    assert_non_null(g);
    assert_non_null(in);
    const uint64_t base = 0xffffc00000000000ULL;
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(vm_fault_guard_insert(&g[i], VADDR(base + 2ULL * i * 4096), 4096),
                         KEEL_OK);
        in[i] = true;
    }
    for (unsigned i = 0; i < N; i += 97) {
        assert_true(is_guard(base + 2ULL * i * 4096 + 8));
        assert_false(is_guard(base + (2ULL * i + 1) * 4096)); /* between guards */
    }
    for (unsigned step = 0; step < STEPS; step++) {
        unsigned i = (unsigned)mmt_rand_below(N);
        if (in[i]) {
            vm_fault_guard_remove(&g[i]);
        } else {
            assert_int_equal(vm_fault_guard_insert(&g[i], VADDR(base + 2ULL * i * 4096), 4096),
                             KEEL_OK);
        }
        in[i] = !in[i];
        if (step % (STEPS / PROBES) == 0) {
            for (unsigned k = 0; k < N; k += 61) {
                assert_int_equal(is_guard(base + 2ULL * k * 4096 + 4095), in[k]);
            }
        }
    }
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(is_guard(base + 2ULL * i * 4096), in[i]);
        vm_fault_guard_remove(&g[i]);
        assert_false(is_guard(base + 2ULL * i * 4096));
    }
    /* The fixed pool is untouched by all that: it still takes its full count. */
    for (unsigned i = 0; i < VM_FAULT_MAX_GUARDS; i++) {
        assert_int_equal(vm_fault_add_guard(VADDR(0x1000ULL * (i + 1)), 4096), KEEL_OK);
    }
    assert_int_equal(vm_fault_add_guard(VADDR(0x900000), 4096), KEEL_EEXHAUSTED);
    for (unsigned i = 0; i < VM_FAULT_MAX_GUARDS; i++) {
        vm_fault_remove_guard(VADDR(0x1000ULL * (i + 1)));
    }
    free(in);
    free(g);
}

static void test_access_names(void **state) {
    (void)state;
    assert_string_equal(vm_fault_access_name(VM_FAULT_READ), "read");
    assert_string_equal(vm_fault_access_name(VM_FAULT_WRITE), "write");
    assert_string_equal(vm_fault_access_name(VM_FAULT_EXEC | VM_FAULT_USER),
                        "execute from user mode");
}

int main(int argc, char **argv) {
    mmt_seed(argc, argv, "test_vm_fault");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reasons),       cmocka_unit_test(test_guard_table_full),
        cmocka_unit_test(test_guard_records), cmocka_unit_test(test_guard_records_churn),
        cmocka_unit_test(test_access_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
