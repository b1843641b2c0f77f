/* SPDX-License-Identifier: MIT */
/*
 * Intrusive pairing heap keyed by (u64 key, insertion order): the min-queue behind the
 * kernel timers (by expiry) and the EDF scheduler (by deadline and by next release).
 * No allocation; insert O(1), min O(1), pop and remove O(log n) amortised. Equal keys
 * come out in insertion order (FIFO). The caller provides the locking.
 */
#ifndef KERNEL_PHEAP_H
#define KERNEL_PHEAP_H

#include <kernel/types.h>

struct pheap_node {
    struct pheap_node *child; /* first child */
    struct pheap_node *next;  /* next sibling */
    struct pheap_node *prev;  /* previous sibling, or the parent for a first child */
    uint64_t key;
    uint64_t seq; /* insertion order, breaks ties */
    bool queued;
};

struct pheap {
    struct pheap_node *root;
    uint64_t seq;
    size_t count;
};

/* Make an empty heap. */
void pheap_init(struct pheap *h);

/* Insert n (not queued anywhere) with the given key. O(1). */
void pheap_insert(struct pheap *h, struct pheap_node *n, uint64_t key);

/* Remove and return the smallest node, or NULL when empty. O(log n) amortised. */
struct pheap_node *pheap_pop(struct pheap *h);

/* Remove n, which must be queued in h. O(log n) amortised. */
void pheap_remove(struct pheap *h, struct pheap_node *n);

/* The smallest node without removing it, or NULL. O(1). */
static inline struct pheap_node *pheap_min(const struct pheap *h) {
    return h->root;
}

static inline bool pheap_node_queued(const struct pheap_node *n) {
    return n->queued;
}

#endif /* KERNEL_PHEAP_H */
