/* SPDX-License-Identifier: MIT */
/*
 * Intrusive pairing heap (see include/kernel/pheap.h). Chosen over a binary heap because
 * it needs no array (timers and threads embed their node) and over a balanced tree
 * because it is a quarter of the code; the two-pass pairing gives O(log n) amortised.
 */
#include <kernel/pheap.h>

static bool node_less(const struct pheap_node *a, const struct pheap_node *b) {
    return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

/* Link two detached roots; returns the new root. */
static struct pheap_node *link(struct pheap_node *a, struct pheap_node *b) {
    if (node_less(b, a)) {
        struct pheap_node *t = a;
        a = b;
        b = t;
    }
    b->next = a->child;
    if (a->child != NULL) {
        a->child->prev = b;
    }
    b->prev = a;
    a->child = b;
    return a;
}

/* Two-pass pairing of a sibling list; returns one detached root or NULL. */
static struct pheap_node *merge_pairs(struct pheap_node *first) {
    struct pheap_node *stack = NULL;
    while (first != NULL) {
        struct pheap_node *a = first;
        struct pheap_node *b = a->next;
        struct pheap_node *m;
        if (b != NULL) {
            first = b->next;
            a->next = a->prev = b->next = b->prev = NULL;
            m = link(a, b);
        } else {
            first = NULL;
            a->next = a->prev = NULL;
            m = a;
        }
        m->next = stack;
        stack = m;
    }
    struct pheap_node *root = NULL;
    while (stack != NULL) {
        struct pheap_node *n = stack;
        stack = n->next;
        n->next = NULL;
        root = root == NULL ? n : link(root, n);
    }
    return root;
}

void pheap_init(struct pheap *h) {
    h->root = NULL;
    h->seq = 0;
    h->count = 0;
}

void pheap_insert(struct pheap *h, struct pheap_node *n, uint64_t key) {
    n->child = n->next = n->prev = NULL;
    n->key = key;
    n->seq = h->seq++;
    n->queued = true;
    h->root = h->root == NULL ? n : link(h->root, n);
    h->count++;
}

struct pheap_node *pheap_pop(struct pheap *h) {
    struct pheap_node *n = h->root;
    if (n == NULL) {
        return NULL;
    }
    h->root = merge_pairs(n->child);
    n->child = n->next = n->prev = NULL;
    n->queued = false;
    h->count--;
    return n;
}

void pheap_remove(struct pheap *h, struct pheap_node *n) {
    if (n == h->root) {
        (void)pheap_pop(h);
        return;
    }
    if (n->prev->child == n) {
        n->prev->child = n->next;
    } else {
        n->prev->next = n->next;
    }
    if (n->next != NULL) {
        n->next->prev = n->prev;
    }
    struct pheap_node *sub = merge_pairs(n->child);
    if (sub != NULL) {
        h->root = link(h->root, sub);
    }
    n->child = n->next = n->prev = NULL;
    n->queued = false;
    h->count--;
}
