/* tests/check_process.c - processes: hv_run and main's exit reason,
 * hv_start/hv_stop embedding, hv_spawn and its options (dedicated stacks,
 * OS threads, names), hv_self, hv_exit from depth, hv_defer, hv_yield
 * fairness, a million processes, max_processes, and shutdown with
 * processes still blocked (the fixture proves their memory is freed).
 *
 * Check's asserts must not run on a scheduler thread (a failure exits or
 * longjmps from under the runtime), so processes record their failed
 * expectations in statics and the test asserts on them once the runtime has
 * stopped. */
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

/* A wait that should end at once; past it the test fails, not hangs. */
enum { WAIT_MS = 10000 };


static hv_config
config_of(unsigned schedulers)
{
    hv_config c;
    memset(&c, 0, sizeof c);
    c.schedulers = schedulers;
    return c;
}

/* ---- hv_run ----------------------------------------------------------- */

static atomic_int ran;

static void
main_returns(void *arg)
{
    EXPECT(arg == &ran);
    EXPECT(hv_running());
    EXPECT(hv_is_pid(hv_self()));
    atomic_fetch_add(&ran, 1);
}

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

static atomic_int returned_into;

/* hv_exit through a pointer the compiler cannot see through, so that it
 * neither warns that the recursions below never end nor drops the code
 * after the calls, which must never run. */
static void (*volatile exit_fn)(hv_term) = hv_exit;

static void __attribute__((noinline)) exit_at_depth(int depth, hv_term reason)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    if (depth == 0) {
        exit_fn(reason);
        atomic_fetch_add(&returned_into, 1000);
        return;
    }
    exit_at_depth(depth - 1, reason);
    atomic_fetch_add(&returned_into, 1 + frame[0]);
}

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

static atomic_int nested_ran;

static void
nested_main(void *arg)
{
    (void)arg;
    atomic_fetch_add(&nested_ran, 1);
}

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

static atomic_int deferred;

static void
count_defer(void *arg)
{
    (void)arg;
    atomic_fetch_add(&deferred, 1);
}

/* Answers {From, N} with N + 1 until it gets `stop`. */
static void
echo_plus_one(void *arg)
{
    (void)arg;
    EXPECT(hv_defer(count_defer, NULL) == HV_OK);
    for (;;) {
        hv_term m = HV_NONE;
        if (hv_recv(HV_INFINITY, &m) != HV_OK)
            return;
        if (m == hv_atom("stop"))
            return;
        int64_t n = -1;
        hv_term from = hv_tuple_at(m, 0);
        EXPECT(hv_int_value(hv_tuple_at(m, 1), &n) == HV_OK);
        EXPECT(hv_send(from, hv_int(n + 1)) == HV_OK);
        hv_release(m);
    }
}

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

static atomic_int resumed_after_kill;
/* Which way of blocking (struct blocker's how) returned when killed. */
static atomic_int resumed_how[3];

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

/* ---- spawning ---------------------------------------------------------- */

enum { KIDS = 200 };
static hv_term parent;

static void
report_self(void *arg)
{
    hv_send(parent, hv_tuple(2, hv_int((intptr_t)arg), hv_self()));
}

static void
main_spawns_many(void *arg)
{
    (void)arg;
    hv_term pids[KIDS];
    int seen[KIDS] = {0};
    hv_error err;

    parent = hv_self();
    for (int i = 0; i < KIDS; i++) {
        if (i % 2) {
            pids[i] = hv_spawn(report_self, (void *)(intptr_t)i);
        } else {
            pids[i] = HV_NONE;
            EXPECT(hv_spawn_opt(report_self, (void *)(intptr_t)i, NULL,
                                &pids[i], &err) == HV_OK);
        }
        EXPECT(hv_is_pid(pids[i]));
        EXPECT(pids[i] != parent);
    }
    int dups = 0;
    for (int i = 0; i < KIDS; i++)
        for (int j = i + 1; j < KIDS; j++)
            dups += pids[i] == pids[j];
    EXPECT(dups == 0);
    for (int i = 0; i < KIDS; i++) {
        hv_term m = next_msg();
        int64_t k = -1;
        if (!EXPECT(hv_int_value(hv_tuple_at(m, 0), &k) == HV_OK && k >= 0 &&
                    k < KIDS)) {
            hv_release(m);
            break;
        }
        seen[k]++;
        EXPECT(hv_tuple_at(m, 1) == pids[k]); /* hv_self is the spawn's pid */
        hv_release(m);
    }
    for (int i = 0; i < KIDS; i++)
        EXPECT(seen[i] == 1);
}

