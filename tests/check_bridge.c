/* tests/check_bridge.c - bridges: plain threads with a mailbox and a pid.
 * Receiving what processes send, timeouts, gen_server-style calls from
 * several threads at once, calls to dead and unregistered targets, late
 * replies dropped, other messages kept in order during a call, close and
 * stop dropping what is queued, and bridges used inside hv_run.
 *
 * The test thread is a plain thread, but checks are still recorded
 * (expect_at) and asserted only after hv_stop, so that a failure leaves
 * no runtime running for the next test (CK_FORK=no). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hive/hive.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"


static void
pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void
begin(unsigned schedulers)
{
    hv_config cfg = {0};
    cfg.schedulers = schedulers;
    hv_expect_reset();
    ck_assert_int_eq(hv_start(&cfg), HV_OK);
}

static void
end(void)
{
    int rc = hv_running() ? hv_stop() : HV_OK;
    ck_assert_msg(hv_expect_failures() == 0,
                  "%d failed expectations, the first at %s",
                  hv_expect_failures(), hv_expect_text());
    ck_assert_int_eq(rc, HV_OK);
}

/* From a plain thread: waits until pid is no longer alive. */
static bool
wait_dead_thread(hv_term pid)
{
    for (int i = 0; i < 2000; i++) {
        hv_proc_info info;
        if (hv_process_info(pid, &info) == HV_ENOPROC)
            return true;
        pause_ms(1);
    }
    return false;
}

/* ---- the echo server -------------------------------------------------- *
 * Answers {'$gen_call', {From, Ref}, Req} with {Ref, {echo, Req}}.  Some
 * requests ask for more:
 *   {delay, Ms}   sleep Ms first, then reply, then send after_reply;
 *   {chatter, N}  send {chat, N, 1}, {chat, N, 2}, reply, {chat, N, 3}. */
static void
echo_server(void *arg)
{
    (void)arg;
    for (;;) {
        hv_term m = HV_NONE;
        if (hv_recv(HV_INFINITY, &m) != HV_OK)
            return;
        if (is_atom(m, "stop")) {
            hv_release(m);
            return;
        }
        hv_term from_ref = hv_tuple_at(m, 1);
        hv_term from = hv_tuple_at(from_ref, 0);
        hv_term ref = hv_tuple_at(from_ref, 1);
        hv_term req = hv_tuple_at(m, 2);
        if (!is_tagged(m, "$gen_call") || hv_tuple_size(m) != 3 ||
            !hv_is_pid(from) || !hv_is_ref(ref)) {
            EXPECT(!"the echo server got something that is no call");
            hv_release(m);
            continue;
        }
        bool delayed = is_tagged(req, "delay");
        bool chatter = is_tagged(req, "chatter");
        int64_t n = elem_int(req, 1);
        if (delayed)
            hv_sleep(n);
        if (chatter) {
            hv_send(from, hv_tuple(3, hv_atom("chat"), hv_int(n), hv_int(1)));
            hv_send(from, hv_tuple(3, hv_atom("chat"), hv_int(n), hv_int(2)));
        }
        hv_send(from, hv_tuple(2, hv_retain(ref),
                               hv_tuple(2, hv_atom("echo"), hv_retain(req))));
        if (delayed)
            hv_send(from, hv_atom("after_reply"));
        if (chatter)
            hv_send(from, hv_tuple(3, hv_atom("chat"), hv_int(n), hv_int(3)));
        hv_release(m);
    }
}

static hv_term
spawn_echo(const char *name)
{
    hv_spawn_opts opts = {0};
    hv_term pid = HV_NONE;
    opts.name = name != NULL ? hv_atom(name) : HV_NONE;
    EXPECT(hv_spawn_opt(echo_server, NULL, &opts, &pid, NULL) == HV_OK);
    return pid;
}

/* Whether reply is {echo, Req} for the request that was sent. */
static bool
is_echo_of(hv_term reply, hv_term req)
{
    return is_tagged(reply, "echo") && hv_tuple_size(reply) == 2 &&
           hv_equal(hv_tuple_at(reply, 1), req);
}

