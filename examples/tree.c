/* examples/tree.c - a supervision tree, crashes injected into it, and
 * what restarts and why.
 *
 *   root      one_for_one:  restarts only the child that died
 *     frontend  one_for_all:  restarts all its children
 *       listener  session_1  session_2
 *     storage   rest_for_one: restarts the child that died and the
 *       db  cache_1  cache_2  index_1      children started after it
 *
 * Workers are servers; every process is registered under its name.  A
 * crash is hv_call(W, {divide, 1, 0}), which ends W as Erlang's badarith
 * would (hv_call returns HV_EEXIT and the reason), or hv_exit_pid(W,
 * kill); then exactly the processes the strategy names must have new
 * pids.  Then storage restarts more often than its intensity allows and
 * gives up; root restarts it.  Last, a clean shutdown.  Exit status 1 at
 * the first surprise; --short changes nothing: the story is short. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <hive/hive.h>

enum { WAIT_MS = 30000, PERIOD_MS = 60000 }; /* stuck; intensity period */

/* The tree in start order: a supervisor's children name it as parent. */
struct node {
    const char *name;
    int parent; /* index of the supervisor; -1 for root */
    bool supervisor;
    hv_sup_strategy strategy;
    int intensity; /* restarts allowed per PERIOD_MS */
};
/* clang-format off */
enum { ROOT, FRONTEND, LISTENER, SESSION_1, SESSION_2,
       STORAGE, DB, CACHE_1, CACHE_2, INDEX_1, N_NODES };
static const struct node tree[N_NODES] = {
    {"root", -1, true, HV_ONE_FOR_ONE, 3},
    {"frontend", ROOT, true, HV_ONE_FOR_ALL, 3},
    {"listener", FRONTEND}, {"session_1", FRONTEND}, {"session_2", FRONTEND},
    {"storage", ROOT, true, HV_REST_FOR_ONE, 3},
    {"db", STORAGE}, {"cache_1", STORAGE}, {"cache_2", STORAGE},
    {"index_1", STORAGE},
};
/* clang-format on */

/* A scene injects one crash; `restarts` is the set (a bit per node) of
 * the processes that must come back with new pids; `why` says why. */
struct scene {
    int victim;
    bool kill;    /* hv_exit_pid(victim, kill); else it divides by zero */
    int gives_up; /* a supervisor that must end with shutdown, or -1 */
    const char *why;
    unsigned restarts;
};
static const struct scene scenes[] = {
    {SESSION_1, false, -1,
     "frontend (one_for_all) stops its other children, restarts all three",
     1u << LISTENER | 1u << SESSION_1 | 1u << SESSION_2},
    {CACHE_2, false, -1,
     "storage (rest_for_one) restarts cache_2 and the workers after it: "
     "index_1\n  (restart 1 of the 3 a minute that storage allows)",
     1u << CACHE_2 | 1u << INDEX_1},
    {DB, true, -1,
     "storage (rest_for_one) restarts db and all after it (restart 2)",
     1u << DB | 1u << CACHE_1 | 1u << CACHE_2 | 1u << INDEX_1},
    {INDEX_1, true, -1,
     "storage (rest_for_one): index_1 is its last, so only it (restart 3)",
     1u << INDEX_1},
    {CACHE_1, false, STORAGE,
     "a 4th restart in a minute is one too many: storage stopped its children\n"
     "  and exited; root (one_for_one) restarts it alone, with new children",
     1u << STORAGE | 1u << DB | 1u << CACHE_1 | 1u << CACHE_2 | 1u << INDEX_1},
};

static hv_rset *down_set;        /* {'DOWN', ^Ref, process, _, Reason} */
static _Atomic hv_term observer; /* hears workers stop: main, at the end */

/* A surprise ends main with reason `surprise`: the exit status is 1. */
static void
check(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "tree: unexpected: %s\n", what);
    hv_exit(hv_atom("surprise"));
}

static const char *
text(hv_term t, char *buf, size_t size)
{
    return hv_format(t, buf, size) < 0 ? "?" : buf;
}

/* A worker's state is its name (no init callback: the state is the start
 * argument).  C has no exceptions: a handler crashes with hv_exit. */
