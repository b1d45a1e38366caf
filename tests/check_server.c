/* tests/check_server.c - callback servers and the client side, one row
 * per rule of gen_server (Erlang/OTP 25, each checked with a small
 * escript): start (init ok, ignore, stop, crash; names; links), calls
 * (reply, noreply and hv_reply later, by name, to the dead, the server
 * dying or being restarted mid-call, timeouts whose late reply never
 * lands, 100 concurrent callers), casts, handle_info, idle timeouts,
 * stops from a handler, when terminate runs (and when not),
 * hv_server_stop.  The seeds' account, bridges and hv_reply from a plain
 * thread are in check_server_table.c, against a table server.
 *
 * The servers are probes: each request names what the handler does
 * (see probe_call), and the probe tells the test process (the observer)
 * what it saw: {terminate, Reason}, {cast, Msg}, {info, Msg}.  Nothing
 * sleeps to synchronize: a call, a monitor or a message orders the
 * steps; waits for what must not come are bounded by QUIET_MS.  Rows run
 * on 1 and 2 schedulers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hive/hive.h"
#include "runtime/util.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"
#include "tests/signal_util.h"

enum { WAIT_MS = SIGNAL_WAIT_MS, QUIET_MS = SIGNAL_QUIET_MS };

/* ---- the probe server ------------------------------------------------- */

enum probe_init { INIT_OK, INIT_IGNORE, INIT_STOP, INIT_CRASH };

/* A probe's state.  Owned by the test (malloc'd: never on a process
 * stack) and freed only once the server is dead, since a killed server
 * runs no terminate. */
struct probe {
    hv_term observer;     /* gets what the probe saw */
    enum probe_init init; /* what init does */
    int64_t idle_ms;      /* init's idle timeout */
    int64_t count;        /* the {add, N} counter */
    hv_term held;         /* `from` of a call left unanswered, or HV_NONE */
    hv_term exit_in_terminate; /* terminate ends with this, or HV_NONE */
};

static void
tell(hv_term to, const char *tag, hv_term what)
{
    hv_send(to, hv_tuple(2, hv_atom(tag), what));
}

static enum hv_server_init_action
probe_init(void *arg, void **state, int64_t *timeout_ms, hv_term *reason)
{
    struct probe *p = arg;

    *state = p;
    switch (p->init) {
    case INIT_IGNORE:
        return HV_SERVER_INIT_IGNORE;
    case INIT_STOP:
        *reason = hv_atom("nope");
        return HV_SERVER_INIT_STOP;
    case INIT_CRASH:
        hv_exit(hv_atom("boom"));
    case INIT_OK:
        break;
    }
    *timeout_ms = p->idle_ms;
    return HV_SERVER_INIT_OK;
}

/* Requests:
 *   {echo, X}            reply X
 *   {add, N}             count += N, reply count
 *   hold                 keep `from`, tell the observer `holding`, noreply
 *   {hand_over, Pid}     Pid ! {from, From}, noreply
 *   {exit, R}            hv_exit(R) in the handler
 *   {stop, R}            stop with R, no reply
 *   {stop, R, Reply}     stop with R after replying Reply
 *   anything else        reply {unknown, Request} */
static hv_server_result
probe_call(hv_term req, hv_term from, void *state)
{
    struct probe *p = state;
    hv_term tag = hv_is_tuple(req) ? hv_tuple_at(req, 0) : req;
    hv_term x = hv_tuple_at(req, 1), y = hv_tuple_at(req, 2);
    int64_t n;

    if (tag == hv_atom("echo"))
        return hv_result_reply(hv_retain(x));
    if (tag == hv_atom("add") && hv_int_value(x, &n) == HV_OK) {
        p->count += n;
        return hv_result_reply(hv_int(p->count));
    }
    if (tag == hv_atom("hold")) {
        p->held = hv_retain(from);
        hv_send(p->observer, hv_atom("holding"));
        return hv_result_noreply();
    }
    if (tag == hv_atom("hand_over")) {
        tell(x, "from", hv_retain(from));
        return hv_result_noreply();
    }
    if (tag == hv_atom("exit"))
        hv_exit(hv_retain(x));
    if (tag == hv_atom("stop"))
        return hv_result_stop(hv_retain(x), hv_retain(y));
    return hv_result_reply(hv_tuple(2, hv_atom("unknown"), hv_retain(req)));
}

