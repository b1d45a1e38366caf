/* tests/check_monitors.c - monitors, one table row per rule: the DOWN's
 * reason (normal, abnormal, killed), dead and unknown targets, names,
 * several monitors, demonitor (its result, flush, nothing after it),
 * hv_spawn_monitor and .monitor, one-way monitors, a watcher's death, the
 * order of a DOWN after the target's messages and the state a DOWN sees;
 * then crash reports on stderr, which hang on whether anybody links or
 * monitors (they live here, not in check_links.c, to keep both files
 * under 800 lines).
 *
 * Each row cites the Erlang/OTP 25 behaviour it pins; each was checked
 * with a small escript first.  Steps are ordered by messages and
 * monitors; a wait for something that must NOT come is bounded by
 * QUIET_MS.  Rows run on 1 and on 2 schedulers. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hive/hive.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"
#include "tests/signal_util.h"

/* WAIT_MS bounds a wait for what must come (past it the test fails, not
 * hangs); QUIET_MS bounds a wait for what must not. */
enum { WAIT_MS = SIGNAL_WAIT_MS, QUIET_MS = SIGNAL_QUIET_MS };

/* ---- bodies and pids ---------------------------------------------------- */

static hv_term
arg_term(void *arg)
{
    return (hv_term)(uintptr_t)arg;
}

/* Ends at once with arg as the reason (an atom, or a term it consumes). */
static void
exits_with(void *arg)
{
    hv_exit(arg_term(arg));
}

/* Waits for any message, then ends with arg as the reason. */
static void
exits_on_message(void *arg)
{
    hv_term m = HV_NONE;
    hv_recv(HV_INFINITY, &m);
    hv_release(m);
    hv_exit(arg_term(arg));
}

/* (process) A process waiting to end with `bye` on any message. */
static hv_term
spawn_target(void)
{
    return hv_spawn(exits_on_message, term_arg(hv_atom("bye")));
}

/* ---- the DOWN message ---------------------------------------------------- */

/* Erlang: a process that returns or calls exit(normal) gives
 * {'DOWN', Ref, process, Pid, normal}. */
static void
down_after_a_normal_exit(void)
{
    hv_fn *bodies[] = {returns_at_once, exits_with};
    for (int i = 0; i < 2; i++) {
        hv_term ref = HV_NONE;
        hv_term p =
            hv_spawn_monitor(bodies[i], term_arg(hv_atom("normal")), &ref);
        EXPECT(got("{'DOWN', ^R, process, ^P, normal}", HV_PINS(ref, p)));
    }
}

/* Erlang: the DOWN carries the exact term the process exited with. */
static void
down_after_an_abnormal_exit(void)
{
    const char *reasons[] = {"boom", "{boom, <<\"b\">>, [1.5, -7]}", "shutdown",
                             "{shutdown, x}"};
    for (int i = 0; i < 4; i++) {
        hv_term ref = HV_NONE;
        hv_spawn_monitor(exits_with, term_arg(hv_parse(reasons[i], NULL)),
                         &ref);
        EXPECT(matches(down_reason(ref), reasons[i], NULL));
    }
}

/* Erlang: after exit(P, kill) the DOWN says killed. */
static void
down_after_a_kill(void)
{
    hv_term ref = HV_NONE, p = hv_spawn_monitor(await_stop, NULL, &ref);
    EXPECT(hv_exit_pid(p, hv_atom("kill")) == HV_OK);
    EXPECT(got("{'DOWN', ^R, process, ^P, killed}", HV_PINS(ref, p)));
}

/* Erlang: monitoring a dead (or never existing) pid gives
 * {'DOWN', Ref, process, Pid, noproc} at once (`after 0` gets it). */
static void
monitoring_a_dead_pid_gives_noproc_at_once(void)
{
    hv_term dead[] = {dead_pid(), never_alive_pid()};
    for (int i = 0; i < 2; i++) {
        hv_term ref = hv_monitor(dead[i]);
        EXPECT(hv_is_ref(ref));
        EXPECT(got_within(0, "{'DOWN', ^R, process, ^P, noproc}",
                          HV_PINS(ref, dead[i])));
    }
}

