/* tests/check_overflow.c - stack overflow kills only the process that
 * overflowed (copying and dedicated stacks), its hv_defer cleanups run,
 * other processes' stacks and results are untouched, several overflows in
 * a row, `stack_overflow` as the main process's exit reason, the depth a
 * stack allows, hv_config.overflow_aborts, and a genuine segfault still
 * killing the OS process.
 *
 * Checks made inside processes are recorded (expect_at) and asserted by
 * the test after hv_run returns.  The tests that expect a signal need
 * Check's fork mode and are left out with CK_FORK=no (valgrind) and under
 * AddressSanitizer, which turns a SIGSEGV into an exit of its own. */
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hive/hive.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"


static void
reset(void)
{
    hv_expect_reset();
}

static void
assert_no_fails(void)
{
    ck_assert_msg(hv_expect_failures() == 0,
                  "%d failed expectations, the first at %s",
                  hv_expect_failures(), hv_expect_text());
}

/* Runs main_fn under cfg and asserts it ended normally, all checks met. */
static void
run_cfg(hv_fn *main_fn, const hv_config *cfg)
{
    hv_term reason = HV_NONE;
    char text[128] = "?";
    reset();
    ck_assert_int_eq(hv_run(main_fn, NULL, cfg, &reason), HV_OK);
    hv_format(reason, text, sizeof text);
    bool normal = is_atom(reason, "normal");
    hv_release(reason);
    assert_no_fails();
    ck_assert_msg(normal, "main exited with %s", text);
}

static void
run(hv_fn *main_fn, unsigned schedulers)
{
    hv_config cfg = {0};
    cfg.schedulers = schedulers;
    run_cfg(main_fn, &cfg);
}

static hv_term main_pid;

/* ---- the overflow ------------------------------------------------------ */

enum { FRAME_PAD = 256 };
/* Never reached; read at every level so the recursion is not infinite in
 * the compiler's eyes. */
static volatile int depth_limit = INT_MAX;
static atomic_int deepest;  /* deepest level reached, across processes */
static atomic_int returned; /* a recursion that came back: no overflow */

static int __attribute__((noinline)) recurse(int n)
{
    volatile char pad[FRAME_PAD];
    pad[0] = (char)n;
    pad[FRAME_PAD - 1] = (char)n;
    if (n > atomic_load_explicit(&deepest, memory_order_relaxed))
        atomic_store_explicit(&deepest, n, memory_order_relaxed);
    if (n == depth_limit)
        return 0;
    /* Used after the call: no tail call. */
    return recurse(n + 1) + pad[n % FRAME_PAD];
}

static void
cleanup_reports(void *arg)
{
    hv_send(main_pid,
            hv_tuple(2, hv_atom("cleaned"), hv_int((int64_t)(intptr_t)arg)));
}

/* Registers a cleanup reporting {cleaned, Id} to main, then overflows. */
static void
overflower(void *arg)
{
    EXPECT(hv_defer(cleanup_reports, arg) == HV_OK);
    int r = recurse(1);
    atomic_fetch_add(&returned, 1);
    hv_send(main_pid, hv_tuple(2, hv_atom("returned"), hv_int(r)));
}

/* Waits for {cleaned, Id} from the overflower with that id. */
static void
expect_cleaned(int64_t id)
{
    hv_term m = HV_NONE;
    EXPECT(hv_recv(10000, &m) == HV_OK);
    EXPECT(is_tagged(m, "cleaned") && elem_int(m, 1) == id);
    hv_release(m);
}

/* ---- workers that must not notice ------------------------------------- */

enum { WORKERS = 100, ROUNDS = 100 };

/* Sums 0..ROUNDS-1 through its own mailbox, yielding in between, and keeps
 * a pattern on its stack that a bad restore would change. */
static void
worker(void *arg)
{
    intptr_t idx = (intptr_t)arg;
    volatile unsigned char mine[512];
    int64_t sum = 0;
    bool intact = true;
    for (size_t i = 0; i < sizeof mine; i++)
        mine[i] = (unsigned char)(idx + i);
    for (int i = 0; i < ROUNDS; i++) {
        hv_term m = HV_NONE;
        int64_t v = 0;
        hv_send(hv_self(), hv_int(i));
        if (hv_recv(5000, &m) != HV_OK || hv_int_value(m, &v) != HV_OK)
            intact = false;
        sum += v;
        hv_yield();
        for (size_t k = 0; k < sizeof mine; k++)
            if (mine[k] != (unsigned char)(idx + k))
                intact = false;
    }
    hv_send(main_pid, hv_tuple(3, hv_atom("result"), hv_int(idx),
                               hv_atom(intact ? "intact" : "corrupt")));
    /* The sum goes last so a lost message shows as a count mismatch. */
    hv_send(main_pid, hv_tuple(3, hv_atom("sum"), hv_int(idx), hv_int(sum)));
}