/* Casts: {reply_held, X} answers the held call with X; {idle, Ms} asks
 * for an idle timeout; {stop, R} stops; others go to the observer. */
static hv_server_result
probe_cast(hv_term msg, void *state)
{
    struct probe *p = state;
    hv_term tag = hv_tuple_at(msg, 0), x = hv_tuple_at(msg, 1);
    int64_t ms;

    if (tag == hv_atom("reply_held")) {
        EXPECT(hv_reply(p->held, hv_retain(x)) == HV_OK);
        hv_release(p->held);
        p->held = HV_NONE;
    } else if (tag == hv_atom("idle") && hv_int_value(x, &ms) == HV_OK) {
        return hv_result_timeout(hv_result_noreply(), ms);
    } else if (tag == hv_atom("stop")) {
        return hv_result_stop(hv_retain(x), HV_NONE);
    } else {
        tell(p->observer, "cast", hv_retain(msg));
    }
    return hv_result_noreply();
}

static hv_server_result
probe_info(hv_term msg, void *state)
{
    struct probe *p = state;
    tell(p->observer, "info", hv_retain(msg));
    return hv_result_noreply();
}

static void
probe_terminate(hv_term reason, void *state)
{
    struct probe *p = state;
    tell(p->observer, "terminate", hv_retain(reason));
    if (p->exit_in_terminate != HV_NONE)
        hv_exit(hv_retain(p->exit_in_terminate));
}

static const hv_server_callbacks probe_cb = {probe_init, probe_call, probe_cast,
                                             probe_info, probe_terminate};

/* (process) A probe observed by the caller, its server not started. */
static struct probe *
probe_new(void)
{
    struct probe *p = malloc(sizeof *p);
    if (!EXPECT(p != NULL))
        abort();
    *p = (struct probe){hv_self(), INIT_OK, HV_INFINITY, 0, HV_NONE, HV_NONE};
    return p;
}

/* (process) Starts p's server, registered as name unless HV_NONE. */
static hv_term
start_probe(struct probe *p, hv_term name)
{
    hv_server_opts o = {.name = name};
    hv_term pid = HV_NONE;

    EXPECT(hv_server_start(&probe_cb, p, &o, &pid, NULL) == HV_OK);
    return pid;
}

/* (process) Stops pid if it still runs, waits until it is gone, frees
 * p: the probe may be touched until the server is dead. */
static void
finish(hv_term pid, struct probe *p)
{
    hv_term ref = hv_monitor(pid);

    hv_server_stop(pid, hv_atom("normal"), WAIT_MS);
    hv_release(down_reason(ref));
    hv_release(ref);
    hv_release(p->held);
    free(p);
}

/* (process) Whether a call of req (consumed) gives rc and a reply or
 * exit reason matching want (pid pinned as ^P). */
static bool
call_gives(hv_term server, hv_term req, int rc, const char *want, hv_term pid)
{
    hv_term reply = HV_NONE;
    int got_rc = hv_call(server, req, WAIT_MS, &reply);

    if (got_rc != rc || want == NULL) {
        if (got_rc == HV_OK || got_rc == HV_EEXIT)
            hv_release(reply);
        return got_rc == rc;
    }
    return matches(reply, want, HV_PINS(pid));
}

static bool
call_ok(hv_term server, hv_term req, const char *want)
{
    return call_gives(server, req, HV_OK, want, HV_NONE);
}

/* (process) Whether the monitor ref (consumed) reports reason. */
static bool
ends_with(hv_term ref, const char *reason)
{
    bool ok = matches(down_reason(ref), reason, NULL);
    hv_release(ref);
    return ok;
}