/* Erlang: monitor(process, Name) names the process in the DOWN as
 * {Name, node()}, and follows the process it found, even after the name
 * is unregistered. */
static void
monitoring_a_name_reports_name_and_node(void)
{
    hv_term name = hv_atom("check_monitors_named");
    for (int unregister = 0; unregister < 2; unregister++) {
        hv_term p = spawn_target();
        EXPECT(hv_register(name, p, NULL) == HV_OK);
        hv_term ref = hv_monitor(name);
        if (unregister)
            EXPECT(hv_unregister(name) == HV_OK);
        EXPECT(hv_send(p, hv_atom("go")) == HV_OK);
        EXPECT(got("{'DOWN', ^R, process, "
                   "{check_monitors_named, 'nonode@nohost'}, bye}",
                   HV_PINS(ref)));
    }
}

/* Erlang: monitoring a name nobody has gives
 * {'DOWN', Ref, process, {Name, node()}, noproc} at once. */
static void
monitoring_an_unregistered_name_gives_noproc_at_once(void)
{
    hv_term ref = hv_monitor(hv_atom("check_monitors_nobody"));
    EXPECT(hv_is_ref(ref));
    EXPECT(got_within(0,
                      "{'DOWN', ^R, process, "
                      "{check_monitors_nobody, 'nonode@nohost'}, noproc}",
                      HV_PINS(ref)));
}

/* Erlang: two monitors on one target are two: distinct refs, two DOWNs. */
static void
two_monitors_give_two_downs(void)
{
    hv_term p = spawn_target();
    hv_term r1 = hv_monitor(p), r2 = hv_monitor(p);
    EXPECT(hv_is_ref(r1) && hv_is_ref(r2) && !hv_equal(r1, r2));
    EXPECT(hv_send(p, hv_atom("go")) == HV_OK);
    EXPECT(got("{'DOWN', ^R, process, ^P, bye}", HV_PINS(r1, p)));
    EXPECT(got("{'DOWN', ^R, process, ^P, bye}", HV_PINS(r2, p)));
    EXPECT(quiet("{'DOWN', _, _, _, _}", NULL));
}

/* Erlang (demonitor/2 with info): true while the monitor is on, false
 * once removed, once fired, or for a ref that is no monitor. */
static void
demonitor_says_whether_the_monitor_was_on(void)
{
    hv_term p = spawn_target(), ref = hv_monitor(p);
    EXPECT(hv_demonitor(ref, false) == 1);
    EXPECT(hv_demonitor(ref, false) == 0);
    ref = hv_monitor(p);
    EXPECT(hv_send(p, hv_atom("go")) == HV_OK);
    EXPECT(got("{'DOWN', ^R, process, ^P, bye}", HV_PINS(ref, p)));
    EXPECT(hv_demonitor(ref, false) == 0);
    EXPECT(hv_demonitor(ref, true) == 0);
    EXPECT(hv_demonitor(hv_ref_make(), false) == 0);
}

/* Erlang: demonitor(Ref, [info]) after the DOWN is queued returns false
 * and leaves the DOWN in the queue. */
static void
demonitor_leaves_a_queued_down(void)
{
    hv_term p = spawn_target(), ref = hv_monitor(p);
    EXPECT(hv_send(p, hv_atom("go")) == HV_OK);
    EXPECT(mailbox_reaches(1));
    EXPECT(hv_demonitor(ref, false) == 0);
    EXPECT(got_within(0, "{'DOWN', ^R, process, ^P, bye}", HV_PINS(ref, p)));
}

/* Erlang: demonitor(Ref, [flush, info]) removes a queued DOWN, and only
 * that message. */
