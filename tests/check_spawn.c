/* tests/check_spawn.c - hv_spawn and its options: distinct pids, bad
 * arguments, copying stacks holding deep frames, dedicated stacks,
 * thread processes blocking in real calls, names; hv_self. */
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

/* ---- spawning ---------------------------------------------------------- */

enum { KIDS = 200 };

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

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("spawn");
    TCase *tc;

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
    return s;
}
