/* tests/check_process.c - the runtime's life: hv_run and main's exit
 * reason, hv_start/hv_stop embedding, calls after the runtime stopped,
 * out-parameters left alone on failure.  Processes record failed
 * expectations (EXPECT) and tests assert on them after the runtime has
 * stopped: Check's asserts must not run on a scheduler thread. */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hive/process.h"
#include "hive/term.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"
#include "tests/proc_fixtures.h"

/* A wait that should end at once; past it the test fails, not hangs. */
enum { WAIT_MS = 10000 };

/* ---- hv_run ----------------------------------------------------------- */

START_TEST(test_process_run_returns_ok_and_normal_when_main_returns)
{
    hv_term reason = HV_NONE;

    atomic_store(&ran, 0);
    hv_expect_reset();
    ck_assert(!hv_running());
    ck_assert_int_eq(hv_run(main_returns, &ran, NULL, &reason), HV_OK);
    ck_assert_int_eq(atomic_load(&ran), 1);
    ck_assert(reason == hv_atom("normal"));
    ck_assert(!hv_running());
    hv_expect_assert();

    /* Again with a NULL reason: the runtime starts afresh each time. */
    ck_assert_int_eq(hv_run(main_returns, &ran, NULL, NULL), HV_OK);
    ck_assert_int_eq(atomic_load(&ran), 2);
    hv_config c = config_of(1);
    c.spin_us = -1;
    c.stack_bytes = 256 * 1024;
    c.max_processes = 4;
    c.overflow_aborts = true;
    ck_assert_int_eq(hv_run(main_returns, &ran, &c, &reason), HV_OK);
    ck_assert_int_eq(atomic_load(&ran), 3);
    ck_assert(reason == hv_atom("normal"));
    hv_expect_assert();
}
END_TEST

static void
main_exits_shutdown_1(void *arg)
{
    (void)arg;
    exit_at_depth(3, hv_tuple(2, hv_atom("shutdown"), hv_int(1)));
    atomic_fetch_add(&returned_into, 100);
}

static void
main_exits_with_binary(void *arg)
{
    (void)arg;
    exit_at_depth(2, hv_string("a reason in a refcounted box"));
    atomic_fetch_add(&returned_into, 100);
}

START_TEST(test_process_run_reports_the_reason_main_exits_with_from_depth)
{
    hv_term reason = HV_NONE;
    hv_term want = hv_parse("{shutdown, 1}", NULL);

    atomic_store(&returned_into, 0);
    ck_assert_int_eq(hv_run(main_exits_shutdown_1, NULL, NULL, &reason), HV_OK);
    ck_assert_int_eq(atomic_load(&returned_into), 0);
    ck_assert(hv_equal(reason, want));
    hv_release(reason);
    hv_release(want);

    want = hv_string("a reason in a refcounted box");
    reason = HV_NONE;
    ck_assert_int_eq(hv_run(main_exits_with_binary, NULL, NULL, &reason),
                     HV_OK);
    ck_assert_int_eq(atomic_load(&returned_into), 0);
    ck_assert(hv_equal(reason, want));
    hv_release(reason);
    hv_release(want);

    /* Without a reason pointer the reason is freed (the fixture checks). */
    ck_assert_int_eq(hv_run(main_exits_shutdown_1, NULL, NULL, NULL), HV_OK);
    ck_assert_int_eq(atomic_load(&returned_into), 0);
}
END_TEST

static void
main_runs_again(void *arg)
{
    (void)arg;
    hv_term r = HV_NIL;
    hv_config c = config_of(1);
    EXPECT(hv_run(nested_main, NULL, NULL, &r) == HV_EBADARG);
    EXPECT(hv_run(nested_main, NULL, &c, NULL) == HV_EBADARG);
    EXPECT(hv_start(NULL) == HV_EBADARG);
    EXPECT(hv_stop() == HV_EBADARG); /* not from a process */
    EXPECT(hv_running());
    /* Still fully working after the refusals. */
    hv_term kid = hv_spawn(nested_main, NULL);
    EXPECT(hv_is_pid(kid));
    EXPECT(eventually_dead(kid));
}

