/* tests/check_links.c - links and exit signals, one table row per rule:
 * what an ending does to linked processes (trapping or not), hv_exit_pid
 * (exit/2) with normal, kill and other reasons, to others and to the
 * caller; links to dead pids; idempotent, two-ended unlinks that drop a
 * signal on its way but keep a queued message; hv_spawn_link and .link;
 * hv_is_alive; hv_trap_exit; signal order; races (a link made while the
 * peer exits, mutual kills); a 10,000-process chain; bad input and calls
 * from plain threads.  (Crash reports, which hang on links and monitors
 * alike, are in check_monitors.c.)
 *
 * Each row cites the Erlang/OTP 25 behaviour it pins; each was checked
 * with a small escript first.  Peers are agents, processes scripted by
 * messages (see obey), so a row reads as what each process does, in
 * order.  Nothing sleeps to synchronize: a ping/pong round trip or a
 * monitor orders the steps, and a wait for something that must NOT come
 * is bounded by QUIET_MS.  Rows run on 1 and 2 schedulers. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "hive/hive.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"
#include "tests/signal_util.h"

/* WAIT_MS bounds a wait for what must come (past it the test fails, not
 * hangs); QUIET_MS bounds a wait for what must not. */
enum { WAIT_MS = SIGNAL_WAIT_MS, QUIET_MS = SIGNAL_QUIET_MS };

/* ---- agents -------------------------------------------------------------- */

/* Carries out one message; false when the agent is to return:
 *   {trap, Bool}              hv_trap_exit(Bool)
 *   {link, Pid}, {unlink, Pid}
 *   {exit, Reason}            hv_exit(Reason)
 *   {exit_pid, Pid, Reason}   hv_exit_pid(Pid, Reason)
 *   {ping, From}              From ! {pong, Self}
 *   stop                      return (reason normal)
 *   anything else             Parent ! {got, Self, Msg}, EXITs too */
static bool
obey(hv_term m, hv_term parent)
{
    hv_term tag = hv_tuple_at(m, 0), x = hv_tuple_at(m, 1);

    if (m == hv_atom("stop"))
        return false;
    if (tag == hv_atom("trap"))
        hv_trap_exit(x == HV_ATOM_TRUE);
    else if (tag == hv_atom("link"))
        EXPECT(hv_link(x) == HV_OK);
    else if (tag == hv_atom("unlink"))
        EXPECT(hv_unlink(x) == HV_OK);
    else if (tag == hv_atom("exit"))
        hv_exit(hv_retain(x));
    else if (tag == hv_atom("exit_pid"))
        EXPECT(hv_exit_pid(x, hv_retain(hv_tuple_at(m, 2))) == HV_OK);
    else if (tag == hv_atom("ping"))
        EXPECT(hv_send(x, hv_tuple(2, hv_atom("pong"), hv_self())) == HV_OK);
    else
        hv_send(parent, hv_tuple(3, hv_atom("got"), hv_self(), hv_retain(m)));
    return true;
}

/* Releases the message an agent held when it ended: it may end inside
 * obey (hv_exit, or a kill it acts on in a hive call). */
static void
release_held(void *arg)
{
    hv_term *held = arg;
    hv_release(*held);
    free(held);
}

/* An agent's body; arg is the parent's pid. */
static void
agent(void *arg)
{
    hv_term *held = malloc(sizeof *held);
    if (!EXPECT(held != NULL))
        return;
    *held = HV_NONE;
    EXPECT(hv_defer(release_held, held) == HV_OK);
    while (hv_recv(HV_INFINITY, held) == HV_OK && obey(*held, arg_pid(arg))) {
        hv_release(*held);
        *held = HV_NONE;
    }
}

/* Sends to `to` the term hv_make builds from fmt. */
static void
tell(hv_term to, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hv_term m = hv_make_v(NULL, fmt, ap);
    va_end(ap);
    EXPECT(m != HV_NONE && hv_send(to, m) == HV_OK);
}

/* (process) Once the pong is back, the agent has acted on all the caller
 * sent it before.  Erlang orders arrival, not action: a trap command must
 * be round-tripped before a signal that relies on it is sent. */
static bool
round_trip(hv_term a)
{
    tell(a, "{ping, ~p}", hv_self());
    return got("{pong, ^A}", HV_PINS(a));
}

