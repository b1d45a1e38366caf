/* tests/check_info.c - introspection: hv_process_info (status, mailbox
 * length, reductions, memory, name, flags, scheduler; dead and bad pids),
 * hv_processes (full count past cap, sorted by pid number, self included)
 * and hv_process_count (processes and bridges).
 *
 * Check's asserts must not run on a scheduler thread, so processes record
 * their failed expectations in statics and the test asserts on them once
 * the runtime has stopped. */
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


static int
info_rc(hv_term pid)
{
    hv_proc_info info;
    return hv_process_info(pid, &info);
}

/* Polls until pid's status is want (exit and blocking are asynchronous to
 * the observer), with a bound; fills *info with the last reading. */
static bool
eventually_status(hv_term pid, hv_status want, hv_proc_info *info)
{
    for (int i = 0; i < WAIT_MS; i++) {
        if (hv_process_info(pid, info) == HV_OK && info->status == want)
            return true;
        hv_sleep(1);
    }
    return hv_process_info(pid, info) == HV_OK && info->status == want;
}

/* Says {ready, self} to its parent (arg), then waits for `stop`, leaving
 * every other message queued. */
static void
wait_for_stop(void *arg)
{
    hv_term m = HV_NONE;
    EXPECT(hv_send(arg_pid(arg), hv_tuple(2, hv_atom("ready"), hv_self())) ==
           HV_OK);
    EXPECT(hv_recv_if(only_stop, NULL, HV_INFINITY, &m) == HV_OK);
}

/* Spawns wait_for_stop and waits until it has said ready. */
static hv_term
spawn_waiter(const hv_spawn_opts *o)
{
    hv_term pid = HV_NONE, m = HV_NONE;
    if (!EXPECT(hv_spawn_opt(wait_for_stop, pid_arg(hv_self()), o, &pid,
                             NULL) == HV_OK))
        return HV_NONE;
    EXPECT(hv_recv(WAIT_MS, &m) == HV_OK);
    EXPECT(hv_tuple_at(m, 1) == pid);
    hv_release(m);
    return pid;
}

/* ---- status ------------------------------------------------------------ */

static void
main_looks_at_itself(void *arg)
{
    (void)arg;
    hv_proc_info info;
    memset(&info, 0, sizeof info);
    EXPECT(hv_process_info(hv_self(), &info) == HV_OK);
    EXPECT(info.status == HV_STATUS_RUNNING);
    EXPECT(info.name == HV_NONE);
    EXPECT(!info.thread && !info.dedicated_stack && !info.bridge);
    EXPECT(info.scheduler < 2);
    EXPECT(info.memory_bytes > 0);
    EXPECT(info.mailbox_len == 0);

    /* Its own queue, read back. */
    EXPECT(hv_send(hv_self(), hv_atom("one")) == HV_OK);
    EXPECT(hv_send(hv_self(), hv_string("two")) == HV_OK);
    EXPECT(hv_process_info(hv_self(), &info) == HV_OK);
    EXPECT(info.mailbox_len == 2);
    await_atom("one");
    hv_term m = HV_NONE;
    EXPECT(hv_recv(0, &m) == HV_OK);
    hv_release(m);
    EXPECT(hv_process_info(hv_self(), &info) == HV_OK);
    EXPECT(info.mailbox_len == 0);
    EXPECT(info.status == HV_STATUS_RUNNING);
}

START_TEST(test_info_reports_self_as_running)
{
    run_main(main_looks_at_itself, NULL, 2);
}
END_TEST

static void
sleeper(void *arg)
{
    EXPECT(hv_send(arg_pid(arg), hv_atom("sleeping")) == HV_OK);
    hv_sleep(3600 * 1000);
}

