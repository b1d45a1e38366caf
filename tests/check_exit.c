/* tests/check_exit.c - how processes end: hv_exit from depth, hv_defer
 * cleanups in reverse on every path, and shutdown with processes still
 * blocked or never started (the fixture proves their memory is freed). */
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

/* ---- hv_exit ----------------------------------------------------------- */

static void
tell_deferred(void *arg)
{
    hv_send(arg_pid(arg), hv_tuple(2, hv_atom("deferred"), hv_self()));
}

static void
exiting_child(void *arg)
{
    EXPECT(hv_defer(tell_deferred, arg) == HV_OK);
    await_atom("go");
    exit_at_depth(3, hv_string("boom"));
    atomic_fetch_add(&returned_into, 100);
}

static void
main_watches_exit(void *arg)
{
    (void)arg;
    hv_term pid = hv_spawn(exiting_child, pid_arg(hv_self()));
    EXPECT(hv_is_pid(pid));
    EXPECT(hv_send(pid, hv_atom("go")) == HV_OK);
    /* Left unread in its mailbox: dropped (and freed) at the exit. */
    for (int i = 0; i < 3; i++)
        EXPECT(hv_send(pid, hv_string("never read")) == HV_OK);
    hv_term m = next_msg();
    EXPECT(hv_tuple_at(m, 0) == hv_atom("deferred"));
    EXPECT(hv_tuple_at(m, 1) == pid);
    hv_release(m);
    EXPECT(eventually_dead(pid));
    /* Sends to the dead pid are dropped silently. */
    EXPECT(hv_send(pid, hv_string("late")) == HV_OK);
}

START_TEST(test_process_exit_from_depth_skips_the_rest_and_drops_the_mailbox)
{
    atomic_store(&returned_into, 0);
    run_main(main_watches_exit, NULL, 2);
    ck_assert_int_eq(atomic_load(&returned_into), 0);
}
END_TEST

START_TEST(test_process_exit_outside_a_process_aborts)
{
    hv_exit(hv_atom("nothing_to_end"));
}
END_TEST

/* ---- hv_defer ---------------------------------------------------------- */

enum { LOGGED = 1000 };
static int defer_log[LOGGED];
static hv_term defer_self[LOGGED];
static atomic_int defer_n;

static void
log_defer(void *arg)
{
    int i = atomic_fetch_add(&defer_n, 1);
    if (i < LOGGED) {
        defer_log[i] = (int)(intptr_t)arg;
        defer_self[i] = hv_self();
    }
}

static void __attribute__((noinline)) exit_normal_from_depth(int depth)
{
    if (depth == 0) {
        exit_fn(hv_atom("normal"));
        atomic_fetch_add(&returned_into, 1000);
        return;
    }
    exit_normal_from_depth(depth - 1);
    atomic_fetch_add(&returned_into, 1);
}

struct defer_case {
    hv_term parent;
    int how; /* 0: return, 1: hv_exit from depth */
    int count;
};

static void
deferring_child(void *arg)
{
    struct defer_case *dc = arg;
    EXPECT(hv_defer(tell_deferred, pid_arg(dc->parent)) == HV_OK);
    for (int i = 1; i <= dc->count; i++)
        EXPECT(hv_defer(log_defer, (void *)(intptr_t)i) == HV_OK);
    if (dc->how == 1)
        exit_normal_from_depth(3);
}

static void
main_checks_defer_order(void *arg)
{
    (void)arg;
    static struct defer_case dc;
    /* On a copying stack, a dedicated stack and an OS thread. */
    for (int kind = 0; kind < 3; kind++)
        for (int how = 0; how < 2; how++) {
            int counts[] = {1, 3, LOGGED};
            for (int c = 0; c < 3; c++) {
                hv_spawn_opts o;
                memset(&o, 0, sizeof o);
                o.dedicated_stack = kind == 1;
                o.thread = kind == 2;
                atomic_store(&defer_n, 0);
                dc.parent = hv_self();
                dc.how = how;
                dc.count = counts[c];
                hv_term pid = HV_NONE;
                EXPECT(hv_spawn_opt(deferring_child, &dc, &o, &pid, NULL) ==
                       HV_OK);
                hv_term m = next_msg();
                EXPECT(hv_tuple_at(m, 1) == pid);
                hv_release(m);
                EXPECT(atomic_load(&defer_n) == dc.count);
                int bad_order = 0, bad_self = 0;
                for (int i = 0; i < dc.count; i++) {
                    bad_order += defer_log[i] != dc.count - i;
                    bad_self += defer_self[i] != pid;
                }
                EXPECT(bad_order == 0); /* latest first */
                EXPECT(bad_self == 0);  /* hv_self() is still the dying one */
            }
        }
}