/* ---- core ------------------------------------------------------------- */

static hv_term target_pid;

static void
send_hundred(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++)
        EXPECT(hv_send(target_pid, boxed("to_bridge", i)) == HV_OK);
}

START_TEST(test_bridge_receives_what_processes_send_in_order)
{
    begin(2);
    hv_error err;
    hv_bridge *b = hv_bridge_open(&err);
    EXPECT(b != NULL);
    if (b != NULL) {
        target_pid = hv_bridge_pid(b);
        EXPECT(hv_is_pid(target_pid));
        EXPECT(hv_spawn(send_hundred, NULL) != HV_NONE);
        for (int i = 0; i < 100; i++) {
            hv_term m = HV_NONE;
            EXPECT(hv_bridge_recv(b, 5000, &m) == HV_OK);
            if (!is_tagged(m, "to_bridge") || elem_int(m, 1) != i) {
                EXPECT(!"bridge messages out of order or lost");
                hv_release(m);
                break;
            }
            hv_release(m);
        }
        hv_term m = HV_ATOM_TRUE;
        EXPECT(hv_bridge_recv(b, 0, &m) == HV_ETIMEOUT);
        EXPECT(m == HV_NONE);
        hv_bridge_close(b);
    }
    end();
}
END_TEST

static void
late_send(void *arg)
{
    (void)arg;
    hv_sleep(50);
    hv_send(target_pid, boxed("late", 1));
}

START_TEST(test_bridge_recv_times_out_and_infinity_waits)
{
    begin(2);
    hv_bridge *b = hv_bridge_open(NULL);
    EXPECT(b != NULL);
    if (b != NULL) {
        hv_term m = HV_ATOM_TRUE;
        double t0 = now_ms();
        EXPECT(hv_bridge_recv(b, 0, &m) == HV_ETIMEOUT);
        EXPECT(m == HV_NONE);
        EXPECT(now_ms() - t0 < 500);
        m = HV_ATOM_TRUE;
        t0 = now_ms();
        EXPECT(hv_bridge_recv(b, 60, &m) == HV_ETIMEOUT);
        double took = now_ms() - t0;
        EXPECT(m == HV_NONE);
        EXPECT(took >= 60 && took < 1060);
        target_pid = hv_bridge_pid(b);
        EXPECT(hv_spawn(late_send, NULL) != HV_NONE);
        m = HV_NONE;
        t0 = now_ms();
        EXPECT(hv_bridge_recv(b, HV_INFINITY, &m) == HV_OK);
        EXPECT(now_ms() - t0 >= 45);
        EXPECT(is_tagged(m, "late"));
        hv_release(m);
        hv_bridge_close(b);
    }
    end();
}
END_TEST

static void
ponger(void *arg)
{
    (void)arg;
    for (;;) {
        hv_term m = HV_NONE;
        if (hv_recv(HV_INFINITY, &m) != HV_OK || is_atom(m, "stop")) {
            hv_release(m);
            return;
        }
        hv_send(hv_tuple_at(m, 1),
                hv_tuple(2, hv_atom("pong"), hv_retain(hv_tuple_at(m, 2))));
        hv_release(m);
    }
}

START_TEST(test_bridge_ping_pongs_with_a_process)
{
    begin(2);
    hv_bridge *b = hv_bridge_open(NULL);
    hv_term p = hv_spawn(ponger, NULL);
    EXPECT(b != NULL && p != HV_NONE);
    long n = hv_check_scale(2000);
    for (long i = 0; b != NULL && i < n; i++) {
        EXPECT(hv_send(p, hv_tuple(3, hv_atom("ping"), hv_bridge_pid(b),
                                   hv_int(i))) == HV_OK);
        hv_term m = HV_NONE;
        EXPECT(hv_bridge_recv(b, 5000, &m) == HV_OK);
        if (!is_tagged(m, "pong") || elem_int(m, 1) != i) {
            EXPECT(!"a wrong pong");
            hv_release(m);
            break;
        }
        hv_release(m);
    }
    hv_send(p, hv_atom("stop"));
    hv_bridge_close(b);
    end();
}
END_TEST

