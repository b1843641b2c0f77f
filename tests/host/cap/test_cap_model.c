/* SPDX-License-Identifier: MIT */
/*
 * Randomised model-based test of src/cap/: millions of create / derive / transfer /
 * delete / revoke / validate steps over several spaces, each result checked against a
 * plain reference model (parent pointers, no tricks). Seed: KEEL_SEED or argv[1];
 * steps: KEEL_STEPS or argv[2]. The seed is printed so any failure can be replayed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <kernel/cap.h>

#include "heap_shim.h"

#define NSPACES 4
#define MAXM    512 /* model slots: more than the total capacity below */
#define NSTALE  1024

static const uint32_t capacity[NSPACES] = {40, 64, 24, 96};

struct mcap {
    bool live;
    int space;
    keel_handle_t h;
    uint32_t type;
    uint32_t rights;
    uint64_t badge;
    void *obj;
    int parent; /* model id, -1 for a root */
};

struct stale {
    int space;
    keel_handle_t h;
};

static struct cap_space *spaces[NSPACES];
static uint32_t quota[NSPACES];
static uint32_t mlive[NSPACES];
static struct mcap m[MAXM];
static int live_ids[MAXM];
static int nlive;
static struct stale stale[NSTALE];
static unsigned nstale;
static char objects[64];
static uint64_t rng;
static uint64_t seed;
static unsigned long step;
static const char *op_name = "";