/* ---- callers: processes that make one call and report it --------------- */

struct call_job {
    hv_term server, request, report_to;
};

/* Sends {result, Rc, Reply} (Reply `none` when hv_call gave none). */
static void
caller(void *arg)
{
    struct call_job job = *(struct call_job *)arg;
    hv_term reply = HV_NONE;

    free(arg);
    int rc = hv_call(job.server, job.request, WAIT_MS, &reply);
    if (rc != HV_OK && rc != HV_EEXIT)
        reply = hv_atom("none");
    hv_send(job.report_to, hv_tuple(3, hv_atom("result"), hv_int(rc), reply));
}

/* (process) Spawns a caller of server with req (consumed). */
static void
spawn_call(hv_term server, hv_term req)
{
    struct call_job *job = malloc(sizeof *job);
    if (!EXPECT(job != NULL))
        abort();
    *job = (struct call_job){server, req, hv_self()};
    EXPECT(hv_spawn(caller, job) != HV_NONE);
}

/* (process) Whether the caller's report is rc with a reply matching want. */
static bool
result_is(int rc, const char *want)
{
    hv_term m = recv_match("{result, _, _}", NULL, WAIT_MS);
    bool ok = elem_int(m, 1) == rc &&
              matches(hv_retain(hv_tuple_at(m, 2)), want, NULL);
    hv_release(m);
    return ok;
}

/* ---- start ------------------------------------------------------------- */

/* gen_server:start -> {ok, Pid}: the state init set is what handlers get. */
static void
init_ok_runs_with_its_state(void)
{
    struct probe *p = probe_new();
    hv_term pid = start_probe(p, HV_NONE);

    EXPECT(hv_is_alive(pid));
    EXPECT(call_ok(pid, hv_parse("{add, 5}", NULL), "5"));
    EXPECT(call_ok(pid, hv_parse("{add, 2}", NULL), "7"));
    finish(pid, p);
}

/* {ok, State, Timeout} from init: handle_info(timeout) after that idle
 * time, once (the next return sets no timeout). */
static void
init_idle_timeout_delivers_timeout_once(void)
{
    struct probe *p = probe_new();
    p->idle_ms = 20;
    hv_term pid = start_probe(p, HV_NONE);

    EXPECT(got("{info, timeout}", NULL));
    EXPECT(quiet("{info, timeout}", NULL));
    finish(pid, p);
}

/* A failed init leaves no process (back to n) and runs no terminate
 * (OTP: init_it never calls terminate). */
static void
nothing_left(size_t n)
{
    EXPECT(eventually_count(n));
    EXPECT(quiet("{terminate, _}", NULL));
}

/* ignore -> gen_server:start returns ignore; the process ends normal. */
static void
init_ignore_is_eignore(void)
{
    struct probe *p = probe_new();
    hv_server_opts o = {.name = hv_atom("svc")};
    hv_term pid = HV_NONE;
    size_t n = hv_process_count();

    p->init = INIT_IGNORE;
    EXPECT(hv_server_start(&probe_cb, p, &o, &pid, NULL) == HV_EIGNORE);
    nothing_left(n);
    EXPECT(eventually_unnamed(hv_atom("svc")));
    free(p);
}

/* {stop, nope} -> {error, nope}; exit(boom) in init -> {error, boom}. */
static void
start_fails_with(enum probe_init how, const char *reason)
{
    struct probe *p = probe_new();
    hv_server_opts o = {.name = hv_atom("svc")};
    hv_term pid = HV_NONE, why = HV_NONE;
    size_t n = hv_process_count();

    p->init = how;
    EXPECT(hv_server_start(&probe_cb, p, &o, &pid, &why) == HV_EEXIT);
    EXPECT(matches(why, reason, NULL));
    nothing_left(n);
    EXPECT(eventually_unnamed(hv_atom("svc")));
    free(p);
}