START_TEST(test_process_spawn_gives_distinct_pids_that_match_hv_self)
{
    run_main(main_spawns_many, NULL, 0);
}
END_TEST

START_TEST(test_process_spawn_without_a_runtime_fails)
{
    hv_term pid = HV_NIL;
    hv_error err;
    hv_spawn_opts o;

    memset(&o, 0, sizeof o);
    memset(&err, 0, sizeof err);
    atomic_store(&ran, 0);
    ck_assert(hv_spawn(main_returns, &ran) == HV_NONE);
    int rc = hv_spawn_opt(main_returns, &ran, &o, &pid, &err);
    ck_assert_int_lt(rc, 0);
    ck_assert_int_eq(err.code, rc);
    ck_assert_int_lt(hv_spawn_opt(main_returns, &ran, NULL, &pid, NULL), 0);
    ck_assert(hv_self() == HV_NONE);
    ck_assert_int_eq(atomic_load(&ran), 0);
}
END_TEST

static void
main_spawns_null(void *arg)
{
    (void)arg;
    hv_term pid = HV_NIL;
    hv_error err;
    size_t before = hv_process_count();

    memset(&err, 0, sizeof err);
    EXPECT(hv_spawn(NULL, NULL) == HV_NONE);
    EXPECT(hv_spawn_opt(NULL, NULL, NULL, &pid, &err) == HV_EBADARG);
    EXPECT(err.code == HV_EBADARG);
    EXPECT(hv_spawn_opt(NULL, NULL, NULL, &pid, NULL) == HV_EBADARG);
    EXPECT(hv_process_count() == before);
}

START_TEST(test_process_spawn_rejects_a_null_fn)
{
    atomic_store(&nested_ran, 0);
    run_main(main_spawns_null, NULL, 2);
    ck_assert_int_eq(atomic_load(&nested_ran), 0);
}
END_TEST

/* Replies its pid to every {From, _} until `stop`. */
static void
named_child(void *arg)
{
    (void)arg;
    for (;;) {
        hv_term m = next_msg();
        if (m == HV_NONE || m == hv_atom("stop"))
            return;
        EXPECT(hv_send(hv_tuple_at(m, 0), hv_self()) == HV_OK);
        hv_release(m);
    }
}

static void
main_spawns_named(void *arg)
{
    (void)arg;
    hv_term name = hv_atom("check_process_named");
    hv_spawn_opts o;
    hv_error err;
    hv_term pid = HV_NONE, other = HV_NIL;

    memset(&o, 0, sizeof o);
    o.name = name;
    EXPECT(hv_whereis(name) == HV_NONE);
    EXPECT(hv_spawn_opt(named_child, NULL, &o, &pid, &err) == HV_OK);
    EXPECT(hv_is_pid(pid));
    /* Registered before it runs: visible as soon as spawn returns. */
    EXPECT(hv_whereis(name) == pid);
    EXPECT(hv_send(name, hv_tuple(2, hv_self(), hv_atom("hi"))) == HV_OK);
    EXPECT(next_msg() == pid);

    /* The name is taken now. */
    size_t before = hv_process_count();
    memset(&err, 0, sizeof err);
    atomic_store(&nested_ran, 0);
    EXPECT(hv_spawn_opt(nested_main, NULL, &o, &other, &err) == HV_EBADARG);
    EXPECT(err.code == HV_EBADARG);
    /* Bad names. */
    o.name = HV_ATOM_UNDEFINED;
    EXPECT(hv_spawn_opt(nested_main, NULL, &o, &other, NULL) == HV_EBADARG);
    o.name = hv_int(7);
    EXPECT(hv_spawn_opt(nested_main, NULL, &o, &other, NULL) == HV_EBADARG);
    EXPECT(hv_process_count() == before);
    EXPECT(hv_whereis(name) == pid);

    EXPECT(hv_send(pid, hv_atom("stop")) == HV_OK);
    EXPECT(eventually_dead(pid));
    EXPECT(atomic_load(&nested_ran) == 0);
}

START_TEST(test_process_spawn_opt_name_registers_before_the_process_runs)
{
    run_main(main_spawns_named, NULL, 1);
}
END_TEST

enum { FRAME_BYTES = 200 * 1024, DEPTH = 4 };

static atomic_int frames_corrupt;

/* Recurses DEPTH frames of FRAME_BYTES each, blocks at the bottom (the
 * parent writes through a pointer into this stack meanwhile: a dedicated
 * stack keeps its addresses), and checks every frame on the way up. */