static void
main_sees_waiting(void *arg)
{
    (void)arg;
    hv_proc_info info;

    /* In a receive. */
    hv_term pid = spawn_waiter(NULL);
    memset(&info, 0, sizeof info);
    EXPECT(eventually_status(pid, HV_STATUS_WAITING, &info));
    EXPECT(info.mailbox_len == 0);
    EXPECT(info.stack_bytes > 0); /* it blocked with frames on its stack */
    EXPECT(info.memory_bytes > 0);
    EXPECT(info.name == HV_NONE);
    stop_and_reap(pid);

    /* In a sleep (killed at shutdown). */
    pid = hv_spawn(sleeper, pid_arg(hv_self()));
    await_atom("sleeping");
    EXPECT(eventually_status(pid, HV_STATUS_WAITING, &info));

    /* A dedicated-stack process in a receive. */
    hv_spawn_opts o;
    memset(&o, 0, sizeof o);
    o.dedicated_stack = true;
    pid = spawn_waiter(&o);
    EXPECT(eventually_status(pid, HV_STATUS_WAITING, &info));
    stop_and_reap(pid);
}

START_TEST(test_info_reports_a_blocked_process_as_waiting)
{
    run_main(main_sees_waiting, NULL, 2);
}
END_TEST

static hv_status child_saw_self, child_saw_main;
static int child_self_rc, child_main_rc;

static void
child_looks_around(void *arg)
{
    hv_proc_info info;
    memset(&info, 0, sizeof info);
    child_self_rc = hv_process_info(hv_self(), &info);
    child_saw_self = info.status;
    child_main_rc = hv_process_info(arg_pid(arg), &info);
    child_saw_main = info.status;
    EXPECT(hv_send(arg_pid(arg), hv_atom("looked")) == HV_OK);
}

static void
main_sees_runnable(void *arg)
{
    (void)arg;
    hv_proc_info info;

    /* One scheduler, and main holds it: the child cannot have run. */
    hv_term pid = hv_spawn(child_looks_around, pid_arg(hv_self()));
    EXPECT(hv_process_info(pid, &info) == HV_OK);
    EXPECT(info.status == HV_STATUS_RUNNABLE);
    EXPECT(info.scheduler == 0);
    await_atom("looked");
}

START_TEST(test_info_reports_a_new_process_as_runnable_on_one_scheduler)
{
    child_self_rc = child_main_rc = 1;
    child_saw_self = child_saw_main = 0;
    run_main(main_sees_runnable, NULL, 1);
    ck_assert_int_eq(child_self_rc, HV_OK);
    ck_assert_int_eq(child_saw_self, HV_STATUS_RUNNING);
    ck_assert_int_eq(child_main_rc, HV_OK);
    ck_assert_int_eq(child_saw_main, HV_STATUS_WAITING); /* in its receive */
}
END_TEST

enum { DEEP_BYTES = 64 * 1024 };

/* Blocks in a receive below a DEEP_BYTES frame. */
static void __attribute__((noinline)) block_deep(void *arg)
{
    volatile char frame[DEEP_BYTES];
    for (size_t i = 0; i < DEEP_BYTES; i += 512)
        frame[i] = (char)i;
    wait_for_stop(arg);
    EXPECT(frame[512] == (char)512);
}

static void
main_measures_stacks(void *arg)
{
    (void)arg;
    hv_proc_info shallow, deep;

    hv_term s1 = spawn_waiter(NULL);
    hv_term d1 = HV_NONE, m = HV_NONE;
    EXPECT(hv_spawn_opt(block_deep, pid_arg(hv_self()), NULL, &d1, NULL) ==
           HV_OK);
    EXPECT(hv_recv(WAIT_MS, &m) == HV_OK);
    hv_release(m);
    EXPECT(eventually_status(s1, HV_STATUS_WAITING, &shallow));
    EXPECT(eventually_status(d1, HV_STATUS_WAITING, &deep));
    /* The copying stack saved for it holds the big frame. */
    EXPECT(deep.stack_bytes >= DEEP_BYTES);
    EXPECT(shallow.stack_bytes < deep.stack_bytes);
    EXPECT(deep.memory_bytes >= deep.stack_bytes);
    stop_and_reap(s1);
    stop_and_reap(d1);
}

START_TEST(test_info_stack_and_memory_bytes_grow_with_a_deep_stack)
{
    run_main(main_measures_stacks, NULL, 2);
}
END_TEST

static atomic_bool cleanup_may_end;
static hv_status cleanup_saw_self;
static int cleanup_self_rc;