static void
demonitor_flush_removes_a_queued_down(void)
{
    hv_term p = spawn_target(), ref = hv_monitor(p);
    EXPECT(hv_send(hv_self(), hv_atom("before")) == HV_OK);
    EXPECT(hv_send(p, hv_atom("go")) == HV_OK);
    EXPECT(mailbox_reaches(2));
    EXPECT(hv_demonitor(ref, true) == 0);
    EXPECT(got_within(0, "before", NULL));
    EXPECT(quiet("{'DOWN', _, _, _, _}", NULL));
}

/* Erlang: after demonitor no DOWN for it comes, though the target dies
 * (a second monitor's DOWN shows when). */
static void
no_down_after_demonitor(void)
{
    hv_term p = spawn_target(), off = hv_monitor(p), on = hv_monitor(p);
    EXPECT(hv_demonitor(off, false) == 1);
    EXPECT(hv_send(p, hv_atom("go")) == HV_OK);
    EXPECT(got("{'DOWN', ^R, process, _, bye}", HV_PINS(on)));
    EXPECT(quiet("{'DOWN', ^R, _, _, _}", HV_PINS(off)));
}

/* Erlang: spawn_monitor/1 monitors before the child runs: a child that
 * exits at once gives its reason, never noproc. */
static void
spawn_monitor_monitors_before_the_child_runs(void)
{
    hv_term ref = HV_NONE;
    hv_term p = hv_spawn_monitor(exits_with, term_arg(hv_atom("boom")), &ref);
    EXPECT(hv_is_pid(p) && hv_is_ref(ref));
    EXPECT(got("{'DOWN', ^R, process, ^P, boom}", HV_PINS(ref, p)));
}

/* Erlang: spawn_opt(F, [monitor]) does the same. */
static void
spawn_opt_monitor_monitors_before_the_child_runs(void)
{
    hv_spawn_opts o = {0};
    hv_term p = HV_NONE, ref = HV_NONE;
    o.monitor = &ref;
    EXPECT(hv_spawn_opt(exits_with, term_arg(hv_atom("boom")), &o, &p, NULL) ==
           HV_OK);
    EXPECT(hv_is_ref(ref));
    EXPECT(got("{'DOWN', ^R, process, ^P, boom}", HV_PINS(ref, p)));
}

/* Reports its first message to the parent (arg) as {first, Msg}. */
static void
reports_first_message(void *arg)
{
    hv_term m = HV_NONE;
    if (hv_recv(HV_INFINITY, &m) == HV_OK)
        hv_send(arg_pid(arg), hv_tuple(2, hv_atom("first"), m));
}

/* Monitors arg (a pid) 1,000 times, then dies. */
static void
monitors_then_dies(void *arg)
{
    for (int i = 0; i < 1000; i++) {
        hv_term ref = hv_monitor(arg_pid(arg));
        EXPECT(hv_is_ref(ref));
        hv_release(ref);
    }
    hv_exit(hv_atom("wboom"));
}

/* Erlang: a monitor is one-way: the target's abnormal end does not end
 * the (non-trapping) watcher, which only gets the DOWN. */
static void
target_death_spares_the_watcher(void)
{
    hv_term ref = HV_NONE;
    hv_spawn_monitor(exits_with, term_arg(hv_atom("boom")), &ref);
    EXPECT(matches(down_reason(ref), "boom", NULL));
    EXPECT(hv_is_alive(hv_self())); /* and run_main sees main end normally */
}

/* Erlang: the watcher's end sends the target nothing: its first message
 * afterwards is the probe; and the watcher's monitors go with it (the
 * leak fixture checks, and the target's own end finds none). */
static void
watcher_death_tells_the_target_nothing(void)
{
    hv_term t = hv_spawn(reports_first_message, pid_arg(hv_self()));
    hv_term ref = HV_NONE;
    hv_spawn_monitor(monitors_then_dies, pid_arg(t), &ref);
    EXPECT(matches(down_reason(ref), "wboom", NULL));
    EXPECT(hv_is_alive(t));
    EXPECT(hv_send(t, hv_atom("probe")) == HV_OK);
    EXPECT(got("{first, probe}", NULL));
}

enum { BEFORE_EXIT = 100 };