/* (process) A new agent reporting to the caller, trapping exits if
 * asked (and known to by the time this returns). */
static hv_term
new_agent(bool trap)
{
    hv_term a = hv_spawn(agent, pid_arg(hv_self()));
    if (trap) {
        tell(a, "{trap, true}");
        EXPECT(round_trip(a));
    }
    return a;
}

/* ---- other bodies and pids --------------------------------------------- */

/* Ends at once with arg as the reason (an atom, or a term it consumes). */
static void
exits_with(void *arg)
{
    hv_exit((hv_term)(uintptr_t)arg);
}

/* ---- links: what an ending does ------------------------------------- */

/* Erlang: a process ending with a reason other than normal takes its
 * linked, non-trapping peer down with the same reason. */
static void
abnormal_exit_kills_the_linked_peer_with_its_reason(void)
{
    hv_term a = new_agent(false), b = new_agent(false);
    tell(b, "{link, ~p}", a);
    EXPECT(round_trip(b));
    hv_term ref = hv_monitor(b);
    tell(a, "{exit, {boom, <<\"x\">>}}");
    EXPECT(matches(down_reason(ref), "{boom, <<\"x\">>}", NULL));
}

/* Erlang: trapping turns the signal into {'EXIT', Pid, Reason}; and
 * spawn_link links before the child runs, so a child that exits at once
 * gives its reason, never noproc. */
static void
trapping_turns_the_exit_into_a_message(void)
{
    hv_trap_exit(true);
    hv_term p = hv_spawn_link(exits_with, term_arg(hv_atom("boom")));
    EXPECT(got("{'EXIT', ^P, boom}", HV_PINS(p)));
}

/* Erlang: a normal end leaves a linked, non-trapping peer alone. */
static void
normal_exit_spares_the_linked_peer(void)
{
    hv_term a = new_agent(false), b = new_agent(false);
    tell(b, "{link, ~p}", a);
    EXPECT(round_trip(b));
    hv_term ra = hv_monitor(a), rb = hv_monitor(b);
    tell(a, "stop");
    EXPECT(matches(down_reason(ra), "normal", NULL));
    EXPECT(quiet("{'DOWN', ^R, process, _, _}", HV_PINS(rb)));
    EXPECT(round_trip(b));
}

/* Erlang: a trapping process gets {'EXIT', Pid, normal} all the same. */
static void
trapping_process_gets_exit_normal(void)
{
    hv_trap_exit(true);
    hv_term p = hv_spawn_link(returns_at_once, NULL);
    EXPECT(got("{'EXIT', ^P, normal}", HV_PINS(p)));
}

/* Erlang: exit(P, kill) ends even a trapping P, with reason killed, and
 * P's trapping linked peer sees {'EXIT', P, killed}. */
static void
exit_pid_kill_ends_a_trapping_process_as_killed(void)
{
    hv_term a = new_agent(true), b = new_agent(true);
    tell(b, "{link, ~p}", a);
    EXPECT(round_trip(b));
    hv_term ref = hv_monitor(a);
    EXPECT(hv_exit_pid(a, hv_atom("kill")) == HV_OK);
    EXPECT(matches(down_reason(ref), "killed", NULL));
    EXPECT(got("{got, ^B, {'EXIT', ^A, killed}}", HV_PINS(b, a)));
}

/* Erlang: exit(kill) by the process itself is an ordinary reason: a
 * trapping peer gets {'EXIT', A, kill}, a non-trapping one dies with
 * `kill` (not killed) and passes `kill` on in its turn. */
static void
exit_kill_by_itself_reaches_links_as_kill(void)
{
    hv_term a = new_agent(false), b = new_agent(false);
    hv_term c = new_agent(true), d = new_agent(true);
    tell(b, "{link, ~p}", a);
    tell(c, "{link, ~p}", a);
    tell(d, "{link, ~p}", b);
    EXPECT(round_trip(b) && round_trip(c) && round_trip(d));
    hv_term rb = hv_monitor(b);
    tell(a, "{exit, kill}");
    EXPECT(matches(down_reason(rb), "kill", NULL));
    EXPECT(got("{got, ^C, {'EXIT', ^A, kill}}", HV_PINS(c, a)));
    EXPECT(got("{got, ^D, {'EXIT', ^B, kill}}", HV_PINS(d, b)));
}