static void
init_stop_or_crash_is_eexit_with_reason(void)
{
    start_fails_with(INIT_STOP, "nope");
    start_fails_with(INIT_CRASH, "boom");
}

/* {local, svc}: whereis(svc) is the server; a second start with the name
 * -> {error, {already_started, Pid}} and leaves no second process. */
static void
names_register_and_conflict(void)
{
    struct probe *p = probe_new(), *q = probe_new();
    hv_server_opts o = {.name = hv_atom("svc")};
    hv_term pid = start_probe(p, hv_atom("svc")), other = HV_NONE;
    hv_term why = HV_NONE;
    size_t n = hv_process_count();

    EXPECT(hv_whereis(hv_atom("svc")) == pid);
    EXPECT(call_ok(hv_atom("svc"), hv_parse("{echo, hi}", NULL), "hi"));
    EXPECT(hv_server_start(&probe_cb, q, &o, &other, &why) == HV_EBADARG);
    EXPECT(matches(why, "{already_started, ^P}", HV_PINS(pid)));
    EXPECT(eventually_count(n));
    EXPECT(hv_whereis(hv_atom("svc")) == pid);
    finish(pid, p);
    EXPECT(eventually_unnamed(hv_atom("svc")));
    free(q);
}

/* A parent: starts a probe linked (the server trapping exits or not),
 * sends {server, Pid} to main, then forwards every message as
 * {parent_got, Msg} until told {exit, R}: then it exits with R. */
struct parent_job {
    hv_term main;
    bool parent_traps, server_traps;
    struct probe *probe;
};

static void
parent(void *arg)
{
    struct parent_job job = *(struct parent_job *)arg;
    hv_server_opts o = {.link = true, .trap_exit = job.server_traps};
    hv_term pid = HV_NONE;

    free(arg);
    hv_trap_exit(job.parent_traps);
    EXPECT(hv_server_start(&probe_cb, job.probe, &o, &pid, NULL) == HV_OK);
    tell(job.main, "server", pid);
    for (hv_term m; (m = next_msg()) != HV_NONE;) {
        if (is_tagged(m, "exit")) {
            hv_term why = hv_retain(hv_tuple_at(m, 1));
            hv_release(m);
            hv_exit(why);
        }
        tell(job.main, "parent_got", m);
    }
}

/* (process) Spawns a monitored parent of a new probe's server (to
 * *server); the parent owns the job (the probe is the caller's). */
static hv_term
spawn_parent(bool parent_traps, bool server_traps, struct probe *probe,
             hv_term *server, hv_term *ref)
{
    struct parent_job *job = malloc(sizeof *job);
    if (!EXPECT(job != NULL))
        abort();
    *job = (struct parent_job){hv_self(), parent_traps, server_traps, probe};
    hv_term pid = hv_spawn_monitor(parent, job, ref);
    hv_term m = recv_match("{server, _}", NULL, WAIT_MS);

    *server = hv_tuple_at(m, 1);
    hv_release(m);
    return pid;
}

/* start_link: the server's crash kills a parent that does not trap
 * exits; a trapping one gets {'EXIT', Server, boom}. */
static void
linked_start_ties_the_parent(void)
{
    for (int traps = 0; traps <= 1; traps++) {
        struct probe *p = probe_new();
        hv_term server, ref, sref,
            pid = spawn_parent(traps, false, p, &server, &ref);

        sref = hv_monitor(server);
        EXPECT(call_gives(server, hv_parse("{exit, boom}", NULL), HV_EEXIT,
                          "boom", HV_NONE));
        EXPECT(ends_with(sref, "boom"));
        if (traps) {
            EXPECT(got("{parent_got, {'EXIT', ^P, boom}}", HV_PINS(server)));
            tell(pid, "exit", hv_atom("normal"));
            EXPECT(ends_with(ref, "normal"));
        } else {
            EXPECT(ends_with(ref, "boom"));
        }
        finish(server, p);
    }
}

