/* tests/check_ptimer.c - process timers: hv_send_after (delay, order,
 * names, dead targets, bad arguments), hv_cancel_timer (pending, fired,
 * twice, racing the expiry from a process and from a plain thread),
 * hv_sleep, receive timeouts, and timers freed when the runtime stops.
 *
 * Checks made inside processes are recorded (expect_at) and asserted by
 * the test after hv_run returns. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hive/hive.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"


static double main_took_ms;

static void
run(hv_fn *main_fn, unsigned schedulers)
{
    hv_config cfg = {0};
    hv_term reason = HV_NONE;
    char text[128] = "?";

    cfg.schedulers = schedulers;
    hv_expect_reset();
    double t0 = now_ms();
    ck_assert_int_eq(hv_run(main_fn, NULL, &cfg, &reason), HV_OK);
    main_took_ms = now_ms() - t0;
    hv_format(reason, text, sizeof text);
    bool normal = is_atom(reason, "normal");
    hv_release(reason);
    ck_assert_msg(hv_expect_failures() == 0,
                  "%d failed expectations, the first at %s",
                  hv_expect_failures(), hv_expect_text());
    ck_assert_msg(normal, "main exited with %s", text);
}

static hv_term main_pid;

/* ---- core ------------------------------------------------------------- */

static void
fires_main(void *arg)
{
    static const int64_t delays[] = {0, 1, 15, 60};
    (void)arg;
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
        double t0 = now_ms();
        hv_term ref = hv_send_after(delays[i], hv_self(), boxed("tick", i));
        EXPECT(hv_is_ref(ref));
        hv_term m = HV_NONE;
        EXPECT(hv_recv(5000, &m) == HV_OK);
        double took = now_ms() - t0;
        EXPECT(is_tagged(m, "tick") && elem_int(m, 1) == (int64_t)i);
        EXPECT(took >= (double)delays[i]);
        EXPECT(took < (double)delays[i] + 1000);
        hv_release(m);
        hv_release(ref);
    }
}

START_TEST(test_ptimer_send_after_fires_after_at_least_ms)
{
    run(fires_main, 2);
}
END_TEST

enum { ORDERED = 20, EQUAL = 200 };

static void
order_main(void *arg)
{
    (void)arg;
    hv_term refs[EQUAL];
    /* Set in decreasing order of deadline, 5 ms apart: fire by deadline. */
    for (int i = ORDERED - 1; i >= 0; i--)
        refs[i] = hv_send_after(5 + 5 * i, hv_self(), boxed("by_deadline", i));
    for (int i = 0; i < ORDERED; i++) {
        hv_term m = HV_NONE;
        EXPECT(hv_recv(5000, &m) == HV_OK);
        if (!is_tagged(m, "by_deadline") || elem_int(m, 1) != i) {
            EXPECT(!"timers fired out of deadline order");
            hv_release(m);
            break;
        }
        hv_release(m);
    }
    for (int i = 0; i < ORDERED; i++)
        hv_release(refs[i]);
    /* Increasing deadlines, set in order. */
    for (int i = 0; i < ORDERED; i++)
        refs[i] = hv_send_after(2 * i, hv_self(), boxed("increasing", i));
    for (int i = 0; i < ORDERED; i++) {
        hv_term m = HV_NONE;
        EXPECT(hv_recv(5000, &m) == HV_OK);
        if (!is_tagged(m, "increasing") || elem_int(m, 1) != i) {
            EXPECT(!"timers with increasing deadlines fired out of order");
            hv_release(m);
            break;
        }
        hv_release(m);
    }
    for (int i = 0; i < ORDERED; i++)
        hv_release(refs[i]);
    /* Equal delays: fire in the order set. */
    for (int i = 0; i < EQUAL; i++)
        refs[i] = hv_send_after(20, hv_self(), boxed("equal", i));
    for (int i = 0; i < EQUAL; i++) {
        hv_term m = HV_NONE;
        EXPECT(hv_recv(5000, &m) == HV_OK);
        if (!is_tagged(m, "equal") || elem_int(m, 1) != i) {
            EXPECT(!"timers with equal deadlines fired out of set order");
            hv_release(m);
            break;
        }
        hv_release(m);
    }
    for (int i = 0; i < EQUAL; i++)
        hv_release(refs[i]);
    hv_term m = HV_ATOM_TRUE;
    EXPECT(hv_recv(30, &m) == HV_ETIMEOUT);
}

START_TEST(test_ptimer_timers_from_one_process_fire_in_deadline_then_set_order)
{
    run(order_main, 2);
}
END_TEST