/* ---- hv_exit_pid (exit/2) ---------------------------------------------- */

/* Erlang: exit(P, normal) is ignored by a non-trapping P (its pong comes
 * after the signal, sent before the ping). */
static void
exit_pid_normal_is_ignored_when_not_trapping(void)
{
    hv_term a = new_agent(false);
    EXPECT(hv_exit_pid(a, hv_atom("normal")) == HV_OK);
    EXPECT(round_trip(a));
    EXPECT(hv_is_alive(a));
}

/* Erlang: a trapping P gets {'EXIT', From, normal}. */
static void
exit_pid_normal_reaches_a_trapping_process(void)
{
    hv_term a = new_agent(true), self = hv_self();
    EXPECT(hv_exit_pid(a, hv_atom("normal")) == HV_OK);
    EXPECT(got("{got, ^A, {'EXIT', ^S, normal}}", HV_PINS(a, self)));
}

/* Erlang: exit(self(), normal) ends a non-trapping caller with normal,
 * at once (its later pong never comes). */
static void
exit_pid_self_normal_ends_the_caller(void)
{
    hv_term a = new_agent(false), ref = hv_monitor(a);
    tell(a, "{exit_pid, ~p, normal}", a);
    tell(a, "{ping, ~p}", hv_self());
    EXPECT(matches(down_reason(ref), "normal", NULL));
    EXPECT(quiet("{pong, ^A}", HV_PINS(a)));
}

/* Erlang: while trapping, exit(self(), foo) and exit(self(), normal)
 * queue {'EXIT', Self, foo} and {'EXIT', Self, normal}. */
static void
exit_pid_self_while_trapping_queues_a_message(void)
{
    hv_term self = hv_self();
    hv_trap_exit(true);
    EXPECT(hv_exit_pid(self, hv_atom("foo")) == HV_OK);
    EXPECT(got("{'EXIT', ^S, foo}", HV_PINS(self)));
    EXPECT(hv_exit_pid(self, hv_atom("normal")) == HV_OK);
    EXPECT(got("{'EXIT', ^S, normal}", HV_PINS(self)));
}

/* Erlang: exit(self(), kill) ends even a trapping caller, as killed. */
static void
exit_pid_self_kill_ends_a_trapping_caller(void)
{
    hv_term a = new_agent(true), ref = hv_monitor(a);
    tell(a, "{exit_pid, ~p, kill}", a);
    tell(a, "{ping, ~p}", hv_self());
    EXPECT(matches(down_reason(ref), "killed", NULL));
    EXPECT(quiet("{pong, ^A}", HV_PINS(a)));
}

/* Erlang: exit(P, Reason) ends a non-trapping P with Reason. */
static void
exit_pid_reason_ends_a_non_trapping_process(void)
{
    hv_term a = new_agent(false), ref = hv_monitor(a);
    EXPECT(hv_exit_pid(a, hv_parse("{foo, <<\"bar\">>}", NULL)) == HV_OK);
    EXPECT(matches(down_reason(ref), "{foo, <<\"bar\">>}", NULL));
}

/* ---- link and unlink -------------------------------------------------- */

/* Erlang: link/1 to a dead (or never existing) pid while trapping
 * returns true and queues {'EXIT', Pid, noproc}. */
static void
link_to_a_dead_pid_while_trapping_gives_noproc(void)
{
    hv_term dead[] = {dead_pid(), never_alive_pid()};
    hv_trap_exit(true);
    for (int i = 0; i < 2; i++) {
        EXPECT(hv_link(dead[i]) == HV_OK);
        EXPECT(got("{'EXIT', ^P, noproc}", HV_PINS(dead[i])));
    }
}

/* Erlang: without trapping, link/1 to a dead pid ends the caller (an
 * error noproc there, {noproc, Stack} uncaught; hive has no stack trace,
 * so the reason is noproc) and nothing after it runs. */
static void
link_to_a_dead_pid_kills_a_non_trapping_caller(void)
{
    hv_term dead[] = {dead_pid(), never_alive_pid()};
    for (int i = 0; i < 2; i++) {
        hv_term a = new_agent(false), ref = hv_monitor(a);
        tell(a, "{link, ~p}", dead[i]);
        tell(a, "{ping, ~p}", hv_self());
        EXPECT(matches(down_reason(ref), "noproc", NULL));
        EXPECT(quiet("{pong, ^A}", HV_PINS(a)));
    }
}

