/* tests/check_supervisor.c - supervisors, one table row per rule: each
 * strategy's restart set and order, restart types against exit reasons,
 * intensity inside and beyond its period, the shutdown kinds, start and
 * stop order, a failing start, dynamic children, simple_one_for_one, bad
 * specs, auto_shutdown and restart backoff (hive's addition).
 *
 * Each row cites the Erlang/OTP 25 behaviour it pins, checked first with
 * a small program against OTP's supervisor.  Children report to the log
 * (the row's main): {started, Id} when they start, {stopped, Id} from a
 * hv_defer cleanup however they end, so the log is the order of what the
 * supervisor did.  Server children (spec.start, hv_server_start with
 * .link) log in init, before the start returns; plain ones (spec.fn) are
 * last or alone, where their later start cannot reorder the log.  The
 * log, calls and monitors order the steps; polls and sleeps are bounds.
 * Rows run on 1 and 2 schedulers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hive/hive.h"
#include "runtime/util.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"
#include "tests/signal_util.h"

/* WAIT_MS bounds a wait for what must come; LOG_MAX entries at most are
 * taken at once; SLOW_MS is how long a slow child takes to end once
 * asked. */
enum { WAIT_MS = SIGNAL_WAIT_MS, LOG_MAX = 16, SLOW_MS = 100 };

/* ---- the log ------------------------------------------------------------- */

/* The log is the row's main process, registered under this name: its
 * mailbox keeps the entries in the order they were sent, since each is
 * sent before the step of the supervisor that follows it. */
static const char LOG_NAME[] = "sup_log";

/* Consumes entry: sends it to the log (dropped when there is none). */
static void
log_send(hv_term entry)
{
    hv_send(hv_atom(LOG_NAME), entry);
}

/* (process, the log) Whether the oldest n entries (n -1: all there are
 * now) are exactly `want` (a literal); waits for them up to WAIT_MS. */
static bool
log_is(int64_t n, const char *want)
{
    hv_rset *s = hv_rset_new(NULL, "{started, _}", "{stopped, _}",
                             "{ignored, _, _}", (const char *)NULL);
    hv_term e[LOG_MAX];
    hv_bindings b;
    size_t k = 0;
    char text[512] = "";

    while (EXPECT(s != NULL) && (n < 0 || k < (size_t)n) && k < LOG_MAX &&
           hv_receive(s, NULL, n < 0 ? 0 : WAIT_MS, &b) == HV_OK)
        e[k++] = b.msg;
    hv_rset_free(s);
    hv_term got = hv_list_v(k, e);
    hv_format(got, text, sizeof text);
    return hv_expect_at(matches(got, want, NULL), text, __LINE__);
}

/* ---- children ------------------------------------------------------------ */

/* A child's cleanup: {stopped, Id}, however it ends (even killed). */
static void
log_stopped(void *id)
{
    log_send(hv_tuple(2, hv_atom("stopped"), arg_pid(id)));
}

/* What every child does first. */
static void
child_begins(void *id)
{
    EXPECT(hv_defer(log_stopped, id) == HV_OK);
    log_send(hv_tuple(2, hv_atom("started"), arg_pid(id)));
}

/* A server child: arg is its id; stops with Reason on the cast
 * {exit, Reason}. */
static enum hv_server_init_action
worker_init(void *arg, void **state, int64_t *timeout_ms, hv_term *reason)
{
    (void)timeout_ms;
    (void)reason;
    child_begins(arg);
    *state = arg;
    return HV_SERVER_INIT_OK;
}

static hv_server_result
worker_cast(hv_term msg, void *state)
{
    (void)state;
    return hv_result_stop(hv_retain(hv_tuple_at(msg, 1)), HV_NONE);
}

static const hv_server_callbacks worker_cb = {
    .init = worker_init,
    .handle_cast = worker_cast,
};

/* spec.start of server children: arg is the id; NULL (for
 * simple_one_for_one) takes the args, an atom, as the id. */
static int
start_worker(void *arg, hv_term args, hv_term *pid, hv_term *reason)
{
    hv_server_opts o = {0};
    o.link = true;
    return hv_server_start(&worker_cb, arg ? arg : pid_arg(args), &o, pid,
                           reason);
}

/* spec.start: fails with reason `nope` (arg non-NULL) or says `ignore`
 * (arg NULL). */
