/* SPDX-License-Identifier: MIT */
/*
 * Consistency check of a capability space, for tests and debug commands: every slot word,
 * the free list, the live count and the derivation links that touch this space. Slow
 * (O(capacity)) by design; never on a hot path.
 */
#include "cap_internal.h"

/* A live entry's tokens must be linked both ways, and never to a freed token. */
static bool cap_audit_links(const struct cap_entry *e) {
    const struct cap_link *o = &e->open;
    const struct cap_link *c = &e->close;
    if (o->next == NULL || c->prev == NULL) {
        return false;
    }
    if (o->next->prev != o || c->prev->next != c) {
        return false;
    }
    if ((o->prev != NULL && o->prev->next != o) || (c->next != NULL && c->next->prev != c)) {
        return false;
    }
    return true;
}

static bool cap_audit_slot(const struct cap_space *space, uint32_t i, uint32_t *live,
                           uint32_t *retired) {
    uint64_t w = __atomic_load_n(cap_word_ptr(space, i), __ATOMIC_RELAXED);
    const struct cap_entry *e = cap_entry_ptr(space, i);
    if (e->space != space || e->index != i) {
        return false;
    }
    if (!(w & CAP_W_LIVE)) {
        if (cap_word_gen(w) == CAP_GEN_MAX) {
            (*retired)++;
        }
        /* Dead: no rights, no type, no links, no object. */
        return (w & ~CAP_W_GEN_MASK) == 0 && e->open.prev == NULL && e->open.next == NULL &&
               e->close.prev == NULL && e->close.next == NULL && e->object == NULL;
    }
    (*live)++;
    uint32_t type = cap_word_type(w);
    return cap_word_gen(w) != 0 && type != KEEL_OBJ_NONE && type < KEEL_OBJ_TYPE_COUNT &&
           (cap_word_rights(w) & ~KEEL_RIGHTS_ALL) == 0 && e->object != NULL && cap_audit_links(e);
}

static bool cap_audit_free_list(const struct cap_space *space, uint32_t expect) {
    uint32_t n = 0;
    for (uint32_t i = space->free_head; i != CAP_FREE_END; i = cap_entry_ptr(space, i)->next_free) {
        if (i >= space->next_fresh || n >= expect) {
            return false; /* out of range, or a cycle */
        }
        if (__atomic_load_n(cap_word_ptr(space, i), __ATOMIC_RELAXED) & CAP_W_LIVE) {
            return false;
        }
        n++;
    }
    return n == expect;
}

kstatus_t cap_space_audit(struct cap_space *space) {
    if (space == NULL) {
        return KEEL_EINVAL;
    }
    bool ok = true;
    uint32_t live = 0;
    uint32_t retired = 0;
    spin_lock(&cap_tree_lock);
    spin_lock(&space->lock);
    if (space->next_fresh < 1 || space->next_fresh > space->limit) {
        ok = false;
    }
    for (uint32_t i = 1; ok && i < space->next_fresh; i++) {
        ok = cap_audit_slot(space, i, &live, &retired);
    }
    /* Slot 0 and never-used slots stay all-zero. */
    for (uint32_t i = space->next_fresh; ok && i < space->limit; i++) {
        const struct cap_chunk *chunk = cap_chunk_of(space, i);
        ok = chunk->words[i & CAP_CHUNK_MASK] == 0;
    }
    ok = ok && cap_chunk_of(space, 0)->words[0] == 0;
    ok = ok && live == space->live && retired == space->retired;
    ok = ok && cap_audit_free_list(space, space->next_fresh - 1 - live - retired);
    spin_unlock(&space->lock);
    spin_unlock(&cap_tree_lock);
    return ok ? KEEL_OK : KEEL_ECORRUPT;
}