/* Erlang: links are a set: link twice, unlink once, and there is none. */
static void
links_are_idempotent(void)
{
    hv_trap_exit(true);
    hv_term a = new_agent(false);
    EXPECT(hv_link(a) == HV_OK && hv_link(a) == HV_OK);
    EXPECT(hv_unlink(a) == HV_OK);
    hv_term ref = hv_monitor(a);
    tell(a, "{exit, boom}");
    EXPECT(matches(down_reason(ref), "boom", NULL));
    EXPECT(quiet("{'EXIT', ^A, _}", HV_PINS(a)));
}

/* Erlang: unlink/1 removes both ends: afterwards neither the peer's
 * death nor the unlinker's reaches the other (both trap, so a link left
 * behind would show as an EXIT message). */
static void
unlink_removes_both_ends(void)
{
    for (int unlinker_dies = 0; unlinker_dies < 2; unlinker_dies++) {
        hv_term a = new_agent(true), b = new_agent(true);
        tell(a, "{link, ~p}", b);
        tell(a, "{unlink, ~p}", b);
        EXPECT(round_trip(a) && round_trip(b));
        hv_term dies = unlinker_dies ? a : b, lives = unlinker_dies ? b : a;
        hv_term ref = hv_monitor(dies);
        tell(dies, "{exit, boom}");
        EXPECT(matches(down_reason(ref), "boom", NULL));
        EXPECT(quiet("{got, ^L, {'EXIT', _, _}}", HV_PINS(lives)));
        tell(lives, "stop");
    }
}

/* (process) Spins in C until p is gone and 2 ms more, making no hive
 * call, so a signal p sends meanwhile waits unacted on (bounded: 100 ms). */
static void
spin_until_dead(hv_term p)
{
    double t0 = now_ms(), dead_at = 0;
    while (now_ms() - t0 < 100 && (dead_at == 0 || now_ms() - dead_at < 2))
        if (dead_at == 0 && is_dead(p))
            dead_at = now_ms();
}

/* Erlang (unlink/1 docs, and 20 of 20 escript runs): once unlink
 * returns the link has no effect: a peer killed just before gives no
 * {'EXIT', ...} if the caller has not acted on its signal (no receive in
 * between).  The peer is killed before it runs, or (on its own thread)
 * dies while the caller spins in C. */
static void
unlink_drops_an_exit_signal_on_its_way(void)
{
    hv_trap_exit(true);
    for (int i = 0; i < 20; i++) {
        hv_spawn_opts o = {0};
        hv_term a = HV_NONE;
        o.link = true;
        o.thread = i % 2;
        EXPECT(hv_spawn_opt(agent, pid_arg(hv_self()), &o, &a, NULL) == HV_OK);
        hv_term ref = hv_monitor(a);
        EXPECT(hv_exit_pid(a, hv_atom("kill")) == HV_OK);
        if (o.thread)
            spin_until_dead(a);
        EXPECT(hv_unlink(a) == HV_OK);
        EXPECT(matches(down_reason(ref), "killed", NULL));
    }
    EXPECT(quiet("{'EXIT', _, _}", NULL));
}

/* Erlang: an {'EXIT', ...} message already in the queue stays there
 * after unlink (checked: process_info message_queue_len 1, unlink,
 * receive gets it). */
static void
unlink_keeps_an_exit_message_already_queued(void)
{
    hv_trap_exit(true);
    hv_term a = hv_spawn_link(agent, pid_arg(hv_self()));
    EXPECT(hv_exit_pid(a, hv_atom("kill")) == HV_OK);
    EXPECT(mailbox_reaches(1));
    EXPECT(hv_unlink(a) == HV_OK);
    EXPECT(got("{'EXIT', ^A, killed}", HV_PINS(a)));
}

/* Erlang: spawn_opt(F, [link]) links before the child runs. */
static void
spawn_opt_link_links_before_the_child_runs(void)
{
    hv_spawn_opts o = {0};
    hv_term p = HV_NONE;
    o.link = true;
    hv_trap_exit(true);
    EXPECT(hv_spawn_opt(exits_with, term_arg(hv_atom("boom")), &o, &p, NULL) ==
           HV_OK);
    EXPECT(got("{'EXIT', ^P, boom}", HV_PINS(p)));
}