static int
start_fails(void *arg, hv_term args, hv_term *pid, hv_term *reason)
{
    (void)args;
    *pid = HV_NONE;
    if (arg == NULL)
        return HV_OK;
    *reason = hv_atom("nope");
    return HV_EEXIT;
}

/* spec.fn: traps exits and ignores them, logging {ignored, Id, Reason}:
 * only a kill ends it. */
static void
stubborn(void *id)
{
    hv_term m = HV_NONE;
    hv_trap_exit(true);
    child_begins(id);
    while (hv_recv(HV_INFINITY, &m) == HV_OK) {
        if (is_tagged(m, "EXIT"))
            log_send(hv_tuple(3, hv_atom("ignored"), arg_pid(id),
                              hv_retain(hv_tuple_at(m, 2))));
        hv_release(m);
    }
}

/* spec.fn: traps exits; told to exit, takes SLOW_MS to do it. */
static void
slow(void *id)
{
    hv_term m = HV_NONE;
    hv_trap_exit(true);
    child_begins(id);
    if (!EXPECT(hv_recv(HV_INFINITY, &m) == HV_OK && is_tagged(m, "EXIT")))
        return;
    hv_term reason = hv_retain(hv_tuple_at(m, 2));
    hv_release(m);
    hv_sleep(SLOW_MS);
    hv_exit(reason);
}

/* A spec for child id started by start (a server) or fn (plain). */
static hv_child_spec
child(const char *id, hv_child_start *start, hv_fn *fn)
{
    hv_child_spec c = {0};
    c.id = hv_atom(id);
    c.start = start;
    c.fn = fn;
    c.arg = pid_arg(c.id);
    return c;
}

static hv_child_spec
worker(const char *id, hv_restart restart)
{
    hv_child_spec c = child(id, start_worker, NULL);
    c.restart = restart;
    return c;
}

/* ---- supervisors --------------------------------------------------------- */

static hv_sup_flags
flags(hv_sup_strategy strategy, int intensity, int64_t period_ms)
{
    hv_sup_flags f = {strategy, intensity, period_ms, HV_AUTO_NEVER};
    return f;
}

/* (process) A supervisor linked to the caller, or HV_NONE. */
static hv_term
start_sup(hv_sup_flags f, const hv_child_spec *c, size_t n)
{
    hv_server_opts o = {0};
    hv_term pid = HV_NONE, reason = HV_NONE;
    o.link = true;
    if (!EXPECT(hv_sup_start(&f, c, n, &o, &pid, &reason) == HV_OK)) {
        hv_release(reason);
        return HV_NONE;
    }
    return pid;
}

/* (process) Stops sup as its parent would and takes its EXIT. */
static void
stop_sup(hv_term sup)
{
    EXPECT(hv_server_stop(sup, hv_atom("shutdown"), WAIT_MS) == HV_OK);
    EXPECT(got("{'EXIT', ^S, shutdown}", HV_PINS(sup)));
}

/* (process) which_children (new), HV_NONE if the call failed. */
static hv_term
which(hv_term sup)
{
    hv_term list = HV_NONE;
    if (!EXPECT(hv_sup_which_children(sup, &list) == HV_OK))
        return HV_NONE;
    return list;
}

/* (process) The Child of id in which_children: a pid, `undefined` or
 * `restarting` (immediates); HV_NONE when sup has no such child. */
static hv_term
child_of(hv_term sup, const char *id)
{
    hv_term list = which(sup), child = HV_NONE;
    for (hv_term l = list; hv_is_cons(l); l = hv_list_tail(l)) {
        hv_term e = hv_list_head(l);
        if (is_atom(hv_tuple_at(e, 0), id))
            child = hv_tuple_at(e, 1);
    }
    hv_release(list);
    return child;
}

/* (process) Polls which_children until id's Child is no longer `old`
 * (the supervisor acts on a child's end after the caller may have seen
 * it) and returns it. */
static hv_term
child_change(hv_term sup, const char *id, hv_term old)
{
    hv_term now = old;
    for (int i = 0; i < WAIT_MS && now == old; i++) {
        now = child_of(sup, id);
        if (now == old)
            hv_sleep(1);
    }
    EXPECT(now != old);
    return now;
}

/* (process) Makes child id of sup end with the reason `reason` (text);
 * returns the pid it had. */
static hv_term
crash(hv_term sup, const char *id, const char *reason)
{
    hv_term pid = child_of(sup, id);
    EXPECT(hv_is_pid(pid));
    EXPECT(hv_cast(pid, hv_tuple(2, hv_atom("exit"), hv_parse(reason, NULL))) ==
           HV_OK);
    return pid;
}