/* A cleanup that reports itself, then holds the process in EXITING until
 * the parent has looked (a bounded spin: it may not receive or sleep). */
static void
slow_cleanup(void *arg)
{
    hv_proc_info info;
    memset(&info, 0, sizeof info);
    cleanup_self_rc = hv_process_info(hv_self(), &info);
    cleanup_saw_self = info.status;
    EXPECT(hv_send(arg_pid(arg), hv_atom("in_cleanup")) == HV_OK);
    for (long i = 0; i < 2000L * 1000 * 1000 && !atomic_load(&cleanup_may_end);
         i++)
        ;
    EXPECT(atomic_load(&cleanup_may_end));
}

static void
child_with_slow_cleanup(void *arg)
{
    EXPECT(hv_defer(slow_cleanup, arg) == HV_OK);
}

static void
main_sees_exiting(void *arg)
{
    (void)arg;
    hv_proc_info info;
    hv_spawn_opts o;
    hv_term pid = HV_NONE;

    /* On its own thread, so that its spinning cleanup holds no
     * scheduler that main may need. */
    memset(&o, 0, sizeof o);
    o.thread = true;
    EXPECT(hv_spawn_opt(child_with_slow_cleanup, pid_arg(hv_self()), &o, &pid,
                        NULL) == HV_OK);
    await_atom("in_cleanup");
    memset(&info, 0, sizeof info);
    EXPECT(hv_process_info(pid, &info) == HV_OK);
    EXPECT(info.status == HV_STATUS_EXITING);
    atomic_store(&cleanup_may_end, true);
    EXPECT(eventually_dead(pid));
}

START_TEST(test_info_reports_a_process_in_its_cleanups_as_exiting)
{
    atomic_store(&cleanup_may_end, false);
    cleanup_self_rc = 1;
    cleanup_saw_self = 0;
    run_main(main_sees_exiting, NULL, 2);
    ck_assert_int_eq(cleanup_self_rc, HV_OK);
    ck_assert_int_eq(cleanup_saw_self, HV_STATUS_EXITING);
}
END_TEST

/* ---- mailbox, reductions, memory ----------------------------------------- */

static void
main_counts_queued(void *arg)
{
    (void)arg;
    hv_proc_info before, info;

    hv_term pid = spawn_waiter(NULL);
    EXPECT(eventually_status(pid, HV_STATUS_WAITING, &before));
    EXPECT(before.mailbox_len == 0);
    EXPECT(hv_send(pid, hv_string("first")) == HV_OK);
    EXPECT(hv_send(pid, hv_atom("second")) == HV_OK);
    EXPECT(hv_send(pid, hv_tuple(2, hv_atom("third"), hv_string("x"))) ==
           HV_OK);
    /* Queued as soon as hv_send returns. */
    EXPECT(hv_process_info(pid, &info) == HV_OK);
    EXPECT(info.mailbox_len == 3);
    EXPECT(info.memory_bytes > before.memory_bytes); /* their envelopes */
    /* Still three once it has looked at them and gone back to waiting. */
    EXPECT(eventually_status(pid, HV_STATUS_WAITING, &info));
    EXPECT(info.mailbox_len == 3);
    stop_and_reap(pid);
}

START_TEST(test_info_counts_messages_a_process_does_not_read)
{
    run_main(main_counts_queued, NULL, 2);
}
END_TEST

/* Echoes every message back to its parent until `stop`. */
static void
echo(void *arg)
{
    for (;;) {
        hv_term m = HV_NONE;
        if (!EXPECT(hv_recv(WAIT_MS, &m) == HV_OK) || m == hv_atom("stop"))
            return;
        EXPECT(hv_send(arg_pid(arg), m) == HV_OK);
    }
}