static void
sends_then_exits(void *arg)
{
    for (int i = 0; i < BEFORE_EXIT; i++)
        hv_send(arg_pid(arg), hv_tuple(2, hv_atom("m"), hv_int(i)));
    hv_exit(hv_atom("c"));
}

/* Erlang: a DOWN comes after every message the target sent before it
 * died (signals from one process arrive in order). */
static void
down_comes_after_the_targets_messages(void)
{
    hv_term ref = HV_NONE;
    hv_spawn_monitor(sends_then_exits, pid_arg(hv_self()), &ref);
    for (int i = 0; i < BEFORE_EXIT; i++)
        EXPECT(matches(recv_match("_", NULL, WAIT_MS), "{m, ^I}",
                       HV_PINS(hv_int(i))));
    EXPECT(matches(recv_match("_", NULL, WAIT_MS), "{'DOWN', ^R, _, _, c}",
                   HV_PINS(ref)));
}

static hv_term watchers_parent;

/* Monitors arg, tells watchers_parent {watching, Ref}, then forwards the
 * DOWN's reason as {down, Reason}. */
static void
watches(void *arg)
{
    hv_term ref = hv_monitor(arg_pid(arg));
    hv_send(watchers_parent, hv_tuple(2, hv_atom("watching"), ref));
    hv_send(watchers_parent, hv_tuple(2, hv_atom("down"), down_reason(ref)));
}

/* Erlang (1,000 watchers): every watcher of a target gets its DOWN. */
static void
every_watcher_gets_a_down(void)
{
    long n = hv_check_scale(1000), downs = 0;
    hv_term t = spawn_target();
    watchers_parent = hv_self();
    for (long i = 0; i < n; i++)
        hv_spawn(watches, pid_arg(t));
    for (long i = 0; i < n; i++)
        EXPECT(got("{watching, _}", NULL));
    EXPECT(hv_send(t, hv_atom("go")) == HV_OK);
    for (long i = 0; i < n; i++)
        downs += got("{down, bye}", NULL);
    EXPECT(downs == n);
}

/* Erlang: demonitor of a ref of another process's monitor is false and
 * leaves that monitor on. */
static void
demonitor_of_anothers_monitor_does_nothing(void)
{
    hv_term t = spawn_target();
    watchers_parent = hv_self();
    hv_spawn(watches, pid_arg(t));
    hv_term m = recv_match("{watching, _}", NULL, WAIT_MS);
    EXPECT(hv_demonitor(hv_tuple_at(m, 1), true) == 0);
    hv_release(m);
    EXPECT(hv_send(t, hv_atom("go")) == HV_OK);
    EXPECT(got("{down, bye}", NULL));
}

/* Erlang: monitor(process, self()) returns a ref but sets up nothing:
 * demonitor(Ref, [info]) is false and no DOWN ever comes. */
static void
monitoring_oneself_sets_up_nothing(void)
{
    hv_term ref = hv_monitor(hv_self());
    EXPECT(hv_is_ref(ref));
    EXPECT(hv_demonitor(ref, false) == 0);
}

static atomic_bool cleaned;

static void
set_cleaned(void *arg)
{
    (void)arg;
    atomic_store(&cleaned, true);
}

static void
cleans_up_when_killed(void *arg)
{
    hv_term m = HV_NONE;
    EXPECT(hv_defer(set_cleaned, NULL) == HV_OK);
    hv_send(arg_pid(arg), hv_atom("ready"));
    hv_recv(HV_INFINITY, &m);
    hv_release(m);
}

/* Erlang: when the DOWN of a killed process is handled, it is no longer
 * alive and its name is free (hive adds: its hv_defer cleanups ran). */
static void
killed_process_is_gone_before_its_down(void)
{
    hv_spawn_opts o = {0};
    hv_term p = HV_NONE, ref = HV_NONE, name = hv_atom("check_monitors_victim");

    atomic_store(&cleaned, false);
    o.name = name;
    o.monitor = &ref;
    EXPECT(hv_spawn_opt(cleans_up_when_killed, pid_arg(hv_self()), &o, &p,
                        NULL) == HV_OK);
    EXPECT(got("ready", NULL));
    EXPECT(hv_exit_pid(p, hv_atom("kill")) == HV_OK);
    hv_term reason = down_reason(ref);
    EXPECT(atomic_load(&cleaned));
    EXPECT(hv_whereis(name) == HV_NONE);
    EXPECT(!hv_is_alive(p));
    EXPECT(matches(reason, "killed", NULL));
}