/* Whether the text of reason (borrowed) holds `word`. */
static bool
names(hv_term reason, const char *word)
{
    char text[256] = "";
    hv_format(reason, text, sizeof text);
    return hv_expect_at(strstr(text, word) != NULL, text, __LINE__);
}

/* Whether rc is want and *why (taken: reset to HV_NONE) matches
 * pattern. */
static bool
failed_with(int rc, int want, hv_term *why, const char *pattern)
{
    hv_term t = *why;
    *why = HV_NONE;
    return hv_expect_at(rc == want, pattern, __LINE__) &
           matches(t, pattern, NULL);
}

/* ---- strategies ---------------------------------------------------------- */

/* OTP: b of a, b, c crashes.  one_for_one restarts b; one_for_all stops
 * the others in reverse order (c, a), then starts all in order;
 * rest_for_one stops those after b (c), then starts b, c.  Nothing else
 * is touched. */
static const struct {
    hv_sup_strategy strategy;
    int64_t n;
    const char *log, *changed;
} strategy_rows[] = {
    {HV_ONE_FOR_ONE, 2, "[{stopped, b}, {started, b}]", "b"},
    {HV_ONE_FOR_ALL, 6,
     "[{stopped, b}, {stopped, c}, {stopped, a},"
     " {started, a}, {started, b}, {started, c}]",
     "abc"},
    {HV_REST_FOR_ONE, 4,
     "[{stopped, b}, {stopped, c}, {started, b}, {started, c}]", "bc"},
};

static void
each_strategy_restarts_its_set_in_order(void)
{
    static const char *const ids[] = {"a", "b", "c"};
    hv_child_spec c[] = {worker("a", HV_PERMANENT), worker("b", HV_PERMANENT),
                         worker("c", HV_PERMANENT)};
    for (size_t r = 0; r < HV_ARRAY_LEN(strategy_rows); r++) {
        hv_term sup =
                    start_sup(flags(strategy_rows[r].strategy, 5, 10000), c, 3),
                before[3];
        EXPECT(log_is(3, "[{started, a}, {started, b}, {started, c}]"));
        for (int i = 0; i < 3; i++)
            before[i] = child_of(sup, ids[i]);
        crash(sup, "b", "boom");
        EXPECT(log_is(strategy_rows[r].n, strategy_rows[r].log));
        for (int i = 0; i < 3; i++) {
            hv_term now = child_of(sup, ids[i]);
            bool changed = strchr(strategy_rows[r].changed, *ids[i]);
            EXPECT(hv_is_pid(now) && (now != before[i]) == changed);
        }
        EXPECT(log_is(-1, "[]"));
        stop_sup(sup);
        EXPECT(log_is(3, "[{stopped, c}, {stopped, b}, {stopped, a}]"));
    }
}

/* OTP: simple_one_for_one children are started with start_child's
 * args, listed with Id undefined, restarted with the same args, and
 * stopped by pid; restart_child and delete_child answer
 * simple_one_for_one; count_children has one spec. */
static void
simple_one_for_one_starts_by_args_and_stops_by_pid(void)
{
    hv_child_spec t = worker("template", HV_PERMANENT);
    t.arg = NULL;
    hv_term sup = start_sup(flags(HV_SIMPLE_ONE_FOR_ONE, 5, 10000), &t, 1);
    hv_term x = HV_NONE, y = HV_NONE, why = HV_NONE;
    hv_sup_counts n;

    EXPECT(log_is(-1, "[]"));
    EXPECT(hv_sup_start_child_args(sup, hv_atom("x"), &x, &why) == HV_OK);
    EXPECT(hv_sup_start_child_args(sup, hv_atom("y"), &y, &why) == HV_OK);
    EXPECT(log_is(2, "[{started, x}, {started, y}]"));
    EXPECT(matches(which(sup),
                   "[{undefined, ^X, worker}, {undefined, ^Y, worker}]",
                   HV_PINS(x, y)));
    EXPECT(hv_sup_count_children(sup, &n) == HV_OK && n.specs == 1 &&
           n.active == 2 && n.workers == 2 && n.supervisors == 0);
    EXPECT(hv_sup_terminate_child(sup, x, &why) == HV_OK);
    EXPECT(log_is(1, "[{stopped, x}]"));
    EXPECT(failed_with(hv_sup_restart_child(sup, t.id, &x, &why), HV_EBADARG,
                       &why, "simple_one_for_one"));
    EXPECT(failed_with(hv_sup_delete_child(sup, t.id, &why), HV_EBADARG, &why,
                       "simple_one_for_one"));
    EXPECT(hv_cast(y, hv_parse("{exit, boom}", NULL)) == HV_OK);
    EXPECT(log_is(2, "[{stopped, y}, {started, y}]"));
    EXPECT(matches(which(sup), "[{undefined, P, worker}] when P =/= ^Y",
                   HV_PINS(y)));
    stop_sup(sup);
    EXPECT(log_is(1, "[{stopped, y}]"));
}

