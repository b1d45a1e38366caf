/* tests/check_mailbox.c - hv_send, hv_recv and hv_recv_if: order per
 * sender, many senders (processes and plain threads), timeouts, dead and
 * reject_all-existing pids, bad arguments, selective receive that reject_all
 * re-tests a rejected message, messages to self, large messages.
 *
 * Checks made inside processes are recorded (expect_at) and asserted by
 * the test after hv_run returns: a failing ck_assert must not unwind
 * through a coroutine's stack. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hive/hive.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"

static hv_term main_pid;

/* ---- core: order with many senders ----------------------------------- */

enum { SENDERS = 8, THREAD_SENDERS = 4 };
static long per_sender;

static void
seq_sender(void *arg)
{
    int64_t idx = (int64_t)(intptr_t)arg;
    for (long seq = 0; seq < per_sender; seq++)
        if (hv_send(main_pid, hv_tuple(2, hv_int(idx), hv_int(seq))) != HV_OK)
            EXPECT(!"hv_send to a live process returned an error");
}

static void *
seq_thread(void *arg)
{
    seq_sender(arg);
    return NULL;
}

/* Receives n_senders * per_sender messages {Idx, Seq} and checks that each
 * sender's sequence arrives whole and in order, then that nothing more
 * comes. */
static void
receive_sequences(int n_senders)
{
    long next[SENDERS + THREAD_SENDERS] = {0};
    long total = (long)n_senders * per_sender;
    for (long k = 0; k < total; k++) {
        hv_term m;
        if (hv_recv(10000, &m) != HV_OK) {
            EXPECT(!"a message was lost (10 s without one)");
            return;
        }
        int64_t idx = elem_int(m, 0), seq = elem_int(m, 1);
        hv_release(m);
        if (idx < 0 || idx >= n_senders) {
            EXPECT(!"a message from an unknown sender");
            return;
        }
        if (seq != next[idx]) {
            EXPECT(!"a sender's messages arrived out of order or lost");
            return;
        }
        next[idx]++;
    }
    hv_term extra = HV_ATOM_TRUE;
    EXPECT(hv_recv(20, &extra) == HV_ETIMEOUT);
    EXPECT(extra == HV_NONE);
}

static void
fifo_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    for (intptr_t i = 0; i < SENDERS; i++)
        EXPECT(hv_spawn(seq_sender, (void *)i) != HV_NONE);
    receive_sequences(SENDERS);
}

START_TEST(test_mailbox_keeps_each_senders_order_with_8_senders_on_2_schedulers)
{
    per_sender = hv_check_scale(10000);
    run_main(fifo_main, NULL, 2);
}
END_TEST

START_TEST(test_mailbox_keeps_each_senders_order_with_8_senders_on_4_schedulers)
{
    per_sender = hv_check_scale(10000);
    run_main(fifo_main, NULL, 4);
}
END_TEST

START_TEST(test_mailbox_keeps_each_senders_order_with_8_senders_on_1_scheduler)
{
    per_sender = hv_check_scale(10000);
    run_main(fifo_main, NULL, 1);
}
END_TEST

/* Four processes and four plain threads send at once. */
static void
threads_main(void *arg)
{
    pthread_t th[THREAD_SENDERS];
    (void)arg;
    main_pid = hv_self();
    for (intptr_t i = 0; i < SENDERS - THREAD_SENDERS; i++)
        EXPECT(hv_spawn(seq_sender, (void *)i) != HV_NONE);
    for (intptr_t i = 0; i < THREAD_SENDERS; i++)
        EXPECT(pthread_create(&th[i], NULL, seq_thread,
                              (void *)(SENDERS - THREAD_SENDERS + i)) == 0);
    receive_sequences(SENDERS);
    /* Every message of every thread is in: the threads have returned or
     * are about to, so joining does not hold the scheduler for long. */
    for (int i = 0; i < THREAD_SENDERS; i++)
        pthread_join(th[i], NULL);
}

