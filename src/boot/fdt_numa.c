/* SPDX-License-Identifier: MIT */
/*
 * NUMA distances from the device tree: the "numa-distance-map-v1" node's
 * "distance-matrix" holds <from to distance> triplets over numa-node-id values. A pair
 * given in one direction only holds in both (the binding says so); the distance of a
 * node to itself is 10 unless stated, and anything below 10 is malformed.
 */
#include <kernel/fdt.h>

#include "fdt_internal.h"

#define NUMA_LOCAL_DISTANCE 10

kstatus_t fdt_parse_distance_map(const struct fdt *fdt, struct boot_info *bi) {
    fdt_node_t node;
    const void *val;
    uint32_t len;

    if (fdt_find_compatible(fdt, FDT_NONE, "numa-distance-map-v1", &node) != KEEL_OK) {
        return KEEL_OK; /* optional: no map means distances are unknown */
    }
    kstatus_t st = fdt_get_prop(fdt, node, "distance-matrix", &val, &len);
    if (st != KEEL_OK) {
        return st == KEEL_ENOTFOUND ? KEEL_ECORRUPT : st;
    }
    if (len == 0 || len % 12 != 0) {
        return KEEL_ECORRUPT;
    }
    uint8_t dist[BOOT_MAX_NUMA_NODES][BOOT_MAX_NUMA_NODES] = {{0}};
    uint32_t nodes = bi->numa.node_count;
    for (uint32_t off = 0; off < len; off += 12) {
        const uint8_t *p = (const uint8_t *)val + off;
        uint32_t from = fdt_be32(p);
        uint32_t to = fdt_be32(p + 4);
        uint32_t d = fdt_be32(p + 8);
        if (from >= BOOT_MAX_NUMA_NODES || to >= BOOT_MAX_NUMA_NODES) {
            return KEEL_ERANGE;
        }
        if (d < NUMA_LOCAL_DISTANCE || d > 255 || (from == to && d != NUMA_LOCAL_DISTANCE)) {
            return KEEL_ECORRUPT;
        }
        dist[from][to] = (uint8_t)d;
        if (dist[to][from] == 0) {
            dist[to][from] = (uint8_t)d;
        }
        nodes = MAX(nodes, MAX(from, to) + 1);
    }
    for (uint32_t i = 0; i < nodes; i++) {
        if (dist[i][i] == 0) {
            dist[i][i] = NUMA_LOCAL_DISTANCE;
        }
    }
    for (uint32_t i = bi->numa.node_count; i < nodes; i++) {
        bi->numa.domain[i] = i;
    }
    bi->numa.node_count = nodes;
    for (uint32_t i = 0; i < BOOT_MAX_NUMA_NODES; i++) {
        for (uint32_t j = 0; j < BOOT_MAX_NUMA_NODES; j++) {
            bi->numa.distance[i][j] = dist[i][j];
        }
    }
    return KEEL_OK;
}