/* ---- restart types ------------------------------------------------------- */

/* OTP: permanent children are always restarted; transient ones unless
 * they end normal, shutdown or {shutdown, _} (then kept as undefined);
 * temporary ones never (and their spec is dropped).  Restarts are
 * immediate (hive's backoff is off by default): never `restarting`. */
static const struct {
    hv_restart restart;
    const char *reason;
    bool restarted;
} restart_rows[] = {
    {HV_PERMANENT, "normal", true},         {HV_PERMANENT, "shutdown", true},
    {HV_PERMANENT, "{shutdown, x}", true},  {HV_PERMANENT, "boom", true},
    {HV_TRANSIENT, "normal", false},        {HV_TRANSIENT, "shutdown", false},
    {HV_TRANSIENT, "{shutdown, x}", false}, {HV_TRANSIENT, "boom", true},
    {HV_TEMPORARY, "normal", false},        {HV_TEMPORARY, "shutdown", false},
    {HV_TEMPORARY, "{shutdown, x}", false}, {HV_TEMPORARY, "boom", false},
};

static void
restart_type_decides_by_exit_reason(void)
{
    for (size_t r = 0; r < HV_ARRAY_LEN(restart_rows); r++) {
        hv_child_spec c = worker("w", restart_rows[r].restart);
        hv_term sup = start_sup(flags(HV_ONE_FOR_ONE, 5, 10000), &c, 1);
        EXPECT(log_is(1, "[{started, w}]"));
        hv_term old = crash(sup, "w", restart_rows[r].reason);
        if (restart_rows[r].restarted) { /* at once: backoff is off */
            EXPECT(hv_is_pid(child_change(sup, "w", old)));
            EXPECT(log_is(2, "[{stopped, w}, {started, w}]"));
        } else {
            EXPECT(log_is(1, "[{stopped, w}]"));
            hv_term now = child_change(sup, "w", old);
            EXPECT(now == (restart_rows[r].restart == HV_TEMPORARY
                               ? HV_NONE
                               : HV_ATOM_UNDEFINED));
        }
        EXPECT(log_is(-1, "[]"));
        stop_sup(sup);
        EXPECT(log_is(-1, restart_rows[r].restarted ? "[{stopped, w}]" : "[]"));
    }
}

/* ---- intensity ----------------------------------------------------------- */

/* OTP: more than `intensity` restarts within the period: the crash past
 * the limit is not restarted, the other children are stopped in reverse
 * order and the supervisor ends with `shutdown`.  Intensity 0: the first
 * crash does it. */
static void
intensity_exceeded_shuts_the_supervisor_down(void)
{
    hv_child_spec c[] = {worker("a", HV_PERMANENT), worker("b", HV_PERMANENT),
                         worker("c", HV_PERMANENT)};
    for (int intensity = 0; intensity <= 2; intensity += 2) {
        hv_term sup = start_sup(flags(HV_ONE_FOR_ONE, intensity, 60000), c, 3);
        EXPECT(log_is(3, "[{started, a}, {started, b}, {started, c}]"));
        for (int i = 0; i < intensity; i++) {
            crash(sup, "b", "boom");
            EXPECT(log_is(2, "[{stopped, b}, {started, b}]"));
        }
        crash(sup, "b", "boom");
        EXPECT(got("{'EXIT', ^S, shutdown}", HV_PINS(sup)));
        EXPECT(log_is(-1, "[{stopped, b}, {stopped, c}, {stopped, a}]"));
        EXPECT(!hv_is_alive(sup));
    }
}

/* OTP: the same crashes spread wider than the period never exceed it
 * (intensity 1: three crashes, each over a period after the last). */