START_TEST(test_process_run_while_a_runtime_runs_is_ebadarg)
{
    atomic_store(&nested_ran, 0);
    run_main(main_runs_again, NULL, 2);
    ck_assert_int_eq(atomic_load(&nested_ran), 1); /* only the spawned kid */
}
END_TEST

START_TEST(test_process_run_rejects_a_null_main)
{
    hv_term r = HV_NIL;
    ck_assert_int_eq(hv_run(NULL, NULL, NULL, &r), HV_EBADARG);
    ck_assert_int_eq(hv_run(NULL, &r, NULL, NULL), HV_EBADARG);
    ck_assert(!hv_running());
    /* Nothing was left half-started. */
    atomic_store(&ran, 0);
    ck_assert_int_eq(hv_run(main_returns, &ran, NULL, NULL), HV_OK);
    ck_assert_int_eq(atomic_load(&ran), 1);
}
END_TEST

START_TEST(test_process_run_and_start_reject_out_of_range_config)
{
    struct {
        const char *what;
        hv_config c;
    } bad[3];
    memset(bad, 0, sizeof bad);
    bad[0].what = "schedulers = UINT_MAX";
    bad[0].c.schedulers = UINT_MAX;
    bad[1].what = "stack_bytes = 1";
    bad[1].c.stack_bytes = 1;
    bad[2].what = "max_processes = SIZE_MAX";
    bad[2].c.max_processes = SIZE_MAX;

    atomic_store(&ran, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hv_term r = HV_NIL;
        int rc = hv_run(main_returns, &ran, &bad[i].c, &r);
        ck_assert_msg(rc == HV_EBADARG, "hv_run with %s gave %d", bad[i].what,
                      rc);
        ck_assert(!hv_running());
        rc = hv_start(&bad[i].c);
        ck_assert_msg(rc == HV_EBADARG, "hv_start with %s gave %d", bad[i].what,
                      rc);
        ck_assert(!hv_running());
        if (rc == HV_OK)
            hv_stop();
    }
    ck_assert_int_eq(atomic_load(&ran), 0);
    ck_assert_int_eq(hv_stop(), HV_EBADARG);
    /* And a good config still runs. */
    ck_assert_int_eq(hv_run(main_returns, &ran, NULL, NULL), HV_OK);
    ck_assert_int_eq(atomic_load(&ran), 1);
}
END_TEST

/* ---- hv_start / hv_stop --------------------------------------------- */

struct ask {
    hv_term echo, report_to;
};

/* Asks the echo for 41 + 1 and reports {answer, N} to report_to. */
static void
asker(void *arg)
{
    struct ask *a = arg;
    EXPECT(hv_send(a->echo, hv_tuple(2, hv_self(), hv_int(41))) == HV_OK);
    hv_term m = next_msg();
    EXPECT(hv_send(a->report_to, hv_tuple(2, hv_atom("answer"), m)) == HV_OK);
}

/* Says ready to arg (a pid), then waits for a message that never comes. */
static void
block_in_recv(void *arg)
{
    EXPECT(hv_defer(count_defer, NULL) == HV_OK);
    EXPECT(hv_send(arg_pid(arg), hv_tuple(2, hv_atom("ready"), hv_self())) ==
           HV_OK);
    hv_term m = HV_NONE;
    hv_recv(HV_INFINITY, &m);
    atomic_fetch_add(&resumed_after_kill, 1);
    hv_release(m);
}

static struct ask thread_ask;

static void *
spawn_asker_from_a_thread(void *arg)
{
    (void)arg;
    return (void *)(uintptr_t)hv_spawn(asker, &thread_ask);
}

