/* tests/check_sup_tree.c - a three-level supervision tree, one table row
 * per rule: a leaf crash restarts exactly what the strategies on its path
 * say and nothing else (the tree's pids compared before and after), a
 * middle supervisor that exceeds its intensity is restarted by the root
 * (or takes the root down when the root's intensity is 0), and a call to
 * a server child that is killed and restarted while the call waits.
 *
 *     root  one_for_one
 *       m1  one_for_all, intensity 1: a1 a2 a3
 *       m2  rest_for_one:             b1 b2 b3
 *       w   worker
 *       echo worker
 *
 * OTP 25 behaves so (checked with an escript of the same tree first).
 * Leaves are servers registered under their id that tell the log (the
 * row's main) {started, Id, Pid} in init, before their start returns, so
 * the log is in start order; the log orders the steps and a poll has a
 * bound.  Rows run on 1 and 2 schedulers. */
#include <stdint.h>
#include <string.h>

#include "hive/hive.h"
#include "runtime/util.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"
#include "tests/signal_util.h"

/* WAIT_MS bounds a wait for what must come; TREE_MAX is the most
 * supervisors and children a snapshot holds. */
enum { WAIT_MS = SIGNAL_WAIT_MS, TREE_MAX = 16 };

static const char LOG_NAME[] = "tree_log";
static const char KILLER_NAME[] = "killer";

/* ---- leaves ------------------------------------------------------------- */

/* A leaf: arg is its id.  Calls: `hold` is left unanswered, telling the
 * killer {holding, Self}; anything else is answered pong.  The cast
 * {exit, Reason} stops it with Reason. */
static enum hv_server_init_action
leaf_init(void *arg, void **state, int64_t *timeout_ms, hv_term *reason)
{
    (void)timeout_ms;
    (void)reason;
    hv_send(hv_atom(LOG_NAME),
            hv_tuple(3, hv_atom("started"), arg_pid(arg), hv_self()));
    *state = arg;
    return HV_SERVER_INIT_OK;
}

static hv_server_result
leaf_call(hv_term request, hv_term from, void *state)
{
    (void)from;
    (void)state;
    if (request != hv_atom("hold"))
        return hv_result_reply(hv_atom("pong"));
    hv_send(hv_atom(KILLER_NAME), hv_tuple(2, hv_atom("holding"), hv_self()));
    return hv_result_noreply();
}

static hv_server_result
leaf_cast(hv_term msg, void *state)
{
    (void)state;
    return hv_result_stop(hv_retain(hv_tuple_at(msg, 1)), HV_NONE);
}

static const hv_server_callbacks leaf_cb = {
    .init = leaf_init,
    .handle_call = leaf_call,
    .handle_cast = leaf_cast,
};

/* spec.start of a leaf: arg is its id, also its registered name. */
static int
start_leaf(void *arg, hv_term args, hv_term *pid, hv_term *reason)
{
    (void)args;
    hv_server_opts o = {0};
    o.link = true;
    o.name = arg_pid(arg);
    return hv_server_start(&leaf_cb, arg, &o, pid, reason);
}

static hv_child_spec
leaf(const char *id)
{
    hv_child_spec c = {0};
    c.id = hv_atom(id);
    c.start = start_leaf;
    c.arg = pid_arg(c.id);
    return c;
}

/* ---- supervisors -------------------------------------------------------- */

struct mid {
    const char *id;
    hv_sup_strategy strategy;
    int intensity;
    const char *leaves[3];
};

static const struct mid mids[] = {
    {"m1", HV_ONE_FOR_ALL, 1, {"a1", "a2", "a3"}},
    {"m2", HV_REST_FOR_ONE, 5, {"b1", "b2", "b3"}},
};

/* spec.start of a middle supervisor: arg is its struct mid. */
static int
start_mid(void *arg, hv_term args, hv_term *pid, hv_term *reason)
{
    (void)args;
    const struct mid *m = arg;
    hv_sup_flags f = {m->strategy, m->intensity, 60000, HV_AUTO_NEVER};
    hv_child_spec c[3];
    hv_server_opts o = {0};

    o.link = true;
    for (int i = 0; i < 3; i++)
        c[i] = leaf(m->leaves[i]);
    return hv_sup_start(&f, c, 3, &o, pid, reason);
}

/* (process) The tree, linked to the caller; the root allows
 * root_intensity restarts a minute.  The log gets every leaf's start. */
