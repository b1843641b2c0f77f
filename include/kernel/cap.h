/* SPDX-License-Identifier: MIT */
/*
 * Capability spaces: the kernel side of Keel's security model. Every kernel object is
 * reached through a capability held in the caller's space; this header is the portable
 * API the syscall, IPC and process layers call. docs/capabilities.md explains the
 * handle encoding, the derivation tree, revocation and the lock order.
 */
#ifndef KERNEL_CAP_H
#define KERNEL_CAP_H

#include <keel/cap.h>
#include <kernel/types.h>

struct cap_space;

/* Largest capacity (usable slots) a space may be created with. */
#define CAP_SPACE_MAX_CAPACITY (1u << 24)

/* Work done by cap_revoke() per step: capabilities removed under one lock hold. */
#define CAP_REVOKE_BUDGET 64u

/* What cap_lookup() reports about a valid capability. */
struct cap_info {
    void *object;   /* the kernel object, as given to cap_create() */
    uint64_t badge; /* 0 when unbadged */
    uint32_t type;  /* KEEL_OBJ_* */
    uint32_t rights;
};

/*
 * Create an empty space holding up to `capacity` capabilities (1..CAP_SPACE_MAX_CAPACITY),
 * of which at most `quota` may be live at once. KEEL_EINVAL on bad sizes, KEEL_ENOMEM.
 * Thread context, no locks held.
 */
__must_check kstatus_t cap_space_create(uint32_t capacity, uint32_t quota, struct cap_space **out);

/*
 * Delete every capability in `space` (their derived children elsewhere move up to the
 * nearest surviving ancestor) and free it. The owner must be dead: nobody may use the
 * space concurrently, though other spaces may keep working. Takes the tree lock.
 */
void cap_space_destroy(struct cap_space *space);

/* Change the live-capability quota; KEEL_EINVAL if 0 or above the capacity. Space lock. */
__must_check kstatus_t cap_space_set_quota(struct cap_space *space, uint32_t quota);

/* Number of live capabilities in `space` (a snapshot). Lock-free. */
uint32_t cap_space_count(const struct cap_space *space);

/*
 * Hot path: does `handle` name a live capability of `type` with all of `rights`?
 * KEEL_OK, KEEL_EBADCAP (stale, out of range, or wrong type), KEEL_EPERM (a right
 * missing, or a bit outside KEEL_RIGHTS_ALL requested). Lock-free, any context.
 */
__must_check kstatus_t cap_validate(const struct cap_space *space, keel_handle_t handle,
                                    uint32_t type, uint32_t rights);

/*
 * cap_validate() plus a consistent snapshot of the capability in *out. `type` may be
 * KEEL_OBJ_NONE to accept any type. Same errors as cap_validate(). Lock-free; the object
 * stays alive only as long as the object layer guarantees it.
 */
__must_check kstatus_t cap_lookup(const struct cap_space *space, keel_handle_t handle,
                                  uint32_t type, uint32_t rights, struct cap_info *out);

/*
 * Make a root capability to `object` (non-NULL) in `space`. KEEL_EINVAL on a bad type,
 * rights or object, KEEL_EEXHAUSTED when the space is full or over quota, KEEL_ENOMEM.
 * Takes the space lock.
 */
__must_check kstatus_t cap_create(struct cap_space *space, uint32_t type, void *object,
                                  uint32_t rights, keel_handle_t *out);

/*
 * Derive a child of `handle` in the same space with `rights` (a subset of the parent's)
 * and, on an unbadged endpoint capability, a non-zero `badge` (0 = inherit). KEEL_EBADCAP,
 * KEEL_EPERM (rights would grow, or badge already set), KEEL_EINVAL (bad rights bits,
 * badge on a non-endpoint), KEEL_EEXHAUSTED, KEEL_ENOMEM. Tree lock, then space lock.
 */
__must_check kstatus_t cap_derive(struct cap_space *space, keel_handle_t handle, uint32_t rights,
                                  uint64_t badge, keel_handle_t *out);

/*
 * Give `handle` from `src` to `dst` (may be the same space). KEEL_CAP_COPY derives a child
 * with the same rights and badge; KEEL_CAP_MOVE keeps its place in the derivation tree and
 * frees the source slot. Needs KEEL_RIGHT_GRANT on the source (KEEL_EPERM). KEEL_EBADCAP,
 * KEEL_EINVAL (bad mode), KEEL_EEXHAUSTED / KEEL_ENOMEM in `dst`. Tree lock, then one
 * space lock at a time.
 */
__must_check kstatus_t cap_transfer(struct cap_space *src, keel_handle_t handle,
                                    struct cap_space *dst, uint32_t mode, keel_handle_t *out);

/*
 * Remove one capability from `space`. Its derived children stay, attached to its parent.
 * KEEL_EBADCAP if the handle is stale. Tree lock, then space lock; O(1).
 */
__must_check kstatus_t cap_delete(struct cap_space *space, keel_handle_t handle);

/*
 * Remove up to `budget` (>= 1) capabilities derived from `handle`, in any space; the
 * target itself stays. KEEL_OK when none are left, KEEL_EBUSY when more remain (call
 * again; locks are dropped in between), KEEL_EBADCAP, KEEL_EINVAL on budget 0.
 * Tree lock for the whole step; each removal takes its space's lock.
 */
__must_check kstatus_t cap_revoke_step(struct cap_space *space, keel_handle_t handle,
                                       uint32_t budget);

/*
 * Remove every capability derived from `handle`, transitively and across spaces, in steps
 * of CAP_REVOKE_BUDGET. KEEL_OK or KEEL_EBADCAP (also when the target is deleted by
 * someone else mid-way). Thread context.
 */
__must_check kstatus_t cap_revoke(struct cap_space *space, keel_handle_t handle);

/*
 * Check the internal invariants of `space` (slot words, free list, counts, tree links).
 * KEEL_OK or KEEL_ECORRUPT. Takes the tree lock and the space lock; O(capacity).
 */
__must_check kstatus_t cap_space_audit(struct cap_space *space);

#endif /* KERNEL_CAP_H */