static void
crashes_spread_beyond_the_period_are_forgiven(void)
{
    enum { PERIOD_MS = 100 };
    hv_child_spec c = worker("w", HV_PERMANENT);
    hv_term sup = start_sup(flags(HV_ONE_FOR_ONE, 1, PERIOD_MS), &c, 1);
    EXPECT(log_is(1, "[{started, w}]"));
    for (int i = 0; i < 3; i++) {
        hv_sleep(PERIOD_MS + 20);
        crash(sup, "w", "boom");
        EXPECT(log_is(2, "[{stopped, w}, {started, w}]"));
    }
    EXPECT(hv_is_pid(child_of(sup, "w")));
    EXPECT(quiet("{'EXIT', ^S, _}", HV_PINS(sup)));
    stop_sup(sup);
    EXPECT(log_is(1, "[{stopped, w}]"));
}

/* ---- shutdown ------------------------------------------------------------ */

/* OTP: a timeout sends exit `shutdown` and kills a child still alive
 * after it (here one that ignores it: killed, no sooner); brutal_kill
 * kills at once (the child never sees `shutdown`); infinity waits for a
 * child that takes its time, which ends with `shutdown`. */
static const struct {
    hv_fn *fn;
    int64_t shutdown;
    const char *reason, *log;
    double at_least_ms;
} shutdown_rows[] = {
    /* 10 ms under the timeout: the timer has millisecond resolution. */
    {stubborn, 200, "killed", "[{ignored, s, shutdown}, {stopped, s}]", 190},
    {stubborn, HV_SHUTDOWN_BRUTAL_KILL, "killed", "[{stopped, s}]", 0},
    {slow, HV_INFINITY, "shutdown", "[{stopped, s}]", SLOW_MS - 10},
};

static void
shutdown_kills_after_the_timeout(void)
{
    for (size_t r = 0; r < HV_ARRAY_LEN(shutdown_rows); r++) {
        hv_child_spec c = child("s", NULL, shutdown_rows[r].fn);
        c.shutdown = shutdown_rows[r].shutdown;
        hv_term sup = start_sup(flags(HV_ONE_FOR_ONE, 5, 10000), &c, 1);
        hv_term why = HV_NONE;
        EXPECT(log_is(1, "[{started, s}]")); /* trapping by now */
        hv_term ref = hv_monitor(child_of(sup, "s"));
        double t0 = now_ms();
        EXPECT(hv_sup_terminate_child(sup, c.id, &why) == HV_OK);
        EXPECT(now_ms() - t0 >= shutdown_rows[r].at_least_ms);
        EXPECT(matches(down_reason(ref), shutdown_rows[r].reason, NULL));
        EXPECT(log_is(-1, shutdown_rows[r].log));
        EXPECT(child_of(sup, "s") == HV_ATOM_UNDEFINED);
        stop_sup(sup);
    }
}

/* ---- start and stop order ------------------------------------------------ */

/* OTP: children start in order; a child added later comes after them;
 * the supervisor stops them in reverse order, the latest first, whether
 * stopped as a server or by exit(Sup, shutdown) from its parent, waiting
 * for a child that takes its time (a worker's default shutdown).  hive
 * lists which_children in start order (OTP lists them reversed). */
static void
children_start_in_order_and_stop_in_reverse(void)
{
    hv_child_spec c[] = {worker("a", HV_PERMANENT), worker("b", HV_TRANSIENT),
                         child("s", NULL, slow)}; /* last: it logs late */
    hv_child_spec d = worker("d", HV_TEMPORARY);
    for (int by_exit = 0; by_exit <= 1; by_exit++) {
        hv_term sup = start_sup(flags(HV_ONE_FOR_ALL, 5, 10000), c, 3);
        hv_term pid = HV_NONE, why = HV_NONE;
        EXPECT(log_is(3, "[{started, a}, {started, b}, {started, s}]"));
        EXPECT(hv_sup_start_child(sup, &d, &pid, &why) == HV_OK);
        EXPECT(log_is(1, "[{started, d}]"));
        EXPECT(matches(which(sup),
                       "[{a, A, worker}, {b, B, worker}, {s, S, worker},"
                       " {d, ^D, worker}] when is_pid(A), is_pid(B),"
                       " is_pid(S)",
                       HV_PINS(pid)));
        if (by_exit)
            EXPECT(hv_exit_pid(sup, hv_atom("shutdown")) == HV_OK &&
                   got("{'EXIT', ^S, shutdown}", HV_PINS(sup)));
        else
            stop_sup(sup);
        EXPECT(log_is(-1, "[{stopped, d}, {stopped, s}, {stopped, b},"
                          " {stopped, a}]"));
    }
}

