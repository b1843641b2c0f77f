/* SPDX-License-Identifier: MIT */
/*
 * Capability spaces: creation, quotas, destruction, and the slot allocator. A space is a
 * two-level table (directory -> fixed chunks), so growing it allocates a chunk and never
 * moves a live entry or changes a handle.
 */
#include <kernel/heap.h>

#include "cap_internal.h"

struct cap_chunk cap_dead_chunk;
spinlock_t cap_tree_lock = SPINLOCK_INIT;

kstatus_t cap_space_create(uint32_t capacity, uint32_t quota, struct cap_space **out) {
    if (out == NULL || capacity == 0 || capacity > CAP_SPACE_MAX_CAPACITY || quota == 0 ||
        quota > capacity) {
        return KEEL_EINVAL;
    }
    struct cap_space *space = kmalloc(sizeof(*space), KMALLOC_ZERO);
    if (space == NULL) {
        return KEEL_ENOMEM;
    }
    uint32_t limit = capacity + 1; /* slot 0 is reserved: the null handle's index */
    uint32_t dir_len = (limit + CAP_CHUNK_SLOTS - 1) >> CAP_CHUNK_SHIFT;
    space->dir = kmalloc((size_t)dir_len * sizeof(space->dir[0]), 0);
    if (space->dir == NULL) {
        kfree(space);
        return KEEL_ENOMEM;
    }
    for (uint32_t i = 0; i < dir_len; i++) {
        space->dir[i] = &cap_dead_chunk;
    }
    space->limit = limit;
    space->dir_len = dir_len;
    spinlock_init(&space->lock);
    space->quota = quota;
    space->next_fresh = 1;
    space->free_head = CAP_FREE_END;
    *out = space;
    return KEEL_OK;
}

kstatus_t cap_space_set_quota(struct cap_space *space, uint32_t quota) {
    if (space == NULL || quota == 0 || quota > space->limit - 1) {
        return KEEL_EINVAL;
    }
    spin_lock(&space->lock);
    space->quota = quota;
    spin_unlock(&space->lock);
    return KEEL_OK;
}

uint32_t cap_space_count(const struct cap_space *space) {
    return __atomic_load_n(&space->live, __ATOMIC_RELAXED);
}

/* Populate the chunk holding `index`; called with space->lock held. */
static kstatus_t cap_chunk_grow(struct cap_space *space, uint32_t index) {
    uint32_t d = index >> CAP_CHUNK_SHIFT;
    if (space->dir[d] != &cap_dead_chunk) {
        return KEEL_OK;
    }
    struct cap_chunk *chunk = kmalloc(sizeof(*chunk), KMALLOC_ATOMIC | KMALLOC_ZERO);
    if (chunk == NULL) {
        return KEEL_ENOMEM;
    }
    for (uint32_t i = 0; i < CAP_CHUNK_SLOTS; i++) {
        chunk->entries[i].space = space;
        chunk->entries[i].index = (d << CAP_CHUNK_SHIFT) | i;
    }
    /* Release: a reader that sees the chunk sees it initialised. */
    __atomic_store_n(&space->dir[d], chunk, __ATOMIC_RELEASE);
    return KEEL_OK;
}

kstatus_t cap_slot_alloc(struct cap_space *space, uint32_t *index, uint32_t *gen) {
    if (space->dying) {
        return KEEL_EINVAL;
    }
    if (space->live >= space->quota) {
        return KEEL_EEXHAUSTED;
    }
    uint32_t i = space->free_head;
    if (i != CAP_FREE_END) {
        space->free_head = cap_entry_ptr(space, i)->next_free;
    } else {
        if (space->next_fresh >= space->limit) {
            return KEEL_EEXHAUSTED;
        }
        i = space->next_fresh;
        kstatus_t st = cap_chunk_grow(space, i);
        if (st != KEEL_OK) {
            return st;
        }
        space->next_fresh++;
    }
    uint32_t g = cap_word_gen(__atomic_load_n(cap_word_ptr(space, i), __ATOMIC_RELAXED));
    *index = i;
    *gen = g == 0 ? 1 : g;
    return KEEL_OK;
}

void cap_slot_publish(struct cap_space *space, uint32_t index, uint32_t gen, uint32_t type,
                      uint32_t rights, void *object, uint64_t badge) {
    struct cap_entry *e = cap_entry_ptr(space, index);
    /* Release on every store: see the reader's argument in cap_lookup(). */
    __atomic_store_n(&e->object, object, __ATOMIC_RELEASE);
    __atomic_store_n(&e->badge, badge, __ATOMIC_RELEASE);
    __atomic_store_n(cap_word_ptr(space, index), cap_word_make(gen, type, rights),
                     __ATOMIC_RELEASE);
    __atomic_store_n(&space->live, space->live + 1, __ATOMIC_RELAXED);
}

void cap_slot_free(struct cap_space *space, uint32_t index) {
    uint64_t *wp = cap_word_ptr(space, index);
    struct cap_entry *e = cap_entry_ptr(space, index);
    uint32_t gen = cap_word_gen(__atomic_load_n(wp, __ATOMIC_RELAXED));
    /* Kill first; the entry's fields change only after (see cap_lookup()). */
    if (gen == CAP_GEN_MAX) {
        __atomic_store_n(wp, (uint64_t)gen << CAP_W_GEN_SHIFT, __ATOMIC_RELAXED);
        space->retired++; /* never reused: a handle's generation must not wrap */
    } else {
        __atomic_store_n(wp, (uint64_t)(gen + 1) << CAP_W_GEN_SHIFT, __ATOMIC_RELAXED);
        e->next_free = space->free_head;
        space->free_head = index;
    }
    __atomic_store_n(&e->object, NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&e->badge, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&space->live, space->live - 1, __ATOMIC_RELAXED);
}

kstatus_t cap_slot_get(struct cap_space *space, keel_handle_t handle, uint64_t *word,
                       struct cap_entry **entry) {
    uint32_t index = KEEL_HANDLE_INDEX(handle);
    if (index == 0 || index >= space->limit) {
        return KEEL_EBADCAP;
    }
    uint64_t w = __atomic_load_n(cap_word_ptr(space, index), __ATOMIC_RELAXED);
    if (!(w & CAP_W_LIVE) || cap_word_gen(w) != KEEL_HANDLE_GEN(handle)) {
        return KEEL_EBADCAP;
    }
    *word = w;
    *entry = cap_entry_ptr(space, index);
    return KEEL_OK;
}

/* Delete the live capability in slot `index`, if any; one lock round per slot. */
static void cap_space_drop_slot(struct cap_space *space, uint32_t index) {
    spin_lock(&cap_tree_lock);
    spin_lock(&space->lock);
    uint64_t w = __atomic_load_n(cap_word_ptr(space, index), __ATOMIC_RELAXED);
    if (w & CAP_W_LIVE) {
        cap_tree_unlink(cap_entry_ptr(space, index));
        cap_slot_free(space, index);
    }
    spin_unlock(&space->lock);
    spin_unlock(&cap_tree_lock);
}

void cap_space_destroy(struct cap_space *space) {
    if (space == NULL) {
        return;
    }
    spin_lock(&space->lock);
    space->dying = true;
    uint32_t fresh = space->next_fresh;
    spin_unlock(&space->lock);
    for (uint32_t i = 1; i < fresh; i++) {
        cap_space_drop_slot(space, i);
    }
    for (uint32_t d = 0; d < space->dir_len; d++) {
        if (space->dir[d] != &cap_dead_chunk) {
            kfree(space->dir[d]);
        }
    }
    kfree(space->dir);
    kfree(space);
}