/* The next message on the bridge, expected to be {tag, X}; returns X. */
static hv_term
bridge_expect(hv_bridge *b, const char *tag)
{
    hv_term m = HV_NONE;
    ck_assert_int_eq(hv_bridge_recv(b, WAIT_MS, &m), HV_OK);
    ck_assert(hv_tuple_size(m) == 2);
    ck_assert(hv_tuple_at(m, 0) == hv_atom(tag));
    hv_term x = hv_retain(hv_tuple_at(m, 1));
    hv_release(m);
    return x;
}

START_TEST(test_process_start_spawn_talk_and_stop_with_processes_blocked)
{
    enum { BLOCKED = 50 };
    hv_config c = config_of(2);

    hv_expect_reset();
    atomic_store(&deferred, 0);
    atomic_store(&resumed_after_kill, 0);
    ck_assert(hv_self() == HV_NONE);
    ck_assert_int_eq(hv_start(&c), HV_OK);
    ck_assert(hv_running());
    ck_assert(hv_self() == HV_NONE); /* the embedding thread is no process */
    ck_assert_int_eq(hv_start(&c), HV_EBADARG);
    ck_assert_int_eq(hv_run(main_returns, &ran, NULL, NULL), HV_EBADARG);
    ck_assert_int_eq(hv_defer(count_defer, NULL), HV_EBADARG);

    hv_bridge *b = hv_bridge_open(NULL);
    ck_assert_ptr_nonnull(b);
    hv_term me = hv_bridge_pid(b);
    ck_assert(hv_is_pid(me));
    ck_assert(hv_self() == HV_NONE);

    /* Spawned from this plain thread and from another one. */
    hv_term echo = hv_spawn(echo_plus_one, NULL);
    ck_assert(hv_is_pid(echo));
    thread_ask.echo = echo;
    thread_ask.report_to = me;
    pthread_t t;
    void *spawned;
    ck_assert_int_eq(pthread_create(&t, NULL, spawn_asker_from_a_thread, NULL),
                     0);
    ck_assert_int_eq(pthread_join(t, &spawned), 0);
    ck_assert(hv_is_pid((hv_term)(uintptr_t)spawned));
    hv_term answer = bridge_expect(b, "answer");
    ck_assert(answer == hv_int(42));

    /* Plain-thread sends reach processes too. */
    ck_assert_int_eq(hv_send(echo, hv_tuple(2, me, hv_int(99))), HV_OK);
    hv_term m = HV_NONE;
    ck_assert_int_eq(hv_bridge_recv(b, WAIT_MS, &m), HV_OK);
    ck_assert(m == hv_int(100));

    for (int i = 0; i < BLOCKED; i++) {
        hv_term pid = hv_spawn(block_in_recv, pid_arg(me));
        ck_assert(hv_is_pid(pid));
        ck_assert(bridge_expect(b, "ready") == pid);
    }
    hv_bridge_close(b);
    ck_assert_int_eq(hv_stop(), HV_OK);
    ck_assert(!hv_running());
    ck_assert(hv_self() == HV_NONE);
    /* The echo and the blocked ones were killed, their cleanups run. */
    ck_assert_int_eq(atomic_load(&deferred), BLOCKED + 1);
    ck_assert_int_eq(atomic_load(&resumed_after_kill), 0);
    ck_assert_int_eq(hv_stop(), HV_EBADARG);
    hv_expect_assert();
}
END_TEST

static atomic_int reached_hive_call;

/* On its own thread: says ready, sits in plain C code (not a hive call)
 * for a while, then blocks in a receive that shutdown must end. */
static void
busy_in_c_then_receive(void *arg)
{
    EXPECT(hv_defer(count_defer, NULL) == HV_OK);
    EXPECT(hv_send(arg_pid(arg), hv_tuple(2, hv_atom("ready"), hv_self())) ==
           HV_OK);
    usleep(200 * 1000);
    atomic_store(&reached_hive_call, 1);
    hv_term m = HV_NONE;
    hv_recv(HV_INFINITY, &m);
    atomic_fetch_add(&resumed_after_kill, 1);
    hv_release(m);
}