static void
main_watches_reductions(void *arg)
{
    (void)arg;
    hv_proc_info a, b;

    EXPECT(hv_process_info(hv_self(), &a) == HV_OK);
    for (int i = 0; i < 100; i++) {
        hv_yield();
        EXPECT(hv_send(hv_self(), hv_int(i)) == HV_OK);
        hv_term m = HV_NONE;
        EXPECT(hv_recv(0, &m) == HV_OK);
    }
    EXPECT(hv_process_info(hv_self(), &b) == HV_OK);
    EXPECT(b.reductions >= a.reductions + 100);

    hv_term pid = hv_spawn(echo, pid_arg(hv_self()));
    EXPECT(hv_send(pid, hv_atom("warm")) == HV_OK);
    await_atom("warm");
    EXPECT(eventually_status(pid, HV_STATUS_WAITING, &a));
    for (int i = 0; i < 100; i++) {
        hv_term m = HV_NONE;
        EXPECT(hv_send(pid, hv_int(i)) == HV_OK);
        EXPECT(hv_recv(WAIT_MS, &m) == HV_OK);
        EXPECT(m == hv_int(i));
    }
    EXPECT(eventually_status(pid, HV_STATUS_WAITING, &b));
    EXPECT(b.reductions >= a.reductions + 100);
    EXPECT(hv_send(pid, hv_atom("stop")) == HV_OK);
    EXPECT(eventually_dead(pid));
}

START_TEST(test_info_reductions_grow_with_work)
{
    run_main(main_watches_reductions, NULL, 2);
}
END_TEST

/* ---- name and flags ------------------------------------------------------ */

static void
main_names(void *arg)
{
    (void)arg;
    hv_proc_info info;
    hv_term name = hv_atom("check_info_named");

    hv_term pid = spawn_waiter(NULL);
    EXPECT(hv_process_info(pid, &info) == HV_OK);
    EXPECT(info.name == HV_NONE);
    EXPECT(hv_register(name, pid, NULL) == HV_OK);
    EXPECT(hv_process_info(pid, &info) == HV_OK);
    EXPECT(info.name == name);
    EXPECT(hv_unregister(name) == HV_OK);
    EXPECT(hv_process_info(pid, &info) == HV_OK);
    EXPECT(info.name == HV_NONE);
    stop_and_reap(pid);

    /* Through the spawn option, and on itself. */
    hv_spawn_opts o;
    memset(&o, 0, sizeof o);
    o.name = hv_atom("check_info_spawned_named");
    pid = spawn_waiter(&o);
    EXPECT(hv_process_info(pid, &info) == HV_OK);
    EXPECT(info.name == o.name);
    stop_and_reap(pid);
    EXPECT(hv_register(name, hv_self(), NULL) == HV_OK);
    EXPECT(hv_process_info(hv_self(), &info) == HV_OK);
    EXPECT(info.name == name);
}

START_TEST(test_info_name_follows_register_and_unregister)
{
    run_main(main_names, NULL, 2);
}
END_TEST

static void
main_flags(void *arg)
{
    (void)arg;
    hv_proc_info info;
    hv_spawn_opts o;

    memset(&o, 0, sizeof o);
    hv_term plain = spawn_waiter(&o);
    EXPECT(hv_process_info(plain, &info) == HV_OK);
    EXPECT(!info.dedicated_stack && !info.thread && !info.bridge);
    EXPECT(info.scheduler < 2);

    o.dedicated_stack = true;
    hv_term dedicated = spawn_waiter(&o);
    EXPECT(hv_process_info(dedicated, &info) == HV_OK);
    EXPECT(info.dedicated_stack);
    EXPECT(!info.thread && !info.bridge);
    EXPECT(info.scheduler < 2);

    o.dedicated_stack = false;
    o.thread = true;
    hv_term threaded = spawn_waiter(&o);
    EXPECT(hv_process_info(threaded, &info) == HV_OK);
    EXPECT(info.thread);
    EXPECT(!info.bridge);
    EXPECT(eventually_status(threaded, HV_STATUS_WAITING, &info));

    stop_and_reap(plain);
    stop_and_reap(dedicated);
    stop_and_reap(threaded);
}

START_TEST(test_info_reports_thread_and_dedicated_stack_flags)
{
    run_main(main_flags, NULL, 2);
}
END_TEST

/* ---- bad and dead pids -----------------------------------------------------
 */

/* info is written only on success: it keeps this pattern on errors. */
static bool
untouched(const hv_proc_info *info)
{
    const unsigned char *p = (const unsigned char *)info;
    for (size_t i = 0; i < sizeof *info; i++)
        if (p[i] != 0xA5)
            return false;
    return true;
}

