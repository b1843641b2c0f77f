/* SPDX-License-Identifier: MIT */
/*
 * Spinning read-write locks (CloudOS seed). One word holds a writer bit and the reader
 * count; a second counts waiting writers, and new readers hold back while it is non-zero,
 * so a stream of readers cannot starve a writer.
 */
#include <kernel/sync.h>

void rwlock_init(rwlock_t *lock) {
    __atomic_store_n(&lock->state, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&lock->writers_waiting, 0, __ATOMIC_RELAXED);
}

bool read_trylock(rwlock_t *lock) {
    uint32_t s = __atomic_load_n(&lock->state, __ATOMIC_RELAXED);
    if ((s & RWLOCK_WRITER) != 0 || __atomic_load_n(&lock->writers_waiting, __ATOMIC_RELAXED)) {
        return false;
    }
    return __atomic_compare_exchange_n(&lock->state, &s, s + 1, false, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

void read_lock(rwlock_t *lock) {
    while (!read_trylock(lock)) {
        arch_cpu_relax();
    }
}

void read_unlock(rwlock_t *lock) {
    __atomic_fetch_sub(&lock->state, 1, __ATOMIC_RELEASE);
}

bool write_trylock(rwlock_t *lock) {
    uint32_t expected = 0;
    return __atomic_compare_exchange_n(&lock->state, &expected, RWLOCK_WRITER, false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void write_lock(rwlock_t *lock) {
    __atomic_fetch_add(&lock->writers_waiting, 1, __ATOMIC_RELAXED);
    while (!write_trylock(lock)) {
        arch_cpu_relax();
    }
    __atomic_fetch_sub(&lock->writers_waiting, 1, __ATOMIC_RELAXED);
}

void write_unlock(rwlock_t *lock) {
    __atomic_store_n(&lock->state, 0, __ATOMIC_RELEASE);
}