static void
main_leaves_a_busy_thread(void *arg)
{
    (void)arg;
    hv_spawn_opts o;
    memset(&o, 0, sizeof o);
    o.thread = true;
    hv_term pid = HV_NONE;
    EXPECT(hv_spawn_opt(busy_in_c_then_receive, pid_arg(hv_self()), &o, &pid,
                        NULL) == HV_OK);
    hv_term m = next_msg();
    EXPECT(hv_tuple_at(m, 1) == pid);
    hv_release(m);
}

START_TEST(test_process_shutdown_waits_for_a_thread_process_in_blocking_code)
{
    hv_config c = config_of(2);

    /* Through hv_stop. */
    hv_expect_reset();
    atomic_store(&deferred, 0);
    atomic_store(&resumed_after_kill, 0);
    atomic_store(&reached_hive_call, 0);
    ck_assert_int_eq(hv_start(&c), HV_OK);
    hv_bridge *b = hv_bridge_open(NULL);
    ck_assert_ptr_nonnull(b);
    hv_spawn_opts o;
    memset(&o, 0, sizeof o);
    o.thread = true;
    hv_term pid = HV_NONE;
    ck_assert_int_eq(hv_spawn_opt(busy_in_c_then_receive,
                                  pid_arg(hv_bridge_pid(b)), &o, &pid, NULL),
                     HV_OK);
    ck_assert(bridge_expect(b, "ready") == pid);
    hv_bridge_close(b);
    ck_assert_int_eq(hv_stop(), HV_OK);
    ck_assert_int_eq(atomic_load(&reached_hive_call), 1);
    ck_assert_int_eq(atomic_load(&deferred), 1);
    ck_assert_int_eq(atomic_load(&resumed_after_kill), 0);
    hv_expect_assert();

    /* Through hv_run returning. */
    atomic_store(&deferred, 0);
    atomic_store(&reached_hive_call, 0);
    run_main(main_leaves_a_busy_thread, NULL, 2);
    ck_assert_int_eq(atomic_load(&reached_hive_call), 1);
    ck_assert_int_eq(atomic_load(&deferred), 1);
    ck_assert_int_eq(atomic_load(&resumed_after_kill), 0);
}
END_TEST

START_TEST(test_process_stop_without_a_runtime_is_ebadarg)
{
    ck_assert(!hv_running());
    ck_assert_int_eq(hv_stop(), HV_EBADARG);
    ck_assert_int_eq(hv_stop(), HV_EBADARG);
    ck_assert(!hv_running());
}
END_TEST

START_TEST(test_process_start_and_stop_repeat_cleanly)
{
    for (int i = 0; i < 5; i++) {
        hv_config c = config_of((unsigned)(i % 3) + 1);
        ck_assert_int_eq(hv_start(i % 2 ? &c : NULL), HV_OK);
        ck_assert(hv_running());
        ck_assert(hv_is_pid(hv_spawn(nested_main, NULL)));
        ck_assert_int_eq(hv_stop(), HV_OK);
        ck_assert(!hv_running());
        ck_assert(hv_spawn(nested_main, NULL) == HV_NONE);
    }
}
END_TEST

/* ---- after the runtime stopped ------------------------------------- */

static hv_term stopped_main;

static void
main_leaves_a_child(void *arg)
{
    (void)arg;
    stopped_main = hv_self();
    hv_spawn(exit_on_message, NULL);
}

static void
check_stopped(void)
{
    ck_assert(!hv_running());
    ck_assert(hv_self() == HV_NONE);
    ck_assert(hv_spawn(nested_main, NULL) == HV_NONE);
    ck_assert_int_eq(hv_defer(count_defer, NULL), HV_EBADARG);
    ck_assert_int_eq(hv_stop(), HV_EBADARG);
    ck_assert_uint_eq(hv_process_count(), 0);
    /* A dead pid: dropped silently and freed (the fixture checks). */
    ck_assert_int_eq(hv_send(stopped_main, hv_string("too late")), HV_OK);
}

/* Once a runtime has run and stopped its tables are gone; the API must
 * not read them. */