/* Collects two messages from each of n workers and, when cleaned_id >= 0,
 * one {cleaned, cleaned_id}, in any order. */
static void
collect_workers(int n, int64_t cleaned_id)
{
    int results = 0, sums = 0, cleaned = 0;
    int total = 2 * n + (cleaned_id >= 0);
    for (int k = 0; k < total; k++) {
        hv_term m = HV_NONE;
        if (hv_recv(15000, &m) != HV_OK) {
            EXPECT(!"a worker or the cleanup never reported");
            return;
        }
        if (is_tagged(m, "result")) {
            EXPECT(is_atom(hv_tuple_at(m, 2), "intact"));
            results++;
        } else if (is_tagged(m, "sum")) {
            EXPECT(elem_int(m, 2) == (int64_t)ROUNDS * (ROUNDS - 1) / 2);
            sums++;
        } else if (is_tagged(m, "cleaned")) {
            EXPECT(elem_int(m, 1) == cleaned_id);
            cleaned++;
        } else {
            EXPECT(!"an unexpected message (did recurse() return?)");
        }
        hv_release(m);
    }
    EXPECT(results == n && sums == n && cleaned == (cleaned_id >= 0));
}

/* ---- core ------------------------------------------------------------- */

static void
one_among_many_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    for (intptr_t i = 0; i < WORKERS / 2; i++)
        EXPECT(hv_spawn(worker, (void *)i) != HV_NONE);
    hv_term o = hv_spawn(overflower, (void *)(intptr_t)7);
    EXPECT(o != HV_NONE);
    for (intptr_t i = WORKERS / 2; i < WORKERS; i++)
        EXPECT(hv_spawn(worker, (void *)i) != HV_NONE);
    collect_workers(WORKERS, 7);
    EXPECT(eventually_dead(o));
    EXPECT(atomic_load(&returned) == 0);
    /* Stopped near 1 MiB (the default), not at once and not past it. */
    int d = atomic_load(&deepest);
    EXPECT((long)d * FRAME_PAD <= 2L << 20);
    EXPECT((long)d * 4096 >= 1L << 20);
    /* Business as usual afterwards. */
    for (intptr_t i = 0; i < 10; i++)
        EXPECT(hv_spawn(worker, (void *)i) != HV_NONE);
    collect_workers(10, -1);
}

START_TEST(test_overflow_kills_only_the_overflowing_process)
{
    atomic_store(&deepest, 0);
    atomic_store(&returned, 0);
    run(one_among_many_main, 2);
}
END_TEST

START_TEST(test_overflow_kills_only_the_overflowing_process_on_one_scheduler)
{
    atomic_store(&deepest, 0);
    atomic_store(&returned, 0);
    run(one_among_many_main, 1);
}
END_TEST

static void
in_a_row_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    for (intptr_t i = 0; i < 5; i++) {
        hv_term o = hv_spawn(overflower, (void *)i);
        EXPECT(o != HV_NONE);
        expect_cleaned(i);
        EXPECT(eventually_dead(o));
    }
    /* Ten at once, among workers. */
    hv_term os[10];
    for (intptr_t i = 0; i < 10; i++) {
        os[i] = hv_spawn(overflower, (void *)(100 + i));
        EXPECT(os[i] != HV_NONE);
        EXPECT(hv_spawn(worker, (void *)i) != HV_NONE);
    }
    int cleaned[10] = {0}, results = 0, sums = 0;
    for (int k = 0; k < 30; k++) {
        hv_term m = HV_NONE;
        if (hv_recv(15000, &m) != HV_OK) {
            EXPECT(!"a cleanup or a worker never reported");
            break;
        }
        int64_t id = elem_int(m, 1);
        if (is_tagged(m, "cleaned") && id >= 100 && id < 110)
            cleaned[id - 100]++;
        else if (is_tagged(m, "result"))
            results += is_atom(hv_tuple_at(m, 2), "intact");
        else if (is_tagged(m, "sum"))
            sums += elem_int(m, 2) == (int64_t)ROUNDS * (ROUNDS - 1) / 2;
        else
            EXPECT(!"an unexpected message");
        hv_release(m);
    }
    for (int i = 0; i < 10; i++) {
        EXPECT(cleaned[i] == 1);
        EXPECT(eventually_dead(os[i]));
    }
    EXPECT(results == 10 && sums == 10);
    EXPECT(atomic_load(&returned) == 0);
}