START_TEST(test_mailbox_keeps_order_for_plain_thread_senders_too)
{
    per_sender = hv_check_scale(10000);
    run_main(threads_main, NULL, 2);
}
END_TEST

/* Receivers that have not run yet may move between schedulers (work
 * stealing) while senders already send to them: each sender's order must
 * survive the move.  Senders are picked among candidates spawned from a
 * plain thread (round-robin) so they run on the other scheduler than
 * main's; the receivers all start out on main's and spin before their
 * first receive so its queue stays long, and then sleep, so that senders
 * run in between; the senders sleep between rounds so their scheduler
 * goes idle and steals receivers that already hold their earlier
 * messages. */
enum { MOVERS = 200, CANDIDATES = 8, MOVE_ROUNDS = 10 };
static hv_term movers[MOVERS];

static void
spin_us(long us)
{
    double until = now_ms() + (double)us / 1000.0;
    while (now_ms() < until)
        ;
}

static void
mover(void *arg)
{
    long next[CANDIDATES] = {0};
    bool in_order = true;
    int64_t expect = (int64_t)(intptr_t)arg >> 16;
    /* The later half, which a thief takes first, starts fast, so the thief
     * soon idles again and takes more. */
    spin_us(((intptr_t)arg & 0xffff) >= MOVERS / 2 ? 0 : 300);
    /* Senders on this scheduler get to run before the first receive. */
    hv_sleep(2);
    for (int64_t k = 0; k < expect * MOVE_ROUNDS; k++) {
        hv_term m = HV_NONE;
        if (hv_recv(10000, &m) != HV_OK) {
            in_order = false;
            break;
        }
        int64_t j = elem_int(m, 0), round = elem_int(m, 1);
        hv_release(m);
        if (j < 0 || j >= CANDIDATES || round != next[j]) {
            in_order = false;
            break;
        }
        next[j]++;
    }
    hv_send(main_pid, hv_atom(in_order ? "in_order" : "reordered"));
}

static void
move_sender(void *arg)
{
    hv_proc_info info;
    (void)arg;
    hv_process_info(hv_self(), &info);
    hv_send(main_pid, hv_tuple(3, hv_atom("sender_on"), hv_int(info.scheduler),
                               hv_self()));
    hv_term m = HV_NONE;
    if (hv_recv(10000, &m) != HV_OK || !is_tagged(m, "go")) {
        hv_release(m);
        return;
    }
    int64_t j = elem_int(m, 1);
    hv_release(m);
    for (int round = 0; round < MOVE_ROUNDS; round++) {
        for (int r = 0; r < MOVERS; r++)
            hv_send(movers[r], hv_tuple(2, hv_int(j), hv_int(round)));
        hv_sleep(1);
    }
}

static void *
spawn_candidates(void *arg)
{
    (void)arg;
    for (int i = 0; i < CANDIDATES; i++)
        EXPECT(hv_spawn(move_sender, NULL) != HV_NONE);
    return NULL;
}

static void
moving_main(void *arg)
{
    pthread_t th;
    hv_term away[CANDIDATES];
    int n_away = 0;
    (void)arg;
    main_pid = hv_self();
    hv_proc_info info;
    EXPECT(hv_process_info(hv_self(), &info) == HV_OK);
    EXPECT(pthread_create(&th, NULL, spawn_candidates, NULL) == 0);
    pthread_join(th, NULL);
    for (int i = 0; i < CANDIDATES; i++) {
        hv_term m = HV_NONE;
        EXPECT(hv_recv(10000, &m) == HV_OK);
        if (elem_int(m, 1) != (int64_t)info.scheduler)
            away[n_away++] = hv_tuple_at(m, 2);
        else
            hv_send(hv_tuple_at(m, 2), hv_atom("quit"));
        hv_release(m); /* pids are immediates: away[] stays valid */
    }
    EXPECT(n_away > 0);
    for (int r = 0; r < MOVERS; r++) {
        movers[r] = hv_spawn(mover, (void *)(((intptr_t)n_away << 16) | r));
        EXPECT(movers[r] != HV_NONE);
    }
    for (int j = 0; j < n_away; j++)
        hv_send(away[j], hv_tuple(2, hv_atom("go"), hv_int(j)));
    int reordered = 0;
    for (int r = 0; r < MOVERS; r++) {
        hv_term m = HV_NONE;
        EXPECT(hv_recv(20000, &m) == HV_OK);
        reordered += !is_atom(m, "in_order");
        hv_release(m);
    }
    if (reordered > 0)
        fprintf(stderr,
                "moving receivers: %d of %d saw a sender's "
                "messages out of order\n",
                reordered, MOVERS);
    EXPECT(reordered == 0);
}

