/* SPDX-License-Identifier: MIT */
/*
 * Capability ABI shared by the kernel and user space: object type numbers, rights
 * bits and the encoding of the handles user space holds. No kernel internals here;
 * docs/capabilities.md describes the model.
 */
#ifndef KEEL_CAP_H
#define KEEL_CAP_H

#include <stdint.h>

/*
 * A handle names one slot of the caller's capability space: the slot index in bits
 * 0..31 and the slot's generation in bits 32..63. Generations start at 1, so the
 * all-zero handle is never valid.
 */
typedef uint64_t keel_handle_t;

#define KEEL_HANDLE_NULL      ((keel_handle_t)0)
#define KEEL_HANDLE_GEN_SHIFT 32
#define KEEL_HANDLE_MAKE(index, gen)                                                               \
    ((((keel_handle_t)(uint32_t)(gen)) << KEEL_HANDLE_GEN_SHIFT) | (keel_handle_t)(uint32_t)(index))
#define KEEL_HANDLE_INDEX(h) ((uint32_t)((h)&0xffffffffu))
#define KEEL_HANDLE_GEN(h)   ((uint32_t)((h) >> KEEL_HANDLE_GEN_SHIFT))

/* Object types (the seed's ObjectType, then Keel's additions). 0 is never a live type. */
#define KEEL_OBJ_NONE          0u
#define KEEL_OBJ_MEMORY        1u
#define KEEL_OBJ_PROCESS       2u
#define KEEL_OBJ_THREAD        3u
#define KEEL_OBJ_IPC_ENDPOINT  4u
#define KEEL_OBJ_FILE          5u
#define KEEL_OBJ_DEVICE        6u
#define KEEL_OBJ_NOTIFICATION  7u
#define KEEL_OBJ_SHARED_REGION 8u
#define KEEL_OBJ_ADDRESS_SPACE 9u
#define KEEL_OBJ_IRQ           10u
#define KEEL_OBJ_RING          11u
#define KEEL_OBJ_TYPE_COUNT    12u /* valid live types are 1 .. KEEL_OBJ_TYPE_COUNT - 1 */

/* Rights bits, exactly the seed's Rights values. */
#define KEEL_RIGHT_READ    (1u << 0)
#define KEEL_RIGHT_WRITE   (1u << 1)
#define KEEL_RIGHT_EXECUTE (1u << 2)
#define KEEL_RIGHT_DELETE  (1u << 3)
#define KEEL_RIGHT_GRANT   (1u << 4)
#define KEEL_RIGHT_MAP     (1u << 5)
#define KEEL_RIGHTS_ALL    0x3fu

/* Transfer modes: a copy is derived from the source; a move keeps its place in the tree. */
#define KEEL_CAP_COPY 0u
#define KEEL_CAP_MOVE 1u

#endif /* KEEL_CAP_H */