/* ---- calls ------------------------------------------------------------ */

enum { CALL_THREADS = 4 };
static long calls_per_thread;
static hv_term echo_pid;
static atomic_long calls_ok;

static void *
caller_thread(void *arg)
{
    intptr_t idx = (intptr_t)arg;
    hv_bridge *b = hv_bridge_open(NULL);
    EXPECT(b != NULL);
    if (b == NULL)
        return NULL;
    /* Half call by pid, half by registered name. */
    hv_term to = idx % 2 ? echo_pid : hv_atom("bridge_echo");
    for (long i = 0; i < calls_per_thread; i++) {
        hv_term req = hv_tuple(2, hv_int(idx), hv_int(i));
        hv_term keep = hv_retain(req);
        hv_term reply = HV_NONE;
        int rc = hv_bridge_call(b, to, req, 10000, &reply);
        if (rc != HV_OK || !is_echo_of(reply, keep)) {
            EXPECT(!"a call got no reply, or another call's");
            hv_release(keep);
            hv_release(reply);
            break;
        }
        atomic_fetch_add(&calls_ok, 1);
        hv_release(keep);
        hv_release(reply);
    }
    hv_term m = HV_ATOM_TRUE;
    EXPECT(hv_bridge_recv(b, 0, &m) == HV_ETIMEOUT); /* nothing stray */
    hv_bridge_close(b);
    return NULL;
}

START_TEST(test_bridge_calls_from_4_threads_at_once_each_get_their_reply)
{
    pthread_t th[CALL_THREADS];
    begin(2);
    calls_per_thread = hv_check_scale(1000);
    atomic_store(&calls_ok, 0);
    echo_pid = spawn_echo("bridge_echo");
    for (intptr_t i = 0; i < CALL_THREADS; i++)
        EXPECT(pthread_create(&th[i], NULL, caller_thread, (void *)i) == 0);
    for (int i = 0; i < CALL_THREADS; i++)
        pthread_join(th[i], NULL);
    EXPECT(atomic_load(&calls_ok) == CALL_THREADS * calls_per_thread);
    end();
}
END_TEST

START_TEST(test_bridge_call_to_an_unregistered_name_or_dead_pid_is_noproc)
{
    begin(2);
    hv_bridge *b = hv_bridge_open(NULL);
    EXPECT(b != NULL);
    if (b != NULL) {
        hv_term reply = HV_NONE;
        EXPECT(hv_bridge_call(b, hv_atom("bridge_nobody"), boxed("req", 1),
                              5000, &reply) == HV_ENOPROC);
        hv_term dead = hv_spawn(returns_at_once, NULL);
        EXPECT(dead != HV_NONE && wait_dead_thread(dead));
        double t0 = now_ms();
        EXPECT(hv_bridge_call(b, dead, boxed("req", 2), 2000, &reply) ==
               HV_ENOPROC);
        EXPECT(now_ms() - t0 < 1000); /* known at once, not a timeout */
        EXPECT(hv_bridge_call(b, hv_pid_local(54321, 9), boxed("req", 3), 2000,
                              &reply) == HV_ENOPROC);
        hv_term m = HV_ATOM_TRUE;
        EXPECT(hv_bridge_recv(b, 20, &m) == HV_ETIMEOUT);
        hv_bridge_close(b);
    }
    end();
}
END_TEST

