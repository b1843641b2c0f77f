/* SPDX-License-Identifier: MIT */
/*
 * Keel status codes, shared by the kernel and user space.
 * Every kernel entry point reachable from user space returns one of these:
 * 0 for success, a negative KEEL_E* code for failure (the seed's KernelError).
 */
#ifndef KEEL_ERRORS_H
#define KEEL_ERRORS_H

#define KEEL_OK          0
#define KEEL_EINVAL      (-1)  /* InvalidParameter */
#define KEEL_ENOTFOUND   (-2)  /* NotFound */
#define KEEL_EPERM       (-3)  /* PermissionDenied */
#define KEEL_ENOMEM      (-4)  /* OutOfMemory */
#define KEEL_EBUSY       (-5)  /* Busy */
#define KEEL_ETIMEOUT    (-6)  /* Timeout */
#define KEEL_EEXHAUSTED  (-7)  /* ResourceExhausted */
#define KEEL_EBADCAP     (-8)  /* InvalidCapability */
#define KEEL_EIPC        (-9)  /* IpcError */
#define KEEL_EMEMORY     (-10) /* MemoryError */
#define KEEL_ECORRUPT    (-11) /* malformed or truncated input (firmware blob, image) */
#define KEEL_ERANGE      (-12) /* value or buffer out of range (would truncate) */
#define KEEL_ENOTSUP     (-13) /* not supported by this hardware or build */
#define KEEL_EFAULT      (-14) /* bad user address */
#define KEEL_EEXIST      (-15) /* already exists / already done (e.g. double free) */
#define KEEL_ERROR_COUNT 16    /* number of codes including KEEL_OK */

#endif /* KEEL_ERRORS_H */