static hv_server_result
divide(const hv_bindings *b, hv_term from, void *name)
{
    int64_t x = 0, y = 0;
    (void)from;
    hv_int_value(hv_binding(b, "A"), &x);
    hv_int_value(hv_binding(b, "B"), &y);
    if (y == 0)
        hv_exit(hv_make("{badarith, [{~a, divide, 2}]}", (const char *)name));
    return hv_result_reply(hv_make("{ok, ~l}", x / y));
}

/* Workers trap exits, so terminate runs when their supervisor stops them
 * (exit signal `shutdown`), as in OTP.  At the end it tells main who. */
static void
worker_terminate(hv_term reason, void *name)
{
    (void)reason;
    if (atomic_load(&observer) != HV_NONE) /* set once, never unset */
        hv_send(atomic_load(&observer), hv_atom(name));
}

static const hv_server_clause worker_clauses[] = {
    {"{divide, A, B} when is_integer(A), is_integer(B), B >= 0", divide}};
static const hv_server_callbacks worker_cb = {.terminate = worker_terminate};

static int start_node(void *arg, hv_term args, hv_term *pid, hv_term *reason);

/* Starts supervisor n with its children from the table; hv_sup_start
 * copies the specs and starts the children, in order, before it returns. */
static int
start_supervisor(const struct node *n, const hv_server_opts *opts, hv_term *pid,
                 hv_term *reason)
{
    hv_child_spec specs[N_NODES];
    size_t count = 0;
    for (int i = 0; i < N_NODES; i++)
        if (tree[i].parent == n - tree)
            specs[count++] = (hv_child_spec){
                .id = hv_atom(tree[i].name),
                .start = start_node,
                .arg = (void *)&tree[i], /* restart: permanent, the default */
                .type = tree[i].supervisor ? HV_SUPERVISOR : HV_WORKER};
    hv_sup_flags f = {n->strategy, n->intensity, PERIOD_MS, HV_AUTO_NEVER};
    return hv_sup_start(&f, specs, count, opts, pid, reason);
}

/* Every child spec's start function: runs in the parent supervisor and
 * starts the node linked to it, registered under its name. */
static int
start_node(void *arg, hv_term args, hv_term *pid, hv_term *reason)
{
    const struct node *n = arg;
    hv_server_opts opts = {
        .name = hv_atom(n->name), .link = true, .trap_exit = true};
    (void)args;
    if (n->supervisor)
        return start_supervisor(n, &opts, pid, reason);
    return hv_server_start_table(worker_clauses, 1, &worker_cb, (void *)n->name,
                                 &opts, pid, reason);
}

static hv_term
whereis(int i) /* the pid registered as node i, or HV_NONE */
{
    return hv_whereis(hv_atom(tree[i].name));
}

/* Waits until the scene's processes have new pids and each supervisor has
 * answered a call (it restarts between two messages, so none is then
 * half done), then checks that exactly those processes have new pids. */
static void
check_restarts(const struct scene *s, const hv_term *before)
{
    char was[32], now[32];
    hv_sup_counts counts;
    for (int i = 0, tries = 0; i < N_NODES; i++)
        while ((s->restarts >> i & 1) &&
               (whereis(i) == before[i] || whereis(i) == HV_NONE)) {
            check(tries++ < WAIT_MS, "the restarts did not happen");
            hv_sleep(1);
        }
    for (int i = 0; i < N_NODES; i++)
        if (tree[i].supervisor)
            check(hv_sup_count_children(whereis(i), &counts) == HV_OK,
                  "a supervisor did not answer");
    for (int i = 0; i < N_NODES; i++) {
        bool same = whereis(i) == before[i];
        check(same != (s->restarts >> i & 1), "a wrong set restarted");
        if (!same)
            printf("    %-9s %s -> %s\n", tree[i].name,
                   text(before[i], was, sizeof was),
                   text(whereis(i), now, sizeof now));
    }
    printf("  checked: exactly these got new pids; the others kept theirs\n");
}

/* Waits for the DOWN of monitor ref; returns its reason (new). */
static hv_term
await_down(hv_term ref)
{
    hv_bindings b;
    check(hv_receive(down_set, HV_PINS(ref), WAIT_MS, &b) == HV_OK,
          "no DOWN came");
    hv_term reason = hv_retain(hv_binding(&b, "Reason"));
    hv_bindings_release(&b);
    hv_release(ref);
    return reason;
}

