/* SPDX-License-Identifier: MIT */
/*
 * Capability operations that change a space: create, derive, transfer and delete. Each
 * one checks everything first and changes nothing on failure. Lock order: cap_tree_lock,
 * then at most one space lock at a time (see docs/capabilities.md).
 */
#include "cap_internal.h"

static bool cap_type_ok(uint32_t type) {
    return type > KEEL_OBJ_NONE && type < KEEL_OBJ_TYPE_COUNT;
}

static bool cap_rights_ok(uint32_t rights) {
    return (rights & ~KEEL_RIGHTS_ALL) == 0;
}

kstatus_t cap_create(struct cap_space *space, uint32_t type, void *object, uint32_t rights,
                     keel_handle_t *out) {
    if (space == NULL || out == NULL || object == NULL || !cap_type_ok(type) ||
        !cap_rights_ok(rights)) {
        return KEEL_EINVAL;
    }
    uint32_t index;
    uint32_t gen;
    spin_lock(&space->lock);
    kstatus_t st = cap_slot_alloc(space, &index, &gen);
    if (st == KEEL_OK) {
        /* A root is in no sequence yet, so its links need no tree lock. */
        cap_tree_init_root(cap_entry_ptr(space, index));
        cap_slot_publish(space, index, gen, type, rights, object, 0);
        *out = KEEL_HANDLE_MAKE(index, gen);
    }
    spin_unlock(&space->lock);
    return st;
}

/* Decide whether a child with `rights` and `badge` may be made from word/entry `w`/`e`. */
static kstatus_t cap_derive_check(uint64_t w, const struct cap_entry *e, uint32_t rights,
                                  uint64_t badge) {
    if ((rights & ~cap_word_rights(w)) != 0) {
        return KEEL_EPERM; /* rights only shrink */
    }
    if (badge != 0) {
        if (cap_word_type(w) != KEEL_OBJ_IPC_ENDPOINT) {
            return KEEL_EINVAL;
        }
        if (__atomic_load_n(&e->badge, __ATOMIC_RELAXED) != 0) {
            return KEEL_EPERM; /* a badge is set once */
        }
    }
    return KEEL_OK;
}

kstatus_t cap_derive(struct cap_space *space, keel_handle_t handle, uint32_t rights, uint64_t badge,
                     keel_handle_t *out) {
    if (space == NULL || out == NULL || !cap_rights_ok(rights)) {
        return KEEL_EINVAL;
    }
    uint64_t w;
    struct cap_entry *parent;
    uint32_t index;
    uint32_t gen;
    spin_lock(&cap_tree_lock);
    spin_lock(&space->lock);
    kstatus_t st = cap_slot_get(space, handle, &w, &parent);
    if (st == KEEL_OK) {
        st = cap_derive_check(w, parent, rights, badge);
    }
    if (st == KEEL_OK) {
        st = cap_slot_alloc(space, &index, &gen);
    }
    if (st == KEEL_OK) {
        if (badge == 0) {
            badge = __atomic_load_n(&parent->badge, __ATOMIC_RELAXED);
        }
        void *object = __atomic_load_n(&parent->object, __ATOMIC_RELAXED);
        cap_tree_insert_child(parent, cap_entry_ptr(space, index));
        cap_slot_publish(space, index, gen, cap_word_type(w), rights, object, badge);
        *out = KEEL_HANDLE_MAKE(index, gen);
    }
    spin_unlock(&space->lock);
    spin_unlock(&cap_tree_lock);
    return st;
}

kstatus_t cap_transfer(struct cap_space *src, keel_handle_t handle, struct cap_space *dst,
                       uint32_t mode, keel_handle_t *out) {
    if (src == NULL || dst == NULL || out == NULL ||
        (mode != KEEL_CAP_COPY && mode != KEEL_CAP_MOVE)) {
        return KEEL_EINVAL;
    }
    uint64_t w;
    struct cap_entry *from;
    uint32_t index;
    uint32_t gen;
    spin_lock(&cap_tree_lock);
    /* Under the tree lock the source cannot be deleted, revoked or moved by anyone else. */
    spin_lock(&src->lock);
    kstatus_t st = cap_slot_get(src, handle, &w, &from);
    spin_unlock(&src->lock);
    if (st == KEEL_OK && !(w & KEEL_RIGHT_GRANT)) {
        st = KEEL_EPERM;
    }
    if (st != KEEL_OK) {
        spin_unlock(&cap_tree_lock);
        return st;
    }
    void *object = __atomic_load_n(&from->object, __ATOMIC_RELAXED);
    uint64_t badge = __atomic_load_n(&from->badge, __ATOMIC_RELAXED);
    spin_lock(&dst->lock);
    st = cap_slot_alloc(dst, &index, &gen);
    if (st == KEEL_OK) {
        struct cap_entry *to = cap_entry_ptr(dst, index);
        if (mode == KEEL_CAP_COPY) {
            cap_tree_insert_child(from, to);
        } else {
            cap_tree_replace(from, to);
        }
        cap_slot_publish(dst, index, gen, cap_word_type(w), cap_word_rights(w), object, badge);
        *out = KEEL_HANDLE_MAKE(index, gen);
    }
    spin_unlock(&dst->lock);
    if (st == KEEL_OK && mode == KEEL_CAP_MOVE) {
        spin_lock(&src->lock);
        cap_slot_free(src, KEEL_HANDLE_INDEX(handle));
        spin_unlock(&src->lock);
    }
    spin_unlock(&cap_tree_lock);
    return st;
}

kstatus_t cap_delete(struct cap_space *space, keel_handle_t handle) {
    if (space == NULL) {
        return KEEL_EINVAL;
    }
    uint64_t w;
    struct cap_entry *e;
    spin_lock(&cap_tree_lock);
    spin_lock(&space->lock);
    kstatus_t st = cap_slot_get(space, handle, &w, &e);
    if (st == KEEL_OK) {
        cap_tree_unlink(e);
        cap_slot_free(space, KEEL_HANDLE_INDEX(handle));
    }
    spin_unlock(&space->lock);
    spin_unlock(&cap_tree_lock);
    return st;
}