START_TEST(test_mailbox_keeps_order_while_unstarted_receivers_change_scheduler)
{
    for (int i = 0; i < 5 && hv_expect_failures() == 0; i++)
        run_main(moving_main, NULL, 2);
}
END_TEST

/* ---- core: receive and timeouts -------------------------------------- */

static void
poll_main(void *arg)
{
    (void)arg;
    hv_term m = HV_ATOM_TRUE;
    double t0 = now_ms();
    EXPECT(hv_recv(0, &m) == HV_ETIMEOUT);
    EXPECT(m == HV_NONE);
    EXPECT(now_ms() - t0 < 500);
    EXPECT(hv_send(hv_self(), boxed("polled", 1)) == HV_OK);
    m = HV_NONE;
    EXPECT(hv_recv(0, &m) == HV_OK);
    EXPECT(is_tagged(m, "polled") && elem_int(m, 1) == 1);
    hv_release(m);
    m = HV_ATOM_TRUE;
    EXPECT(hv_recv(0, &m) == HV_ETIMEOUT);
    EXPECT(m == HV_NONE);
}

START_TEST(test_mailbox_recv_with_timeout_0_polls)
{
    run_main(poll_main, NULL, 2);
}
END_TEST

static void
timeout_main(void *arg)
{
    static const int64_t waits[] = {1, 10, 50, 120};
    (void)arg;
    for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++) {
        hv_term m = HV_ATOM_TRUE;
        double t0 = now_ms();
        EXPECT(hv_recv(waits[i], &m) == HV_ETIMEOUT);
        double took = now_ms() - t0;
        EXPECT(m == HV_NONE);
        EXPECT(took >= (double)waits[i]);         /* at least the timeout */
        EXPECT(took < (double)waits[i] + 1000.0); /* and not far past it */
    }
}

START_TEST(test_mailbox_recv_with_a_finite_timeout_waits_about_that_long)
{
    run_main(timeout_main, NULL, 2);
}
END_TEST

static void
late_sender(void *arg)
{
    hv_sleep((int64_t)(intptr_t)arg);
    hv_send(main_pid, boxed("late", 7));
}

static void
infinity_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    hv_term m = HV_NONE;
    double t0 = now_ms();
    EXPECT(hv_spawn(late_sender, (void *)(intptr_t)60) != HV_NONE);
    EXPECT(hv_recv(HV_INFINITY, &m) == HV_OK);
    EXPECT(now_ms() - t0 >= 55);
    EXPECT(is_tagged(m, "late") && elem_int(m, 1) == 7);
    hv_release(m);
    /* A message ends a long finite wait early. */
    t0 = now_ms();
    m = HV_NONE;
    EXPECT(hv_spawn(late_sender, (void *)(intptr_t)20) != HV_NONE);
    EXPECT(hv_recv(20000, &m) == HV_OK);
    EXPECT(now_ms() - t0 < 5000);
    EXPECT(is_tagged(m, "late"));
    hv_release(m);
}

START_TEST(
    test_mailbox_recv_infinity_waits_for_a_message_and_a_message_ends_a_wait)
{
    run_main(infinity_main, NULL, 2);
}
END_TEST