static void __attribute__((noinline)) deep(int depth, hv_term parent_pid)
{
    volatile uint8_t buf[FRAME_BYTES];
    for (size_t i = 0; i < FRAME_BYTES; i++)
        buf[i] = (uint8_t)(i * 7 + (size_t)depth);
    if (depth > 1) {
        deep(depth - 1, parent_pid);
    } else {
        volatile int64_t slot = 0;
        EXPECT(hv_send(parent_pid, hv_int((int64_t)(uintptr_t)&slot)) == HV_OK);
        await_atom("written");
        EXPECT(slot == 12345);
        hv_yield();
        EXPECT(slot == 12345);
    }
    for (size_t i = 0; i < FRAME_BYTES; i++)
        if (buf[i] != (uint8_t)(i * 7 + (size_t)depth)) {
            atomic_fetch_add(&frames_corrupt, 1);
            break;
        }
}

static void
deep_child(void *arg)
{
    deep(DEPTH, arg_pid(arg));
    EXPECT(hv_send(arg_pid(arg), hv_atom("deep_done")) == HV_OK);
}

static void
main_spawns_deep(void *arg)
{
    (void)arg;
    hv_spawn_opts o;
    hv_error err;
    hv_term pid = HV_NONE;

    memset(&o, 0, sizeof o);
    o.dedicated_stack = true;
    o.stack_bytes = 1024 * 1024;
    EXPECT(hv_spawn_opt(deep_child, pid_arg(hv_self()), &o, &pid, &err) ==
           HV_OK);
    hv_term m = next_msg();
    int64_t addr = 0;
    if (EXPECT(hv_int_value(m, &addr) == HV_OK && addr != 0)) {
        *(volatile int64_t *)(uintptr_t)addr = 12345;
        EXPECT(hv_send(pid, hv_atom("written")) == HV_OK);
        await_atom("deep_done");
    }
    hv_release(m);
}

START_TEST(test_process_dedicated_stack_recurses_deep_and_blocks_there)
{
    atomic_store(&frames_corrupt, 0);
    run_main(main_spawns_deep, NULL, 2);
    ck_assert_int_eq(atomic_load(&frames_corrupt), 0);
}
END_TEST

enum { COPY_FRAME = 100 * 1024, COPY_DEPTH = 3, PINGS = 20 };

/* Recurses with a pattern of its own in every frame, plays ping-pong with
 * its peer at the bottom (both share the one scheduler stack, so each
 * switch copies the other's frames aside), and checks every frame on the
 * way up. */
static void __attribute__((noinline))
deep_on_copy(int depth, int who, hv_term peer_of_who[2])
{
    volatile uint8_t buf[COPY_FRAME];
    for (size_t i = 0; i < COPY_FRAME; i++)
        buf[i] = (uint8_t)(i * 13 + (size_t)depth * 3 + (size_t)who * 101);
    if (depth > 1) {
        deep_on_copy(depth - 1, who, peer_of_who);
    } else {
        for (int i = 0; i < PINGS; i++) {
            if (who == 0)
                EXPECT(hv_send(peer_of_who[0], hv_int(i)) == HV_OK);
            hv_term m = next_msg();
            EXPECT(m == hv_int(i));
            if (who == 1)
                EXPECT(hv_send(peer_of_who[1], hv_int(i)) == HV_OK);
        }
    }
    for (size_t i = 0; i < COPY_FRAME; i++)
        if (buf[i] !=
            (uint8_t)(i * 13 + (size_t)depth * 3 + (size_t)who * 101)) {
            atomic_fetch_add(&frames_corrupt, 1);
            break;
        }
}

static hv_term copy_peers[2];

static void
copy_player(void *arg)
{
    int who = (int)(intptr_t)arg;
    /* Wait until main has published both pids. */
    await_atom("play");
    deep_on_copy(COPY_DEPTH, who, copy_peers);
    EXPECT(hv_send(parent, hv_atom("played")) == HV_OK);
}

static void
main_copy_players(void *arg)
{
    (void)arg;
    parent = hv_self();
    hv_term a = hv_spawn(copy_player, (void *)(intptr_t)0);
    hv_term b = hv_spawn(copy_player, (void *)(intptr_t)1);
    copy_peers[0] = b; /* whom player 0 sends to */
    copy_peers[1] = a;
    EXPECT(hv_send(a, hv_atom("play")) == HV_OK);
    EXPECT(hv_send(b, hv_atom("play")) == HV_OK);
    await_atom("played");
    await_atom("played");
}

START_TEST(test_process_copying_stacks_keep_deep_frames_across_switches)
{
    atomic_store(&frames_corrupt, 0);
    run_main(main_copy_players, NULL, 1);
    ck_assert_int_eq(atomic_load(&frames_corrupt), 0);
    run_main(main_copy_players, NULL, 2);
    ck_assert_int_eq(atomic_load(&frames_corrupt), 0);
}
END_TEST