START_TEST(test_overflow_several_in_a_row_and_at_once)
{
    atomic_store(&returned, 0);
    run(in_a_row_main, 2);
}
END_TEST

enum { DEDICATED_BYTES = 64 * 1024 };

static void
dedicated_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    for (intptr_t round = 0; round < 3; round++) {
        hv_spawn_opts opts = {0};
        hv_term o = HV_NONE;
        opts.dedicated_stack = true;
        opts.stack_bytes = DEDICATED_BYTES;
        atomic_store(&deepest, 0);
        for (intptr_t i = 0; i < 20; i++)
            EXPECT(hv_spawn(worker, (void *)i) != HV_NONE);
        EXPECT(hv_spawn_opt(overflower, (void *)(200 + round), &opts, &o,
                            NULL) == HV_OK);
        collect_workers(20, 200 + round);
        EXPECT(eventually_dead(o));
        /* The dedicated size bounds the depth, not the 1 MiB default. */
        int d = atomic_load(&deepest);
        EXPECT((long)d * FRAME_PAD <= 2L * DEDICATED_BYTES);
        EXPECT((long)d * 4096 >= DEDICATED_BYTES);
        /* A dedicated process that does not overflow, on a stack from the
         * pool that may be the one just overflowed. */
        hv_term w = HV_NONE;
        EXPECT(hv_spawn_opt(worker, (void *)(intptr_t)77, &opts, &w, NULL) ==
               HV_OK);
        collect_workers(1, -1);
    }
    EXPECT(atomic_load(&returned) == 0);
}

START_TEST(test_overflow_on_a_dedicated_stack_kills_only_that_process)
{
    atomic_store(&returned, 0);
    run(dedicated_main, 2);
}
END_TEST

static void
small_sched_stack_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    atomic_store(&deepest, 0);
    hv_term o = hv_spawn(overflower, (void *)(intptr_t)5);
    expect_cleaned(5);
    EXPECT(eventually_dead(o));
    int d = atomic_load(&deepest);
    EXPECT((long)d * FRAME_PAD <= 2L * (256 << 10));
    EXPECT((long)d * 4096 >= 256 << 10);
}

START_TEST(test_overflow_depth_on_a_copying_stack_follows_config_stack_bytes)
{
    hv_config cfg = {0};
    cfg.schedulers = 2;
    cfg.stack_bytes = 256 << 10;
    atomic_store(&returned, 0);
    run_cfg(small_sched_stack_main, &cfg);
    ck_assert_int_eq(atomic_load(&returned), 0);
}
END_TEST

/* Cleanups run latest first, all of them, with hv_self() the dying
 * process. */
static hv_term order_pid;

static void
cleanup_logs(void *arg)
{
    EXPECT(hv_self() == order_pid);
    hv_send(main_pid,
            hv_tuple(2, hv_atom("cleanup"), hv_int((int64_t)(intptr_t)arg)));
}

static void
ordered_overflower(void *arg)
{
    (void)arg;
    order_pid = hv_self();
    for (intptr_t i = 1; i <= 3; i++)
        EXPECT(hv_defer(cleanup_logs, (void *)i) == HV_OK);
    recurse(1);
    atomic_fetch_add(&returned, 1);
}

static void
cleanup_order_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    hv_term o = hv_spawn(ordered_overflower, NULL);
    EXPECT(o != HV_NONE);
    for (int want = 3; want >= 1; want--) {
        hv_term m = HV_NONE;
        EXPECT(hv_recv(10000, &m) == HV_OK);
        EXPECT(is_tagged(m, "cleanup") && elem_int(m, 1) == want);
        hv_release(m);
    }
    EXPECT(eventually_dead(o));
    hv_term m = HV_ATOM_TRUE;
    EXPECT(hv_recv(20, &m) == HV_ETIMEOUT);
}

START_TEST(test_overflow_runs_every_defer_cleanup_latest_first)
{
    atomic_store(&returned, 0);
    run(cleanup_order_main, 2);
    ck_assert_int_eq(atomic_load(&returned), 0);
}
END_TEST

static atomic_int main_cleanup_ran;

static void
main_cleanup(void *arg)
{
    (void)arg;
    atomic_fetch_add(&main_cleanup_ran, 1);
}

static void
overflowing_main(void *arg)
{
    (void)arg;
    EXPECT(hv_defer(main_cleanup, NULL) == HV_OK);
    recurse(1);
    atomic_fetch_add(&returned, 1);
}

static void
plain_main(void *arg)
{
    (void)arg;
    hv_sleep(1);
}