START_TEST(test_bridge_call_rejects_bad_arguments_and_frees_the_request)
{
    begin(2);
    hv_bridge *b = hv_bridge_open(NULL);
    EXPECT(b != NULL);
    if (b != NULL) {
        hv_term reply = HV_NONE;
        hv_term echo = spawn_echo(NULL);
        EXPECT(hv_bridge_call(b, hv_int(7), boxed("req", 1), 1000, &reply) ==
               HV_EBADARG);
        hv_term bin = hv_string("echo");
        EXPECT(hv_bridge_call(b, bin, boxed("req", 2), 1000, &reply) ==
               HV_EBADARG);
        hv_release(bin);
        EXPECT(hv_bridge_call(b, echo, HV_NONE, 1000, &reply) == HV_EBADARG);
        /* The bridge still works. */
        hv_term req = boxed("req", 3);
        EXPECT(hv_bridge_call(b, echo, hv_retain(req), 5000, &reply) == HV_OK);
        EXPECT(is_echo_of(reply, req));
        hv_release(req);
        hv_release(reply);
        hv_send(echo, hv_atom("stop"));
        hv_bridge_close(b);
    }
    end();
}
END_TEST

START_TEST(test_bridge_call_timeout_drops_the_late_reply)
{
    begin(2);
    hv_bridge *b = hv_bridge_open(NULL);
    hv_term echo = spawn_echo(NULL);
    EXPECT(b != NULL);
    if (b != NULL) {
        hv_term reply = HV_NONE;
        double t0 = now_ms();
        EXPECT(hv_bridge_call(b, echo,
                              hv_tuple(2, hv_atom("delay"), hv_int(150)), 20,
                              &reply) == HV_ETIMEOUT);
        double took = now_ms() - t0;
        EXPECT(took >= 20 && took < 1020);
        /* The server replies late, then sends after_reply: the first thing
         * the bridge sees must be after_reply. */
        hv_term m = HV_NONE;
        EXPECT(hv_bridge_recv(b, 5000, &m) == HV_OK);
        EXPECT(is_atom(m, "after_reply"));
        hv_release(m);
        /* A new call gets its own reply. */
        hv_term req = boxed("fresh", 1);
        reply = HV_NONE;
        EXPECT(hv_bridge_call(b, echo, hv_retain(req), 5000, &reply) == HV_OK);
        EXPECT(is_echo_of(reply, req));
        hv_release(req);
        hv_release(reply);
        m = HV_ATOM_TRUE;
        EXPECT(hv_bridge_recv(b, 50, &m) == HV_ETIMEOUT);
        /* Timeout while a late reply is already queued behind others. */
        EXPECT(hv_bridge_call(b, echo,
                              hv_tuple(2, hv_atom("delay"), hv_int(60)), 5,
                              &reply) == HV_ETIMEOUT);
        req = boxed("second", 2);
        reply = HV_NONE;
        EXPECT(hv_bridge_call(b, echo, hv_retain(req), 5000, &reply) == HV_OK);
        EXPECT(is_echo_of(reply, req));
        hv_release(req);
        hv_release(reply);
        m = HV_NONE;
        EXPECT(hv_bridge_recv(b, 5000, &m) == HV_OK);
        EXPECT(is_atom(m, "after_reply"));
        hv_release(m);
        m = HV_ATOM_TRUE;
        EXPECT(hv_bridge_recv(b, 50, &m) == HV_ETIMEOUT);
        hv_bridge_close(b);
    }
    end();
}
END_TEST

/* Holds every call without replying until told `release`, then replies
 * to all, in the order they came, and sends `released` to the last
 * caller. */
enum { HELD_MAX = 256 };

static void
holder(void *arg)
{
    hv_term held[HELD_MAX];
    size_t n = 0;
    (void)arg;
    for (;;) {
        hv_term m = HV_NONE;
        if (hv_recv(HV_INFINITY, &m) != HV_OK)
            break;
        if (is_atom(m, "release")) {
            hv_release(m);
            hv_term last_from = HV_NONE;
            for (size_t i = 0; i < n; i++) {
                hv_term from_ref = hv_tuple_at(held[i], 1);
                last_from = hv_tuple_at(from_ref, 0);
                hv_send(last_from,
                        hv_tuple(2, hv_retain(hv_tuple_at(from_ref, 1)),
                                 hv_atom("late")));
            }
            if (last_from != HV_NONE)
                hv_send(last_from, hv_atom("released"));
            break;
        }
        if (n < HELD_MAX)
            held[n++] = m;
        else
            hv_release(m);
    }
    for (size_t i = 0; i < n; i++)
        hv_release(held[i]);
}

