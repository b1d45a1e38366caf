/* tests/check_names_race.c - registered names under concurrency: many
 * processes and threads racing for one name or one pid, register and
 * unregister churn; exactly one winner each time. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hive/process.h"
#include "hive/term.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"

/* A wait that should end at once; past it the test fails, not hangs. */
enum { WAIT_MS = 10000 };


/* ---- races ------------------------------------------------------------------
 */

enum { RACERS = 16, RACE_ROUNDS = 40, SPIN_CAP = 10 * 1000 * 1000 };

static atomic_int arrived;
static atomic_bool go;

struct racer {
    hv_term parent, name, target;
};

static struct racer racers[RACERS];

/* Spins (yielding) until everyone has arrived and go is set. */
static void
wait_for_go(void)
{
    atomic_fetch_add(&arrived, 1);
    long n = 0;
    while (!atomic_load(&go) && n++ < SPIN_CAP)
        hv_yield();
    EXPECT(n < SPIN_CAP);
}

/* Registers r->name for r->target (itself when HV_NONE) and reports
 * {Rc, Self} to the parent, then waits for `stop`. */
static void
racer(void *arg)
{
    struct racer *r = arg;
    hv_term target = r->target == HV_NONE ? hv_self() : r->target;
    wait_for_go();
    int rc = hv_register(r->name, target, NULL);
    EXPECT(hv_send(r->parent, hv_tuple(2, hv_int(rc), hv_self())) == HV_OK);
    await_stop(NULL);
}

static void
start_race(void)
{
    for (int i = 0; i < WAIT_MS && atomic_load(&arrived) < RACERS; i++)
        hv_sleep(1);
    EXPECT(atomic_load(&arrived) == RACERS);
    atomic_store(&go, true);
}

/* Collects the racers' reports; returns the winner's pid (HV_NONE unless
 * exactly one won) and stores the winner's index. */
static hv_term
collect_race(const hv_term *pids, int *winner_index)
{
    int wins = 0, refused = 0;
    hv_term winner = HV_NONE;
    for (int i = 0; i < RACERS; i++) {
        hv_term m = next_msg();
        int64_t rc = 1;
        hv_int_value(hv_tuple_at(m, 0), &rc);
        if (rc == HV_OK) {
            wins++;
            winner = hv_tuple_at(m, 1);
        } else if (rc == HV_EBADARG) {
            refused++;
        }
        hv_release(m);
    }
    EXPECT(wins == 1);
    EXPECT(refused == RACERS - 1);
    *winner_index = -1;
    for (int i = 0; i < RACERS; i++)
        if (pids[i] == winner)
            *winner_index = i;
    return wins == 1 ? winner : HV_NONE;
}

static void
main_races_for_a_name(void *arg)
{
    (void)arg;
    hv_term pids[RACERS];
    long rounds = hv_check_scale(RACE_ROUNDS);

    for (long round = 0; round < rounds; round++) {
        char buf[48];
        snprintf(buf, sizeof buf, "check_names_race_%ld", round);
        hv_term name = hv_atom(buf);
        atomic_store(&arrived, 0);
        atomic_store(&go, false);
        for (int i = 0; i < RACERS; i++) {
            racers[i].parent = hv_self();
            racers[i].name = name;
            racers[i].target = HV_NONE;
            pids[i] = hv_spawn(racer, &racers[i]);
        }
        start_race();
        int wi;
        hv_term winner = collect_race(pids, &wi);
        EXPECT(wi >= 0);
        EXPECT(hv_whereis(name) == winner);
        for (int i = 0; i < RACERS; i++)
            EXPECT(name_of(pids[i]) == (i == wi ? name : HV_NONE));
        for (int i = 0; i < RACERS; i++)
            stop_and_reap(pids[i]);
        EXPECT(eventually_unnamed(name));
    }
}

START_TEST(test_names_racing_registrations_of_one_name_have_one_winner)
{
    run_main(main_races_for_a_name, NULL, 4);
}
END_TEST

static void
main_races_for_a_pid(void *arg)
{
    (void)arg;
    hv_term pids[RACERS], names[RACERS];
    long rounds = hv_check_scale(RACE_ROUNDS);

    for (long round = 0; round < rounds; round++) {
        hv_term target = hv_spawn(await_stop, NULL);
        atomic_store(&arrived, 0);
        atomic_store(&go, false);
        for (int i = 0; i < RACERS; i++) {
            char buf[48];
            snprintf(buf, sizeof buf, "check_names_pid_race_%d", i);
            names[i] = hv_atom(buf);
            racers[i].parent = hv_self();
            racers[i].name = names[i];
            racers[i].target = target;
            pids[i] = hv_spawn(racer, &racers[i]);
        }
        start_race();
        int wi;
        collect_race(pids, &wi);
        if (EXPECT(wi >= 0))
            EXPECT(name_of(target) == names[wi]);
        for (int i = 0; i < RACERS; i++)
            EXPECT(hv_whereis(names[i]) == (i == wi ? target : HV_NONE));
        for (int i = 0; i < RACERS; i++)
            stop_and_reap(pids[i]);
        stop_and_reap(target);
        for (int i = 0; i < RACERS; i++)
            EXPECT(eventually_unnamed(names[i]));
    }
}