START_TEST(test_overflow_of_the_main_process_is_its_exit_reason)
{
    hv_term reason = HV_NONE;
    char text[128] = "?";
    hv_config cfg = {0};
    cfg.schedulers = 2;
    reset();
    atomic_store(&returned, 0);
    atomic_store(&main_cleanup_ran, 0);
    ck_assert_int_eq(hv_run(overflowing_main, NULL, &cfg, &reason), HV_OK);
    hv_format(reason, text, sizeof text);
    bool overflow = is_atom(reason, "stack_overflow");
    hv_release(reason);
    assert_no_fails();
    ck_assert_msg(overflow, "main exited with %s", text);
    ck_assert_int_eq(atomic_load(&returned), 0);
    ck_assert_int_eq(atomic_load(&main_cleanup_ran), 1);
    /* And the runtime starts again as new. */
    run(plain_main, 2);
}
END_TEST

/* ---- the OS process dies ----------------------------------------------- */

static void
aborting_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    hv_spawn(overflower, (void *)(intptr_t)1);
    hv_term m = HV_NONE;
    hv_recv(10000, &m); /* the cleanup's report means no abort */
    hv_release(m);
}

START_TEST(test_overflow_with_overflow_aborts_aborts_the_os_process)
{
    hv_config cfg = {0};
    cfg.schedulers = 2;
    cfg.overflow_aborts = true;
    hv_run(aborting_main, NULL, &cfg, NULL);
    /* Reaching here is the failure: the test expects SIGABRT. */
}
END_TEST

static void
crash(void)
{
    volatile uintptr_t addr = 16;
    *(volatile int *)addr = 1;
}

static void
crasher(void *arg)
{
    (void)arg;
    crash();
}

static void
segv_main(void *arg)
{
    (void)arg;
    main_pid = hv_self();
    hv_spawn(crasher, NULL);
    hv_sleep(3000);
}

START_TEST(
    test_overflow_a_genuine_segfault_in_a_process_still_kills_the_os_process)
{
    hv_config cfg = {0};
    cfg.schedulers = 2;
    hv_run(segv_main, NULL, &cfg, NULL);
}
END_TEST

static void
dedicated_segv_main(void *arg)
{
    hv_spawn_opts opts = {0};
    hv_term pid;
    (void)arg;
    opts.dedicated_stack = true;
    hv_spawn_opt(crasher, NULL, &opts, &pid, NULL);
    hv_sleep(3000);
}

START_TEST(
    test_overflow_a_genuine_segfault_on_a_dedicated_stack_kills_the_os_process)
{
    hv_run(dedicated_segv_main, NULL, NULL, NULL);
}
END_TEST

START_TEST(
    test_overflow_a_genuine_segfault_outside_processes_kills_the_os_process)
{
    hv_config cfg = {0};
    cfg.schedulers = 2;
    ck_assert_int_eq(hv_start(&cfg), HV_OK);
    crash();
    hv_stop();
}
END_TEST

static bool
signals_testable(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return false;
#endif
#endif
    const char *fork = getenv("CK_FORK");
    return fork == NULL || strcmp(fork, "no") != 0;
}

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("overflow");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_overflow_kills_only_the_overflowing_process);
    tcase_add_test(
        tc, test_overflow_kills_only_the_overflowing_process_on_one_scheduler);
    tcase_add_test(tc, test_overflow_several_in_a_row_and_at_once);
    tcase_add_test(tc,
                   test_overflow_on_a_dedicated_stack_kills_only_that_process);
    tcase_add_test(
        tc, test_overflow_depth_on_a_copying_stack_follows_config_stack_bytes);
    tcase_add_test(tc, test_overflow_runs_every_defer_cleanup_latest_first);
    tcase_add_test(tc, test_overflow_of_the_main_process_is_its_exit_reason);

    if (signals_testable()) {
        /* No leak fixture: these end in a signal, never at the fixture. */
        tc = tcase_create("signals");
        tcase_set_timeout(tc, 60);
        tcase_add_test_raise_signal(
            tc, test_overflow_with_overflow_aborts_aborts_the_os_process,
            SIGABRT);
        tcase_add_test_raise_signal(
            tc,
            test_overflow_a_genuine_segfault_in_a_process_still_kills_the_os_process,
            SIGSEGV);
        tcase_add_test_raise_signal(
            tc,
            test_overflow_a_genuine_segfault_on_a_dedicated_stack_kills_the_os_process,
            SIGSEGV);
        tcase_add_test_raise_signal(
            tc,
            test_overflow_a_genuine_segfault_outside_processes_kills_the_os_process,
            SIGSEGV);
        suite_add_tcase(s, tc);
    }
    return s;
}