START_TEST(test_bridge_every_late_reply_is_dropped_after_many_timeouts)
{
    begin(2);
    hv_bridge *b = hv_bridge_open(NULL);
    hv_term h = hv_spawn(holder, NULL);
    EXPECT(b != NULL && h != HV_NONE);
    if (b != NULL) {
        /* More abandoned calls than a small fixed table would remember. */
        for (int i = 0; i < 100; i++) {
            hv_term reply = HV_NONE;
            EXPECT(hv_bridge_call(b, h, hv_int(i), 1, &reply) == HV_ETIMEOUT);
        }
        EXPECT(hv_send(h, hv_atom("release")) == HV_OK);
        hv_term m = HV_NONE;
        EXPECT(hv_bridge_recv(b, 5000, &m) == HV_OK);
        EXPECT(is_atom(m, "released")); /* no late reply before it */
        if (!is_atom(m, "released")) {
            int late = 1;
            hv_release(m);
            while (hv_bridge_recv(b, 100, &m) == HV_OK &&
                   !is_atom(m, "released")) {
                late++;
                hv_release(m);
            }
            fprintf(stderr, "%d of 100 late replies surfaced\n", late);
        }
        hv_release(m);
        hv_bridge_close(b);
    }
    end();
}
END_TEST

START_TEST(test_bridge_call_leaves_other_messages_queued_in_order)
{
    begin(2);
    hv_bridge *b = hv_bridge_open(NULL);
    hv_term echo = spawn_echo(NULL);
    EXPECT(b != NULL);
    if (b != NULL) {
        hv_term reply = HV_NONE;
        /* chat 1,1 and 1,2 arrive before the reply, 1,3 after it. */
        hv_term req = hv_tuple(2, hv_atom("chatter"), hv_int(1));
        EXPECT(hv_bridge_call(b, echo, hv_retain(req), 5000, &reply) == HV_OK);
        EXPECT(is_echo_of(reply, req));
        hv_release(req);
        hv_release(reply);
        req = hv_tuple(2, hv_atom("chatter"), hv_int(2));
        reply = HV_NONE;
        EXPECT(hv_bridge_call(b, echo, hv_retain(req), 5000, &reply) == HV_OK);
        EXPECT(is_echo_of(reply, req));
        hv_release(req);
        hv_release(reply);
        /* 1,3 may come before or after 2,1 and 2,2 (two calls), but the
         * server sent 1,3 before it read call 2: it is queued first. */
        static const int want[][2] = {{1, 1}, {1, 2}, {1, 3},
                                      {2, 1}, {2, 2}, {2, 3}};
        for (int i = 0; i < 6; i++) {
            hv_term m = HV_NONE;
            EXPECT(hv_bridge_recv(b, 5000, &m) == HV_OK);
            if (!is_tagged(m, "chat") || elem_int(m, 1) != want[i][0] ||
                elem_int(m, 2) != want[i][1]) {
                EXPECT(!"messages around a call lost or reordered");
                hv_release(m);
                break;
            }
            hv_release(m);
        }
        hv_term m = HV_ATOM_TRUE;
        EXPECT(hv_bridge_recv(b, 20, &m) == HV_ETIMEOUT);
        hv_bridge_close(b);
    }
    end();
}
END_TEST

/* ---- close, stop, and bridges inside hv_run ------------------------- */

static hv_term flood_to, flood_done_to;
static long flood_n;

static void
flooder(void *arg)
{
    (void)arg;
    for (long i = 0; i < flood_n; i++)
        hv_send(flood_to, boxed("flood", i));
    if (flood_done_to != HV_NONE)
        hv_send(flood_done_to, hv_atom("sent"));
}