static uint64_t next(void) {
    /* splitmix64 */
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t below(uint32_t n) {
    return (uint32_t)(next() % n);
}

/* Outcome histogram per operation, printed at the end to show what was exercised. */
enum { OP_CREATE, OP_DERIVE, OP_TRANSFER, OP_DELETE, OP_REVOKE, OP_VALIDATE, OP_N };
static const char *const op_names[OP_N] = {"create", "derive", "transfer",
                                           "delete", "revoke", "validate"};
static unsigned long outcomes[OP_N][KEEL_ERROR_COUNT];
static int op_id;

#define EXPECT(got, want)                                                                          \
    do {                                                                                           \
        long g_ = (long)(got), w_ = (long)(want);                                                  \
        if (w_ <= 0 && w_ > -KEEL_ERROR_COUNT) {                                                   \
            outcomes[op_id][-w_]++;                                                                \
        }                                                                                          \
        if (g_ != w_) {                                                                            \
            printf("cap_model: seed=%llu step=%lu op=%s: got %ld want %ld (line %d)\n",            \
                   (unsigned long long)seed, step, op_name, g_, w_, __LINE__);                     \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

static int m_alloc(void) {
    for (int i = 0; i < MAXM; i++) {
        if (!m[i].live) {
            m[i].live = true;
            live_ids[nlive++] = i;
            return i;
        }
    }
    fail_msg("model pool full");
    return -1;
}

static void m_kill(int id) {
    m[id].live = false;
    mlive[m[id].space]--;
    stale[nstale++ % NSTALE] = (struct stale){m[id].space, m[id].h};
    for (int i = 0; i < nlive; i++) {
        if (live_ids[i] == id) {
            live_ids[i] = live_ids[--nlive];
            break;
        }
    }
}

static bool space_full(int s) {
    return mlive[s] >= quota[s] || mlive[s] >= capacity[s];
}

static void m_add(int id, int s, keel_handle_t h) {
    /* A new handle is never one that is live in the same space. */
    for (int i = 0; i < nlive; i++) {
        int o = live_ids[i];
        if (o != id && m[o].space == s && m[o].h == h) {
            EXPECT(h, 0);
        }
    }
    m[id].space = s;
    m[id].h = h;
    mlive[s]++;
}

static int pick_live(void) {
    return nlive == 0 ? -1 : live_ids[below((uint32_t)nlive)];
}

static uint32_t rand_rights(void) {
    return below(16) == 0 ? (uint32_t)next() : below(KEEL_RIGHTS_ALL + 1);
}

static void op_create(void) {
    op_name = "create";
    op_id = OP_CREATE;
    int s = (int)below(NSPACES);
    uint32_t type = below(20) == 0 ? below(300) : 1 + below(KEEL_OBJ_TYPE_COUNT - 1);
    uint32_t rights = rand_rights();
    void *obj = &objects[below(sizeof(objects))];
    keel_handle_t h = 0;
    kstatus_t st = cap_create(spaces[s], type, obj, rights, &h);
    if (type == KEEL_OBJ_NONE || type >= KEEL_OBJ_TYPE_COUNT || (rights & ~KEEL_RIGHTS_ALL)) {
        EXPECT(st, KEEL_EINVAL);
        return;
    }
    if (space_full(s)) {
        EXPECT(st, KEEL_EEXHAUSTED);
        return;
    }
    EXPECT(st, KEEL_OK);
    int id = m_alloc();
    m[id] = (struct mcap){true, s, 0, type, rights, 0, obj, -1};
    m_add(id, s, h);
}

/* A handle to act on: usually a live one, sometimes a stale one. */
static int pick_target(int *s, keel_handle_t *h) {
    if (nstale > 0 && below(10) == 0) {
        struct stale *x = &stale[below(nstale < NSTALE ? nstale : NSTALE)];
        *s = x->space;
        *h = x->h;
        return -1;
    }
    int id = pick_live();
    if (id < 0) {
        *s = 0;
        *h = KEEL_HANDLE_MAKE(1, 1u << 31);
        return -1;
    }
    *s = m[id].space;
    *h = m[id].h;
    return id;
}

static void op_derive(void) {
    op_name = "derive";
    op_id = OP_DERIVE;
    int s;
    keel_handle_t h;
    int id = pick_target(&s, &h);
    uint32_t rights =
        below(4) == 0 ? rand_rights() : (id >= 0 ? m[id].rights & (uint32_t)next() : 0);
    uint64_t badge = below(8) == 0 ? 1 + below(1000) : 0;
    keel_handle_t out = 0;
    kstatus_t st = cap_derive(spaces[s], h, rights, badge, &out);
    if (rights & ~KEEL_RIGHTS_ALL) {
        EXPECT(st, KEEL_EINVAL);
    } else if (id < 0) {
        EXPECT(st, KEEL_EBADCAP);
    } else if (rights & ~m[id].rights) {
        EXPECT(st, KEEL_EPERM);
    } else if (badge != 0 && m[id].type != KEEL_OBJ_IPC_ENDPOINT) {
        EXPECT(st, KEEL_EINVAL);
    } else if (badge != 0 && m[id].badge != 0) {
        EXPECT(st, KEEL_EPERM);
    } else if (space_full(s)) {
        EXPECT(st, KEEL_EEXHAUSTED);
    } else {
        EXPECT(st, KEEL_OK);
        int c = m_alloc();
        m[c] = (struct mcap){true,      s, 0, m[id].type, rights, badge ? badge : m[id].badge,
                             m[id].obj, id};
        m_add(c, s, out);
    }
}

static void op_transfer(void) {
    op_name = "transfer";
    op_id = OP_TRANSFER;
    int s;
    keel_handle_t h;
    int id = pick_target(&s, &h);
    int d = (int)below(NSPACES);
    uint32_t mode = below(50) == 0 ? 2 : below(2);
    keel_handle_t out = 0;
    kstatus_t st = cap_transfer(spaces[s], h, spaces[d], mode, &out);
    if (mode > KEEL_CAP_MOVE) {
        EXPECT(st, KEEL_EINVAL);
    } else if (id < 0) {
        EXPECT(st, KEEL_EBADCAP);
    } else if (!(m[id].rights & KEEL_RIGHT_GRANT)) {
        EXPECT(st, KEEL_EPERM);
    } else if (space_full(d)) {
        EXPECT(st, KEEL_EEXHAUSTED);
    } else if (mode == KEEL_CAP_COPY) {
        EXPECT(st, KEEL_OK);
        int c = m_alloc();
        m[c] = m[id];
        m[c].parent = id;
        m_add(c, d, out);
    } else {
        EXPECT(st, KEEL_OK);
        /* Same model node, new home; the old handle goes stale. */
        mlive[s]--;
        stale[nstale++ % NSTALE] = (struct stale){s, h};
        m_add(id, d, out);
    }
}

static void op_delete(void) {
    op_name = "delete";
    op_id = OP_DELETE;
    int s;
    keel_handle_t h;
    int id = pick_target(&s, &h);
    kstatus_t st = cap_delete(spaces[s], h);
    if (id < 0) {
        EXPECT(st, KEEL_EBADCAP);
        return;
    }
    EXPECT(st, KEEL_OK);
    for (int i = 0; i < nlive; i++) {
        if (m[live_ids[i]].parent == id) {
            m[live_ids[i]].parent = m[id].parent;
        }
    }
    m_kill(id);
}

/* 1 if model node x descends from t; memo: 0 unknown, 1 yes, 2 no. */
static unsigned char memo[MAXM];

static bool descends(int x, int t) {
    int path[MAXM];
    int n = 0;
    int cur = m[x].parent;
    unsigned char verdict = 2;
    while (cur >= 0) {
        if (cur == t || memo[cur] == 1) {
            verdict = 1;
            break;
        }
        if (memo[cur] == 2) {
            break;
        }
        path[n++] = cur;
        cur = m[cur].parent;
    }
    for (int i = 0; i < n; i++) {
        memo[path[i]] = verdict;
    }
    memo[x] = verdict;
    return verdict == 1;
}

static void op_revoke(void) {
    op_name = "revoke";
    op_id = OP_REVOKE;
    int s;
    keel_handle_t h;
    int id = pick_target(&s, &h);
    uint32_t budget = below(3) == 0 ? 1 + below(8) : 0;
    if (id < 0) {
        EXPECT(budget ? cap_revoke_step(spaces[s], h, budget) : cap_revoke(spaces[s], h),
               KEEL_EBADCAP);
        return;
    }
    int victims[MAXM];
    int nv = 0;
    memset(memo, 0, sizeof(memo));
    memo[id] = 2;
    for (int i = 0; i < nlive; i++) {
        if (live_ids[i] != id && descends(live_ids[i], id)) {
            victims[nv++] = live_ids[i];
        }
    }
    if (budget == 0) {
        EXPECT(cap_revoke(spaces[s], h), KEEL_OK);
    } else {
        int steps = nv == 0 ? 1 : (nv + (int)budget - 1) / (int)budget;
        for (int i = 0; i < steps; i++) {
            EXPECT(cap_revoke_step(spaces[s], h, budget), i + 1 < steps ? KEEL_EBUSY : KEEL_OK);
        }
    }
    for (int i = 0; i < nv; i++) {
        m_kill(victims[i]);
    }
}

static void check_one(int s, keel_handle_t h, int id) {
    uint32_t type = 1 + below(KEEL_OBJ_TYPE_COUNT - 1);
    uint32_t rights = below(KEEL_RIGHTS_ALL + 1);
    if (id >= 0 && below(2) == 0) {
        type = m[id].type;
    }
    kstatus_t st = cap_validate(spaces[s], h, type, rights);
    if (id < 0 || type != m[id].type) {
        EXPECT(st, KEEL_EBADCAP);
    } else if (rights & ~m[id].rights) {
        EXPECT(st, KEEL_EPERM);
    } else {
        EXPECT(st, KEEL_OK);
    }
    struct cap_info info;
    st = cap_lookup(spaces[s], h, KEEL_OBJ_NONE, 0, &info);
    if (id < 0) {
        EXPECT(st, KEEL_EBADCAP);
    } else {
        EXPECT(st, KEEL_OK);
        EXPECT(info.type, m[id].type);
        EXPECT(info.rights, m[id].rights);
        EXPECT(info.badge, m[id].badge);
        EXPECT((uintptr_t)info.object, (uintptr_t)m[id].obj);
    }
}

static void op_validate(void) {
    op_name = "validate";
    op_id = OP_VALIDATE;
    int s;
    keel_handle_t h;
    int id = pick_target(&s, &h);
    check_one(s, h, id);
}

static void full_check(void) {
    op_name = "full_check";
    op_id = OP_VALIDATE;
    for (int i = 0; i < nlive; i++) {
        int id = live_ids[i];
        EXPECT(cap_validate(spaces[m[id].space], m[id].h, m[id].type, m[id].rights), KEEL_OK);
        check_one(m[id].space, m[id].h, id);
    }
    unsigned n = nstale < NSTALE ? nstale : NSTALE;
    for (unsigned i = 0; i < n; i++) {
        check_one(stale[i].space, stale[i].h, -1);
    }
    for (int s = 0; s < NSPACES; s++) {
        EXPECT(cap_space_count(spaces[s]), mlive[s]);
        EXPECT(cap_space_audit(spaces[s]), KEEL_OK);
    }
}

static unsigned long steps_total = 3000000;

static void test_model(void **state) {
    (void)state;
    printf("cap_model: seed=%llu steps=%lu (replay: KEEL_SEED=%llu)\n", (unsigned long long)seed,
           steps_total, (unsigned long long)seed);
    rng = seed;
    for (int s = 0; s < NSPACES; s++) {
        quota[s] = capacity[s];
        assert_int_equal(cap_space_create(capacity[s], quota[s], &spaces[s]), KEEL_OK);
    }
    for (step = 0; step < steps_total; step++) {
        uint32_t r = below(1000);
        if (r < 180) {
            op_create();
        } else if (r < 400) {
            op_derive();
        } else if (r < 560) {
            op_transfer();
        } else if (r < 740) {
            op_delete();
        } else if (r < 790) {
            op_revoke();
        } else if (r < 995) {
            op_validate();
        } else {
            op_name = "set_quota";
            int s = (int)below(NSPACES);
            quota[s] = 1 + below(capacity[s]);
            EXPECT(cap_space_set_quota(spaces[s], quota[s]), KEEL_OK);
        }
        if (step % 65536 == 0) {
            full_check();
        }
    }
    full_check();
    for (int o = 0; o < OP_N; o++) {
        printf("cap_model: %-8s ok=%lu einval=%lu eperm=%lu ebadcap=%lu eexhausted=%lu ebusy=%lu\n",
               op_names[o], outcomes[o][0], outcomes[o][-KEEL_EINVAL], outcomes[o][-KEEL_EPERM],
               outcomes[o][-KEEL_EBADCAP], outcomes[o][-KEEL_EEXHAUSTED], outcomes[o][-KEEL_EBUSY]);
    }
    for (int s = 0; s < NSPACES; s++) {
        cap_space_destroy(spaces[s]);
    }
    assert_int_equal(heap_shim_live(), 0);
}

static unsigned long long env_or_arg(const char *env, int argc, char **argv, int i,
                                     unsigned long long dflt) {
    const char *v = i < argc ? argv[i] : getenv(env);
    return v != NULL && *v != '\0' ? strtoull(v, NULL, 0) : dflt;
}

int main(int argc, char **argv) {
    seed = env_or_arg("KEEL_SEED", argc, argv, 1, (unsigned long long)time(NULL));
    steps_total = (unsigned long)env_or_arg("KEEL_STEPS", argc, argv, 2, steps_total);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