/* Injects the scene's crash, says who died of what, checks the restarts. */
static void
play(int number, const struct scene *s)
{
    char buf[160];
    hv_term before[N_NODES], reply = HV_NONE, sup_ref = HV_NONE;
    for (int i = 0; i < N_NODES; i++)
        before[i] = whereis(i);
    int v = s->victim;
    hv_term victim_ref = hv_monitor(before[v]);
    if (s->gives_up >= 0)
        sup_ref = hv_monitor(before[s->gives_up]);
    printf("\nscene %d: ", number);
    if (s->kill) {
        printf("hv_exit_pid(%s, kill)\n", tree[v].name);
        hv_exit_pid(before[v], hv_atom("kill"));
    } else {
        printf("hv_call(%s, {divide, 1, 0}) returns HV_EEXIT\n", tree[v].name);
        check(hv_call(before[v], hv_parse("{divide, 1, 0}", NULL), WAIT_MS,
                      &reply) == HV_EEXIT,
              "the call returned");
    }
    hv_term reason = await_down(victim_ref);
    check(s->kill || hv_equal(reason, reply), "the call got another reason");
    printf("  crash: worker %s exited with %s\n", tree[v].name,
           text(reason, buf, sizeof buf));
    hv_release(reason);
    hv_release(reply);
    if (s->gives_up >= 0) { /* shutdown is an atom: nothing to release */
        check(await_down(sup_ref) == hv_atom("shutdown"), "it did not quit");
        printf("  then supervisor %s exited with shutdown\n",
               tree[s->gives_up].name);
    }
    printf("  %s\n", s->why);
    check_restarts(s, before);
}

/* Each supervisor stops its children in reverse start order, waiting for
 * each: the workers' terminates run in the table's order read backwards. */
static void
shut_down(void)
{
    hv_term name = HV_NONE, root = hv_atom("root");
    atomic_store(&observer, hv_self());
    printf("\nshutdown: hv_server_stop(root, shutdown) stops, in order:");
    int rc = hv_server_stop(root, hv_atom("shutdown"), WAIT_MS);
    check(rc == HV_OK, "hv_server_stop(root) failed");
    for (int i = N_NODES - 1; i >= 0; i--) { /* nothing else is queued */
        if (tree[i].supervisor)
            continue;
        check(hv_recv(WAIT_MS, &name) == HV_OK, "a worker did not stop");
        printf(" %s", hv_atom_name(name, NULL));
        check(name == hv_atom(tree[i].name), "out of order");
    }
    for (int i = 0; i < N_NODES; i++)
        check(whereis(i) == HV_NONE, "a process outlived the shutdown");
    printf("\n  checked: storage's workers last to first, then frontend's;"
           " nothing is left\n");
}

static void
run(void *arg)
{
    char pid[32];
    /* Unlinked: root's exit at the end must not take main with it. */
    hv_server_opts opts = {.name = hv_atom("root")};
    hv_term root = HV_NONE, reason = HV_NONE;
    (void)arg;
    check(start_supervisor(&tree[ROOT], &opts, &root, &reason) == HV_OK,
          "the tree did not start");
    printf("the tree, each supervisor starting its children in order:\n");
    for (int i = 0; i < N_NODES; i++) {
        int depth = (i != ROOT) + (i != ROOT && tree[i].parent != ROOT);
        printf("  %*s%-9s %s\n", 2 * depth, "", tree[i].name,
               text(whereis(i), pid, sizeof pid));
    }
    for (size_t k = 0; k < sizeof scenes / sizeof scenes[0]; k++)
        play((int)k + 1, &scenes[k]);
    shut_down();
    printf("ok\n");
}

int
main(void)
{
    hv_term reason = HV_NONE; /* --short is accepted and changes nothing */
    down_set = hv_rset_new(NULL, "{'DOWN', ^Ref, process, _, Reason}", NULL);
    bool ok = down_set != NULL && hv_run(run, NULL, NULL, &reason) == HV_OK &&
              hv_equal(reason, hv_atom("normal"));
    hv_release(reason);
    hv_rset_free(down_set);
    return ok ? 0 : 1;
}