/* Erlang: monitor(process, 42) raises badarg; hive gives HV_NONE (a
 * remote pid too: no distribution), and demonitor of a non-ref
 * HV_EBADARG. */
static void
bad_arguments_are_refused(void)
{
    hv_term remote = hv_pid_remote(hv_atom("a@host"), 1, 0, 1);
    hv_term bad[] = {hv_int(42), HV_NIL, hv_ref_make(), remote, HV_NONE};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT(hv_monitor(bad[i]) == HV_NONE);
    EXPECT(hv_demonitor(hv_self(), false) == HV_EBADARG);
    EXPECT(hv_demonitor(hv_atom("x"), true) == HV_EBADARG);
    EXPECT(hv_demonitor(remote, false) == HV_EBADARG);
    hv_release(remote);
}

static void (*const rows[])(void) = {
    down_after_a_normal_exit,
    down_after_an_abnormal_exit,
    down_after_a_kill,
    monitoring_a_dead_pid_gives_noproc_at_once,
    monitoring_a_name_reports_name_and_node,
    monitoring_an_unregistered_name_gives_noproc_at_once,
    two_monitors_give_two_downs,
    demonitor_says_whether_the_monitor_was_on,
    demonitor_leaves_a_queued_down,
    demonitor_flush_removes_a_queued_down,
    no_down_after_demonitor,
    spawn_monitor_monitors_before_the_child_runs,
    spawn_opt_monitor_monitors_before_the_child_runs,
    target_death_spares_the_watcher,
    watcher_death_tells_the_target_nothing,
    down_comes_after_the_targets_messages,
    every_watcher_gets_a_down,
    demonitor_of_anothers_monitor_does_nothing,
    monitoring_oneself_sets_up_nothing,
    killed_process_is_gone_before_its_down,
    bad_arguments_are_refused,
};

START_TEST(test_monitors_rule)
{
    run_main(run_row, (void *)&rows[_i], 1);
    run_main(run_row, (void *)&rows[_i], 2);
}
END_TEST

/* hive: monitors belong to processes: outside one hv_monitor gives
 * HV_NONE and hv_demonitor HV_EBADARG. */
START_TEST(test_monitors_refused_outside_a_process)
{
    hv_term ref = hv_ref_make();
    ck_assert(hv_monitor(never_alive_pid()) == HV_NONE);
    ck_assert_int_eq(hv_demonitor(ref, false), HV_EBADARG);
    ck_assert_int_eq(hv_start(NULL), HV_OK);
    ck_assert(hv_monitor(never_alive_pid()) == HV_NONE);
    ck_assert(hv_monitor(hv_atom("check_monitors_nobody")) == HV_NONE);
    ck_assert_int_eq(hv_demonitor(ref, true), HV_EBADARG);
    ck_assert_int_eq(hv_stop(), HV_OK);
}
END_TEST

/* ---- crash reports ---------------------------------------------------- */

static hv_term crashed; /* the pid a report must name */

/* Unwatched, ends with {boom, 42}. */
static void
crashes_alone(void)
{
    crashed = hv_spawn(exits_with, term_arg(hv_parse("{boom, 42}", NULL)));
    EXPECT(eventually_dead(crashed));
}

static void
crashes_monitored(void)
{
    hv_term ref = HV_NONE;
    hv_spawn_monitor(exits_with, term_arg(hv_atom("boom")), &ref);
    EXPECT(matches(down_reason(ref), "boom", NULL));
}

static void
crashes_linked(void)
{
    hv_trap_exit(true);
    hv_term p = hv_spawn_link(exits_with, term_arg(hv_atom("boom")));
    EXPECT(got("{'EXIT', ^P, boom}", HV_PINS(p)));
}