/* Bad input: no callbacks; a callbacks table of NULLs is a server that
 * answers every call {error, {bad_request, Req}} and drops the rest. */
static void
null_callbacks(void)
{
    static const hv_server_callbacks none = {0};
    hv_server_opts o = {0};
    hv_term pid = HV_NONE;

    EXPECT(hv_server_start(NULL, NULL, &o, &pid, NULL) == HV_EBADARG);
    EXPECT(hv_server_start(&none, NULL, &o, &pid, NULL) == HV_OK);
    EXPECT(call_ok(pid, hv_parse("{what, 1}", NULL),
                   "{error, {bad_request, {what, 1}}}"));
    EXPECT(hv_cast(pid, hv_atom("dropped")) == HV_OK);
    EXPECT(hv_send(pid, hv_atom("dropped")) == HV_OK);
    EXPECT(call_ok(pid, hv_atom("still"), "{error, {bad_request, still}}"));
    hv_term ref = hv_monitor(pid);
    EXPECT(hv_server_stop(pid, hv_atom("bye"), WAIT_MS) == HV_OK);
    EXPECT(ends_with(ref, "bye"));
}

/* ---- calls ------------------------------------------------------------- */

/* {noreply, S} then gen_server:reply(From, R) from another process. */
static void
noreply_then_hv_reply_from_another_process(void)
{
    struct probe *p = probe_new();
    hv_term pid = start_probe(p, HV_NONE);

    spawn_call(pid, hv_tuple(2, hv_atom("hand_over"), hv_self()));
    hv_term m = recv_match("{from, _}", NULL, WAIT_MS);
    EXPECT(hv_reply(hv_tuple_at(m, 1), hv_atom("later")) == HV_OK);
    hv_release(m);
    EXPECT(result_is(HV_OK, "later"));
    finish(pid, p);
}

/* gen_server:call to a dead pid or a free name exits noproc; the request
 * is consumed all the same (the leak check sees it). */
static void
call_to_nobody_is_enoproc(void)
{
    struct probe *p = probe_new();
    hv_term pid = start_probe(p, HV_NONE), reply = HV_NONE;

    finish(pid, p);
    EXPECT(hv_call(pid, hv_string("req"), WAIT_MS, &reply) == HV_ENOPROC);
    EXPECT(hv_call(hv_atom("nobody"), hv_string("req"), WAIT_MS, &reply) ==
           HV_ENOPROC);
    EXPECT(hv_call(hv_int(7), hv_string("req"), WAIT_MS, &reply) == HV_EBADARG);
}

/* exit(boom) in handle_call: the caller exits boom, terminate(boom). */
static void
server_dying_mid_call_is_eexit(void)
{
    struct probe *p = probe_new();
    hv_term pid = start_probe(p, HV_NONE), ref = hv_monitor(pid);

    EXPECT(call_gives(pid, hv_parse("{exit, boom}", NULL), HV_EEXIT, "boom",
                      HV_NONE));
    EXPECT(got("{terminate, boom}", NULL));
    EXPECT(ends_with(ref, "boom"));
    finish(pid, p);
}

/* A timed-out call: HV_ETIMEOUT, and the reply the server sends later is
 * dropped (OTP 24+ alias semantics).  The late reply is sent before the
 * echo's, so once the echo is back it would be queued if it ever were. */
static void
late_reply_after_timeout_never_lands(void)
{
    struct probe *p = probe_new();
    hv_term pid = start_probe(p, HV_NONE), reply = HV_NONE;
    hv_proc_info info;

    EXPECT(hv_call(pid, hv_atom("hold"), 50, &reply) == HV_ETIMEOUT);
    EXPECT(got("holding", NULL));
    EXPECT(hv_cast(pid, hv_parse("{reply_held, late}", NULL)) == HV_OK);
    EXPECT(call_ok(pid, hv_parse("{echo, sync}", NULL), "sync"));
    EXPECT(hv_process_info(hv_self(), &info) == HV_OK);
    EXPECT(info.mailbox_len == 0);
    EXPECT(quiet("_", NULL));
    finish(pid, p);
}