/* Erlang: is_process_alive(self()) is true; false for a process that has
 * ended and for a pid no process had. */
static void
is_alive_of_self_dead_and_unknown_pids(void)
{
    hv_term a = new_agent(false), ref = hv_monitor(a);
    EXPECT(hv_is_alive(hv_self()) && hv_is_alive(a));
    tell(a, "stop");
    EXPECT(matches(down_reason(ref), "normal", NULL));
    EXPECT(!hv_is_alive(a));
    EXPECT(!hv_is_alive(never_alive_pid()));
}

/* Erlang: process_flag(trap_exit, V) returns the previous value, false
 * in a new process. */
static void
trap_exit_returns_the_previous_value(void)
{
    EXPECT(hv_trap_exit(true) == false);
    EXPECT(hv_trap_exit(true) == true);
    EXPECT(hv_trap_exit(false) == true);
    EXPECT(hv_trap_exit(false) == false);
}

/* ---- order ---------------------------------------------------------- */

enum { BEFORE_EXIT = 100 };

static void
sends_then_exits(void *arg)
{
    for (int i = 0; i < BEFORE_EXIT; i++)
        hv_send(arg_pid(arg), hv_tuple(2, hv_atom("m"), hv_int(i)));
    hv_exit(hv_atom("boom"));
}

/* Erlang: signals from one process arrive in order with its messages:
 * m1, m2, ..., then {'EXIT', P, boom}. */
static void
exit_signal_comes_after_the_senders_messages(void)
{
    hv_trap_exit(true);
    hv_term p = hv_spawn_link(sends_then_exits, pid_arg(hv_self()));
    for (int i = 0; i < BEFORE_EXIT; i++)
        EXPECT(matches(recv_match("_", NULL, WAIT_MS), "{m, ^I}",
                       HV_PINS(hv_int(i))));
    EXPECT(matches(recv_match("_", NULL, WAIT_MS), "{'EXIT', ^P, boom}",
                   HV_PINS(p)));
}

/* Erlang: Q ! m1, exit(Q, foo), Q ! m2 reach a trapping Q as m1,
 * {'EXIT', Self, foo}, m2: an exit signal keeps its place between
 * messages. */
static void
exit_signal_keeps_its_place_between_messages(void)
{
    hv_term q = new_agent(true), self = hv_self();
    EXPECT(hv_send(q, hv_atom("m1")) == HV_OK);
    EXPECT(hv_exit_pid(q, hv_atom("foo")) == HV_OK);
    EXPECT(hv_send(q, hv_atom("m2")) == HV_OK);
    const char *want[] = {"{got, ^Q, m1}", "{got, ^Q, {'EXIT', ^S, foo}}",
                          "{got, ^Q, m2}"};
    for (int i = 0; i < 3; i++)
        EXPECT(matches(recv_match("{got, ^Q, _}", HV_PINS(q), WAIT_MS), want[i],
                       HV_PINS(q, self)));
}

/* ---- races ------------------------------------------------------------- */

/* Erlang (2000 escript rounds gave both): a link to a process that is
 * exiting meets its exit (Reason) or its absence (noproc), exactly
 * once. */
static void
link_racing_an_exit_gives_exactly_one_exit(void)
{
    long n = hv_check_scale(2000), seen = 0;
    hv_term race = hv_parse("{shutdown, race}", NULL); /* not reported */
    hv_trap_exit(true);
    for (long i = 0; i < n; i++) {
        hv_term p = hv_spawn(exits_with, term_arg(hv_retain(race)));
        for (long y = 0; y < i % 4; y++)
            hv_yield();
        EXPECT(hv_link(p) == HV_OK);
        seen += matches(recv_match("{'EXIT', ^P, _}", HV_PINS(p), WAIT_MS),
                        "{'EXIT', _, R} when R =:= {shutdown, race}; "
                        "R =:= noproc",
                        NULL);
    }
    hv_release(race);
    EXPECT(seen == n);
    EXPECT(quiet("{'EXIT', _, _}", NULL)); /* never a second one */
}

