/* tests/check_sched.c - scheduling: hv_yield alternation, no starvation
 * by spinning processes, a million processes, max_processes. */
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

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("sched");
    TCase *tc;

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