/* The server behind a name is killed while a call waits and restarted
 * under the name: the call exits `killed` (it monitored the old pid),
 * and a new call reaches the new instance. */
static void
call_across_a_restart_under_the_same_name(void)
{
    struct probe *p = probe_new(), *q = probe_new();
    hv_term pid = start_probe(p, hv_atom("svc")), ref = hv_monitor(pid);

    spawn_call(hv_atom("svc"), hv_atom("hold"));
    EXPECT(got("holding", NULL));
    EXPECT(hv_exit_pid(pid, hv_atom("kill")) == HV_OK);
    EXPECT(ends_with(ref, "killed"));
    hv_term again = start_probe(q, hv_atom("svc"));
    EXPECT(result_is(HV_EEXIT, "killed"));
    EXPECT(call_ok(hv_atom("svc"), hv_parse("{add, 3}", NULL), "3"));
    EXPECT(hv_whereis(hv_atom("svc")) == again);
    finish(pid, p);
    finish(again, q);
}

/* 100 processes each making many calls: every reply is its own (echo of
 * {Self, I}) and the counter saw every add. */
struct crowd {
    hv_term server, main;
    int64_t calls;
};

static void
crowd_member(void *arg)
{
    const struct crowd *c = arg;
    bool right = true;

    for (int64_t i = 0; i < c->calls; i++) {
        hv_term mine = hv_tuple(2, hv_self(), hv_int(i)), reply = HV_NONE;
        hv_term req = hv_tuple(2, hv_atom("echo"), hv_retain(mine));
        right &= hv_call(c->server, req, WAIT_MS, &reply) == HV_OK &&
                 hv_equal(reply, mine);
        hv_release(reply);
        hv_release(mine);
        right &= call_ok(c->server, hv_parse("{add, 1}", NULL), NULL);
    }
    tell(c->main, "done", right ? HV_ATOM_TRUE : HV_ATOM_FALSE);
}

static void
many_concurrent_callers(void)
{
    enum { CALLERS = 100 };
    struct probe *p = probe_new();
    struct crowd c = {start_probe(p, HV_NONE), hv_self(), 0};
    struct crowd *shared = malloc(sizeof *shared);
    char want[32];

    c.calls = hv_check_scale(300);
    *shared = c;
    for (int i = 0; i < CALLERS; i++)
        EXPECT(hv_spawn(crowd_member, shared) != HV_NONE);
    for (int i = 0; i < CALLERS; i++)
        EXPECT(got("{done, true}", NULL));
    snprintf(want, sizeof want, "%lld", (long long)(CALLERS * c.calls));
    EXPECT(call_ok(c.server, hv_parse("{add, 0}", NULL), want));
    free(shared);
    finish(c.server, p);
}

/* ---- casts, info, idle timeouts ---------------------------------------- */

/* cast -> handle_cast; any other message (an EXIT from a non-parent
 * included, when trapping) -> handle_info; the starter of an unlinked
 * server is no parent (gen: Parent = self for nolink). */
static void
casts_and_other_messages(void)
{
    struct probe *p = probe_new();
    hv_server_opts o = {.trap_exit = true};
    hv_term pid = HV_NONE, me = hv_self();

    EXPECT(hv_server_start(&probe_cb, p, &o, &pid, NULL) == HV_OK);
    EXPECT(hv_cast(pid, hv_parse("{hello, 1}", NULL)) == HV_OK);
    EXPECT(got("{cast, {hello, 1}}", NULL));
    EXPECT(hv_send(pid, hv_parse("{plain, 2}", NULL)) == HV_OK);
    EXPECT(got("{info, {plain, 2}}", NULL));
    EXPECT(hv_exit_pid(pid, hv_atom("bye")) == HV_OK);
    EXPECT(got("{info, {'EXIT', ^P, bye}}", HV_PINS(me)));
    EXPECT(hv_is_alive(pid));
    EXPECT(hv_cast(hv_atom("nobody"), hv_atom("x")) == HV_OK);
    finish(pid, p);
    EXPECT(hv_cast(pid, hv_atom("x")) == HV_OK);
}

