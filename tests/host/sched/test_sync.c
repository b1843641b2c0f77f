/* SPDX-License-Identifier: MIT */
/*
 * Host tests of src/sync/ through the scheduler policy: wait-queue order (FIFO,
 * exclusive/non-exclusive), a randomised no-lost-wake-up model of the prepare / check /
 * block protocol (seed printed, KEEL_SEED), semaphores and mutexes (FIFO hand-off, exact
 * counts, timeouts), the blocking calls through simulated thread ops, and rwlocks under
 * real threads.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arch/timer.h>
#include <kernel/sched.h>
#include <kernel/sync.h>
#include <kernel/timer.h>
#include <kernel/waitqueue.h>

#include "fake_timer.h"
#include "sched_test.h"

#define NE 16
static struct sched_entity ents[NE];
static wait_queue_entry_t wents[NE];

static int setup(void **state) {
    (void)state;
    assert_int_equal(sched_init(2), KEEL_OK);
    fake_timer_reset(NSEC_PER_SEC); /* 1 tick = 1 ns */
    assert_int_equal(clock_register(arch_timer_freq_hz(), arch_timer_now_ticks), KEEL_OK);
    for (int i = 0; i < NE; i++) {
        sched_entity_init(&ents[i], (uint64_t)i);
        ents[i].affinity = CPUMASK_CPU(0);
    }
    sched_set_thread_ops(NULL);
    return 0;
}

/* Make entity i run on CPU 0, prepare, queue on wq and block. */
static void wait_on(wait_queue_head_t *wq, int i, bool exclusive) {
    struct sched_entity *e = &ents[i];
    if (e->state == SCHED_DETACHED) {
        assert_int_equal(sched_add(e, SCHED_PRIO_NORMAL, 0), KEEL_OK);
    }
    while (sched_cpu_get(0)->curr != e) {
        struct sched_cpu *rq = sched_cpu_get(0);
        if (rq->curr != NULL && rq->curr->state == SCHED_RUNNING) {
            assert_int_equal(sched_yield_cpu(0, 0), KEEL_OK);
        }
        (void)sched_pick_next(0, 0);
    }
    init_wait_entry(&wents[i], e, 0);
    assert_int_equal(prepare_to_wait(wq, &wents[i], 0, exclusive), KEEL_OK);
    bool blocked = false;
    assert_int_equal(sched_block(0, e, SCHED_BLOCK_IO, TIME_NEVER, 0, &blocked), KEEL_OK);
    assert_true(blocked);
    (void)sched_pick_next(0, 0);
}

static void test_waitqueue_order(void **state) {
    (void)state;
    wait_queue_head_t wq;
    init_waitqueue_head(&wq);
    assert_int_equal(wake_up(&wq), 0);
    for (int i = 0; i < 4; i++) {
        wait_on(&wq, i, true);
    }
    assert_int_equal(wq.count, 4);
    /* exclusive waiters: one per wake_up, oldest first */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(wake_up(&wq), 1);
        assert_true(wents[i].woken);
        assert_false(wents[i].queued);
        assert_int_equal(ents[i].state, SCHED_QUEUED);
        for (int k = i + 1; k < 4; k++) {
            assert_int_equal(ents[k].state, SCHED_BLOCKED);
        }
    }
    assert_int_equal(wq.count, 0);
    /* non-exclusive ones ahead of the first exclusive are all woken with it */
    wait_on(&wq, 4, false);
    wait_on(&wq, 5, false);
    wait_on(&wq, 6, true);
    wait_on(&wq, 7, false);
    wait_on(&wq, 8, true);
    assert_int_equal(wake_up(&wq), 3);
    assert_int_equal(ents[7].state, SCHED_BLOCKED);
    assert_int_equal(ents[8].state, SCHED_BLOCKED);
    assert_int_equal(wake_up_all(&wq), 2);
    assert_int_equal(wq.count, 0);
    /* remove_wait_queue takes an entry out: it is not woken */
    wait_on(&wq, 9, true);
    remove_wait_queue(&wq, &wents[9]);
    assert_int_equal(wake_up(&wq), 0);
    assert_int_equal(ents[9].state, SCHED_BLOCKED);
}