/* OTP: a child failing to start fails the start with
 * {shutdown, {failed_to_start_child, Id, Why}}, having stopped those
 * started before it and started none after; `ignore` leaves the child
 * undefined and carries on. */
static void
failed_start_stops_earlier_children(void)
{
    hv_child_spec c[] = {worker("a", HV_PERMANENT), worker("b", HV_PERMANENT),
                         worker("c", HV_PERMANENT)};
    hv_sup_flags f = flags(HV_ONE_FOR_ONE, 5, 10000);
    hv_server_opts o = {0};
    hv_term pid = HV_NONE, why = HV_NONE;

    o.link = true;
    c[1].start = start_fails;
    EXPECT(hv_sup_start(&f, c, 3, &o, &pid, &why) == HV_EEXIT);
    EXPECT(matches(why, "{shutdown, {failed_to_start_child, b, nope}}", NULL));
    EXPECT(log_is(-1, "[{started, a}, {stopped, a}]"));

    c[1].start = start_fails;
    c[1].arg = NULL;
    pid = start_sup(f, c, 3);
    EXPECT(log_is(2, "[{started, a}, {started, c}]"));
    EXPECT(child_of(pid, "b") == HV_ATOM_UNDEFINED);
    stop_sup(pid);
    EXPECT(log_is(2, "[{stopped, c}, {stopped, a}]"));
}

/* ---- dynamic children ---------------------------------------------------- */

/* OTP: start_child adds a child (a running duplicate is already_started,
 * a stopped one already_present), a failing start is reported and adds
 * nothing; terminate_child keeps the spec (drops a temporary one);
 * restart_child restarts it; delete_child refuses a running child;
 * unknown ids are not_found; count_children counts specs, running
 * children, workers and supervisors. */
static void
dynamic_children_follow_otp(void)
{
    hv_child_spec a = worker("a", HV_PERMANENT), b = worker("b", HV_PERMANENT);
    hv_child_spec t = worker("t", HV_TEMPORARY),
                  bad = worker("e", HV_PERMANENT);
    hv_term sup = start_sup(flags(HV_ONE_FOR_ONE, 5, 10000), &a, 1);
    hv_term pa = child_of(sup, "a"), pb = HV_NONE, p = HV_NONE, why = HV_NONE;
    hv_term zz = hv_atom("zz");
    hv_sup_counts n;

    EXPECT(hv_sup_start_child(sup, &b, &pb, &why) == HV_OK && hv_is_pid(pb));
    EXPECT(hv_sup_start_child(sup, &a, &p, &why) == HV_EBADARG);
    EXPECT(matches(hv_retain(why), "{already_started, ^P}", HV_PINS(pa)) ||
           matches(hv_retain(why), "{already_present, a}", NULL));
    hv_release(why);
    why = HV_NONE;
    EXPECT(hv_sup_terminate_child(sup, a.id, &why) == HV_OK);
    EXPECT(failed_with(hv_sup_start_child(sup, &a, &p, &why), HV_EBADARG, &why,
                       "{already_present, a}"));
    bad.start = start_fails;
    EXPECT(failed_with(hv_sup_start_child(sup, &bad, &p, &why), HV_EEXIT, &why,
                       "nope"));
    bad.start = NULL;
    EXPECT(hv_sup_start_child(sup, &bad, &p, &why) == HV_EBADARG &&
           names(why, "start"));
    hv_release(why);
    why = HV_NONE;
    EXPECT(failed_with(hv_sup_delete_child(sup, b.id, &why), HV_EBADARG, &why,
                       "running"));
    EXPECT(failed_with(hv_sup_restart_child(sup, b.id, &p, &why), HV_EBADARG,
                       &why, "running"));
    EXPECT(failed_with(hv_sup_terminate_child(sup, zz, &why), HV_EBADARG, &why,
                       "not_found"));
    EXPECT(failed_with(hv_sup_restart_child(sup, zz, &p, &why), HV_EBADARG,
                       &why, "not_found"));
    EXPECT(failed_with(hv_sup_delete_child(sup, zz, &why), HV_EBADARG, &why,
                       "not_found"));
    EXPECT(hv_sup_start_child(sup, &t, &p, &why) == HV_OK);
    EXPECT(hv_sup_count_children(sup, &n) == HV_OK && n.specs == 3 &&
           n.active == 2 && n.workers == 3 && n.supervisors == 0);
    EXPECT(hv_sup_terminate_child(sup, t.id, &why) == HV_OK);
    EXPECT(matches(which(sup), "[{a, undefined, worker}, {b, ^B, worker}]",
                   HV_PINS(pb)));
    EXPECT(hv_sup_restart_child(sup, a.id, &p, &why) == HV_OK && hv_is_pid(p) &&
           p != pa);
    EXPECT(hv_sup_terminate_child(sup, a.id, &why) == HV_OK);
    EXPECT(hv_sup_delete_child(sup, a.id, &why) == HV_OK);
    EXPECT(matches(which(sup), "[{b, ^B, worker}]", HV_PINS(pb)));
    EXPECT(log_is(-1, "[{started, a}, {started, b}, {stopped, a},"
                      " {started, t}, {stopped, t}, {started, a},"
                      " {stopped, a}]"));
    stop_sup(sup);
    EXPECT(log_is(1, "[{stopped, b}]"));
}