static void
main_dead_pids(void *arg)
{
    (void)arg;
    hv_proc_info info;

    hv_term pid = hv_spawn(returns_at_once, NULL);
    EXPECT(eventually_dead(pid));
    memset(&info, 0xA5, sizeof info);
    EXPECT(hv_process_info(pid, &info) == HV_ENOPROC);
    EXPECT(untouched(&info));
    /* Its slot is reused: the stale pid must still read as dead. */
    for (int i = 0; i < 200; i++) {
        hv_term other = hv_spawn(returns_at_once, NULL);
        EXPECT(other != pid);
        EXPECT(info_rc(pid) == HV_ENOPROC);
    }
    hv_term live = spawn_waiter(NULL);
    EXPECT(info_rc(pid) == HV_ENOPROC);
    EXPECT(info_rc(live) == HV_OK);
    stop_and_reap(live);
    /* Never existed. */
    EXPECT(info_rc(hv_pid_local(1000000, 0)) == HV_ENOPROC);
    EXPECT(info_rc(hv_pid_local(1000000, 77)) == HV_ENOPROC);
}

START_TEST(test_info_on_a_dead_pid_is_enoproc)
{
    run_main(main_dead_pids, NULL, 2);
}
END_TEST

static void
main_bad_pids(void *arg)
{
    (void)arg;
    hv_proc_info info;
    hv_term ref = hv_ref_make();
    hv_term bin = hv_string("not a pid");
    hv_term tup = hv_tuple(2, hv_self(), hv_int(1));
    hv_term not_pids[] = {HV_NONE,    HV_NIL,       hv_int(1),
                          hv_int(-5), hv_atom("x"), HV_ATOM_UNDEFINED,
                          ref,        bin,          tup};

    for (size_t i = 0; i < sizeof not_pids / sizeof not_pids[0]; i++) {
        memset(&info, 0xA5, sizeof info);
        if (!hv_expect_at(hv_process_info(not_pids[i], &info) == HV_EBADARG,
                       "not_pids[line] gives EBADARG", (int)i))
            continue;
        EXPECT(untouched(&info));
    }
    hv_release(ref);
    hv_release(bin);
    hv_release(tup);
    EXPECT(hv_process_info(hv_self(), NULL) == HV_EBADARG);

    /* A pid of another node is no local process. */
    hv_term remote = hv_pid_remote(hv_atom("a@elsewhere"), 1, 0, 3);
    int rc = hv_process_info(remote, &info);
    EXPECT(rc == HV_EBADARG || rc == HV_ENOPROC);
    hv_release(remote);
}

START_TEST(test_info_on_a_non_pid_is_ebadarg)
{
    run_main(main_bad_pids, NULL, 2);
}
END_TEST

static void
check_no_runtime(hv_term old_pid)
{
    hv_proc_info info;
    hv_term out[4] = {HV_NIL, HV_NIL, HV_NIL, HV_NIL};

    memset(&info, 0xA5, sizeof info);
    ck_assert_int_eq(hv_process_info(hv_pid_local(1, 0), &info), HV_ENOPROC);
    ck_assert(untouched(&info));
    ck_assert_int_eq(hv_process_info(old_pid, &info), HV_ENOPROC);
    ck_assert(untouched(&info));
    ck_assert_int_eq(hv_process_info(hv_int(1), &info), HV_EBADARG);
    ck_assert_uint_eq(hv_processes(out, 4), 0);
    ck_assert(out[0] == HV_NIL);
    ck_assert_uint_eq(hv_processes(NULL, 0), 0);
    ck_assert_uint_eq(hv_process_count(), 0);
}

static hv_term last_main;

static void
main_remembers_itself(void *arg)
{
    (void)arg;
    last_main = hv_self();
    hv_spawn(returns_at_once, NULL);
}

/* Before any runtime ran, and again once one has run and stopped (its
 * tables are gone: nothing may read them). */