/* Erlang: two linked processes killing each other at once both end as
 * killed: each is killed, or dies of the other's `killed` link signal. */
static void
mutual_kills_leave_both_killed(void)
{
    for (long i = 0; i < hv_check_scale(200); i++) {
        hv_term a = new_agent(false), b = new_agent(false);
        tell(a, "{link, ~p}", b);
        EXPECT(round_trip(a));
        hv_term ra = hv_monitor(a), rb = hv_monitor(b);
        tell(a, "{exit_pid, ~p, kill}", b);
        tell(b, "{exit_pid, ~p, kill}", a);
        EXPECT(matches(down_reason(ra), "killed", NULL));
        EXPECT(matches(down_reason(rb), "killed", NULL));
    }
}

static hv_term chain_head;

/* One link of the chain; arg counts the links still to spawn after it.
 * The last one waits for `die`, the others for nothing. */
static void
chain_link(void *arg)
{
    long left = (long)(intptr_t)arg;
    hv_term m = HV_NONE;

    if (left > 0)
        hv_spawn_link(chain_link, (void *)(intptr_t)(left - 1));
    hv_send(chain_head,
            hv_tuple(2, hv_atom(left ? "link" : "last"), hv_self()));
    if (hv_recv(HV_INFINITY, &m) == HV_OK && left == 0)
        hv_exit(hv_atom("chain_broken"));
    hv_release(m);
}

/* Erlang (10,000 processes): the last of a chain of links dying takes
 * every one down with its reason, and the trapping head gets one EXIT. */
static void
chain_dies_with_one_reason_and_one_exit(void)
{
    long n = hv_check_scale(10000), broken = 0;
    hv_term last = HV_NONE;

    chain_head = hv_self();
    hv_trap_exit(true);
    hv_term first = hv_spawn_link(chain_link, (void *)(intptr_t)(n - 1));
    for (long i = 0; i < n; i++) {
        hv_term m = recv_match("{_, _}", NULL, WAIT_MS);
        hv_term p = hv_tuple_at(m, 1);
        hv_release(hv_monitor(p));
        if (is_tagged(m, "last"))
            last = p;
        hv_release(m);
    }
    EXPECT(hv_send(last, hv_atom("die")) == HV_OK);
    for (long i = 0; i < n; i++)
        broken += matches(recv_match("{'DOWN', _, _, _, _}", NULL, WAIT_MS),
                          "{_, _, _, _, chain_broken}", NULL);
    EXPECT(broken == n);
    EXPECT(got("{'EXIT', ^P, chain_broken}", HV_PINS(first)));
    EXPECT(quiet("{'EXIT', _, _}", NULL));
}

/* Erlang: link/unlink/exit with a non-pid raise badarg; hive returns
 * HV_EBADARG (a remote pid too: there is no distribution), releases the
 * reason, and the caller goes on. */
static void
bad_arguments_are_refused(void)
{
    hv_term remote = hv_pid_remote(hv_atom("a@host"), 1, 0, 1);
    hv_term bad[] = {hv_atom("x"), hv_int(1), hv_ref_make(),
                     HV_NIL,       remote,    HV_NONE};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT(hv_link(bad[i]) == HV_EBADARG);
        EXPECT(hv_unlink(bad[i]) == HV_EBADARG);
        EXPECT(hv_exit_pid(bad[i], hv_string("freed")) == HV_EBADARG);
    }
    hv_release(remote);
    hv_term a = new_agent(false);
    EXPECT(hv_exit_pid(a, HV_NONE) == HV_EBADARG);
    EXPECT(round_trip(a));
    EXPECT(hv_exit_pid(dead_pid(), hv_string("dropped")) == HV_OK);
}