enum { BIG_DEPTH = 20 }; /* 20 frames of COPY_FRAME: about 2 MiB */

static void __attribute__((noinline)) deep_copy_alone(int depth)
{
    volatile uint8_t buf[COPY_FRAME];
    for (size_t i = 0; i < COPY_FRAME; i++)
        buf[i] = (uint8_t)(i * 5 + (size_t)depth);
    if (depth > 1) {
        deep_copy_alone(depth - 1);
    } else {
        /* Switch out at the bottom: about 2 MiB is saved and restored. */
        EXPECT(hv_send(hv_self(), hv_atom("bottom")) == HV_OK);
        await_atom("bottom");
        hv_yield();
    }
    for (size_t i = 0; i < COPY_FRAME; i++)
        if (buf[i] != (uint8_t)(i * 5 + (size_t)depth)) {
            atomic_fetch_add(&frames_corrupt, 1);
            break;
        }
}

static void
main_goes_deep_on_a_big_scheduler_stack(void *arg)
{
    (void)arg;
    deep_copy_alone(BIG_DEPTH);
}

/* hv_config.stack_bytes sizes the scheduler stacks that copying-stack
 * processes run on: 4 MiB holds a 2 MiB recursion, switched out at the
 * bottom and resumed intact. */
START_TEST(test_process_config_stack_bytes_bounds_copying_stack_depth)
{
    hv_config c = config_of(2);
    hv_term reason = HV_NONE;

    c.stack_bytes = 4 * 1024 * 1024;
    atomic_store(&frames_corrupt, 0);
    hv_expect_reset();
    ck_assert_int_eq(
        hv_run(main_goes_deep_on_a_big_scheduler_stack, NULL, &c, &reason),
        HV_OK);
    ck_assert(reason == hv_atom("normal"));
    hv_expect_assert();
    ck_assert_int_eq(atomic_load(&frames_corrupt), 0);
}
END_TEST

static int absurd_rc, absurd_err;

static void
main_spawns_absurd_stack(void *arg)
{
    (void)arg;
    hv_spawn_opts o;
    hv_error err;
    hv_term pid = HV_NONE;

    memset(&o, 0, sizeof o);
    memset(&err, 0, sizeof err);
    o.dedicated_stack = true;
    o.stack_bytes = SIZE_MAX;
    absurd_rc = hv_spawn_opt(nested_main, NULL, &o, &pid, &err);
    absurd_err = err.code;
    if (absurd_rc == HV_OK)
        eventually_dead(pid);
}

START_TEST(test_process_spawn_opt_refuses_a_stack_it_cannot_have)
{
    atomic_store(&nested_ran, 0);
    absurd_rc = absurd_err = 1;
    run_main(main_spawns_absurd_stack, NULL, 2);
    ck_assert_msg(absurd_rc == HV_EBADARG || absurd_rc == HV_ENOMEM,
                  "hv_spawn_opt with stack_bytes SIZE_MAX gave %d", absurd_rc);
    ck_assert_int_eq(absurd_err, absurd_rc);
    ck_assert_int_eq(atomic_load(&nested_ran), 0);
}
END_TEST

static void
main_spawns_with_null_pid(void *arg)
{
    (void)arg;
    size_t before = hv_process_count();
    EXPECT(hv_spawn_opt(nested_main, NULL, NULL, NULL, NULL) == HV_EBADARG);
    EXPECT(hv_process_count() == before);
}

/* opts and err are documented as optional; pid is not. */
START_TEST(test_process_spawn_opt_with_a_null_pid_pointer_is_ebadarg)
{
    atomic_store(&nested_ran, 0);
    run_main(main_spawns_with_null_pid, NULL, 2);
    ck_assert_int_eq(atomic_load(&nested_ran), 0);
}
END_TEST

static int thread_pipe[2];

/* Blocks its own OS thread in read(2) and usleep(3), then finds the
 * message sent to it meanwhile. */