static void
self_main(void *arg)
{
    long n = hv_check_scale(5000);
    (void)arg;
    for (long i = 0; i < n; i++)
        EXPECT(hv_send(hv_self(), boxed("me", i)) == HV_OK);
    for (long i = 0; i < n; i++) {
        hv_term m = HV_NONE;
        EXPECT(hv_recv(0, &m) == HV_OK);
        if (!is_tagged(m, "me") || elem_int(m, 1) != i) {
            EXPECT(!"messages to self out of order");
            hv_release(m);
            return;
        }
        hv_release(m);
    }
    hv_term m = HV_ATOM_TRUE;
    EXPECT(hv_recv(0, &m) == HV_ETIMEOUT);
}

START_TEST(test_mailbox_messages_to_self_arrive_in_order)
{
    run_main(self_main, NULL, 2);
}
END_TEST

static void
name_main(void *arg)
{
    (void)arg;
    hv_term name = hv_atom("mailbox_test_name");
    EXPECT(hv_register(name, hv_self(), NULL) == HV_OK);
    EXPECT(hv_send(name, boxed("by_name", 3)) == HV_OK);
    hv_term m = HV_NONE;
    EXPECT(hv_recv(1000, &m) == HV_OK);
    EXPECT(is_tagged(m, "by_name") && elem_int(m, 1) == 3);
    hv_release(m);
}

START_TEST(test_mailbox_send_to_a_registered_name_arrives)
{
    run_main(name_main, NULL, 2);
}
END_TEST

/* ---- core: large messages -------------------------------------------- */

enum { BIG_BIN = 1 << 20, BIG_TUPLE = 1000, BIG_LIST = 100000 };

static void
big_sender(void *arg)
{
    uint8_t *bytes;
    hv_term bin = hv_binary_alloc(BIG_BIN, &bytes);
    hv_term elems[BIG_TUPLE];
    hv_term list = HV_NIL;
    (void)arg;
    if (bin != HV_NONE)
        for (size_t i = 0; i < BIG_BIN; i++)
            bytes[i] = (uint8_t)(i * 31 + 7);
    for (size_t i = 0; i < BIG_TUPLE; i++) {
        uint8_t small[64];
        memset(small, (int)(i & 0xff), sizeof small);
        elems[i] = hv_binary(small, sizeof small);
    }
    for (long i = BIG_LIST - 1; i >= 0; i--)
        list = hv_cons(hv_int(i), list);
    EXPECT(hv_send(main_pid, hv_tuple(4, hv_atom("big"), bin,
                                      hv_tuple_v(BIG_TUPLE, elems), list)) ==
           HV_OK);
}

static void
big_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    EXPECT(hv_spawn(big_sender, NULL) != HV_NONE);
    hv_term m = HV_NONE;
    EXPECT(hv_recv(10000, &m) == HV_OK);
    EXPECT(is_tagged(m, "big") && hv_tuple_size(m) == 4);
    size_t len = 0;
    const uint8_t *bytes = hv_binary_data(hv_tuple_at(m, 1), &len);
    EXPECT(bytes != NULL && len == BIG_BIN);
    if (bytes != NULL && len == BIG_BIN) {
        size_t bad = 0;
        for (size_t i = 0; i < BIG_BIN; i++)
            bad += bytes[i] != (uint8_t)(i * 31 + 7);
        EXPECT(bad == 0);
    }
    hv_term tuple = hv_tuple_at(m, 2);
    EXPECT(hv_tuple_size(tuple) == BIG_TUPLE);
    for (size_t i = 0; i < BIG_TUPLE && hv_tuple_size(tuple) == BIG_TUPLE;
         i++) {
        const uint8_t *b = hv_binary_data(hv_tuple_at(tuple, i), &len);
        if (b == NULL || len != 64 || b[0] != (uint8_t)i ||
            b[63] != (uint8_t)i) {
            EXPECT(!"an element of the large tuple changed");
            break;
        }
    }
    hv_term list = hv_tuple_at(m, 3);
    EXPECT(hv_list_length(list) == BIG_LIST);
    long i = 0;
    for (hv_term c = list; hv_is_cons(c); c = hv_list_tail(c), i++) {
        int64_t v;
        if (hv_int_value(hv_list_head(c), &v) != HV_OK || v != i) {
            EXPECT(!"an element of the long list changed");
            break;
        }
    }
    hv_release(m);
}

