/* SPDX-License-Identifier: MIT */
/*
 * NUMA distances from the device tree ("numa-distance-map-v1"): QEMU's own map, maps
 * given in one direction only, and malformed matrices rejected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <kernel/boot_info.h>
#include <kernel/fdt.h>

#include "fdt_build.h"
#include "fixture.h"

static void test_qemu_distance_map(void **state) {
    (void)state;
    size_t size;
    uint8_t *blob = load_fixture("aarch64-numa2-dist", &size);
    static struct boot_info bi;
    memset(&bi, 0, sizeof(bi));
    assert_int_equal(fdt_parse_boot_info(blob, size, 0x40000000, &bi), KEEL_OK);
    assert_int_equal(bi.numa.node_count, 2);
    assert_int_equal(bi.numa.distance[0][0], 10);
    assert_int_equal(bi.numa.distance[0][1], 21);
    assert_int_equal(bi.numa.distance[1][0], 21);
    assert_int_equal(bi.numa.distance[1][1], 10);
    free(blob);

    /* Without a map the distances stay unknown (0), as before. */
    blob = load_fixture("aarch64-numa2", &size);
    memset(&bi, 0, sizeof(bi));
    assert_int_equal(fdt_parse_boot_info(blob, size, 0x40000000, &bi), KEEL_OK);
    assert_int_equal(bi.numa.node_count, 2);
    assert_int_equal(bi.numa.distance[0][1], 0);
    free(blob);
}

/* A minimal machine: one memory node, a distance map with the given raw matrix. */
static kstatus_t parse_with_matrix(const uint32_t *cells, int ncells, struct boot_info *bi) {
    static struct fdt_build b;
    static uint8_t out[65536];
    fb_init(&b);
    fb_begin(&b, "");
    fb_prop_u32(&b, "#address-cells", 2);
    fb_prop_u32(&b, "#size-cells", 2);
    fb_begin(&b, "memory@40000000");
    fb_prop_str(&b, "device_type", "memory");
    fb_prop_cells(&b, "reg", 4, 0, 0x40000000, 0, 0x10000000);
    fb_end(&b);
    fb_begin(&b, "distance-map");
    fb_prop_str(&b, "compatible", "numa-distance-map-v1");
    uint32_t be[64];
    for (int i = 0; i < ncells; i++) {
        uint32_t v = cells[i];
        be[i] = (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
    }
    fb_prop(&b, "distance-matrix", be, (uint32_t)(ncells * 4));
    fb_end(&b);
    fb_end(&b);
    size_t n = fb_finish(&b, out, sizeof(out));
    memset(bi, 0, sizeof(*bi));
    return fdt_parse_boot_info(out, n, 0x80000000, bi);
}

static void test_built_maps(void **state) {
    (void)state;
    static struct boot_info bi;
    /* One direction only: the other follows; self distances default to 10. */
    const uint32_t one_way[] = {0, 1, 20, 0, 2, 30, 1, 2, 25};
    assert_int_equal(parse_with_matrix(one_way, 9, &bi), KEEL_OK);
    assert_int_equal(bi.numa.node_count, 3);
    assert_int_equal(bi.numa.distance[1][0], 20);
    assert_int_equal(bi.numa.distance[2][1], 25);
    assert_int_equal(bi.numa.distance[2][2], 10);
    /* An explicit reverse entry wins over the mirrored one. */
    const uint32_t asym[] = {0, 1, 20, 1, 0, 40};
    assert_int_equal(parse_with_matrix(asym, 6, &bi), KEEL_OK);
    assert_int_equal(bi.numa.distance[0][1], 20);
    assert_int_equal(bi.numa.distance[1][0], 40);

    const uint32_t short_triplet[] = {0, 1};
    assert_int_equal(parse_with_matrix(short_triplet, 2, &bi), KEEL_ECORRUPT);
    const uint32_t too_near[] = {0, 1, 9};
    assert_int_equal(parse_with_matrix(too_near, 3, &bi), KEEL_ECORRUPT);
    const uint32_t too_far[] = {0, 1, 256};
    assert_int_equal(parse_with_matrix(too_far, 3, &bi), KEEL_ECORRUPT);
    const uint32_t bad_self[] = {1, 1, 20};
    assert_int_equal(parse_with_matrix(bad_self, 3, &bi), KEEL_ECORRUPT);
    const uint32_t big_node[] = {0, BOOT_MAX_NUMA_NODES, 20};
    assert_int_equal(parse_with_matrix(big_node, 3, &bi), KEEL_ERANGE);
    assert_int_equal(parse_with_matrix(NULL, 0, &bi), KEEL_ECORRUPT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_distance_map),
        cmocka_unit_test(test_built_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