static void
thread_child(void *arg)
{
    hv_term parent_pid = arg_pid(arg);
    hv_term m = HV_NONE;
    char ch = 0;

    EXPECT(hv_is_pid(hv_self()));
    EXPECT(hv_send(parent_pid, hv_tuple(2, hv_atom("ready"), hv_self())) ==
           HV_OK);
    EXPECT(read(thread_pipe[0], &ch, 1) == 1);
    EXPECT(ch == 'x');
    usleep(20 * 1000);
    EXPECT(hv_recv(WAIT_MS, &m) == HV_OK);
    EXPECT(m == hv_atom("ping"));
    EXPECT(hv_recv(0, &m) == HV_ETIMEOUT);
    EXPECT(m == HV_NONE);
    EXPECT(hv_recv(5, &m) == HV_ETIMEOUT);
    EXPECT(hv_sleep(2) == HV_OK);
    usleep(1000);
    hv_yield(); /* on its own thread: just returns */
    /* It can spawn and talk to an ordinary process like any other. */
    hv_term kid = hv_spawn(echo_plus_one, NULL);
    EXPECT(hv_is_pid(kid));
    EXPECT(hv_send(kid, hv_tuple(2, hv_self(), hv_int(7))) == HV_OK);
    EXPECT(hv_recv(WAIT_MS, &m) == HV_OK);
    EXPECT(m == hv_int(8));
    EXPECT(hv_send(kid, hv_atom("stop")) == HV_OK);
    EXPECT(hv_send(parent_pid, hv_atom("thread_done")) == HV_OK);
    /* A second round: blocked in receive now, woken by a message. */
    EXPECT(hv_recv(WAIT_MS, &m) == HV_OK);
    EXPECT(m == hv_atom("again"));
    EXPECT(hv_send(parent_pid, hv_atom("thread_done")) == HV_OK);
}

static void
main_with_thread_child(void *arg)
{
    (void)arg;
    hv_spawn_opts o;
    hv_term pid = HV_NONE;

    memset(&o, 0, sizeof o);
    o.thread = true;
    EXPECT(hv_spawn_opt(thread_child, pid_arg(hv_self()), &o, &pid, NULL) ==
           HV_OK);
    hv_term m = next_msg();
    EXPECT(hv_tuple_at(m, 1) == pid);
    hv_release(m);
    /* The child is (about to be) stuck in read(2); with one scheduler,
     * two ordinary processes must still be able to talk. */
    EXPECT(hv_send(pid, hv_atom("ping")) == HV_OK);
    hv_term echo = hv_spawn(echo_plus_one, NULL);
    for (int i = 0; i < 100; i++) {
        EXPECT(hv_send(echo, hv_tuple(2, hv_self(), hv_int(i))) == HV_OK);
        EXPECT(next_msg() == hv_int(i + 1));
    }
    EXPECT(hv_send(echo, hv_atom("stop")) == HV_OK);
    EXPECT(write(thread_pipe[1], "x", 1) == 1);
    await_atom("thread_done");
    EXPECT(hv_send(pid, hv_atom("again")) == HV_OK);
    await_atom("thread_done");
    EXPECT(eventually_dead(pid));
}

START_TEST(test_process_thread_process_blocks_in_real_calls_not_the_scheduler)
{
    ck_assert_int_eq(pipe(thread_pipe), 0);
    atomic_store(&deferred, 0);
    run_main(main_with_thread_child, NULL, 1);
    close(thread_pipe[0]);
    close(thread_pipe[1]);
}
END_TEST

enum { THREAD_PROCS = 48, THREAD_PINGS = 50 };

/* Ping-pongs THREAD_PINGS times with its parent (arg) from its own thread. */
static void
thread_pinger(void *arg)
{
    for (int i = 0; i < THREAD_PINGS; i++) {
        EXPECT(hv_send(arg_pid(arg), hv_tuple(2, hv_self(), hv_int(i))) ==
               HV_OK);
        hv_term m = next_msg();
        EXPECT(m == hv_int(i + 1));
    }
}

static void
main_with_many_threads(void *arg)
{
    (void)arg;
    hv_spawn_opts o;
    size_t start = hv_process_count();

    memset(&o, 0, sizeof o);
    o.thread = true;
    for (int i = 0; i < THREAD_PROCS; i++) {
        hv_term pid = HV_NONE;
        EXPECT(hv_spawn_opt(thread_pinger, pid_arg(hv_self()), &o, &pid,
                            NULL) == HV_OK);
    }
    /* Answer every ping with its number plus one. */
    for (int i = 0; i < THREAD_PROCS * THREAD_PINGS; i++) {
        hv_term m = next_msg();
        int64_t n = -1;
        if (!EXPECT(hv_int_value(hv_tuple_at(m, 1), &n) == HV_OK)) {
            hv_release(m);
            break;
        }
        EXPECT(hv_send(hv_tuple_at(m, 0), hv_int(n + 1)) == HV_OK);
        hv_release(m);
    }
    EXPECT(eventually_count(start));
}

START_TEST(test_process_many_thread_processes_talk_and_exit)
{
    run_main(main_with_many_threads, NULL, 2);
}
END_TEST

/* ---- hv_self ---------------------------------------------------------- */

static hv_term self_seen;

static void
record_self(void *arg)
{
    (void)arg;
    self_seen = hv_self();
}