START_TEST(test_process_defer_runs_in_reverse_on_return_and_on_exit)
{
    atomic_store(&returned_into, 0);
    run_main(main_checks_defer_order, NULL, 2);
    ck_assert_int_eq(atomic_load(&returned_into), 0);
}
END_TEST

static hv_term main_defer_self;

static void
main_defers(void *arg)
{
    main_defer_self = hv_self();
    atomic_store(&defer_n, 0);
    EXPECT(hv_defer(log_defer, (void *)(intptr_t)1) == HV_OK);
    EXPECT(hv_defer(log_defer, (void *)(intptr_t)2) == HV_OK);
    if (arg)
        exit_at_depth(2, hv_atom("bye"));
}

START_TEST(test_process_defer_runs_when_main_ends)
{
    hv_term reason = HV_NONE;

    hv_expect_reset();
    ck_assert_int_eq(hv_run(main_defers, NULL, NULL, &reason), HV_OK);
    ck_assert(reason == hv_atom("normal"));
    ck_assert_int_eq(atomic_load(&defer_n), 2);
    ck_assert_int_eq(defer_log[0], 2);
    ck_assert_int_eq(defer_log[1], 1);
    ck_assert(defer_self[0] == main_defer_self);

    ck_assert_int_eq(hv_run(main_defers, &reason, NULL, &reason), HV_OK);
    ck_assert(reason == hv_atom("bye"));
    ck_assert_int_eq(atomic_load(&defer_n), 2);
    ck_assert_int_eq(defer_log[0], 2);
    ck_assert_int_eq(defer_log[1], 1);
    hv_expect_assert();
}
END_TEST

static int defer_recv_rc, defer_recv_if_rc;
static hv_term defer_recv_msg;

static bool
accept_any(hv_term m, void *ctx)
{
    (void)m;
    (void)ctx;
    return true;
}

static void
defer_tries_receive(void *arg)
{
    (void)arg;
    hv_term m = HV_NIL;
    defer_recv_rc = hv_recv(0, &m);
    defer_recv_msg = m;
    defer_recv_if_rc = hv_recv_if(accept_any, NULL, 0, &m);
}

static void
child_defers_receive(void *arg)
{
    EXPECT(hv_defer(tell_deferred, arg) == HV_OK);
    EXPECT(hv_defer(defer_tries_receive, NULL) == HV_OK);
    /* A message waits, so a receive in a cleanup would have one. */
    EXPECT(hv_send(hv_self(), hv_atom("waiting")) == HV_OK);
}

static void
main_bad_defers(void *arg)
{
    (void)arg;
    atomic_store(&defer_n, 0);
    EXPECT(hv_defer(NULL, NULL) == HV_EBADARG);
    EXPECT(hv_defer(NULL, &defer_n) == HV_EBADARG);
    hv_term pid = hv_spawn(child_defers_receive, pid_arg(hv_self()));
    hv_term m = next_msg();
    EXPECT(hv_tuple_at(m, 1) == pid);
    hv_release(m);
}

START_TEST(test_process_defer_rejects_bad_calls)
{
    ck_assert_int_eq(hv_defer(log_defer, NULL), HV_EBADARG); /* no runtime */
    defer_recv_rc = defer_recv_if_rc = 1;
    run_main(main_bad_defers, NULL, 2);
    ck_assert_int_eq(atomic_load(&defer_n), 0); /* NULL fns never ran */
    ck_assert_int_eq(defer_recv_rc, HV_EBADARG);
    ck_assert_int_eq(defer_recv_if_rc, HV_EBADARG);
    ck_assert(defer_recv_msg == HV_NIL || defer_recv_msg == HV_NONE);
}
END_TEST

/* ---- killed at shutdown ---------------------------------------------- */

struct blocker {
    hv_term parent;
    int how;
};

/* Registers a cleanup, says ready, then blocks forever in one of several
 * ways; being killed must run the cleanup and never return here. */
