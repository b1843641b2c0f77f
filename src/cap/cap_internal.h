/* SPDX-License-Identifier: MIT */
/*
 * Private layout of capability spaces, shared by the files of src/cap/ only. The slot
 * word packs what the hot path checks into one atomic 64-bit load; the cold entry holds
 * the object, the badge and the derivation-tree links.
 */
#ifndef CAP_INTERNAL_H
#define CAP_INTERNAL_H

#include <kernel/cap.h>
#include <kernel/spinlock.h>

/*
 * Slot word: bits 0..7 rights, 8..15 type, 16 live, 32..63 generation (the same bits as
 * a handle's generation). Only the owning space's lock holder writes it.
 */
#define CAP_W_RIGHTS_MASK 0xffull
#define CAP_W_TYPE_SHIFT  8
#define CAP_W_TYPE_MASK   (0xffull << CAP_W_TYPE_SHIFT)
#define CAP_W_LIVE        (1ull << 16)
#define CAP_W_GEN_SHIFT   KEEL_HANDLE_GEN_SHIFT
#define CAP_W_GEN_MASK    (0xffffffffull << CAP_W_GEN_SHIFT)
#define CAP_GEN_MAX       0xffffffffu

/* Slots come in fixed chunks that never move; a space's directory points at them. */
#define CAP_CHUNK_SHIFT 8
#define CAP_CHUNK_SLOTS (1u << CAP_CHUNK_SHIFT)
#define CAP_CHUNK_MASK  (CAP_CHUNK_SLOTS - 1)

#define CAP_FREE_END 0u /* end of a free list: slot 0 is reserved and never handed out */

/*
 * One token of the derivation sequence. Every capability owns an open and a close token;
 * a capability's descendants are exactly the tokens between its own two (a balanced
 * parenthesis sequence, see docs/capabilities.md). Guarded by cap_tree_lock.
 */
struct cap_link {
    struct cap_link *prev;
    struct cap_link *next;
};

struct cap_entry {
    void *object;   /* atomic: read lock-free by cap_lookup() */
    uint64_t badge; /* atomic: read lock-free by cap_lookup() */
    struct cap_link open;
    struct cap_link close;
    struct cap_space *space; /* owner; fixed for the life of the chunk */
    uint32_t index;          /* slot index; fixed */
    uint32_t next_free;      /* free-list link while dead; space lock */
};

struct cap_chunk {
    uint64_t words[CAP_CHUNK_SLOTS]; /* hot: all that cap_validate() touches */
    struct cap_entry entries[CAP_CHUNK_SLOTS];
};

struct cap_space {
    struct cap_chunk **dir; /* dir_len entries, &cap_dead_chunk until populated */
    uint32_t limit;         /* slot indices are < limit (capacity + 1) */
    uint32_t dir_len;
    spinlock_t lock;     /* writers: free list, counts, words, chunk growth */
    uint32_t live;       /* live capabilities (atomic reads by cap_space_count) */
    uint32_t quota;      /* at most this many live */
    uint32_t next_fresh; /* lowest never-used index */
    uint32_t free_head;  /* LIFO of freed slots, CAP_FREE_END if empty */
    uint32_t retired;    /* slots whose generation ran out */
    bool dying;          /* set by cap_space_destroy(): no new capabilities */
};

/* An all-dead chunk every unpopulated directory entry points to (read-only). */
extern struct cap_chunk cap_dead_chunk;

/* Global lock for every derivation-tree link; taken before any space lock. */
extern spinlock_t cap_tree_lock;

static inline struct cap_chunk *cap_chunk_of(const struct cap_space *space, uint32_t index) {
    return __atomic_load_n(&space->dir[index >> CAP_CHUNK_SHIFT], __ATOMIC_ACQUIRE);
}

static inline uint64_t *cap_word_ptr(const struct cap_space *space, uint32_t index) {
    return &cap_chunk_of(space, index)->words[index & CAP_CHUNK_MASK];
}

static inline struct cap_entry *cap_entry_ptr(const struct cap_space *space, uint32_t index) {
    return &cap_chunk_of(space, index)->entries[index & CAP_CHUNK_MASK];
}

static inline uint64_t cap_word_make(uint32_t gen, uint32_t type, uint32_t rights) {
    return ((uint64_t)gen << CAP_W_GEN_SHIFT) | CAP_W_LIVE | ((uint64_t)type << CAP_W_TYPE_SHIFT) |
           (uint64_t)rights;
}

static inline uint32_t cap_word_rights(uint64_t w) {
    return (uint32_t)(w & CAP_W_RIGHTS_MASK);
}

static inline uint32_t cap_word_type(uint64_t w) {
    return (uint32_t)((w & CAP_W_TYPE_MASK) >> CAP_W_TYPE_SHIFT);
}

static inline uint32_t cap_word_gen(uint64_t w) {
    return (uint32_t)(w >> CAP_W_GEN_SHIFT);
}

/* Slot management (cap_space.c); the caller holds space->lock for all three. */
/*
 * Reserve a dead slot (links clear) and the generation it will carry, growing the table
 * by one chunk if needed. KEEL_EEXHAUSTED (quota or capacity), KEEL_ENOMEM, KEEL_EINVAL
 * (space dying). Nothing changes on failure; the slot is not live until published.
 */
__must_check kstatus_t cap_slot_alloc(struct cap_space *space, uint32_t *index, uint32_t *gen);
/* Make a reserved slot live: entry fields first, then the word (release). */
void cap_slot_publish(struct cap_space *space, uint32_t index, uint32_t gen, uint32_t type,
                      uint32_t rights, void *object, uint64_t badge);
/*
 * Kill a live slot whose tree links are already unlinked: word first (generation + 1),
 * then the entry fields; back on the free list, or retired at the last generation.
 */
void cap_slot_free(struct cap_space *space, uint32_t index);

/*
 * Check under space->lock that `handle` names a live slot; give its word and entry.
 * KEEL_EBADCAP otherwise.
 */
__must_check kstatus_t cap_slot_get(struct cap_space *space, keel_handle_t handle, uint64_t *word,
                                    struct cap_entry **entry);

/*
 * Derivation-sequence primitives (cap_tree.c), all O(1); the caller holds cap_tree_lock
 * (cap_tree_init_root() also works on an entry no sequence can reach yet).
 */
/* Make e a root with no descendants: its own open, close pair. */
void cap_tree_init_root(struct cap_entry *e);
/* Link child (not in any sequence) as the first child of parent. */
void cap_tree_insert_child(struct cap_entry *parent, struct cap_entry *child);
/* Remove e's tokens; its descendants become its parent's children. Clears e's links. */
void cap_tree_unlink(struct cap_entry *e);
/* Put repl (not in any sequence) exactly where old is; old's links are cleared. */
void cap_tree_replace(struct cap_entry *old, struct cap_entry *repl);
/* True if e has at least one descendant. */
bool cap_tree_has_children(const struct cap_entry *e);
/* e's first descendant (the owner of the token after e's open), or NULL. */
struct cap_entry *cap_tree_first_descendant(const struct cap_entry *e);

#endif /* CAP_INTERNAL_H */