START_TEST(test_mailbox_large_messages_arrive_intact_and_are_freed)
{
    run_main(big_main, NULL, 2);
}
END_TEST

/* Messages nobody receives are freed with the mailbox: the receiver's,
 * when it ends, and main's, when hv_run ends. */
static void
hoarder(void *arg)
{
    (void)arg;
    hv_term m = HV_NONE;
    /* Wait for the first message, leave the rest queued and return. */
    EXPECT(hv_recv(5000, &m) == HV_OK);
    hv_release(m);
    hv_sleep(20);
}

/* Takes one message, then sleeps until the runtime ends it. */
static void
hoard_forever(void *arg)
{
    (void)arg;
    hv_term m = HV_NONE;
    EXPECT(hv_recv(5000, &m) == HV_OK);
    hv_release(m);
    hv_sleep(60000);
}

static void
unread_main(void *arg)
{
    (void)arg;
    hv_term h = hv_spawn(hoarder, NULL);
    EXPECT(h != HV_NONE);
    for (int i = 0; i < 100; i++)
        EXPECT(hv_send(h, boxed("unread", i)) == HV_OK);
    EXPECT(eventually_dead(h));
    for (int i = 0; i < 100; i++)
        EXPECT(hv_send(hv_self(), boxed("left", i)) == HV_OK);
    /* A process that is still alive when main ends, with a full box. */
    hv_term w = hv_spawn(hoard_forever, NULL);
    EXPECT(w != HV_NONE);
    hv_send(w, hv_atom("first"));
    for (int i = 0; i < 100; i++)
        EXPECT(hv_send(w, boxed("orphan", i)) == HV_OK);
}

START_TEST(test_mailbox_unreceived_messages_are_freed_when_processes_end)
{
    run_main(unread_main, NULL, 2);
}
END_TEST

/* ---- edges: dead and reject_all-existing pids ----------------------------- */

static atomic_int stray_seen;

/* Reports whether anything arrived in 50 ms; used to occupy a slot a dead
 * process left. */
static void
stray_watcher(void *arg)
{
    (void)arg;
    hv_term m = HV_NONE;
    if (hv_recv(50, &m) == HV_OK) {
        atomic_fetch_add(&stray_seen, 1);
        hv_release(m);
    }
    hv_send(main_pid, hv_atom("watched"));
}

static void
dead_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    atomic_store(&stray_seen, 0);
    hv_term child = hv_spawn(returns_at_once, NULL);
    EXPECT(child != HV_NONE);
    EXPECT(eventually_dead(child));
    /* New processes may reuse the dead one's slot: none may get its mail. */
    hv_term watchers[8];
    for (int i = 0; i < 8; i++)
        watchers[i] = hv_spawn(stray_watcher, NULL);
    for (int i = 0; i < 10; i++)
        EXPECT(hv_send(child, boxed("to_the_dead", i)) == HV_OK);
    /* Pids that reject_all existed: a far slot, and this process's own slot one
     * generation on (a stale or future pid must read as dead). */
    EXPECT(hv_send(hv_pid_local(54321, 9), boxed("reject_all", 1)) == HV_OK);
    EXPECT(hv_send(hv_pid_local(1000000, 1), boxed("reject_all", 2)) == HV_OK);
    uint32_t number, serial, creation;
    hv_term node;
    EXPECT(hv_pid_fields(hv_self(), &node, &number, &serial, &creation) ==
           HV_OK);
    hv_term other_gen = hv_pid_local(number, (serial + 1) & 0xfffffff);
    EXPECT(hv_send(other_gen, boxed("other_generation", 3)) == HV_OK);
    for (int i = 0; i < 8; i++) {
        hv_term m = HV_NONE;
        EXPECT(watchers[i] != HV_NONE);
        EXPECT(hv_recv(5000, &m) == HV_OK);
        EXPECT(is_atom(m, "watched"));
        hv_release(m);
    }
    EXPECT(atomic_load(&stray_seen) == 0);
    hv_term m = HV_ATOM_TRUE;
    EXPECT(hv_recv(20, &m) == HV_ETIMEOUT); /* other_gen was not me */
    EXPECT(m == HV_NONE);
}