START_TEST(test_process_self_is_none_outside_processes)
{
    ck_assert(hv_self() == HV_NONE);
    hv_yield(); /* outside a process: returns, and changes nothing */
    ck_assert(hv_self() == HV_NONE);
    self_seen = HV_NONE;
    run_main(record_self, NULL, 1);
    ck_assert(hv_is_pid(self_seen));
    ck_assert(hv_self() == HV_NONE);
}
END_TEST

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

static bool
reject_all(hv_term m, void *ctx)
{
    (void)m;
    (void)ctx;
    return false;
}

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

/* ---- hv_yield ---------------------------------------------------------- */

enum { ALT_ROUNDS = 2000 };
static atomic_long steps[2];
static atomic_long max_lead;

static void
alternator(void *arg)
{
    int me = (int)((intptr_t)arg & 1);
    for (int i = 0; i < ALT_ROUNDS; i++) {
        long mine = atomic_fetch_add(&steps[me], 1) + 1;
        long lead = mine - atomic_load(&steps[!me]);
        long seen = atomic_load(&max_lead);
        while (lead > seen &&
               !atomic_compare_exchange_weak(&max_lead, &seen, lead))
            ;
        hv_yield();
    }
    EXPECT(hv_send(parent, hv_atom("alt_done")) == HV_OK);
}

static void
main_alternates(void *arg)
{
    (void)arg;
    parent = hv_self();
    hv_spawn(alternator, (void *)(intptr_t)0);
    hv_spawn(alternator, (void *)(intptr_t)1);
    await_atom("alt_done");
    await_atom("alt_done");
}

START_TEST(test_process_yield_alternates_two_processes_on_one_scheduler)
{
    atomic_store(&steps[0], 0);
    atomic_store(&steps[1], 0);
    atomic_store(&max_lead, 0);
    run_main(main_alternates, NULL, 1);
    ck_assert_int_eq(atomic_load(&steps[0]), ALT_ROUNDS);
    ck_assert_int_eq(atomic_load(&steps[1]), ALT_ROUNDS);
    ck_assert_msg(atomic_load(&max_lead) <= 2,
                  "one process got %ld steps ahead across yields",
                  atomic_load(&max_lead));
}
END_TEST

/* The counter yields COUNT_TO times; each time a spinner may use a whole
 * reduction budget, so SPIN_CAP leaves room for budgets up to 50,000. */
enum { COUNT_TO = 1000, SPIN_CAP = 50 * 1000 * 1000 };
static atomic_bool stop_spinning;
static atomic_long counted;

/* Yields in a loop until told to stop; gives up (a failure) at SPIN_CAP
 * rather than hang when yield lets nobody else run. */
static void
yield_spinner(void *arg)
{
    (void)arg;
    long n = 0;
    while (!atomic_load(&stop_spinning) && n < SPIN_CAP) {
        hv_yield();
        n++;
    }
    EXPECT(n < SPIN_CAP);
    EXPECT(hv_send(parent, hv_atom("spinner_done")) == HV_OK);
}

/* Sends to a pid that never existed, in a loop, without yielding: only
 * the reduction budget switches it out. */
static void
send_spinner(void *arg)
{
    (void)arg;
    hv_term nobody = hv_pid_local(999999, 1);
    long n = 0;
    while (!atomic_load(&stop_spinning) && n < SPIN_CAP) {
        hv_send(nobody, hv_int(n));
        n++;
    }
    EXPECT(n < SPIN_CAP);
    EXPECT(hv_send(parent, hv_atom("spinner_done")) == HV_OK);
}

/* Polls an empty mailbox in a loop: receives count as reductions too. */
static void
recv_spinner(void *arg)
{
    (void)arg;
    long n = 0;
    hv_term m = HV_NONE;
    while (!atomic_load(&stop_spinning) && n < SPIN_CAP) {
        hv_recv_if(reject_all, NULL, 0, &m);
        n++;
    }
    EXPECT(n < SPIN_CAP);
    EXPECT(hv_send(parent, hv_atom("spinner_done")) == HV_OK);
}

static void
counter(void *arg)
{
    (void)arg;
    for (int i = 0; i < COUNT_TO; i++) {
        atomic_fetch_add(&counted, 1);
        hv_yield();
    }
    EXPECT(hv_send(parent, hv_atom("count_done")) == HV_OK);
}

static void
main_starvation(void *arg)
{
    hv_fn *spinner = (hv_fn *)arg;
    parent = hv_self();
    hv_spawn(spinner, NULL);
    hv_spawn(counter, NULL);
    hv_term m = HV_NONE;
    EXPECT(hv_recv(60 * 1000, &m) == HV_OK);
    EXPECT(m == hv_atom("count_done"));
    atomic_store(&stop_spinning, true);
    await_atom("spinner_done");
}