static void (*const rows[])(void) = {
    abnormal_exit_kills_the_linked_peer_with_its_reason,
    trapping_turns_the_exit_into_a_message,
    normal_exit_spares_the_linked_peer,
    trapping_process_gets_exit_normal,
    exit_pid_kill_ends_a_trapping_process_as_killed,
    exit_kill_by_itself_reaches_links_as_kill,
    exit_pid_normal_is_ignored_when_not_trapping,
    exit_pid_normal_reaches_a_trapping_process,
    exit_pid_self_normal_ends_the_caller,
    exit_pid_self_while_trapping_queues_a_message,
    exit_pid_self_kill_ends_a_trapping_caller,
    exit_pid_reason_ends_a_non_trapping_process,
    link_to_a_dead_pid_while_trapping_gives_noproc,
    link_to_a_dead_pid_kills_a_non_trapping_caller,
    links_are_idempotent,
    unlink_removes_both_ends,
    unlink_drops_an_exit_signal_on_its_way,
    unlink_keeps_an_exit_message_already_queued,
    spawn_opt_link_links_before_the_child_runs,
    is_alive_of_self_dead_and_unknown_pids,
    trap_exit_returns_the_previous_value,
    exit_signal_comes_after_the_senders_messages,
    exit_signal_keeps_its_place_between_messages,
    link_racing_an_exit_gives_exactly_one_exit,
    mutual_kills_leave_both_killed,
    chain_dies_with_one_reason_and_one_exit,
    bad_arguments_are_refused,
};

START_TEST(test_links_rule)
{
    run_main(run_row, (void *)&rows[_i], 1);
    run_main(run_row, (void *)&rows[_i], 2);
}
END_TEST

/* Watches two agents for the test thread: says {victims, A, B} (A does
 * not trap, B does) and forwards whatever comes. */
static void
watch_for_bridge(void *arg)
{
    hv_term a = new_agent(false), b = new_agent(true), m = HV_NONE;
    hv_release(hv_monitor(a));
    hv_release(hv_monitor(b));
    hv_send(arg_pid(arg), hv_tuple(3, hv_atom("victims"), a, b));
    while (hv_recv(HV_INFINITY, &m) == HV_OK)
        hv_send(arg_pid(arg), m);
}

/* hive: hv_link/hv_unlink need a calling process (HV_EBADARG),
 * hv_trap_exit outside one returns false and does nothing, hv_exit_pid
 * needs none: from a plain thread it acts as exit/2 does. */
START_TEST(test_links_calls_from_a_plain_thread)
{
    hv_config c = config_of(2);
    hv_term m = HV_NONE, p = never_alive_pid();

    ck_assert_int_eq(hv_link(p), HV_EBADARG); /* no runtime */
    ck_assert_int_eq(hv_unlink(p), HV_EBADARG);
    ck_assert(!hv_trap_exit(true) && !hv_trap_exit(true));
    ck_assert(!hv_is_alive(p));
    hv_expect_reset();
    ck_assert_int_eq(hv_start(&c), HV_OK);
    hv_bridge *br = hv_bridge_open(NULL);
    ck_assert_ptr_nonnull(br);
    hv_spawn(watch_for_bridge, pid_arg(hv_bridge_pid(br)));
    ck_assert_int_eq(hv_bridge_recv(br, WAIT_MS, &m), HV_OK);
    hv_term a = hv_tuple_at(m, 1), b = hv_tuple_at(m, 2);
    ck_assert_int_eq(hv_link(a), HV_EBADARG);
    ck_assert_int_eq(hv_unlink(a), HV_EBADARG);
    ck_assert(!hv_trap_exit(true));
    /* One at a time: b must forward its trapped `bar` before the kill. */
    struct {
        hv_term to;
        const char *reason, *want;
    } steps[] = {{a, "foo", "{'DOWN', _, process, ^P, foo}"},
                 {b, "bar", "{got, ^P, {'EXIT', _, bar}}"},
                 {b, "kill", "{'DOWN', _, process, ^P, killed}"}};
    for (int i = 0; i < 3; i++) {
        hv_term one = HV_NONE;
        ck_assert_int_eq(hv_exit_pid(steps[i].to, hv_atom(steps[i].reason)),
                         HV_OK);
        ck_assert_int_eq(hv_bridge_recv(br, WAIT_MS, &one), HV_OK);
        ck_assert_msg(matches(one, steps[i].want, HV_PINS(steps[i].to)),
                      "step %d: not %s", i, steps[i].want);
    }
    hv_release(m);
    hv_bridge_close(br);
    ck_assert_int_eq(hv_stop(), HV_OK);
    hv_expect_assert();
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("links");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_loop_test(tc, test_links_rule, 0,
                        (int)(sizeof rows / sizeof rows[0]));
    tc = hv_check_tcase(s, "edges");
    tcase_add_test(tc, test_links_calls_from_a_plain_thread);
    return s;
}
