/* tests/check_recv_if.c - selective receive with a C predicate
 * (hv_recv_if): the oldest match is taken, the rest keep their order, a
 * waiting receive tests each message once, timeouts. */
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

/* ---- selective receive ------------------------------------------------ */

static bool
is_even_int(hv_term msg, void *ctx)
{
    int64_t v;
    (void)ctx;
    return hv_int_value(msg, &v) == HV_OK && v % 2 == 0;
}

/* Takes every message left and checks they are the ints in want, in
 * order, and nothing else. */
static void
expect_ints_left(const int64_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hv_term m = HV_NONE;
        int64_t v = -1;
        EXPECT(hv_recv(0, &m) == HV_OK);
        EXPECT(hv_int_value(m, &v) == HV_OK);
        if (v != want[i]) {
            EXPECT(!"messages left behind are out of their order");
            hv_release(m);
            return;
        }
        hv_release(m);
    }
    hv_term m = HV_ATOM_TRUE;
    EXPECT(hv_recv(0, &m) == HV_ETIMEOUT);
}

static void
recv_if_order_main(void *arg)
{
    (void)arg;
    static const int64_t odd_then_rest[] = {1, 3, 5, 6, 7, 8, 9, 10};
    for (int i = 1; i <= 10; i++)
        EXPECT(hv_send(hv_self(), hv_int(i)) == HV_OK);
    hv_term m = HV_NONE;
    int64_t v = -1;
    EXPECT(hv_recv_if(is_even_int, NULL, 0, &m) == HV_OK);
    EXPECT(hv_int_value(m, &v) == HV_OK && v == 2);
    EXPECT(hv_recv_if(is_even_int, NULL, 1000, &m) == HV_OK);
    EXPECT(hv_int_value(m, &v) == HV_OK && v == 4);
    /* No match: poll and a finite wait both time out, taking nothing. */
    m = HV_ATOM_TRUE;
    EXPECT(hv_recv_if(reject_all, NULL, 0, &m) == HV_ETIMEOUT);
    EXPECT(m == HV_NONE);
    m = HV_ATOM_TRUE;
    double t0 = now_ms();
    EXPECT(hv_recv_if(reject_all, NULL, 40, &m) == HV_ETIMEOUT);
    double took = now_ms() - t0;
    EXPECT(took >= 40 && took < 1040);
    EXPECT(m == HV_NONE);
    expect_ints_left(odd_then_rest, 8);
}

START_TEST(
    test_mailbox_recv_if_takes_the_oldest_match_and_leaves_the_rest_in_order)
{
    run_main(recv_if_order_main, NULL, 2);
}
END_TEST

enum { QUEUED = 5, ARRIVING = 20, TAGGED = QUEUED + ARRIVING + 1 };
static int pred_calls[TAGGED];
static atomic_int pred_bad;

/* Counts calls per message id; matches {want, Id}. */
static bool
count_and_match_want(hv_term msg, void *ctx)
{
    int64_t id = elem_int(msg, 1);
    (void)ctx;
    if (id < 0 || id >= TAGGED) {
        atomic_fetch_add(&pred_bad, 1);
        return false;
    }
    pred_calls[id]++;
    return is_tagged(msg, "want");
}

static void
trickle_sender(void *arg)
{
    (void)arg;
    for (int id = QUEUED; id < QUEUED + ARRIVING; id++) {
        hv_send(main_pid, hv_tuple(2, hv_atom("skip"), hv_int(id)));
        hv_sleep(1 + id % 2); /* let the receiver wait between arrivals */
    }
    hv_send(main_pid, hv_tuple(2, hv_atom("want"), hv_int(TAGGED - 1)));
}

static void
no_retest_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    memset(pred_calls, 0, sizeof pred_calls);
    atomic_store(&pred_bad, 0);
    for (int id = 0; id < QUEUED; id++)
        hv_send(hv_self(), hv_tuple(2, hv_atom("skip"), hv_int(id)));
    EXPECT(hv_spawn(trickle_sender, NULL) != HV_NONE);
    hv_term m = HV_NONE;
    EXPECT(hv_recv_if(count_and_match_want, NULL, 10000, &m) == HV_OK);
    EXPECT(is_tagged(m, "want") && elem_int(m, 1) == TAGGED - 1);
    hv_release(m);
    EXPECT(atomic_load(&pred_bad) == 0);
    int tested_once = 0;
    for (int id = 0; id < TAGGED; id++)
        tested_once += pred_calls[id] == 1;
    EXPECT(tested_once == TAGGED);
    /* The rejected ones are all still there, in the order they came. */
    for (int id = 0; id < QUEUED + ARRIVING; id++) {
        m = HV_NONE;
        EXPECT(hv_recv(0, &m) == HV_OK);
        if (!is_tagged(m, "skip") || elem_int(m, 1) != id) {
            EXPECT(!"a rejected message moved or vanished");
            hv_release(m);
            return;
        }
        hv_release(m);
    }
    m = HV_ATOM_TRUE;
    EXPECT(hv_recv(0, &m) == HV_ETIMEOUT);
}

START_TEST(test_mailbox_recv_if_tests_each_message_once_while_it_waits)
{
    run_main(no_retest_main, NULL, 2);
}
END_TEST

static bool
is_target(hv_term msg, void *ctx)
{
    int64_t v;
    return hv_int_value(msg, &v) == HV_OK && v == *(const int64_t *)ctx;
}

static int64_t target;

static void
delayed_int_sender(void *arg)
{
    hv_sleep(20);
    hv_send(main_pid, hv_int((int64_t)(intptr_t)arg));
}

/* A new receive starts from the oldest message again, and a match that
 * arrives during a finite wait ends it. */
static void
fresh_scan_main(void *arg)
{
    (void)arg;
    static const int64_t rest[] = {1, 3};
    main_pid = hv_self();
    for (int i = 1; i <= 3; i++)
        hv_send(hv_self(), hv_int(i));
    hv_term m = HV_NONE;
    int64_t v = -1;
    target = 42;
    EXPECT(hv_spawn(delayed_int_sender, (void *)(intptr_t)42) != HV_NONE);
    EXPECT(hv_recv_if(is_target, &target, 5000, &m) == HV_OK);
    EXPECT(hv_int_value(m, &v) == HV_OK && v == 42);
    target = 2; /* rejected by the last receive; a new one must find it */
    m = HV_NONE;
    EXPECT(hv_recv_if(is_target, &target, 0, &m) == HV_OK);
    EXPECT(hv_int_value(m, &v) == HV_OK && v == 2);
    expect_ints_left(rest, 2);
}

START_TEST(test_mailbox_recv_if_starts_each_receive_from_the_oldest_message)
{
    run_main(fresh_scan_main, NULL, 2);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("recv_if");
    TCase *tc;

    tc = hv_check_tcase(s, "selective");
    tcase_add_test(
        tc,
        test_mailbox_recv_if_takes_the_oldest_match_and_leaves_the_rest_in_order);
    tcase_add_test(tc,
                   test_mailbox_recv_if_tests_each_message_once_while_it_waits);
    tcase_add_test(
        tc, test_mailbox_recv_if_starts_each_receive_from_the_oldest_message);
    return s;
}