START_TEST(test_process_yield_loop_does_not_starve_a_counting_process)
{
    static hv_fn *const spinners[] = {yield_spinner, send_spinner,
                                      recv_spinner};
    for (size_t i = 0; i < 3; i++) {
        atomic_store(&stop_spinning, false);
        atomic_store(&counted, 0);
        run_main(main_starvation, (void *)spinners[i], 1);
        ck_assert_msg(atomic_load(&counted) == COUNT_TO,
                      "spinner %zu: counted %ld", i, atomic_load(&counted));
    }
}
END_TEST

/* ---- scale and limits ------------------------------------------------- */

static hv_term *million;
static long million_n;
static atomic_long million_ok, million_bad, million_exited;

static void
million_waiter(void *arg)
{
    hv_term m = HV_NONE;
    int64_t v = -1;
    if (hv_recv(HV_INFINITY, &m) != HV_OK || hv_int_value(m, &v) != HV_OK ||
        v != (int64_t)(intptr_t)arg)
        atomic_fetch_add(&million_bad, 1);
    else
        atomic_fetch_add(&million_ok, 1);
    hv_release(m);
    if (atomic_fetch_add(&million_exited, 1) + 1 == million_n)
        hv_send(parent, hv_atom("all_received"));
}

static void
main_million(void *arg)
{
    (void)arg;
    size_t start = hv_process_count();
    long n = million_n, spawned = 0;

    parent = hv_self();
    EXPECT(start >= 1);
    for (long i = 0; i < n; i++) {
        million[i] = hv_spawn(million_waiter, (void *)(intptr_t)i);
        if (million[i] == HV_NONE)
            break;
        spawned++;
    }
    EXPECT(spawned == n);
    if (spawned != n) {
        million_n = spawned;
        n = spawned;
    }
    EXPECT(hv_process_count() == start + (size_t)n);
    for (long i = 0; i < n; i++)
        hv_send(million[i], hv_int(i));
    hv_term m = HV_NONE;
    EXPECT(hv_recv(60 * 1000, &m) == HV_OK);
    EXPECT(m == hv_atom("all_received"));
    EXPECT(eventually_count(start));
}

/* TSan counts every fiber (a live process) as a thread and dies past
 * 8128 of them. */
#if defined(__SANITIZE_THREAD__)
enum { MILLION_CAP = 2000 };
#else
enum { MILLION_CAP = 1000000 };
#endif

START_TEST(test_process_a_million_processes_block_receive_and_exit)
{
    million_n = hv_check_scale(1000000);
    if (million_n > MILLION_CAP)
        million_n = MILLION_CAP;
    million = malloc((size_t)million_n * sizeof *million);
    ck_assert_ptr_nonnull(million);
    atomic_store(&million_ok, 0);
    atomic_store(&million_bad, 0);
    atomic_store(&million_exited, 0);
    run_main(main_million, NULL, 0);
    free(million);
    ck_assert_int_eq(atomic_load(&million_bad), 0);
    ck_assert_int_eq(atomic_load(&million_ok), million_n);
}
END_TEST

enum { LIMIT = 8 };

static void
exit_on_message(void *arg)
{
    (void)arg;
    hv_term m = next_msg();
    hv_release(m);
}

static void
main_hits_the_limit(void *arg)
{
    (void)arg;
    hv_term kids[LIMIT];
    hv_spawn_opts o;
    hv_error err;
    size_t start = hv_process_count();
    int n = 0;

    EXPECT(start == 1);
    for (n = 0; n < LIMIT - 1; n++) {
        kids[n] = hv_spawn(exit_on_message, NULL);
        if (!EXPECT(hv_is_pid(kids[n])))
            return;
    }
    EXPECT(hv_process_count() == LIMIT);
    hv_term pid = HV_NIL;
    memset(&err, 0, sizeof err);
    EXPECT(hv_spawn_opt(exit_on_message, NULL, NULL, &pid, &err) == HV_ELIMIT);
    EXPECT(err.code == HV_ELIMIT);
    EXPECT(hv_spawn(exit_on_message, NULL) == HV_NONE);
    memset(&o, 0, sizeof o);
    o.dedicated_stack = true;
    EXPECT(hv_spawn_opt(exit_on_message, NULL, &o, &pid, NULL) == HV_ELIMIT);
    memset(&o, 0, sizeof o);
    o.thread = true;
    EXPECT(hv_spawn_opt(exit_on_message, NULL, &o, &pid, NULL) == HV_ELIMIT);
    memset(&o, 0, sizeof o);
    o.name = hv_atom("check_process_over_limit");
    EXPECT(hv_spawn_opt(exit_on_message, NULL, &o, &pid, NULL) == HV_ELIMIT);
    EXPECT(hv_whereis(o.name) == HV_NONE);
    EXPECT(hv_process_count() == LIMIT);

    /* One exits: room for one more, once its exit has gone through. */
    EXPECT(hv_send(kids[0], hv_atom("bye")) == HV_OK);
    EXPECT(eventually_count(LIMIT - 1));
    EXPECT(hv_spawn_opt(exit_on_message, NULL, NULL, &kids[0], &err) == HV_OK);
    EXPECT(hv_spawn(exit_on_message, NULL) == HV_NONE);
    for (int i = 0; i < n; i++)
        EXPECT(hv_send(kids[i], hv_atom("bye")) == HV_OK);
    EXPECT(eventually_count(1));
}