static hv_term
start_tree(int root_intensity)
{
    hv_sup_flags f = {HV_ONE_FOR_ONE, root_intensity, 60000, HV_AUTO_NEVER};
    hv_child_spec c[] = {leaf("m1"), leaf("m2"), leaf("w"), leaf("echo")};
    hv_server_opts o = {0};
    hv_term root = HV_NONE, why = HV_NONE;

    for (int i = 0; i < 2; i++) {
        c[i].start = start_mid;
        c[i].arg = (void *)&mids[i];
        c[i].type = HV_SUPERVISOR;
    }
    o.link = true;
    if (!EXPECT(hv_sup_start(&f, c, HV_ARRAY_LEN(c), &o, &root, &why) == HV_OK))
        hv_release(why);
    return root;
}

/* ---- snapshots and the log ------------------------------------------------
 */

/* Every supervisor's children, by id: ids and pids are immediates. */
struct snap {
    size_t n;
    hv_term id[TREE_MAX], pid[TREE_MAX];
};

/* (process) Lists the tree under root breadth first: each supervisor's
 * which_children, entering the children of type supervisor. */
static void
snapshot(hv_term root, struct snap *s)
{
    hv_term sups[TREE_MAX] = {root};
    size_t nsups = 1;

    s->n = 0;
    for (size_t i = 0; i < nsups; i++) {
        hv_term list = HV_NONE;
        if (!EXPECT(hv_sup_which_children(sups[i], &list) == HV_OK))
            continue;
        for (hv_term l = list; hv_is_cons(l); l = hv_list_tail(l)) {
            hv_term e = hv_list_head(l), pid = hv_tuple_at(e, 1);
            if (!EXPECT(s->n < TREE_MAX && hv_is_pid(pid)))
                break;
            s->id[s->n] = hv_tuple_at(e, 0);
            s->pid[s->n++] = pid;
            if (is_atom(hv_tuple_at(e, 2), "supervisor") && nsups < TREE_MAX)
                sups[nsups++] = pid;
        }
        hv_release(list);
    }
}

/* Whether atom id is one of the space-separated names in list. */
static bool
listed(const char *list, hv_term id)
{
    size_t len = 0;
    const char *name = hv_atom_name(id, &len);

    for (const char *at = list; name != NULL && *at != '\0';) {
        size_t n = strcspn(at, " ");
        if (n == len && memcmp(at, name, len) == 0)
            return true;
        at += n + (at[n] == ' ');
    }
    return false;
}

/* Whether the ids whose pid differs between a and b are exactly those
 * in `changed` (space-separated). */
static bool
changed_exactly(const struct snap *a, const struct snap *b, const char *changed)
{
    bool ok = EXPECT(a->n == b->n && a->n == 10);
    for (size_t i = 0; i < a->n && i < b->n; i++) {
        bool moved = a->pid[i] != b->pid[i];
        ok &= hv_expect_at(a->id[i] == b->id[i] &&
                               moved == listed(changed, a->id[i]),
                           hv_atom_name(a->id[i], NULL), __LINE__);
    }
    return ok;
}

/* (process, the log) Whether the next starts are exactly those of the
 * leaves in `ids` (space-separated), in that order. */
static bool
started(const char *ids)
{
    bool ok = true;

    for (const char *at = ids; *at != '\0';) {
        size_t n = strcspn(at, " ");
        hv_term m = recv_match("{started, _, _}", NULL, WAIT_MS);
        ok &= hv_expect_at(hv_tuple_at(m, 1) == hv_atom_n(at, n, NULL), at,
                           __LINE__);
        hv_release(m);
        at += n + (at[n] == ' ');
    }
    return ok;
}

/* (process) Whether no leaf started that the caller has not taken. */
static bool
no_more_starts(void)
{
    return hv_expect_at(recv_match("{started, _, _}", NULL, 0) == HV_NONE,
                        "no more starts", __LINE__);
}

/* (process) Makes leaf id (a registered name) end with `reason`. */
static void
crash(const char *id, const char *reason)
{
    EXPECT(hv_cast(hv_atom(id),
                   hv_tuple(2, hv_atom("exit"), hv_atom(reason))) == HV_OK);
}

/* ---- rows -----------------------------------------------------------------
 */

/* OTP: a leaf's crash is handled by its own supervisor alone: one_for_all
 * restarts m1's three leaves, rest_for_one the crashed one and those
 * after it, the root's one_for_one only w; no supervisor is restarted.
 * m1 (intensity 1) crashed twice gives up with `shutdown`, and the root
 * restarts it, which starts its leaves afresh.  With root intensity 0
 * that restart is one too many: the root ends with `shutdown`, stopping
 * the whole tree. */
static const struct {
    const char *leaf;
    int crashes, root_intensity;
    const char *starts;  /* after each crash */
    const char *changed; /* NULL: the root ends */
} tree_rows[] = {
    {"a2", 1, 5, "a1 a2 a3", "a1 a2 a3"},    {"b2", 1, 5, "b2 b3", "b2 b3"},
    {"b1", 1, 5, "b1 b2 b3", "b1 b2 b3"},    {"w", 1, 5, "w", "w"},
    {"a1", 2, 5, "a1 a2 a3", "m1 a1 a2 a3"}, {"a1", 2, 0, "a1 a2 a3", NULL},
};

