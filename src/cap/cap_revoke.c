/* SPDX-License-Identifier: MIT */
/*
 * Revocation: remove every capability derived from a target, in any space, without
 * recursion. The target's descendants are the tokens between its open and close tokens,
 * and the token right after its open is always the open of a descendant, so each removal
 * is O(1) and a step of `budget` removals is bounded work under one tree-lock hold.
 */
#include "cap_internal.h"

/* Remove descendant `victim`; caller holds cap_tree_lock, takes its space's lock. */
static void cap_revoke_one(struct cap_entry *victim) {
    struct cap_space *space = victim->space;
    /* Its own descendants stay between the target's tokens and are taken next. */
    cap_tree_unlink(victim);
    spin_lock(&space->lock);
    cap_slot_free(space, victim->index);
    spin_unlock(&space->lock);
}

kstatus_t cap_revoke_step(struct cap_space *space, keel_handle_t handle, uint32_t budget) {
    if (space == NULL || budget == 0) {
        return KEEL_EINVAL;
    }
    uint64_t w;
    struct cap_entry *target;
    spin_lock(&cap_tree_lock);
    spin_lock(&space->lock);
    kstatus_t st = cap_slot_get(space, handle, &w, &target);
    spin_unlock(&space->lock);
    if (st != KEEL_OK) {
        spin_unlock(&cap_tree_lock);
        return st;
    }
    /* The tree lock keeps the target alive from here on: only tree-lock holders free it. */
    struct cap_entry *victim = cap_tree_first_descendant(target);
    for (uint32_t done = 0; victim != NULL && done < budget; done++) {
        cap_revoke_one(victim);
        victim = cap_tree_first_descendant(target);
    }
    spin_unlock(&cap_tree_lock);
    return victim == NULL ? KEEL_OK : KEEL_EBUSY;
}

kstatus_t cap_revoke(struct cap_space *space, keel_handle_t handle) {
    kstatus_t st;
    do {
        /* Locks are dropped between steps: this is where a later preemption point goes. */
        st = cap_revoke_step(space, handle, CAP_REVOKE_BUDGET);
    } while (st == KEEL_EBUSY);
    return st;
}