static void
cancel_main(void *arg)
{
    (void)arg;
    hv_term m = HV_NONE;
    /* Pending: 1, and the message never comes. */
    hv_term ref = hv_send_after(30, hv_self(), boxed("cancelled", 1));
    EXPECT(hv_is_ref(ref));
    EXPECT(hv_cancel_timer(ref) == 1);
    EXPECT(hv_cancel_timer(ref) == 0); /* twice: 0 */
    m = HV_ATOM_TRUE;
    EXPECT(hv_recv(80, &m) == HV_ETIMEOUT);
    EXPECT(m == HV_NONE);
    EXPECT(hv_cancel_timer(ref) == 0);
    hv_release(ref);
    /* Fired: 0. */
    ref = hv_send_after(5, hv_self(), boxed("fired", 2));
    m = HV_NONE;
    EXPECT(hv_recv(5000, &m) == HV_OK);
    EXPECT(is_tagged(m, "fired"));
    hv_release(m);
    EXPECT(hv_cancel_timer(ref) == 0);
    EXPECT(hv_cancel_timer(ref) == 0);
    hv_release(ref);
    /* A long timer cancelled long before it is due. */
    ref = hv_send_after(3600 * 1000, hv_self(), boxed("hour", 3));
    EXPECT(hv_cancel_timer(ref) == 1);
    hv_release(ref);
    /* A ref that names no timer: 0. */
    ref = hv_ref_make();
    EXPECT(hv_cancel_timer(ref) == 0);
    hv_release(ref);
    /* No ref: EBADARG. */
    EXPECT(hv_cancel_timer(hv_int(1)) == HV_EBADARG);
    EXPECT(hv_cancel_timer(hv_atom("ref")) == HV_EBADARG);
    EXPECT(hv_cancel_timer(hv_self()) == HV_EBADARG);
    EXPECT(hv_cancel_timer(HV_NONE) == HV_EBADARG);
    hv_term bin = hv_string("ref");
    EXPECT(hv_cancel_timer(bin) == HV_EBADARG);
    hv_release(bin);
}

START_TEST(test_ptimer_cancel_says_1_when_pending_and_0_after_firing_or_twice)
{
    run(cancel_main, 2);
}
END_TEST

/* ---- cancel racing with expiry ---------------------------------------- */

enum { RACE_MAX = 4000 };
static long race_n;
static hv_term race_refs[RACE_MAX];
static int race_cancel_rc[RACE_MAX];
static int race_arrived[RACE_MAX];
static double race_set_ms[RACE_MAX];
static atomic_long race_set; /* refs published so far (release) */

/* Cancels every timer in the order set, each at a lag after it was set
 * that cycles from 0 to 3.5 ms, so that cancels land before, around and
 * after the 1-2 ms expiry. */
static void
cancel_all(bool in_process)
{
    for (long i = 0; i < race_n; i++) {
        while (atomic_load_explicit(&race_set, memory_order_acquire) <= i) {
            if (in_process)
                hv_yield();
        }
        double at = race_set_ms[i] + 0.5 * (double)(i % 8);
        while (now_ms() < at) {
            if (in_process)
                hv_yield();
        }
        race_cancel_rc[i] = hv_cancel_timer(race_refs[i]);
    }
}

static void
canceller_proc(void *arg)
{
    (void)arg;
    cancel_all(true);
    hv_send(main_pid, hv_atom("cancelled_all"));
}

static void *
canceller_thread(void *arg)
{
    (void)arg;
    cancel_all(false);
    hv_send(main_pid, hv_atom("cancelled_all"));
    return NULL;
}