START_TEST(test_info_without_a_runtime)
{
    check_no_runtime(hv_pid_local(0, 0));
    run_main(main_remembers_itself, NULL, 2);
    ck_assert(hv_is_pid(last_main));
    check_no_runtime(last_main);
    hv_config c;
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(hv_start(&c), HV_OK);
    ck_assert_int_eq(hv_stop(), HV_OK);
    check_no_runtime(last_main);
}
END_TEST

/* ---- hv_processes and hv_process_count ---------------------------------- */

enum { LISTED = 20, OUT_CAP = 256 };

static uint32_t
number_of(hv_term pid)
{
    uint32_t number = 0, serial, creation;
    hv_term node;
    EXPECT(hv_pid_fields(pid, &node, &number, &serial, &creation) == HV_OK);
    return number;
}

static void
main_lists(void *arg)
{
    (void)arg;
    hv_term kids[LISTED], out[OUT_CAP], small[4];
    size_t start = hv_process_count();

    EXPECT(start >= 1);
    for (int i = 0; i < LISTED; i++) {
        kids[i] = spawn_waiter(NULL);
        EXPECT(hv_process_count() == start + (size_t)i + 1);
    }
    size_t count = hv_process_count();
    EXPECT(count == start + LISTED);
    size_t n = hv_processes(out, OUT_CAP);
    EXPECT(n == count);
    if (n > OUT_CAP)
        n = OUT_CAP;

    /* Sorted by pid number, each live, self and every kid among them. */
    int found_self = 0, found_kids = 0, unsorted = 0, dead = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && number_of(out[i - 1]) >= number_of(out[i]))
            unsorted++;
        if (info_rc(out[i]) != HV_OK)
            dead++;
        found_self += out[i] == hv_self();
        for (int k = 0; k < LISTED; k++)
            found_kids += out[i] == kids[k];
    }
    EXPECT(unsorted == 0);
    EXPECT(dead == 0);
    EXPECT(found_self == 1);
    EXPECT(found_kids == LISTED);

    /* A cap below the count: the full count back, only cap written, and
     * those the first in pid order. */
    for (int i = 0; i < 4; i++)
        small[i] = HV_NIL;
    EXPECT(hv_processes(small, 3) == count);
    EXPECT(small[0] == out[0] && small[1] == out[1] && small[2] == out[2]);
    EXPECT(small[3] == HV_NIL);
    small[0] = HV_NIL;
    EXPECT(hv_processes(small, 0) == count);
    EXPECT(small[0] == HV_NIL);
    EXPECT(hv_processes(NULL, 0) == count);

    for (int i = 0; i < LISTED; i++)
        EXPECT(hv_send(kids[i], hv_atom("stop")) == HV_OK);
    EXPECT(eventually_count(start));
    EXPECT(hv_processes(out, OUT_CAP) == start);
    found_self = 0;
    for (size_t i = 0; i < start && i < OUT_CAP; i++)
        found_self += out[i] == hv_self();
    EXPECT(found_self == 1);
}

START_TEST(test_info_processes_lists_every_live_process_in_pid_order)
{
    run_main(main_lists, NULL, 2);
}
END_TEST

static void
main_count_follows_spawn_and_exit(void *arg)
{
    (void)arg;
    size_t start = hv_process_count();
    EXPECT(start >= 1);
    for (int i = 0; i < 10; i++)
        EXPECT(hv_is_pid(hv_spawn(returns_at_once, NULL)));
    EXPECT(eventually_count(start));
    hv_term pid = spawn_waiter(NULL);
    EXPECT(hv_process_count() == start + 1);
    stop_and_reap(pid);
    EXPECT(hv_process_count() == start);
}

START_TEST(test_info_process_count_follows_spawn_and_exit)
{
    run_main(main_count_follows_spawn_and_exit, NULL, 2);
}
END_TEST

static void
block_until_stop(void *arg)
{
    (void)arg;
    hv_term m = HV_NONE;
    hv_recv_if(only_stop, NULL, HV_INFINITY, &m);
}

enum { SPREAD = 30, SPREAD_SCHEDULERS = 3 };