static void
main_alone_at_limit_one(void *arg)
{
    (void)arg;
    hv_term pid = HV_NIL;
    EXPECT(hv_process_count() == 1);
    EXPECT(hv_spawn(exit_on_message, NULL) == HV_NONE);
    EXPECT(hv_spawn_opt(exit_on_message, NULL, NULL, &pid, NULL) == HV_ELIMIT);
}

START_TEST(test_process_max_processes_gives_elimit_until_one_exits)
{
    hv_config c = config_of(2);
    hv_term reason = HV_NONE;

    hv_expect_reset();
    c.max_processes = LIMIT;
    ck_assert_int_eq(hv_run(main_hits_the_limit, NULL, &c, &reason), HV_OK);
    ck_assert(reason == hv_atom("normal"));
    hv_expect_assert();

    c.max_processes = 1;
    ck_assert_int_eq(hv_run(main_alone_at_limit_one, NULL, &c, &reason), HV_OK);
    ck_assert(reason == hv_atom("normal"));
    hv_expect_assert();
}
END_TEST

START_TEST(test_process_max_processes_counts_bridges)
{
    hv_config c = config_of(1);
    hv_error err;

    c.max_processes = 2;
    ck_assert_int_eq(hv_start(&c), HV_OK);
    hv_term pid = hv_spawn(exit_on_message, NULL);
    ck_assert(hv_is_pid(pid));
    hv_bridge *b = hv_bridge_open(NULL);
    ck_assert_ptr_nonnull(b);
    ck_assert(hv_spawn(exit_on_message, NULL) == HV_NONE);
    memset(&err, 0, sizeof err);
    ck_assert_ptr_null(hv_bridge_open(&err));
    ck_assert_int_eq(err.code, HV_ELIMIT);
    hv_bridge_close(b);
    ck_assert_int_eq(hv_stop(), HV_OK);
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
    TCase *tc = hv_check_tcase(s, "run");
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

    tc = hv_check_tcase(s, "spawn");
    tcase_add_test(tc,
                   test_process_spawn_gives_distinct_pids_that_match_hv_self);
    tcase_add_test(tc, test_process_spawn_without_a_runtime_fails);
    tcase_add_test(tc, test_process_spawn_rejects_a_null_fn);
    tcase_add_test(tc,
                   test_process_spawn_opt_with_a_null_pid_pointer_is_ebadarg);
    tcase_add_test(tc, test_process_spawn_opt_refuses_a_stack_it_cannot_have);
    tcase_add_test(
        tc, test_process_copying_stacks_keep_deep_frames_across_switches);
    tcase_add_test(tc,
                   test_process_config_stack_bytes_bounds_copying_stack_depth);
    tcase_add_test(
        tc, test_process_spawn_opt_name_registers_before_the_process_runs);
    tcase_add_test(tc,
                   test_process_dedicated_stack_recurses_deep_and_blocks_there);
    tcase_add_test(
        tc, test_process_thread_process_blocks_in_real_calls_not_the_scheduler);
    tcase_add_test(tc, test_process_many_thread_processes_talk_and_exit);
    tcase_add_test(tc, test_process_self_is_none_outside_processes);

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

    tc = hv_check_tcase(s, "yield");
    tcase_add_test(
        tc, test_process_yield_alternates_two_processes_on_one_scheduler);
    tcase_add_test(tc,
                   test_process_yield_loop_does_not_starve_a_counting_process);

    tc = hv_check_tcase(s, "scale");
    tcase_add_test(tc, test_process_a_million_processes_block_receive_and_exit);
    tcase_add_test(tc, test_process_max_processes_gives_elimit_until_one_exits);
    tcase_add_test(tc, test_process_max_processes_counts_bridges);
    return s;
}