static void
race_main(void *arg)
{
    bool from_thread = arg != NULL;
    pthread_t th;
    main_pid = hv_self();
    atomic_store(&race_set, 0);
    memset(race_arrived, 0, sizeof race_arrived);
    for (long i = 0; i < race_n; i++)
        race_cancel_rc[i] = -100;
    if (from_thread)
        EXPECT(pthread_create(&th, NULL, canceller_thread, NULL) == 0);
    else
        EXPECT(hv_spawn(canceller_proc, NULL) != HV_NONE);
    for (long i = 0; i < race_n; i++) {
        race_set_ms[i] = now_ms();
        race_refs[i] = hv_send_after(1 + i % 2, hv_self(), boxed("race", i));
        EXPECT(hv_is_ref(race_refs[i]));
        atomic_store_explicit(&race_set, i + 1, memory_order_release);
        if (i % 16 == 0)
            hv_yield();
    }
    bool done = false;
    for (;;) {
        hv_term m = HV_NONE;
        /* After the canceller is done, wait well past every deadline. */
        int rc = hv_recv(done ? 200 : 10000, &m);
        if (rc == HV_ETIMEOUT) {
            EXPECT(done);
            break;
        }
        if (is_atom(m, "cancelled_all")) {
            done = true;
        } else {
            int64_t i = elem_int(m, 1);
            if (is_tagged(m, "race") && i >= 0 && i < race_n)
                race_arrived[i]++;
            else
                EXPECT(!"an unexpected message");
        }
        hv_release(m);
    }
    if (from_thread)
        pthread_join(th, NULL);
    int *arrived = race_arrived;
    long cancelled = 0, fired = 0, wrong = 0;
    for (long i = 0; i < race_n; i++) {
        if (race_cancel_rc[i] == 1 && arrived[i] == 0)
            cancelled++;
        else if (race_cancel_rc[i] == 0 && arrived[i] == 1)
            fired++;
        else if (wrong++ == 0)
            fprintf(stderr, "timer %ld: cancel said %d, arrived %d times\n", i,
                    race_cancel_rc[i], arrived[i]);
        hv_release(race_refs[i]);
    }
    fprintf(stderr, "race (%s): %ld cancelled, %ld fired, %ld wrong\n",
            from_thread ? "thread" : "process", cancelled, fired, wrong);
    EXPECT(wrong == 0);
}

START_TEST(test_ptimer_cancel_racing_expiry_from_a_process_is_exact)
{
    race_n = hv_check_scale(RACE_MAX);
    run(race_main, 2);
}
END_TEST

START_TEST(test_ptimer_cancel_racing_expiry_from_a_plain_thread_is_exact)
{
    race_n = hv_check_scale(RACE_MAX);
    hv_config cfg = {0};
    hv_term reason = HV_NONE;
    cfg.schedulers = 2;
    hv_expect_reset();
    ck_assert_int_eq(hv_run(race_main, (void *)1, &cfg, &reason), HV_OK);
    bool normal = is_atom(reason, "normal");
    hv_release(reason);
    ck_assert_msg(hv_expect_failures() == 0,
                  "%d failed expectations, the first at %s",
                  hv_expect_failures(), hv_expect_text());
    ck_assert(normal);
}
END_TEST

/* ---- sleep and receive timeouts --------------------------------------- */

static atomic_long spins;
static atomic_int spin_stop;

static void
spinner(void *arg)
{
    (void)arg;
    while (!atomic_load(&spin_stop)) {
        atomic_fetch_add(&spins, 1);
        hv_yield();
    }
    hv_send(main_pid, hv_atom("spun"));
}

static void
poke(void *arg)
{
    (void)arg;
    hv_send(main_pid, boxed("poke", 1));
}

static void
sleep_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    EXPECT(hv_sleep(0) == HV_OK);
    EXPECT(hv_sleep(-1) == HV_EBADARG);
    for (int64_t ms = 1; ms <= 64; ms *= 4) {
        double t0 = now_ms();
        EXPECT(hv_sleep(ms) == HV_OK);
        double took = now_ms() - t0;
        EXPECT(took >= (double)ms && took < (double)ms + 1000);
    }
    /* On one scheduler, others run while this one sleeps; a message that
     * arrives meanwhile waits, and does not end the sleep. */
    atomic_store(&spins, 0);
    atomic_store(&spin_stop, 0);
    EXPECT(hv_spawn(spinner, NULL) != HV_NONE);
    EXPECT(hv_spawn(poke, NULL) != HV_NONE);
    double t0 = now_ms();
    EXPECT(hv_sleep(50) == HV_OK);
    EXPECT(now_ms() - t0 >= 50);
    EXPECT(atomic_load(&spins) > 0);
    atomic_store(&spin_stop, 1);
    hv_term m = HV_NONE;
    EXPECT(hv_recv(0, &m) == HV_OK);
    EXPECT(is_tagged(m, "poke"));
    hv_release(m);
    m = HV_NONE;
    EXPECT(hv_recv(5000, &m) == HV_OK);
    EXPECT(is_atom(m, "spun"));
    hv_release(m);
}

START_TEST(test_ptimer_sleep_waits_lets_others_run_and_leaves_messages_queued)
{
    run(sleep_main, 1);
}
END_TEST

START_TEST(test_ptimer_sleep_outside_a_process_is_badarg)
{
    ck_assert_int_eq(hv_sleep(1), HV_EBADARG);
    ck_assert_int_eq(hv_sleep(0), HV_EBADARG);
}
END_TEST