/* Spawns from a plain thread go round-robin over the schedulers. */
START_TEST(test_info_scheduler_index_spreads_spawns_from_a_thread)
{
    hv_config c;
    hv_proc_info info;
    int seen[SPREAD_SCHEDULERS] = {0};
    hv_term pids[SPREAD];

    memset(&c, 0, sizeof c);
    c.schedulers = SPREAD_SCHEDULERS;
    ck_assert_int_eq(hv_start(&c), HV_OK);
    for (int i = 0; i < SPREAD; i++) {
        pids[i] = hv_spawn(block_until_stop, NULL);
        ck_assert(hv_is_pid(pids[i]));
        ck_assert_int_eq(hv_process_info(pids[i], &info), HV_OK);
        ck_assert_uint_lt(info.scheduler, SPREAD_SCHEDULERS);
        seen[info.scheduler]++;
    }
    for (int i = 0; i < SPREAD_SCHEDULERS; i++)
        ck_assert_msg(seen[i] > 0, "no spawn went to scheduler %d", i);
    ck_assert_int_eq(hv_stop(), HV_OK);
}
END_TEST

START_TEST(test_info_counts_and_lists_bridges)
{
    hv_config c;
    hv_proc_info info;
    hv_term out[8];

    memset(&c, 0, sizeof c);
    c.schedulers = 2;
    ck_assert_int_eq(hv_start(&c), HV_OK);
    size_t start = hv_process_count();
    hv_bridge *b = hv_bridge_open(NULL);
    ck_assert_ptr_nonnull(b);
    hv_term bp = hv_bridge_pid(b);
    ck_assert_uint_eq(hv_process_count(), start + 1);
    ck_assert_int_eq(hv_process_info(bp, &info), HV_OK);
    ck_assert(info.bridge);
    ck_assert(!info.thread);
    ck_assert(!info.dedicated_stack);
    ck_assert(info.name == HV_NONE);

    hv_term pid = hv_spawn(block_until_stop, NULL);
    ck_assert(hv_is_pid(pid));
    ck_assert_uint_eq(hv_process_count(), start + 2);
    size_t n = hv_processes(out, 8);
    ck_assert_uint_eq(n, start + 2);
    int found = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        found += (out[i] == bp) + (out[i] == pid);
    ck_assert_int_eq(found, 2);
    ck_assert_int_eq(hv_process_info(pid, &info), HV_OK);
    ck_assert(!info.bridge);

    /* A bridge's pid is dead once it is closed. */
    hv_bridge_close(b);
    ck_assert_int_eq(hv_process_info(bp, &info), HV_ENOPROC);
    ck_assert_uint_eq(hv_process_count(), start + 1);
    ck_assert_int_eq(hv_stop(), HV_OK);
    ck_assert_uint_eq(hv_process_count(), 0);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("info");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_info_reports_self_as_running);
    tcase_add_test(tc, test_info_reports_a_blocked_process_as_waiting);
    tcase_add_test(
        tc, test_info_reports_a_new_process_as_runnable_on_one_scheduler);
    tcase_add_test(tc, test_info_stack_and_memory_bytes_grow_with_a_deep_stack);
    tcase_add_test(tc, test_info_reports_a_process_in_its_cleanups_as_exiting);
    tcase_add_test(tc, test_info_counts_messages_a_process_does_not_read);
    tcase_add_test(tc, test_info_reductions_grow_with_work);
    tcase_add_test(tc, test_info_name_follows_register_and_unregister);
    tcase_add_test(tc, test_info_reports_thread_and_dedicated_stack_flags);

    tc = hv_check_tcase(s, "errors");
    tcase_add_test(tc, test_info_on_a_dead_pid_is_enoproc);
    tcase_add_test(tc, test_info_on_a_non_pid_is_ebadarg);
    tcase_add_test(tc, test_info_without_a_runtime);

    tc = hv_check_tcase(s, "list");
    tcase_add_test(tc,
                   test_info_processes_lists_every_live_process_in_pid_order);
    tcase_add_test(tc, test_info_process_count_follows_spawn_and_exit);
    tcase_add_test(tc, test_info_counts_and_lists_bridges);
    tcase_add_test(tc, test_info_scheduler_index_spreads_spawns_from_a_thread);
    return s;
}