START_TEST(test_mailbox_send_to_a_dead_or_never_existing_pid_is_ok_and_freed)
{
    run_main(dead_main, NULL, 2);
}
END_TEST

/* ---- errors ----------------------------------------------------------- */

static void
send_errors_main(void *arg)
{
    (void)arg;
    hv_term to;
    EXPECT(hv_send(hv_self(), HV_NONE) == HV_EBADARG);
    EXPECT(hv_send(hv_int(5), boxed("bad_to", 1)) == HV_EBADARG);
    EXPECT(hv_send(HV_NONE, boxed("bad_to", 2)) == HV_EBADARG);
    EXPECT(hv_send(HV_NIL, boxed("bad_to", 3)) == HV_EBADARG);
    to = hv_ref_make();
    EXPECT(hv_send(to, boxed("bad_to", 4)) == HV_EBADARG);
    hv_release(to);
    to = hv_string("not a pid");
    EXPECT(hv_send(to, boxed("bad_to", 5)) == HV_EBADARG);
    hv_release(to);
    to = hv_tuple(2, hv_self(), hv_int(1));
    EXPECT(hv_send(to, boxed("bad_to", 6)) == HV_EBADARG);
    hv_release(to);
    to = hv_pid_remote(hv_atom("elsewhere@host"), 1, 2, 3);
    EXPECT(to != HV_NONE && hv_is_pid(to));
    EXPECT(hv_send(to, boxed("remote", 7)) == HV_EBADARG);
    hv_release(to);
    EXPECT(hv_send(hv_atom("nobody_is_registered_so"), boxed("nobody", 8)) ==
           HV_ENOPROC);
    /* None of it reached me. */
    hv_term m = HV_ATOM_TRUE;
    EXPECT(hv_recv(0, &m) == HV_ETIMEOUT);
}

START_TEST(test_mailbox_send_rejects_bad_arguments_and_frees_the_message)
{
    run_main(send_errors_main, NULL, 2);
}
END_TEST

static bool
always(hv_term msg, void *ctx)
{
    (void)msg;
    (void)ctx;
    return true;
}

START_TEST(test_mailbox_recv_outside_a_runtime_is_badarg)
{
    hv_term m = HV_ATOM_TRUE;
    ck_assert_int_eq(hv_recv(0, &m), HV_EBADARG);
    ck_assert_int_eq(hv_recv(10, &m), HV_EBADARG);
    ck_assert_int_eq(hv_recv_if(always, NULL, 0, &m), HV_EBADARG);
}
END_TEST

static atomic_int thread_recv_rc, thread_recv_if_rc;

static void *
recv_thread(void *arg)
{
    hv_term m = HV_ATOM_TRUE;
    (void)arg;
    atomic_store(&thread_recv_rc, hv_recv(10, &m));
    atomic_store(&thread_recv_if_rc, hv_recv_if(always, NULL, 10, &m));
    hv_send(main_pid, hv_atom("thread_done"));
    return NULL;
}

static void
thread_recv_main(void *arg)
{
    pthread_t th;
    (void)arg;
    main_pid = hv_self();
    EXPECT(pthread_create(&th, NULL, recv_thread, NULL) == 0);
    hv_term m = HV_NONE;
    EXPECT(hv_recv(10000, &m) == HV_OK);
    EXPECT(is_atom(m, "thread_done")); /* the thread took nothing of mine */
    hv_release(m);
    pthread_join(th, NULL);
    EXPECT(atomic_load(&thread_recv_rc) == HV_EBADARG);
    EXPECT(atomic_load(&thread_recv_if_rc) == HV_EBADARG);
}