START_TEST(test_process_calls_after_the_runtime_stopped_are_safe)
{
    atomic_store(&nested_ran, 0);
    run_main(main_leaves_a_child, NULL, 2);
    check_stopped();
    ck_assert_int_eq(hv_start(NULL), HV_OK);
    ck_assert_int_eq(hv_stop(), HV_OK);
    check_stopped();
    ck_assert_int_eq(atomic_load(&nested_ran), 0);
}
END_TEST

/* ---- out-params on failure ------------------------------------------ */

static void
main_fails_calls(void *arg)
{
    (void)arg;
    hv_term r = HV_NIL, pid = HV_NIL;
    hv_spawn_opts o;

    EXPECT(hv_run(nested_main, NULL, NULL, &r) == HV_EBADARG);
    EXPECT(r == HV_NIL);
    EXPECT(hv_spawn_opt(NULL, NULL, NULL, &pid, NULL) == HV_EBADARG);
    EXPECT(pid == HV_NIL);
    memset(&o, 0, sizeof o);
    o.name = hv_int(7);
    EXPECT(hv_spawn_opt(nested_main, NULL, &o, &pid, NULL) == HV_EBADARG);
    EXPECT(pid == HV_NIL);
    o.name = hv_atom("check_process_taken");
    EXPECT(hv_register(o.name, hv_self(), NULL) == HV_OK);
    EXPECT(hv_spawn_opt(nested_main, NULL, &o, &pid, NULL) == HV_EBADARG);
    EXPECT(pid == HV_NIL);
    /* max_processes is 1: main fills the table. */
    EXPECT(hv_spawn_opt(nested_main, NULL, NULL, &pid, NULL) == HV_ELIMIT);
    EXPECT(pid == HV_NIL);
}

/* STYLE.md: "out-params are written only on success". */
START_TEST(test_process_failed_calls_leave_out_params_untouched)
{
    hv_term r = HV_NIL, pid = HV_NIL;
    hv_config c = config_of(1);

    ck_assert_int_eq(hv_run(NULL, NULL, NULL, &r), HV_EBADARG);
    ck_assert_msg(r == HV_NIL, "hv_run(NULL) wrote *reason");
    c.max_processes = SIZE_MAX;
    ck_assert_int_eq(hv_run(main_returns, &ran, &c, &r), HV_EBADARG);
    ck_assert_msg(r == HV_NIL, "hv_run(bad config) wrote *reason");
    ck_assert_int_lt(hv_spawn_opt(nested_main, NULL, NULL, &pid, NULL), 0);
    ck_assert_msg(pid == HV_NIL, "hv_spawn_opt without a runtime wrote *pid");

    c.max_processes = 1;
    hv_expect_reset();
    ck_assert_int_eq(hv_run(main_fails_calls, NULL, &c, NULL), HV_OK);
    hv_expect_assert();
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("process");
    TCase *tc;

    tc = hv_check_tcase(s, "run");
    tcase_add_test(tc,
                   test_process_run_returns_ok_and_normal_when_main_returns);
    tcase_add_test(
        tc, test_process_run_reports_the_reason_main_exits_with_from_depth);
    tcase_add_test(tc, test_process_run_while_a_runtime_runs_is_ebadarg);
    tcase_add_test(tc, test_process_run_rejects_a_null_main);
    tcase_add_test(tc, test_process_run_and_start_reject_out_of_range_config);
    tcase_add_test(tc, test_process_failed_calls_leave_out_params_untouched);

    tc = hv_check_tcase(s, "embed");
    tcase_add_test(
        tc, test_process_start_spawn_talk_and_stop_with_processes_blocked);
    tcase_add_test(tc, test_process_stop_without_a_runtime_is_ebadarg);
    tcase_add_test(
        tc, test_process_shutdown_waits_for_a_thread_process_in_blocking_code);
    tcase_add_test(tc, test_process_start_and_stop_repeat_cleanly);
    tcase_add_test(tc, test_process_calls_after_the_runtime_stopped_are_safe);
    return s;
}