/* ---- bad specs ----------------------------------------------------------- */

/* OTP rejects these before starting anything (duplicate_child_name,
 * missing_start, invalid_intensity, invalid_period, bad_combination);
 * hive's reason names the field.  The header fixes two of them. */
static const struct {
    int intensity;
    int64_t period_ms;
    bool dup_id, no_start, significant; /* spec b's id is a's; a's */
    const char *pattern, *word;
} bad_rows[] = {
    {5, 10000, true, false, false, "{bad_child_spec, a, {duplicate_id, a}}",
     NULL},
    {5, 10000, false, true, false, NULL, "start"},
    {-1, 10000, false, false, false, "{bad_flags, {intensity, -1}}", NULL},
    {5, 0, false, false, false, NULL, "period"},
    {5, 10000, false, false, true, NULL, "significant"},
};

static void
bad_specs_are_rejected_naming_the_field(void)
{
    for (size_t r = 0; r < HV_ARRAY_LEN(bad_rows); r++) {
        hv_child_spec c[] = {
            worker("a", HV_PERMANENT),
            worker(bad_rows[r].dup_id ? "a" : "b", HV_PERMANENT)};
        hv_sup_flags f =
            flags(HV_ONE_FOR_ONE, bad_rows[r].intensity, bad_rows[r].period_ms);
        hv_server_opts o = {0};
        hv_term pid = HV_NONE, why = HV_NONE;
        c[0].start = bad_rows[r].no_start ? NULL : c[0].start;
        c[0].significant = bad_rows[r].significant;
        f.auto_shutdown = HV_AUTO_ANY_SIGNIFICANT;
        EXPECT(hv_sup_start(&f, c, 2, &o, &pid, &why) == HV_EBADARG);
        if (bad_rows[r].pattern)
            EXPECT(matches(hv_retain(why), bad_rows[r].pattern, NULL));
        else
            EXPECT(names(why, bad_rows[r].word));
        hv_release(why);
        EXPECT(log_is(-1, "[]"));
    }
}

/* ---- auto_shutdown ------------------------------------------------------- */

/* OTP 24+: any_significant ends the supervisor (shutdown, the rest
 * stopped in reverse) when one significant child ends and is not
 * restarted; all_significant when the last of them has. */
static void
auto_shutdown_follows_significant_children(void)
{
    hv_child_spec c[] = {worker("a", HV_TRANSIENT), worker("b", HV_TEMPORARY),
                         worker("c", HV_PERMANENT)};
    c[0].significant = c[1].significant = true;
    for (int all = 0; all <= 1; all++) {
        hv_sup_flags f = flags(HV_ONE_FOR_ONE, 5, 10000);
        f.auto_shutdown =
            all ? HV_AUTO_ALL_SIGNIFICANT : HV_AUTO_ANY_SIGNIFICANT;
        hv_term sup = start_sup(f, c, 3);
        EXPECT(log_is(3, "[{started, a}, {started, b}, {started, c}]"));
        hv_term old = crash(sup, "a", "normal");
        if (all) {
            EXPECT(log_is(1, "[{stopped, a}]"));
            EXPECT(child_change(sup, "a", old) == HV_ATOM_UNDEFINED);
            EXPECT(quiet("{'EXIT', ^S, _}", HV_PINS(sup)));
            crash(sup, "b", "normal");
            EXPECT(got("{'EXIT', ^S, shutdown}", HV_PINS(sup)));
            EXPECT(log_is(-1, "[{stopped, b}, {stopped, c}]"));
        } else {
            EXPECT(got("{'EXIT', ^S, shutdown}", HV_PINS(sup)));
            EXPECT(log_is(-1, "[{stopped, a}, {stopped, c}, {stopped, b}]"));
        }
    }
}