/*
 * Randomised model of the protocol on two CPUs: waiters loop { prepare_to_wait; if
 * (tokens) { take one; break } sched_block } finish_wait; producers add a token and
 * wake_up() at random points, including between "check" and "block". Invariants: a
 * waiter blocked without a timeout is always on the queue; tokens are conserved; and
 * once producers stop and the system settles, no token is left while a waiter sleeps.
 */
enum { W = 8 };
static int pc[W];
static long tokens, produced, consumed;
static wait_queue_head_t mwq;

static void model_step(unsigned c, struct sched_entity *e, uint64_t now, bool use_timeouts) {
    int w = (int)e->id;
    switch (pc[w]) {
    case 0:
        assert_int_equal(prepare_to_wait(&mwq, &wents[w], c, true), KEEL_OK);
        pc[w] = 1;
        break;
    case 1:
        if (tokens > 0) {
            tokens--;
            consumed++;
            finish_wait(&mwq, &wents[w]);
            pc[w] = 0;
        } else {
            pc[w] = 2;
        }
        break;
    case 2: {
        bool blocked = false;
        uint64_t to = use_timeouts && st_below(4) == 0 ? st_below(300 * US) : TIME_NEVER;
        assert_int_equal(sched_block(c, e, SCHED_BLOCK_IPC, to, now, &blocked), KEEL_OK);
        pc[w] = 0; /* woken (or not blocked): loop and check again */
        break;
    }
    }
}

static void check_model(void) {
    assert_int_equal(produced, consumed + tokens);
    for (int w = 0; w < W; w++) {
        if (ents[w].state == SCHED_BLOCKED && ents[w].timeout_at == TIME_NEVER) {
            assert_true(wents[w].queued); /* a sleeper can always be found by a waker */
        }
    }
}

static void run_model(long steps, bool use_timeouts) {
    init_waitqueue_head(&mwq);
    tokens = produced = consumed = 0;
    uint64_t now = 0;
    struct sched_entity *cur[2] = {NULL, NULL};
    for (int w = 0; w < W; w++) {
        sched_entity_init(&ents[w], (uint64_t)w);
        ents[w].affinity = CPUMASK_CPU(w & 1);
        init_wait_entry(&wents[w], &ents[w], WQ_FLAG_EXCLUSIVE);
        pc[w] = 0;
        assert_int_equal(sched_add(&ents[w], SCHED_PRIO_NORMAL, now), KEEL_OK);
    }
    for (long s = 0; s < steps; s++) {
        unsigned c = (unsigned)st_below(2);
        now += st_below(20 * US);
        switch (st_below(6)) {
        case 0:
            tokens++;
            produced++;
            (void)wake_up_nr_at(&mwq, 1, now);
            break;
        case 1:
            (void)timer_run_expired(c, now);
            break;
        case 2:
            if (sched_tick(c, now) || st_below(3) == 0) {
                cur[c] = sched_pick_next(c, now);
            }
            break;
        default:
            if (cur[c] == NULL || cur[c]->state != SCHED_RUNNING) {
                cur[c] = sched_pick_next(c, now);
            } else {
                model_step(c, cur[c], now, use_timeouts);
            }
        }
        check_model();
    }
    /* settle: no more tokens; run until nothing is runnable */
    for (long s = 0; s < 100000; s++) {
        now += 50 * US;
        unsigned idle = 0;
        for (unsigned c = 0; c < 2; c++) {
            (void)timer_run_expired(c, now);
            if (cur[c] == NULL || cur[c]->state != SCHED_RUNNING) {
                cur[c] = sched_pick_next(c, now);
            }
            if (cur[c] == NULL) {
                idle++;
            } else {
                model_step(c, cur[c], now, false);
            }
        }
        if (idle == 2 && timer_pending_count(0) + timer_pending_count(1) == 0) {
            break;
        }
    }
    check_model();
    assert_int_equal(tokens, 0); /* every token found a waiter */
    for (int w = 0; w < W; w++) {
        assert_int_equal(ents[w].state, SCHED_BLOCKED);
    }
    printf("  model: %ld tokens produced and consumed\n", produced);
}

static void test_no_lost_wakeups(void **state) {
    (void)state;
    run_model(1000000, false);
}

static void test_no_lost_wakeups_with_timeouts(void **state) {
    (void)state;
    run_model(500000, true);
}