static void
blocker(void *arg)
{
    struct blocker *bk = arg;
    hv_term m = HV_NONE;
    int how = bk->how;

    EXPECT(hv_defer(count_defer, NULL) == HV_OK);
    EXPECT(hv_send(bk->parent, hv_atom("ready")) == HV_OK);
    switch (how) {
    case 0:
        hv_recv(HV_INFINITY, &m);
        break;
    case 1:
        hv_sleep(3600 * 1000);
        break;
    default:
        hv_recv_if(reject_all, NULL, HV_INFINITY, &m);
        break;
    }
    atomic_fetch_add(&resumed_after_kill, 1);
    atomic_fetch_add(&resumed_how[how], 1);
    hv_release(m);
}

enum { SHUTDOWN_KIDS = 20000 };
static struct blocker blockers[SHUTDOWN_KIDS];
static long shutdown_kids;

static void
main_leaves_many_blocked(void *arg)
{
    (void)arg;
    hv_spawn_opts o;
    long n = shutdown_kids;

    for (long i = 0; i < n; i++) {
        blockers[i].parent = hv_self();
        blockers[i].how = (int)(i % 3);
        memset(&o, 0, sizeof o);
        o.dedicated_stack = i % 5 == 4;
        o.thread = i < 4;
        if (i % 7 == 0) {
            char name[48];
            snprintf(name, sizeof name, "check_process_blocked_%ld", i);
            o.name = hv_atom(name);
        }
        hv_term pid = HV_NONE;
        if (!EXPECT(hv_spawn_opt(blocker, &blockers[i], &o, &pid, NULL) ==
                    HV_OK))
            return;
        /* Queued messages for those not in hv_recv, some read and
         * rejected (hv_recv_if), some never looked at (hv_sleep): all
         * freed when the process is killed. */
        if (blockers[i].how == 0)
            continue;
        EXPECT(hv_send(pid, hv_string("queued")) == HV_OK);
        EXPECT(hv_send(pid, hv_tuple(2, hv_atom("queued"), hv_string("x"))) ==
               HV_OK);
    }
    for (long i = 0; i < n; i++)
        await_atom("ready");
    /* Make sure the receivers have looked at (and kept) their mail. */
    hv_sleep(10);
}

START_TEST(test_process_run_returns_with_processes_blocked_and_frees_them)
{
    shutdown_kids = hv_check_scale(SHUTDOWN_KIDS);
    if (shutdown_kids < 10)
        shutdown_kids = 10;
    atomic_store(&deferred, 0);
    atomic_store(&resumed_after_kill, 0);
    for (int i = 0; i < 3; i++)
        atomic_store(&resumed_how[i], 0);
    run_main(main_leaves_many_blocked, NULL, 2);
    ck_assert_int_eq(atomic_load(&deferred), shutdown_kids);
    ck_assert_msg(atomic_load(&resumed_after_kill) == 0,
                  "killed processes returned from hv_recv %d, hv_sleep %d, "
                  "hv_recv_if %d times",
                  atomic_load(&resumed_how[0]), atomic_load(&resumed_how[1]),
                  atomic_load(&resumed_how[2]));
    ck_assert_uint_eq(hv_process_count(), 0);
    ck_assert(hv_whereis(hv_atom("check_process_blocked_0")) == HV_NONE);
}
END_TEST

static atomic_int unstarted_ran;

static void
count_run(void *arg)
{
    (void)arg;
    atomic_fetch_add(&unstarted_ran, 1);
}

static void
main_spawns_and_leaves(void *arg)
{
    (void)arg;
    long n = hv_check_scale(10000);
    hv_spawn_opts o;
    for (long i = 0; i < n; i++) {
        memset(&o, 0, sizeof o);
        o.dedicated_stack = i % 4 == 1;
        o.thread = i % 500 == 2;
        if (i % 9 == 0) {
            char name[48];
            snprintf(name, sizeof name, "check_process_unstarted_%ld", i);
            o.name = hv_atom(name);
        }
        hv_term pid = HV_NONE;
        EXPECT(hv_spawn_opt(count_run, NULL, &o, &pid, NULL) == HV_OK);
        if (i % 3 == 0)
            EXPECT(hv_send(pid, hv_string("waiting for a process that may "
                                          "never run")) == HV_OK);
    }
}

/* Main returns at once, on the only scheduler: the others may not have
 * started.  Whether or not they ran, everything is freed. */
START_TEST(test_process_run_returns_with_processes_never_started)
{
    atomic_store(&unstarted_ran, 0);
    run_main(main_spawns_and_leaves, NULL, 1);
    ck_assert_int_le(atomic_load(&unstarted_ran), hv_check_scale(10000));
    ck_assert_uint_eq(hv_process_count(), 0);
}
END_TEST

static atomic_bool stop_called;
static atomic_long raced_spawns;