enum { WAITERS = 200 };

static void
timeout_waiter(void *arg)
{
    int64_t ms = 5 + (int64_t)(intptr_t)arg % 30;
    hv_term m = HV_ATOM_TRUE;
    double t0 = now_ms();
    int rc = hv_recv(ms, &m);
    double took = now_ms() - t0;
    hv_send(main_pid,
            hv_tuple(3, hv_int((intptr_t)arg),
                     hv_atom(rc == HV_ETIMEOUT && m == HV_NONE ? "timed_out"
                                                               : "wrong"),
                     hv_atom(took >= (double)ms ? "late_enough" : "early")));
}

static void
many_timeouts_main(void *arg)
{
    (void)arg;
    int seen[WAITERS] = {0};
    main_pid = hv_self();
    for (intptr_t i = 0; i < WAITERS; i++)
        EXPECT(hv_spawn(timeout_waiter, (void *)i) != HV_NONE);
    for (int i = 0; i < WAITERS; i++) {
        hv_term m = HV_NONE;
        EXPECT(hv_recv(10000, &m) == HV_OK);
        int64_t id = elem_int(m, 0);
        if (id >= 0 && id < WAITERS)
            seen[id]++;
        EXPECT(is_atom(hv_tuple_at(m, 1), "timed_out"));
        EXPECT(is_atom(hv_tuple_at(m, 2), "late_enough"));
        hv_release(m);
    }
    int once = 0;
    for (int i = 0; i < WAITERS; i++)
        once += seen[i] == 1;
    EXPECT(once == WAITERS);
}

START_TEST(test_ptimer_many_receive_timeouts_each_fire_once)
{
    run(many_timeouts_main, 2);
}
END_TEST

/* ---- targets: dead, names ---------------------------------------------- */

static void
short_lived(void *arg)
{
    (void)arg;
    hv_sleep(5);
}

static void
dead_target_main(void *arg)
{
    (void)arg;
    hv_term child = hv_spawn(returns_at_once, NULL);
    EXPECT(eventually_dead(child));
    hv_term r1 = hv_send_after(1, child, boxed("to_the_dead", 1));
    EXPECT(hv_is_ref(r1));
    /* Dies before its timer fires. */
    hv_term child2 = hv_spawn(short_lived, NULL);
    hv_term r2 = hv_send_after(40, child2, boxed("too_late", 2));
    EXPECT(hv_is_ref(r2));
    /* Never existed. */
    hv_term r3 = hv_send_after(1, hv_pid_local(54321, 9), boxed("never", 3));
    EXPECT(hv_is_ref(r3));
    /* A name nobody has when the timer fires. */
    hv_term r4 = hv_send_after(1, hv_atom("ptimer_nobody"), boxed("anon", 4));
    EXPECT(hv_is_ref(r4));
    hv_sleep(100);
    EXPECT(hv_cancel_timer(r1) == 0);
    EXPECT(hv_cancel_timer(r2) == 0);
    EXPECT(hv_cancel_timer(r3) == 0);
    EXPECT(hv_cancel_timer(r4) == 0);
    hv_release(r1);
    hv_release(r2);
    hv_release(r3);
    hv_release(r4);
    hv_term m = HV_ATOM_TRUE;
    EXPECT(hv_recv(0, &m) == HV_ETIMEOUT);
}

START_TEST(test_ptimer_send_after_to_a_dead_or_unknown_target_drops_the_message)
{
    run(dead_target_main, 2);
}
END_TEST

static void
named_receiver(void *arg)
{
    (void)arg;
    hv_term m = HV_NONE;
    int rc = hv_recv(5000, &m);
    hv_send(main_pid, hv_tuple(2, hv_atom(rc == HV_OK ? "got" : "nothing"),
                               m == HV_NONE ? hv_atom("none") : m));
}

static void
name_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    hv_term me = hv_atom("ptimer_main");
    EXPECT(hv_register(me, hv_self(), NULL) == HV_OK);
    hv_term ref = hv_send_after(10, me, boxed("named", 1));
    EXPECT(hv_is_ref(ref));
    hv_term m = HV_NONE;
    EXPECT(hv_recv(5000, &m) == HV_OK);
    EXPECT(is_tagged(m, "named") && elem_int(m, 1) == 1);
    hv_release(m);
    hv_release(ref);
    /* The name is looked up when the timer fires, not when it is set. */
    hv_term later = hv_atom("ptimer_later");
    ref = hv_send_after(60, later, boxed("looked_up_late", 2));
    EXPECT(hv_is_ref(ref));
    hv_term pid = hv_spawn(named_receiver, NULL);
    EXPECT(hv_register(later, pid, NULL) == HV_OK);
    m = HV_NONE;
    EXPECT(hv_recv(5000, &m) == HV_OK);
    EXPECT(is_tagged(m, "got"));
    EXPECT(is_tagged(hv_tuple_at(m, 1), "looked_up_late"));
    hv_release(m);
    hv_release(ref);
}