/* {noreply, S, Timeout}: `timeout` after that idle time; a message that
 * comes first cancels it (its handler set no new timeout). */
static void
idle_timeout_from_a_handler(void)
{
    struct probe *p = probe_new();
    hv_term pid = start_probe(p, HV_NONE);
    int64_t long_ms = hv_check_slow() ? 3000 : 300;

    EXPECT(hv_cast(pid, hv_parse("{idle, 10}", NULL)) == HV_OK);
    EXPECT(got("{info, timeout}", NULL));
    EXPECT(hv_cast(pid, hv_tuple(2, hv_atom("idle"), hv_int(long_ms))) ==
           HV_OK);
    EXPECT(hv_send(pid, hv_atom("poke")) == HV_OK);
    EXPECT(got("{info, poke}", NULL));
    EXPECT(!got_within(long_ms + 200, "{info, timeout}", NULL));
    finish(pid, p);
}

/* ---- stopping, and when terminate runs --------------------------------- */

/* {stop, bye, S} from handle_call: the caller exits bye; with
 * {stop, bye, done, S} it gets done and the server is then gone; a stop
 * from handle_cast ends it too.  terminate(bye) each time. */
static void
stop_from_handlers(void)
{
    for (int i = 0; i < 3; i++) {
        struct probe *p = probe_new();
        hv_term pid = start_probe(p, HV_NONE), ref = hv_monitor(pid);

        if (i == 0)
            EXPECT(call_gives(pid, hv_parse("{stop, bye}", NULL), HV_EEXIT,
                              "bye", HV_NONE));
        else if (i == 1)
            EXPECT(call_ok(pid, hv_parse("{stop, bye, done}", NULL), "done"));
        else
            EXPECT(hv_cast(pid, hv_parse("{stop, bye}", NULL)) == HV_OK);
        EXPECT(ends_with(ref, "bye"));
        EXPECT(got("{terminate, bye}", NULL));
        finish(pid, p);
    }
}

/* trap_exit and an exit from the parent: terminate(Reason), the server
 * ends with it.  Without trap_exit the signal kills it: no terminate. */
static void
parent_exit_stops_a_trapping_server(void)
{
    for (int traps = 0; traps <= 1; traps++) {
        struct probe *p = probe_new();
        hv_term server, ref, sref,
            pid = spawn_parent(false, traps, p, &server, &ref);

        sref = hv_monitor(server);
        tell(pid, "exit", hv_atom("bye"));
        EXPECT(ends_with(ref, "bye"));
        EXPECT(ends_with(sref, "bye"));
        if (traps)
            EXPECT(got("{terminate, bye}", NULL));
        else
            EXPECT(quiet("{terminate, _}", NULL));
        finish(server, p);
    }
}

/* exit(Pid, kill): the server ends `killed` and runs no terminate. */
static void
killed_server_runs_no_terminate(void)
{
    struct probe *p = probe_new();
    hv_server_opts o = {.trap_exit = true};
    hv_term pid = HV_NONE;

    EXPECT(hv_server_start(&probe_cb, p, &o, &pid, NULL) == HV_OK);
    hv_term ref = hv_monitor(pid);
    EXPECT(hv_exit_pid(pid, hv_atom("kill")) == HV_OK);
    EXPECT(ends_with(ref, "killed"));
    EXPECT(quiet("{terminate, _}", NULL));
    finish(pid, p);
}

/* gen_server:stop(S, Reason, T) -> ok, terminate(Reason), monitors see
 * Reason; by name too; a dead server or a free name -> noproc; a
 * terminate that exits with another reason -> that exit (HV_EEXIT). */
