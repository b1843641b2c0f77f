/* SPDX-License-Identifier: MIT */
/*
 * The lock-free read side: cap_validate() is the hot path of every syscall that names a
 * handle, so it is one directory load, one word load and a masked compare, with a single
 * data-dependent branch. cap_lookup() adds a generation-checked snapshot of the entry.
 */
#include "cap_internal.h"

/*
 * Word the handle must match; out-of-range bits (type >= 256) make the comparison fail,
 * since they are OR-ed into the difference.
 */
static __always_inline uint64_t cap_check(const struct cap_space *space, keel_handle_t handle,
                                          uint32_t type, uint32_t rights, uint64_t *word) {
    uint32_t index = KEEL_HANDLE_INDEX(handle);
    /* Out of range reads reserved slot 0 (never live) instead of branching. */
    index = index < space->limit ? index : 0;
    const struct cap_chunk *chunk = cap_chunk_of(space, index);
    uint64_t w = __atomic_load_n(&chunk->words[index & CAP_CHUNK_MASK], __ATOMIC_ACQUIRE);
    uint64_t want = (handle & CAP_W_GEN_MASK) | CAP_W_LIVE | ((uint64_t)(type & 0xffu) << 8);
    uint64_t diff =
        ((w ^ want) & (CAP_W_GEN_MASK | CAP_W_LIVE | CAP_W_TYPE_MASK)) | (uint64_t)(type >> 8);
    uint64_t missing = (uint64_t)rights & ~(w & CAP_W_RIGHTS_MASK);
    *word = w;
    /* Encode: bit 0 -> bad capability, bit 1 -> missing rights. */
    return (uint64_t)(diff != 0) | ((uint64_t)(missing != 0) << 1);
}

static __always_inline kstatus_t cap_check_status(uint64_t bad) {
    if (likely(bad == 0)) {
        return KEEL_OK;
    }
    return (bad & 1) ? KEEL_EBADCAP : KEEL_EPERM;
}

kstatus_t cap_validate(const struct cap_space *space, keel_handle_t handle, uint32_t type,
                       uint32_t rights) {
    uint64_t w;
    return cap_check_status(cap_check(space, handle, type, rights, &w));
}

kstatus_t cap_lookup(const struct cap_space *space, keel_handle_t handle, uint32_t type,
                     uint32_t rights, struct cap_info *out) {
    uint64_t w;
    uint64_t bad;
    if (type == KEEL_OBJ_NONE) {
        /* Any type: take the type from the slot itself (the generation still decides). */
        uint32_t index = KEEL_HANDLE_INDEX(handle);
        index = index < space->limit ? index : 0;
        uint64_t peek = __atomic_load_n(cap_word_ptr(space, index), __ATOMIC_RELAXED);
        type = cap_word_type(peek);
        if (type == KEEL_OBJ_NONE) {
            return KEEL_EBADCAP;
        }
    }
    bad = cap_check(space, handle, type, rights, &w);
    if (bad != 0) {
        return cap_check_status(bad);
    }
    /*
     * Generation-checked snapshot. Writers store the entry fields with release after
     * changing the word; so if an acquire load below sees a later value, the word
     * re-read sees the change too and we report the handle stale.
     */
    uint32_t index = KEEL_HANDLE_INDEX(handle);
    const struct cap_chunk *chunk = cap_chunk_of(space, index);
    const struct cap_entry *e = &chunk->entries[index & CAP_CHUNK_MASK];
    void *object = __atomic_load_n(&e->object, __ATOMIC_ACQUIRE);
    uint64_t badge = __atomic_load_n(&e->badge, __ATOMIC_ACQUIRE);
    uint64_t again = __atomic_load_n(&chunk->words[index & CAP_CHUNK_MASK], __ATOMIC_RELAXED);
    if (unlikely(again != w)) {
        return KEEL_EBADCAP;
    }
    out->object = object;
    out->badge = badge;
    out->type = cap_word_type(w);
    out->rights = cap_word_rights(w);
    return KEEL_OK;
}