static void
block_quietly(void *arg)
{
    (void)arg;
    hv_term m = HV_NONE;
    hv_recv(HV_INFINITY, &m);
    hv_release(m);
}

/* Spawns and sends from a plain thread until spawning fails after
 * hv_stop was called (bounded). */
static void *
spawn_while_stopping(void *arg)
{
    (void)arg;
    hv_term last = HV_NONE;
    for (long i = 0; i < 2000000; i++) {
        hv_term pid = hv_spawn(block_quietly, NULL);
        if (pid == HV_NONE) {
            if (atomic_load(&stop_called))
                return (void *)1;
            continue; /* the table may be full; keep going */
        }
        atomic_fetch_add(&raced_spawns, 1);
        if (last != HV_NONE)
            hv_send(last, hv_string("racing a stop"));
        last = pid;
    }
    return NULL;
}

START_TEST(test_process_stop_races_cleanly_with_spawns_and_sends)
{
    enum { SPAWNERS = 2, ROUNDS = 20 };
    for (int round = 0; round < ROUNDS; round++) {
        hv_config c = config_of(2);
        pthread_t t[SPAWNERS];

        atomic_store(&stop_called, false);
        atomic_store(&raced_spawns, 0);
        ck_assert_int_eq(hv_start(&c), HV_OK);
        for (int i = 0; i < SPAWNERS; i++)
            ck_assert_int_eq(
                pthread_create(&t[i], NULL, spawn_while_stopping, NULL), 0);
        while (atomic_load(&raced_spawns) < 100)
            usleep(100);
        atomic_store(&stop_called, true);
        ck_assert_int_eq(hv_stop(), HV_OK);
        for (int i = 0; i < SPAWNERS; i++) {
            void *ended = NULL;
            ck_assert_int_eq(pthread_join(t[i], &ended), 0);
            ck_assert_msg(ended == (void *)1,
                          "spawning kept working after hv_stop");
        }
        ck_assert(!hv_running());
    }
}
END_TEST

enum { STARTERS = 4 };
static pthread_barrier_t start_barrier;
static int start_rc[STARTERS];

static void *
race_to_start(void *arg)
{
    intptr_t i = (intptr_t)arg;
    hv_config c = config_of(1);
    pthread_barrier_wait(&start_barrier);
    start_rc[i] = hv_start(&c);
    return NULL;
}

START_TEST(test_process_concurrent_starts_have_one_winner)
{
    for (int round = 0; round < 10; round++) {
        pthread_t t[STARTERS];
        ck_assert_int_eq(pthread_barrier_init(&start_barrier, NULL, STARTERS),
                         0);
        for (intptr_t i = 0; i < STARTERS; i++)
            ck_assert_int_eq(
                pthread_create(&t[i], NULL, race_to_start, (void *)i), 0);
        int ok = 0;
        for (int i = 0; i < STARTERS; i++) {
            pthread_join(t[i], NULL);
            if (start_rc[i] == HV_OK)
                ok++;
            else
                ck_assert_int_eq(start_rc[i], HV_EBADARG);
        }
        pthread_barrier_destroy(&start_barrier);
        ck_assert_int_eq(ok, 1);
        ck_assert(hv_running());
        ck_assert_int_eq(hv_stop(), HV_OK);
    }
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("exit");
    TCase *tc;

    tc = hv_check_tcase(s, "exit");
    tcase_add_test(
        tc, test_process_exit_from_depth_skips_the_rest_and_drops_the_mailbox);
    /* An abort can only be caught when each test runs in a child. */
    const char *fork_mode = getenv("CK_FORK");
    if (fork_mode == NULL || strcmp(fork_mode, "no") != 0)
        tcase_add_test_raise_signal(
            tc, test_process_exit_outside_a_process_aborts, SIGABRT);

    tc = hv_check_tcase(s, "defer");
    tcase_add_test(tc,
                   test_process_defer_runs_in_reverse_on_return_and_on_exit);
    tcase_add_test(tc, test_process_defer_runs_when_main_ends);
    tcase_add_test(tc, test_process_defer_rejects_bad_calls);

    tc = hv_check_tcase(s, "shutdown");
    tcase_add_test(
        tc, test_process_run_returns_with_processes_blocked_and_frees_them);
    tcase_add_test(tc, test_process_run_returns_with_processes_never_started);
    tcase_add_test(tc, test_process_stop_races_cleanly_with_spawns_and_sends);
    tcase_add_test(tc, test_process_concurrent_starts_have_one_winner);
    return s;
}