static void
server_stop(void)
{
    struct probe *p = probe_new(), *q = probe_new();
    hv_term pid = start_probe(p, hv_atom("svc")), ref = hv_monitor(pid);

    EXPECT(hv_server_stop(hv_atom("svc"), hv_atom("bye"), WAIT_MS) == HV_OK);
    EXPECT(got("{terminate, bye}", NULL));
    EXPECT(ends_with(ref, "bye"));
    EXPECT(hv_server_stop(pid, hv_atom("bye"), WAIT_MS) == HV_ENOPROC);
    EXPECT(hv_server_stop(hv_atom("svc"), hv_atom("bye"), WAIT_MS) ==
           HV_ENOPROC);
    finish(pid, p);

    q->exit_in_terminate = hv_atom("other");
    pid = start_probe(q, HV_NONE);
    ref = hv_monitor(pid);
    EXPECT(hv_server_stop(pid, hv_atom("bye"), WAIT_MS) == HV_EEXIT);
    EXPECT(got("{terminate, bye}", NULL));
    EXPECT(ends_with(ref, "other"));
    finish(pid, q);
}

/* With no runtime at all: not from a process -> HV_EBADARG. */
START_TEST(test_server_calls_outside_a_process_are_ebadarg)
{
    hv_term pid = HV_NONE, reply = HV_NONE;
    ck_assert_int_eq(hv_server_start(&probe_cb, NULL, NULL, &pid, NULL),
                     HV_EBADARG);
    ck_assert_int_eq(hv_call(hv_atom("svc"), hv_atom("x"), 0, &reply),
                     HV_EBADARG);
}
END_TEST

/* ---- the rows ------------------------------------------------------------ */

struct row {
    const char *rule;
    void (*body)(void);
};

/* Three TCases, each a range of this table. */
static const struct row rows[] = {
    /* start */
    {"init ok: state", init_ok_runs_with_its_state},
    {"init ok: idle timeout", init_idle_timeout_delivers_timeout_once},
    {"init ignore", init_ignore_is_eignore},
    {"init stop, init crash", init_stop_or_crash_is_eexit_with_reason},
    {"names", names_register_and_conflict},
    {"start_link", linked_start_ties_the_parent},
    {"NULL callbacks", null_callbacks},
    /* calls */
    {"noreply, hv_reply", noreply_then_hv_reply_from_another_process},
    {"noproc", call_to_nobody_is_enoproc},
    {"dies mid-call", server_dying_mid_call_is_eexit},
    {"timeout, late reply", late_reply_after_timeout_never_lands},
    {"restart mid-call", call_across_a_restart_under_the_same_name},
    {"concurrent callers", many_concurrent_callers},
    /* ending */
    {"casts and info", casts_and_other_messages},
    {"idle timeout", idle_timeout_from_a_handler},
    {"stop from handlers", stop_from_handlers},
    {"parent exit", parent_exit_stops_a_trapping_server},
    {"kill", killed_server_runs_no_terminate},
    {"hv_server_stop", server_stop},
};
enum { CALL_ROWS = 7, END_ROWS = 13 };

static void
run_body(void *row)
{
    ((const struct row *)row)->body();
}

START_TEST(test_server_rule)
{
    run_main(run_body, (void *)&rows[_i], 1);
    run_main(run_body, (void *)&rows[_i], 2);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("server");
    TCase *tc = hv_check_tcase(s, "start");
    tcase_add_loop_test(tc, test_server_rule, 0, CALL_ROWS);
    tc = hv_check_tcase(s, "calls");
    tcase_add_loop_test(tc, test_server_rule, CALL_ROWS, END_ROWS);
    tc = hv_check_tcase(s, "ending");
    tcase_add_loop_test(tc, test_server_rule, END_ROWS,
                        (int)HV_ARRAY_LEN(rows));
    tc = hv_check_tcase(s, "errors");
    tcase_add_test(tc, test_server_calls_outside_a_process_are_ebadarg);
    return s;
}