START_TEST(test_bridge_close_drops_queued_messages_and_kills_the_pid)
{
    begin(2);
    hv_bridge *b1 = hv_bridge_open(NULL);
    hv_bridge *b2 = hv_bridge_open(NULL);
    EXPECT(b1 != NULL && b2 != NULL);
    if (b1 != NULL && b2 != NULL) {
        hv_term pid1 = hv_bridge_pid(b1);
        hv_proc_info info;
        EXPECT(hv_process_info(pid1, &info) == HV_OK && info.bridge);
        flood_to = pid1;
        flood_done_to = hv_bridge_pid(b2);
        flood_n = 100;
        EXPECT(hv_spawn(flooder, NULL) != HV_NONE);
        hv_term m = HV_NONE;
        EXPECT(hv_bridge_recv(b2, 5000, &m) == HV_OK);
        EXPECT(is_atom(m, "sent"));
        hv_release(m);
        /* Processes can only end meanwhile, so the count must drop. */
        size_t before = hv_process_count();
        hv_bridge_close(b1);
        EXPECT(hv_process_info(pid1, &info) == HV_ENOPROC);
        EXPECT(hv_process_count() < before);
        EXPECT(hv_send(pid1, boxed("after_close", 1)) == HV_OK);
        hv_bridge_close(NULL);
        hv_bridge_close(b2);
    }
    end();
}
END_TEST

START_TEST(test_bridge_close_while_a_process_floods_it_leaks_nothing)
{
    begin(2);
    hv_bridge *b = hv_bridge_open(NULL);
    EXPECT(b != NULL);
    if (b != NULL) {
        flood_to = hv_bridge_pid(b);
        flood_done_to = HV_NONE;
        flood_n = hv_check_scale(20000);
        EXPECT(hv_spawn(flooder, NULL) != HV_NONE);
        hv_term m = HV_NONE;
        EXPECT(hv_bridge_recv(b, 5000, &m) == HV_OK);
        hv_release(m);
        hv_bridge_close(b);
        pause_ms(20);
    }
    end();
}
END_TEST

START_TEST(test_bridge_recv_and_call_after_stop_are_noproc)
{
    begin(2);
    hv_bridge *b = hv_bridge_open(NULL);
    hv_bridge *queued = hv_bridge_open(NULL);
    EXPECT(b != NULL && queued != NULL);
    if (queued != NULL)
        EXPECT(hv_send(hv_bridge_pid(queued), boxed("queued", 1)) == HV_OK);
    hv_term echo = spawn_echo(NULL);
    EXPECT(hv_stop() == HV_OK);
    EXPECT(!hv_running());
    if (b != NULL) {
        hv_term m = HV_ATOM_TRUE;
        EXPECT(hv_bridge_recv(b, 0, &m) == HV_ENOPROC);
        EXPECT(hv_bridge_recv(b, 1000, &m) == HV_ENOPROC);
        EXPECT(hv_bridge_recv(b, HV_INFINITY, &m) == HV_ENOPROC);
        EXPECT(hv_bridge_call(b, echo, boxed("req", 1), 1000, &m) ==
               HV_ENOPROC);
    }
    /* Closing after the stop frees the bridge and what it held. */
    hv_bridge_close(b);
    hv_bridge_close(queued);
    end();
}
END_TEST

/* A recv blocked in another thread when the runtime stops returns. */
static atomic_int blocked_rc;

static void *
blocked_receiver(void *arg)
{
    hv_bridge *b = arg;
    hv_term m = HV_NONE;
    atomic_store(&blocked_rc, hv_bridge_recv(b, HV_INFINITY, &m));
    hv_release(m);
    return NULL;
}

START_TEST(test_bridge_recv_blocked_when_the_runtime_stops_returns_noproc)
{
    pthread_t th;
    begin(2);
    hv_bridge *b = hv_bridge_open(NULL);
    EXPECT(b != NULL);
    atomic_store(&blocked_rc, 1);
    if (b != NULL) {
        EXPECT(pthread_create(&th, NULL, blocked_receiver, b) == 0);
        pause_ms(30);
        EXPECT(hv_stop() == HV_OK);
        pthread_join(th, NULL);
        EXPECT(atomic_load(&blocked_rc) == HV_ENOPROC);
        hv_bridge_close(b);
    }
    end();
}
END_TEST