/* Unwatched, ends with each reason that is no crash. */
static void
ends_with_quiet_reasons(void)
{
    const char *reasons[] = {"normal", "shutdown", "{shutdown, x}"};
    for (int i = 0; i < 3; i++)
        EXPECT(eventually_dead(
            hv_spawn(exits_with, term_arg(hv_parse(reasons[i], NULL)))));
    hv_term p = hv_spawn(await_stop, NULL);
    EXPECT(hv_exit_pid(p, hv_atom("kill")) == HV_OK);
    EXPECT(eventually_dead(p));
}

/* Leaves a process blocked: the runtime's stop ends it (`shutdown`). */
static void
leaves_a_process_running(void)
{
    EXPECT(hv_is_pid(hv_spawn(await_stop, NULL)));
}

struct crash_row {
    void (*fn)(void);
    bool quiet_crashes;
    int lines; /* reports expected */
};

/* hive (process.h), after Erlang's error logger: a process ending
 * abnormally that nobody links to or monitors is reported on stderr in
 * one line naming its pid and reason; nothing for a watched process, for
 * normal, shutdown, {shutdown, _} and killed, or with quiet_crashes.
 * (Erlang itself reports error exits whether watched or not.) */
static const struct crash_row crash_rows[] = {
    {crashes_alone, false, 1},           {crashes_alone, true, 0},
    {crashes_monitored, false, 0},       {crashes_linked, false, 0},
    {ends_with_quiet_reasons, false, 0}, {leaves_a_process_running, false, 0},
};

static void
run_crash_row(void *arg)
{
    ((const struct crash_row *)arg)->fn();
}

/* Reads fd until EOF into buf (NUL-terminated). */
static void
read_all(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
}

/* Runs r as hv_run's main with fd 2 on a pipe; text gets what came. */
static void
run_capturing_stderr(const struct crash_row *r, char *text, size_t cap)
{
    hv_config c = config_of(2);
    hv_term reason = HV_NONE;
    int fds[2];

    c.quiet_crashes = r->quiet_crashes;
    hv_expect_reset();
    ck_assert_int_eq(pipe(fds), 0);
    fflush(stderr);
    int saved = dup(2);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fds[1], 2), 0);
    close(fds[1]);
    int rc = hv_run(run_crash_row, (void *)r, &c, &reason);
    fflush(stderr);
    dup2(saved, 2); /* the pipe's last writer closes: read meets EOF */
    close(saved);
    read_all(fds[0], text, cap);
    close(fds[0]);
    ck_assert_int_eq(rc, HV_OK);
    ck_assert(reason == hv_atom("normal"));
    hv_expect_assert();
}

START_TEST(test_monitors_crash_report)
{
    const struct crash_row *r = &crash_rows[_i];
    char text[4096], pid[48], why[64];
    int lines = 0;

    crashed = HV_NONE;
    run_capturing_stderr(r, text, sizeof text);
    for (const char *s = text; *s; s++)
        lines += *s == '\n';
    ck_assert_msg(lines == r->lines, "%d report lines, not %d: %s", lines,
                  r->lines, text);
    if (r->lines > 0) {
        hv_term boom = hv_parse("{boom, 42}", NULL);
        hv_format(crashed, pid, sizeof pid);
        hv_format(boom, why, sizeof why);
        hv_release(boom);
        ck_assert_msg(strstr(text, pid) && strstr(text, why),
                      "the report names not both %s and %s: %s", pid, why,
                      text);
    }
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("monitors");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_loop_test(tc, test_monitors_rule, 0,
                        (int)(sizeof rows / sizeof rows[0]));
    tc = hv_check_tcase(s, "errors");
    tcase_add_test(tc, test_monitors_refused_outside_a_process);
    tc = hv_check_tcase(s, "crash_reports");
    tcase_add_loop_test(tc, test_monitors_crash_report, 0,
                        (int)(sizeof crash_rows / sizeof crash_rows[0]));
    return s;
}