/* ---- semaphores and mutexes through their portable halves ---- */

static void test_semaphore_fifo_handoff(void **state) {
    (void)state;
    semaphore_t sem;
    sema_init(&sem, 2);
    for (int i = 0; i < 6; i++) {
        init_wait_entry(&wents[i], NULL, 0); /* no thread: order and counts only */
    }
    assert_int_equal(sema_down_begin(&sem, &wents[0]), KEEL_OK);
    assert_int_equal(sema_down_begin(&sem, &wents[1]), KEEL_OK);
    for (int i = 2; i < 6; i++) {
        assert_int_equal(sema_down_begin(&sem, &wents[i]), KEEL_EBUSY);
    }
    assert_int_equal(down_trylock(&sem), KEEL_EBUSY);
    up(&sem); /* to waiter 2 */
    assert_true(wents[2].woken);
    assert_int_equal(sema_down_end(&sem, &wents[2]), KEEL_OK);
    assert_int_equal(sem.count, 0);
    /* waiter 3 times out; the next unit skips it */
    assert_int_equal(sema_down_end(&sem, &wents[3]), KEEL_ETIMEOUT);
    up(&sem);
    assert_false(wents[3].woken);
    assert_true(wents[4].woken);
    /* a unit handed over just as the waiter timed out is still its: no unit lost */
    up(&sem);
    assert_true(wents[5].woken);
    assert_int_equal(sema_down_end(&sem, &wents[5]), KEEL_OK);
    /* no waiters: units count up, and late-comers take them */
    up(&sem);
    up(&sem);
    assert_int_equal(sem.count, 2);
    assert_int_equal(down_trylock(&sem), KEEL_OK);
    assert_int_equal(sem.count, 1);
    /* without a thread layer, down() works uncontended and says ENOTSUP otherwise */
    assert_int_equal(down(&sem), KEEL_OK);
    assert_int_equal(down(&sem), KEEL_ENOTSUP);
    sema_init(&sem, -3);
    assert_int_equal(sem.count, 0);
}

static void test_semaphore_random_counts(void **state) {
    (void)state;
    semaphore_t sem;
    sema_init(&sem, 3);
    enum { NW = 12 };
    static wait_queue_entry_t we[NW];
    int st[NW] = {0}; /* 0 idle, 1 waiting, 2 holding */
    int holding = 0, fifo[NW], head = 0, tail = 0;
    for (long s = 0; s < 500000; s++) {
        int i = (int)st_below(NW);
        if (st[i] == 0) {
            init_wait_entry(&we[i], NULL, 0);
            kstatus_t r = sema_down_begin(&sem, &we[i]);
            if (r == KEEL_OK) {
                assert_true(head == tail); /* no barging past waiters */
                st[i] = 2;
                holding++;
            } else {
                st[i] = 1;
                fifo[tail++ % NW] = i;
            }
        } else if (st[i] == 2) {
            up(&sem);
            st[i] = 0;
            holding--;
            if (head != tail) { /* the oldest waiter got it */
                int o = fifo[head++ % NW];
                assert_true(we[o].woken);
                assert_int_equal(sema_down_end(&sem, &we[o]), KEEL_OK);
                st[o] = 2;
                holding++;
            }
        } else if (st_below(8) == 0 && fifo[head % NW] != i) {
            /* a waiter (not the oldest) gives up */
            assert_int_equal(sema_down_end(&sem, &we[i]), KEEL_ETIMEOUT);
            st[i] = 0;
            int k = head;
            while (fifo[k % NW] != i) {
                k++;
            }
            for (; k + 1 < tail; k++) {
                fifo[k % NW] = fifo[(k + 1) % NW];
            }
            tail--;
        }
        assert_int_equal(holding + sem.count, 3); /* units are conserved */
        assert_int_equal((int)sem.wq.count, tail - head);
    }
}