START_TEST(test_bridge_open_without_a_runtime_is_null)
{
    hv_error err;
    memset(&err, 0, sizeof err);
    ck_assert(hv_bridge_open(&err) == NULL);
    ck_assert_int_lt(err.code, 0);
    ck_assert(hv_bridge_open(NULL) == NULL);
}
END_TEST

static hv_term run_main_pid, run_echo;
static atomic_long run_calls_ok;

static void *
run_caller(void *arg)
{
    hv_bridge *b = hv_bridge_open(NULL);
    (void)arg;
    EXPECT(b != NULL);
    for (long i = 0; b != NULL && i < 200; i++) {
        hv_term req = hv_int(i);
        hv_term reply = HV_NONE;
        if (hv_bridge_call(b, run_echo, req, 5000, &reply) == HV_OK &&
            is_echo_of(reply, req))
            atomic_fetch_add(&run_calls_ok, 1);
        hv_release(reply);
    }
    hv_bridge_close(b);
    EXPECT(hv_send(run_main_pid, hv_atom("caller_done")) == HV_OK);
    return NULL;
}

static void
run_calls_main(void *arg)
{
    pthread_t th[2];
    (void)arg;
    run_main_pid = hv_self();
    run_echo = spawn_echo(NULL);
    for (int i = 0; i < 2; i++)
        EXPECT(pthread_create(&th[i], NULL, run_caller, NULL) == 0);
    for (int i = 0; i < 2; i++) {
        hv_term m = HV_NONE;
        EXPECT(hv_recv(20000, &m) == HV_OK);
        EXPECT(is_atom(m, "caller_done"));
        hv_release(m);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
}

START_TEST(test_bridge_works_from_threads_during_hv_run)
{
    hv_config cfg = {0};
    hv_term reason = HV_NONE;
    cfg.schedulers = 2;
    hv_expect_reset();
    atomic_store(&run_calls_ok, 0);
    ck_assert_int_eq(hv_run(run_calls_main, NULL, &cfg, &reason), HV_OK);
    bool normal = is_atom(reason, "normal");
    hv_release(reason);
    ck_assert_msg(hv_expect_failures() == 0,
                  "%d failed expectations, the first at %s",
                  hv_expect_failures(), hv_expect_text());
    ck_assert(normal);
    ck_assert_int_eq(atomic_load(&run_calls_ok), 400);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("bridge");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_bridge_receives_what_processes_send_in_order);
    tcase_add_test(tc, test_bridge_recv_times_out_and_infinity_waits);
    tcase_add_test(tc, test_bridge_ping_pongs_with_a_process);
    tcase_add_test(tc, test_bridge_works_from_threads_during_hv_run);

    tc = hv_check_tcase(s, "calls");
    tcase_add_test(
        tc, test_bridge_calls_from_4_threads_at_once_each_get_their_reply);
    tcase_add_test(tc, test_bridge_call_timeout_drops_the_late_reply);
    tcase_add_test(tc,
                   test_bridge_every_late_reply_is_dropped_after_many_timeouts);
    tcase_add_test(tc, test_bridge_call_leaves_other_messages_queued_in_order);

    tc = hv_check_tcase(s, "edges");
    tcase_add_test(tc,
                   test_bridge_close_drops_queued_messages_and_kills_the_pid);
    tcase_add_test(tc,
                   test_bridge_close_while_a_process_floods_it_leaks_nothing);
    tcase_add_test(tc, test_bridge_recv_and_call_after_stop_are_noproc);
    tcase_add_test(
        tc, test_bridge_recv_blocked_when_the_runtime_stops_returns_noproc);

    tc = hv_check_tcase(s, "errors");
    tcase_add_test(
        tc, test_bridge_call_to_an_unregistered_name_or_dead_pid_is_noproc);
    tcase_add_test(
        tc, test_bridge_call_rejects_bad_arguments_and_frees_the_request);
    tcase_add_test(tc, test_bridge_open_without_a_runtime_is_null);
    return s;
}