/* ---- backoff (hive) ------------------------------------------------------ */

/* (process) Crashes w and returns how long its restart took, having
 * seen the child listed as `restarting` meanwhile when `waits`. */
static double
restart_delay(hv_term sup, bool waits)
{
    double t0 = now_ms();
    hv_term old = crash(sup, "w", "boom");
    hv_term now = child_change(sup, "w", old);
    EXPECT(waits ? now == hv_atom("restarting") : hv_is_pid(now));
    EXPECT(log_is(2, "[{stopped, w}, {started, w}]"));
    return now_ms() - t0;
}

/* The delay starts at min, doubles per consecutive crash up to max, and
 * falls back to min after a quiet backoff_reset_ms.  Lower bounds are
 * exact; the upper ones are what an uncapped or unreset delay would
 * have been, far above what a working one takes (50 ms). */
static void
backoff_grows_caps_and_resets(void)
{
    static const double at_least[] = {50, 100, 200, 400, 400};
    hv_child_spec c = worker("w", HV_PERMANENT);
    c.backoff_min_ms = 50;
    c.backoff_max_ms = 400;
    c.backoff_reset_ms = 500;
    hv_term sup = start_sup(flags(HV_ONE_FOR_ONE, 100, 60000), &c, 1);
    EXPECT(log_is(1, "[{started, w}]"));
    for (int i = 0; i < 5; i++) {
        double delay = restart_delay(sup, true);
        EXPECT(delay >= at_least[i] - 1); /* ms timer resolution */
        if (i == 4)
            EXPECT(delay < 800); /* uncapped: 800 */
    }
    hv_sleep(c.backoff_reset_ms + 50);
    EXPECT(restart_delay(sup, true) < 400); /* unreset: 400 */
    stop_sup(sup);
    EXPECT(log_is(1, "[{stopped, w}]"));
}

/* A restart counts against intensity when it happens, not when the
 * child crashed: intensity 1 in 300 ms; the crashes are 200 ms apart,
 * the restarts (delays 200 and 400) more than 300 ms: no shutdown. */
static void
backoff_counts_restarts_when_they_happen(void)
{
    hv_child_spec c = worker("w", HV_PERMANENT);
    c.backoff_min_ms = 200;
    c.backoff_max_ms = 10000;
    c.backoff_reset_ms = 60000;
    hv_term sup = start_sup(flags(HV_ONE_FOR_ONE, 1, 300), &c, 1);
    EXPECT(log_is(1, "[{started, w}]"));
    restart_delay(sup, true);
    restart_delay(sup, true);
    EXPECT(hv_is_pid(child_of(sup, "w")));
    EXPECT(quiet("{'EXIT', ^S, _}", HV_PINS(sup)));
    stop_sup(sup);
    EXPECT(log_is(1, "[{stopped, w}]"));
}

/* ---- the table ----------------------------------------------------------- */

static void (*const rows[])(void) = {
    each_strategy_restarts_its_set_in_order,
    simple_one_for_one_starts_by_args_and_stops_by_pid,
    restart_type_decides_by_exit_reason,
    intensity_exceeded_shuts_the_supervisor_down,
    crashes_spread_beyond_the_period_are_forgiven,
    shutdown_kills_after_the_timeout,
    children_start_in_order_and_stop_in_reverse,
    failed_start_stops_earlier_children,
    dynamic_children_follow_otp,
    bad_specs_are_rejected_naming_the_field,
    auto_shutdown_follows_significant_children,
    backoff_grows_caps_and_resets,
    backoff_counts_restarts_when_they_happen,
};

/* Main of a row: traps exits (supervisors are linked to it and end with
 * shutdown) and is the log. */
static void
run_logged_row(void *arg)
{
    hv_trap_exit(true);
    EXPECT(hv_register(hv_atom(LOG_NAME), hv_self(), NULL) == HV_OK);
    (*(void (*const *)(void))arg)();
}

START_TEST(test_supervisor_rule)
{
    run_main(run_logged_row, (void *)&rows[_i], 1);
    run_main(run_logged_row, (void *)&rows[_i], 2);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("supervisor");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_loop_test(tc, test_supervisor_rule, 0, (int)HV_ARRAY_LEN(rows));
    return s;
}