START_TEST(test_ptimer_send_after_to_a_name_looks_it_up_when_firing)
{
    run(name_main, 2);
}
END_TEST

/* ---- errors and shutdown ---------------------------------------------- */

static void
bad_args_main(void *arg)
{
    (void)arg;
    EXPECT(hv_send_after(-1, hv_self(), boxed("neg", 1)) == HV_NONE);
    EXPECT(hv_send_after(10, hv_int(3), boxed("int_target", 2)) == HV_NONE);
    EXPECT(hv_send_after(10, HV_NONE, boxed("no_target", 3)) == HV_NONE);
    hv_term bin = hv_string("target");
    EXPECT(hv_send_after(10, bin, boxed("bin_target", 4)) == HV_NONE);
    hv_release(bin);
    EXPECT(hv_send_after(10, hv_self(), HV_NONE) == HV_NONE);
    hv_term m = HV_ATOM_TRUE;
    EXPECT(hv_recv(40, &m) == HV_ETIMEOUT);
}

START_TEST(test_ptimer_send_after_with_bad_arguments_is_none_and_frees_msg)
{
    run(bad_args_main, 2);
}
END_TEST

START_TEST(test_ptimer_send_after_without_a_runtime_is_none_and_frees_msg)
{
    ck_assert(hv_send_after(10, hv_pid_local(1, 1), boxed("nort", 1)) ==
              HV_NONE);
}
END_TEST

static void
pending_sleeper(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++)
        hv_release(hv_send_after(10000 + i, hv_self(), boxed("later", i)));
    hv_send(main_pid, hv_atom("armed"));
    hv_sleep(60000);
}

static void
pending_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    EXPECT(hv_spawn(pending_sleeper, NULL) != HV_NONE);
    for (int i = 0; i < 100; i++)
        hv_release(hv_send_after(10000 + i, hv_self(), boxed("pending", i)));
    /* Kept refs too: a ref outliving its timer must not leak it. */
    hv_term m = HV_NONE;
    EXPECT(hv_recv(5000, &m) == HV_OK);
    EXPECT(is_atom(m, "armed"));
    hv_release(m);
}

START_TEST(test_ptimer_timers_pending_when_the_runtime_stops_are_freed)
{
    run(pending_main, 2);
    /* Stopping did not wait for the 10 s timers or the 60 s sleep. */
    ck_assert_msg(main_took_ms < 5000, "hv_run took %.0f ms", main_took_ms);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("ptimer");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_ptimer_send_after_fires_after_at_least_ms);
    tcase_add_test(
        tc,
        test_ptimer_timers_from_one_process_fire_in_deadline_then_set_order);
    tcase_add_test(
        tc, test_ptimer_cancel_says_1_when_pending_and_0_after_firing_or_twice);
    tcase_add_test(
        tc, test_ptimer_sleep_waits_lets_others_run_and_leaves_messages_queued);
    tcase_add_test(tc, test_ptimer_many_receive_timeouts_each_fire_once);
    tcase_add_test(tc,
                   test_ptimer_send_after_to_a_name_looks_it_up_when_firing);

    tc = hv_check_tcase(s, "race");
    tcase_add_test(tc,
                   test_ptimer_cancel_racing_expiry_from_a_process_is_exact);
    tcase_add_test(
        tc, test_ptimer_cancel_racing_expiry_from_a_plain_thread_is_exact);

    tc = hv_check_tcase(s, "edges");
    tcase_add_test(
        tc,
        test_ptimer_send_after_to_a_dead_or_unknown_target_drops_the_message);
    tcase_add_test(tc,
                   test_ptimer_timers_pending_when_the_runtime_stops_are_freed);

    tc = hv_check_tcase(s, "errors");
    tcase_add_test(
        tc, test_ptimer_send_after_with_bad_arguments_is_none_and_frees_msg);
    tcase_add_test(
        tc, test_ptimer_send_after_without_a_runtime_is_none_and_frees_msg);
    tcase_add_test(tc, test_ptimer_sleep_outside_a_process_is_badarg);
    return s;
}
