/* SPDX-License-Identifier: MIT */
/*
 * The derivation tree, kept as one balanced parenthesis sequence per family of
 * capabilities: each capability owns an open and a close token, and its descendants are
 * the tokens between them. Every operation here is O(1) and non-recursive; the caller
 * holds cap_tree_lock.
 */
#include "cap_internal.h"

void cap_tree_init_root(struct cap_entry *e) {
    e->open.prev = NULL;
    e->open.next = &e->close;
    e->close.prev = &e->open;
    e->close.next = NULL;
}

void cap_tree_insert_child(struct cap_entry *parent, struct cap_entry *child) {
    /* The child's pair goes right after the parent's open token: first child. */
    struct cap_link *after = parent->open.next; /* never NULL: at worst parent->close */
    child->open.prev = &parent->open;
    child->open.next = &child->close;
    child->close.prev = &child->open;
    child->close.next = after;
    after->prev = &child->close;
    parent->open.next = &child->open;
}

static void cap_link_remove(struct cap_link *t) {
    if (t->prev != NULL) {
        t->prev->next = t->next;
    }
    if (t->next != NULL) {
        t->next->prev = t->prev;
    }
    t->prev = NULL;
    t->next = NULL;
}

void cap_tree_unlink(struct cap_entry *e) {
    /*
     * Dropping both tokens keeps the sequence balanced: e's descendants now sit directly
     * between its parent's tokens, so they become the parent's children.
     */
    cap_link_remove(&e->open);
    cap_link_remove(&e->close);
}

static void cap_link_replace(struct cap_link *old, struct cap_link *repl) {
    repl->prev = old->prev;
    repl->next = old->next;
    if (repl->prev != NULL) {
        repl->prev->next = repl;
    }
    if (repl->next != NULL) {
        repl->next->prev = repl;
    }
    old->prev = NULL;
    old->next = NULL;
}

void cap_tree_replace(struct cap_entry *old, struct cap_entry *repl) {
    /* Works when old's tokens are adjacent too: the open swap fixes old->close.prev. */
    cap_link_replace(&old->open, &repl->open);
    cap_link_replace(&old->close, &repl->close);
}

bool cap_tree_has_children(const struct cap_entry *e) {
    return e->open.next != &e->close;
}

struct cap_entry *cap_tree_first_descendant(const struct cap_entry *e) {
    /* In a balanced sequence the token after an open is a close (its own) or an open. */
    if (e->open.next == &e->close) {
        return NULL;
    }
    return container_of(e->open.next, struct cap_entry, open);
}