static void
leaf_crashes_restart_what_the_strategies_say(void)
{
    for (size_t r = 0; r < HV_ARRAY_LEN(tree_rows); r++) {
        struct snap before, after;
        hv_term root = start_tree(tree_rows[r].root_intensity);
        EXPECT(started("a1 a2 a3 b1 b2 b3 w echo"));
        snapshot(root, &before);
        for (int i = 0; i < tree_rows[r].crashes; i++) {
            crash(tree_rows[r].leaf, "boom");
            if (tree_rows[r].changed || i + 1 < tree_rows[r].crashes)
                EXPECT(started(tree_rows[r].starts));
        }
        if (tree_rows[r].changed == NULL) {
            EXPECT(got("{'EXIT', ^R, shutdown}", HV_PINS(root)));
            for (size_t i = 0; i < before.n; i++)
                EXPECT(is_dead(before.pid[i]));
            EXPECT(no_more_starts());
            continue;
        }
        snapshot(root, &after);
        EXPECT(changed_exactly(&before, &after, tree_rows[r].changed));
        EXPECT(no_more_starts());
        EXPECT(hv_server_stop(root, hv_atom("shutdown"), WAIT_MS) == HV_OK);
        EXPECT(got("{'EXIT', ^R, shutdown}", HV_PINS(root)));
    }
}

/* The killer: waits for {holding, Pid} and kills Pid with `boom`. */
static void
killer(void *unused)
{
    (void)unused;
    hv_term m = recv_match("{holding, _}", NULL, WAIT_MS);
    EXPECT(hv_exit_pid(hv_tuple_at(m, 1), hv_atom("boom")) == HV_OK);
    hv_release(m);
}

/* OTP: a gen_server:call whose server dies before answering exits the
 * caller with the server's reason (hive: HV_EEXIT and the reason); the
 * supervisor restarts the server under its name, and the next call by
 * name reaches the new instance.  Nothing else in the tree moves. */
static void
call_survives_a_restart_mid_call(void)
{
    struct snap before, after;
    hv_spawn_opts o = {0};
    hv_term root = start_tree(5), k = HV_NONE, reply = HV_NONE;

    EXPECT(started("a1 a2 a3 b1 b2 b3 w echo"));
    snapshot(root, &before);
    hv_term old = hv_whereis(hv_atom("echo"));
    o.name = hv_atom(KILLER_NAME);
    EXPECT(hv_spawn_opt(killer, NULL, &o, &k, NULL) == HV_OK);
    EXPECT(hv_call(hv_atom("echo"), hv_atom("hold"), WAIT_MS, &reply) ==
           HV_EEXIT);
    EXPECT(matches(reply, "boom", NULL));
    hv_term m = recv_match("{started, echo, _}", NULL, WAIT_MS);
    hv_term now = hv_tuple_at(m, 2);
    hv_release(m);
    EXPECT(hv_is_pid(now) && now != old);
    for (int i = 0; i < WAIT_MS && hv_whereis(hv_atom("echo")) != now; i++)
        hv_sleep(1); /* the name is the new instance's by its init */
    reply = HV_NONE;
    EXPECT(hv_call(hv_atom("echo"), hv_atom("ping"), WAIT_MS, &reply) == HV_OK);
    EXPECT(matches(reply, "pong", NULL));
    snapshot(root, &after);
    EXPECT(changed_exactly(&before, &after, "echo"));
    EXPECT(no_more_starts());
    EXPECT(hv_server_stop(root, hv_atom("shutdown"), WAIT_MS) == HV_OK);
    EXPECT(got("{'EXIT', ^R, shutdown}", HV_PINS(root)));
}

/* ---- the table --------------------------------------------------------------
 */

static void (*const rows[])(void) = {
    leaf_crashes_restart_what_the_strategies_say,
    call_survives_a_restart_mid_call,
};

/* Main of a row: traps exits (the root is linked to it) and is the log. */
static void
run_logged_row(void *arg)
{
    hv_trap_exit(true);
    EXPECT(hv_register(hv_atom(LOG_NAME), hv_self(), NULL) == HV_OK);
    (*(void (*const *)(void))arg)();
}

START_TEST(test_sup_tree_rule)
{
    run_main(run_logged_row, (void *)&rows[_i], 1);
    run_main(run_logged_row, (void *)&rows[_i], 2);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("sup_tree");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_loop_test(tc, test_sup_tree_rule, 0, (int)HV_ARRAY_LEN(rows));
    return s;
}