START_TEST(test_names_racing_names_for_one_pid_have_one_winner)
{
    run_main(main_races_for_a_pid, NULL, 4);
}
END_TEST

enum { CHURN = 2000, CHURNERS = 8 };
static atomic_long churn_wins;

/* Takes the name, checks it holds it, gives it back; only a holder ever
 * unregisters, so between its register and unregister nobody else may
 * own or remove the name. */
static void
churner(void *arg)
{
    hv_term name = hv_atom("check_names_churn");
    long iters = hv_check_scale(CHURN);
    for (long i = 0; i < iters; i++) {
        int rc = hv_register(name, hv_self(), NULL);
        if (rc == HV_OK) {
            EXPECT(hv_whereis(name) == hv_self());
            EXPECT(hv_unregister(name) == HV_OK);
            atomic_fetch_add(&churn_wins, 1);
        } else {
            EXPECT(rc == HV_EBADARG);
            hv_term w = hv_whereis(name);
            EXPECT(w != hv_self());
        }
        if (i % 8 == 0)
            hv_yield();
    }
    EXPECT(hv_send(arg_pid(arg), hv_atom("churned")) == HV_OK);
}

static void
main_churns(void *arg)
{
    (void)arg;
    for (int i = 0; i < CHURNERS; i++)
        hv_spawn(churner, pid_arg(hv_self()));
    for (int i = 0; i < CHURNERS; i++)
        await_atom("churned");
    EXPECT(hv_whereis(hv_atom("check_names_churn")) == HV_NONE);
}

START_TEST(test_names_register_and_unregister_churn_keeps_one_holder)
{
    atomic_store(&churn_wins, 0);
    run_main(main_churns, NULL, 4);
    ck_assert_int_gt(atomic_load(&churn_wins), 0);
}
END_TEST

enum { THREADS = 8 };
static hv_term thread_pids[THREADS];
static int thread_rc[THREADS];
static pthread_barrier_t barrier;

static void *
register_from_thread(void *arg)
{
    intptr_t i = (intptr_t)arg;
    pthread_barrier_wait(&barrier);
    thread_rc[i] =
        hv_register(hv_atom("check_names_thread_race"), thread_pids[i], NULL);
    return NULL;
}

START_TEST(test_names_racing_plain_threads_have_one_winner)
{
    hv_config c;
    pthread_t t[THREADS];

    memset(&c, 0, sizeof c);
    c.schedulers = 2;
    hv_expect_reset();
    ck_assert_int_eq(hv_start(&c), HV_OK);
    ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, THREADS), 0);
    for (int i = 0; i < THREADS; i++) {
        thread_pids[i] = hv_spawn(await_stop, NULL);
        ck_assert(hv_is_pid(thread_pids[i]));
    }
    for (intptr_t i = 0; i < THREADS; i++)
        ck_assert_int_eq(
            pthread_create(&t[i], NULL, register_from_thread, (void *)i), 0);
    int wins = 0, winner = -1;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        if (thread_rc[i] == HV_OK) {
            wins++;
            winner = i;
        } else {
            ck_assert_int_eq(thread_rc[i], HV_EBADARG);
        }
    }
    pthread_barrier_destroy(&barrier);
    ck_assert_int_eq(wins, 1);
    ck_assert(hv_whereis(hv_atom("check_names_thread_race")) ==
              thread_pids[winner]);
    ck_assert_int_eq(hv_stop(), HV_OK);
    ck_assert(hv_whereis(hv_atom("check_names_thread_race")) == HV_NONE);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("names_race");
    TCase *tc;

    tc = hv_check_tcase(s, "races");
    tcase_add_test(tc,
                   test_names_racing_registrations_of_one_name_have_one_winner);
    tcase_add_test(tc, test_names_racing_names_for_one_pid_have_one_winner);
    tcase_add_test(tc,
                   test_names_register_and_unregister_churn_keeps_one_holder);
    tcase_add_test(tc, test_names_racing_plain_threads_have_one_winner);
    return s;
}