static void test_mutex_owner(void **state) {
    (void)state;
    mutex_t m;
    mutex_init(&m);
    assert_int_equal(mutex_lock_begin(&m, &ents[0], &wents[0]), KEEL_OK);
    assert_ptr_equal(m.owner, &ents[0]);
    assert_int_equal(mutex_trylock_as(&m, &ents[1]), KEEL_EBUSY);
    assert_int_equal(mutex_lock_begin(&m, &ents[1], &wents[1]), KEEL_EBUSY);
    assert_int_equal(mutex_lock_begin(&m, &ents[2], &wents[2]), KEEL_EBUSY);
    assert_int_equal(mutex_unlock_as(&m, &ents[2]), KEEL_EPERM); /* not the owner */
    assert_int_equal(mutex_unlock_as(&m, &ents[0]), KEEL_OK);
    assert_ptr_equal(m.owner, &ents[1]); /* handed to the oldest waiter */
    assert_int_equal(mutex_lock_end(&m, &ents[1], &wents[1]), KEEL_OK);
    assert_int_equal(mutex_unlock_as(&m, &ents[0]), KEEL_EPERM);
    assert_int_equal(mutex_unlock_as(&m, &ents[1]), KEEL_OK);
    assert_ptr_equal(m.owner, &ents[2]);
    assert_int_equal(mutex_lock_end(&m, &ents[2], &wents[2]), KEEL_OK);
    assert_int_equal(mutex_unlock_as(&m, &ents[2]), KEEL_OK);
    assert_null(m.owner);
    assert_int_equal(m.sem.count, 1);
    assert_int_equal(mutex_unlock_as(&m, NULL), KEEL_EPERM); /* not locked */
}

/* ---- the blocking calls, with simulated thread ops on CPU 0 ---- */

static struct sched_entity *sim_cur;
static void (*world)(void); /* what "other threads" do while the caller sleeps */
static int switches;

static struct sched_entity *sim_current(void) {
    return sim_cur;
}
static unsigned sim_this_cpu(void) {
    return 0;
}
static void sim_switch_out(void) {
    struct sched_entity *me = sim_cur;
    switches++;
    for (int guard = 0; guard < 1000; guard++) {
        if (world != NULL) {
            world();
        }
        uint64_t now = get_monotonic_time();
        (void)timer_run_expired(0, now);
        struct sched_entity *next = sched_pick_next(0, now);
        if (next == me) {
            sim_cur = me;
            return;
        }
        if (next != NULL) { /* someone else runs a little and yields */
            sim_cur = next;
            assert_int_equal(sched_yield_cpu(0, now), KEEL_OK);
        }
        fake_timer_advance_ticks(100 * US);
    }
    fail_msg("the sleeper was never woken");
}
static const struct sched_thread_ops sim_ops = {
    .current = sim_current, .this_cpu = sim_this_cpu, .switch_out = sim_switch_out};

static semaphore_t wsem;
static int world_calls;
static void world_up_later(void) {
    if (++world_calls == 3) {
        up(&wsem);
    }
}

static void start_sim(void) {
    assert_int_equal(sched_add(&ents[0], SCHED_PRIO_NORMAL, 0), KEEL_OK);
    assert_int_equal(sched_add(&ents[1], SCHED_PRIO_NORMAL, 0), KEEL_OK);
    sim_cur = sched_pick_next(0, 0);
    sched_set_thread_ops(&sim_ops);
    switches = world_calls = 0;
    world = NULL;
}

static void test_blocking_calls(void **state) {
    (void)state;
    start_sim();
    struct sched_entity *me = sim_cur;
    assert_ptr_equal(sched_current(), me);
    /* down() sleeps until another thread's up() */
    sema_init(&wsem, 0);
    world = world_up_later;
    assert_int_equal(down(&wsem), KEEL_OK);
    assert_int_equal(world_calls, 3);
    assert_int_equal(me->block_reason, SCHED_BLOCK_MUTEX);
    /* down_timeout() gives up after its time, on the simulated clock */
    world = NULL;
    uint64_t t0 = get_monotonic_time();
    assert_int_equal(down_timeout(&wsem, 2 * MS), KEEL_ETIMEOUT);
    uint64_t waited = get_monotonic_time() - t0;
    assert_true(waited >= 2 * MS && waited < 3 * MS);
    assert_int_equal(wsem.wq.count, 0);
    /* msleep sleeps at least that long */
    t0 = get_monotonic_time();
    assert_int_equal(msleep(5), KEEL_OK);
    assert_true(get_monotonic_time() - t0 >= 5 * MS);
    assert_int_equal(me->block_reason, SCHED_BLOCK_SLEEP);
    /* sleep_on_timeout with nobody waking it */
    wait_queue_head_t wq;
    init_waitqueue_head(&wq);
    assert_int_equal(sleep_on_timeout(&wq, MS), KEEL_ETIMEOUT);
    assert_int_equal(wq.count, 0);
    /* mutex_lock / unlock as the current thread */
    mutex_t m;
    mutex_init(&m);
    assert_int_equal(mutex_lock(&m), KEEL_OK);
    assert_ptr_equal(m.owner, me);
    assert_int_equal(mutex_unlock(&m), KEEL_OK);
    sched_set_thread_ops(NULL);
    assert_int_equal(msleep(1), KEEL_ENOTSUP);
}