START_TEST(test_mailbox_recv_from_a_plain_thread_is_badarg)
{
    run_main(thread_recv_main, NULL, 2);
}
END_TEST

static atomic_int cleanup_recv_rc, cleanup_recv_if_rc;

static void
cleanup_tries_recv(void *arg)
{
    hv_term m = HV_ATOM_TRUE;
    (void)arg;
    atomic_store(&cleanup_recv_rc, hv_recv(0, &m));
    if (m != HV_ATOM_TRUE && m != HV_NONE)
        hv_release(m);
    m = HV_ATOM_TRUE;
    atomic_store(&cleanup_recv_if_rc, hv_recv_if(always, NULL, 0, &m));
    if (m != HV_ATOM_TRUE && m != HV_NONE)
        hv_release(m);
    hv_send(main_pid, hv_atom("cleaned_up"));
}

static void
deferring(void *arg)
{
    (void)arg;
    EXPECT(hv_defer(cleanup_tries_recv, NULL) == HV_OK);
    /* Leave something to take, so a wrong HV_OK shows. */
    hv_send(hv_self(), boxed("bait", 1));
    hv_send(hv_self(), boxed("bait", 2));
}

static void
cleanup_recv_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    atomic_store(&cleanup_recv_rc, 1);
    atomic_store(&cleanup_recv_if_rc, 1);
    EXPECT(hv_spawn(deferring, NULL) != HV_NONE);
    hv_term m = HV_NONE;
    EXPECT(hv_recv(5000, &m) == HV_OK);
    EXPECT(is_atom(m, "cleaned_up"));
    hv_release(m);
    EXPECT(atomic_load(&cleanup_recv_rc) == HV_EBADARG);
    EXPECT(atomic_load(&cleanup_recv_if_rc) == HV_EBADARG);
}

START_TEST(test_mailbox_recv_from_a_defer_cleanup_is_badarg)
{
    run_main(cleanup_recv_main, NULL, 2);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("mailbox");
    TCase *tc;

    tc = hv_check_tcase(s, "core");
    tcase_add_test(
        tc,
        test_mailbox_keeps_each_senders_order_with_8_senders_on_2_schedulers);
    tcase_add_test(
        tc,
        test_mailbox_keeps_each_senders_order_with_8_senders_on_4_schedulers);
    tcase_add_test(
        tc,
        test_mailbox_keeps_each_senders_order_with_8_senders_on_1_scheduler);
    tcase_add_test(tc, test_mailbox_keeps_order_for_plain_thread_senders_too);
    tcase_add_test(
        tc,
        test_mailbox_keeps_order_while_unstarted_receivers_change_scheduler);
    tcase_add_test(tc, test_mailbox_recv_with_timeout_0_polls);
    tcase_add_test(
        tc, test_mailbox_recv_with_a_finite_timeout_waits_about_that_long);
    tcase_add_test(
        tc,
        test_mailbox_recv_infinity_waits_for_a_message_and_a_message_ends_a_wait);
    tcase_add_test(tc, test_mailbox_messages_to_self_arrive_in_order);
    tcase_add_test(tc, test_mailbox_send_to_a_registered_name_arrives);
    tcase_add_test(tc, test_mailbox_large_messages_arrive_intact_and_are_freed);
    tcase_add_test(
        tc, test_mailbox_unreceived_messages_are_freed_when_processes_end);

    tc = hv_check_tcase(s, "edges");
    tcase_add_test(
        tc, test_mailbox_send_to_a_dead_or_never_existing_pid_is_ok_and_freed);

    tc = hv_check_tcase(s, "errors");
    tcase_add_test(
        tc, test_mailbox_send_rejects_bad_arguments_and_frees_the_message);
    tcase_add_test(tc, test_mailbox_recv_outside_a_runtime_is_badarg);
    tcase_add_test(tc, test_mailbox_recv_from_a_plain_thread_is_badarg);
    tcase_add_test(tc, test_mailbox_recv_from_a_defer_cleanup_is_badarg);
    return s;
}