static bool cond_flag;
static bool read_flag(void *arg) {
    (void)arg;
    return cond_flag;
}
static wait_queue_head_t cwq;
static void world_set_flag(void) {
    if (++world_calls == 4) {
        cond_flag = true;
        (void)wake_up(&cwq);
    } else if (world_calls < 4) {
        (void)wake_up(&cwq); /* spurious: the condition is still false */
    }
}

static void test_sleep_on_condition(void **state) {
    (void)state;
    start_sim();
    init_waitqueue_head(&cwq);
    cond_flag = true;
    int before = switches;
    assert_int_equal(sleep_on_condition(&cwq, read_flag, NULL), KEEL_OK);
    assert_int_equal(switches, before); /* true at once: no sleep */
    cond_flag = false;
    world = world_set_flag;
    assert_int_equal(sleep_on_condition(&cwq, read_flag, NULL), KEEL_OK);
    assert_true(cond_flag);
    assert_true(switches - before >= 2); /* woken spuriously, slept again */
    assert_int_equal(cwq.count, 0);
    cond_flag = false;
    world = NULL;
    assert_int_equal(sleep_on_condition_timeout(&cwq, read_flag, NULL, 3 * MS), KEEL_ETIMEOUT);
    sched_set_thread_ops(NULL);
}

/* ---- rwlocks under real threads ---- */

static rwlock_t rw = RWLOCK_INIT;
static long shared_a, shared_b; /* writers keep a == b; readers must never see them differ */
static long readers_in, bad;

static void *rw_thread(void *arg) {
    uint64_t r = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    for (int i = 0; i < 20000; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        if ((r & 3) == 0) {
            write_lock(&rw);
            if (__atomic_load_n(&readers_in, __ATOMIC_RELAXED) != 0) {
                __atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
            }
            shared_a++;
            shared_b++;
            write_unlock(&rw);
        } else {
            read_lock(&rw);
            __atomic_fetch_add(&readers_in, 1, __ATOMIC_RELAXED);
            if (shared_a != shared_b) {
                __atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
            }
            __atomic_fetch_sub(&readers_in, 1, __ATOMIC_RELAXED);
            read_unlock(&rw);
        }
    }
    return NULL;
}

static void test_rwlock(void **state) {
    (void)state;
    rwlock_init(&rw);
    assert_true(read_trylock(&rw));
    assert_true(read_trylock(&rw));
    assert_false(write_trylock(&rw));
    read_unlock(&rw);
    read_unlock(&rw);
    assert_true(write_trylock(&rw));
    assert_false(read_trylock(&rw));
    assert_false(write_trylock(&rw));
    write_unlock(&rw);
    pthread_t th[2];
    for (uintptr_t i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, rw_thread, (void *)(i + 1)), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    assert_int_equal(bad, 0);
    assert_int_equal(shared_a, shared_b);
    assert_true(shared_a > 0);
    assert_int_equal(rw.state, 0);
}

int main(int argc, char **argv) {
    st_seed_init(argc, argv, "sched_sync");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_waitqueue_order, setup),
        cmocka_unit_test_setup(test_no_lost_wakeups, setup),
        cmocka_unit_test_setup(test_no_lost_wakeups_with_timeouts, setup),
        cmocka_unit_test_setup(test_semaphore_fifo_handoff, setup),
        cmocka_unit_test_setup(test_semaphore_random_counts, setup),
        cmocka_unit_test_setup(test_mutex_owner, setup),
        cmocka_unit_test_setup(test_blocking_calls, setup),
        cmocka_unit_test_setup(test_sleep_on_condition, setup),
        cmocka_unit_test_setup(test_rwlock, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
