/* tests/check_names.c - the name registry: hv_register, hv_unregister,
 * hv_whereis and hv_send to a name; every refusal (taken name, named pid,
 * dead pid, non-atom, `undefined`); names freed when their process exits;
 * and races on one name or one pid with exactly one winner.
 *
 * Check's asserts must not run on a scheduler thread, so processes record
 * their failed expectations in statics and the test asserts on them once
 * the runtime has stopped. */
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


/* Answers {From, X} with {echo, X}, until `stop`. */
static void
echo_server(void *arg)
{
    (void)arg;
    for (;;) {
        hv_term m = next_msg();
        if (m == HV_NONE || m == hv_atom("stop"))
            return;
        hv_term x = hv_retain(hv_tuple_at(m, 1));
        EXPECT(hv_send(hv_tuple_at(m, 0), hv_tuple(2, hv_atom("echo"), x)) ==
               HV_OK);
        hv_release(m);
    }
}

/* ---- core ---------------------------------------------------------------- */

static void
main_round_trip(void *arg)
{
    (void)arg;
    hv_term name = hv_atom("check_names_server");
    hv_term other = hv_atom("check_names_other");
    hv_error err;

    hv_term pid = hv_spawn(echo_server, NULL);
    EXPECT(hv_whereis(name) == HV_NONE);
    memset(&err, 0xA5, sizeof err);
    EXPECT(hv_register(name, pid, &err) == HV_OK);
    EXPECT(((unsigned char *)&err)[0] == 0xA5); /* written only on failure */
    EXPECT(hv_whereis(name) == pid);
    EXPECT(name_of(pid) == name);

    /* Send by name. */
    EXPECT(hv_send(name, hv_tuple(2, hv_self(), hv_string("hello"))) == HV_OK);
    hv_term m = next_msg();
    hv_term want = hv_parse("{echo, \"hello\"}", NULL);
    EXPECT(hv_equal(m, want));
    hv_release(want);
    hv_release(m);

    EXPECT(hv_unregister(name) == HV_OK);
    EXPECT(hv_whereis(name) == HV_NONE);
    EXPECT(name_of(pid) == HV_NONE);
    EXPECT(hv_unregister(name) == HV_EBADARG);
    EXPECT(hv_send(name, hv_string("to nobody")) == HV_ENOPROC);

    /* The pid is free to take a name again, the name free for another. */
    EXPECT(hv_register(other, pid, NULL) == HV_OK);
    EXPECT(hv_whereis(other) == pid);
    EXPECT(hv_register(name, hv_self(), NULL) == HV_OK);
    EXPECT(hv_whereis(name) == hv_self());
    EXPECT(name_of(hv_self()) == name);
    EXPECT(hv_send(other, hv_atom("stop")) == HV_OK);
    EXPECT(eventually_dead(pid));
}

START_TEST(test_names_register_whereis_unregister_round_trip)
{
    run_main(main_round_trip, NULL, 2);
}
END_TEST

enum { IN_ORDER = 1000 };

static void
ordered_receiver(void *arg)
{
    int wrong = 0;
    for (int i = 0; i < IN_ORDER; i++) {
        hv_term m = next_msg();
        wrong += m != hv_int(i);
        hv_release(m);
    }
    EXPECT(wrong == 0);
    EXPECT(hv_send(arg_pid(arg), hv_atom("all_in_order")) == HV_OK);
}

static void
main_sends_by_name(void *arg)
{
    (void)arg;
    hv_term name = hv_atom("check_names_ordered");
    hv_term pid = hv_spawn(ordered_receiver, pid_arg(hv_self()));
    EXPECT(hv_register(name, pid, NULL) == HV_OK);
    for (int i = 0; i < IN_ORDER; i++)
        EXPECT(hv_send(name, hv_int(i)) == HV_OK);
    await_atom("all_in_order");
}

START_TEST(test_names_send_to_a_name_delivers_in_order)
{
    run_main(main_sends_by_name, NULL, 2);
}
END_TEST

START_TEST(test_names_send_to_a_name_from_a_plain_thread)
{
    hv_config c;
    hv_term m = HV_NONE;

    memset(&c, 0, sizeof c);
    c.schedulers = 2;
    hv_expect_reset();
    ck_assert_int_eq(hv_start(&c), HV_OK);
    hv_bridge *b = hv_bridge_open(NULL);
    ck_assert_ptr_nonnull(b);
    hv_term name = hv_atom("check_names_embedded");
    hv_term pid = hv_spawn(echo_server, NULL);
    ck_assert_int_eq(hv_register(name, pid, NULL), HV_OK);
    ck_assert(hv_whereis(name) == pid);
    ck_assert_int_eq(hv_send(name, hv_tuple(2, hv_bridge_pid(b), hv_int(7))),
                     HV_OK);
    ck_assert_int_eq(hv_bridge_recv(b, WAIT_MS, &m), HV_OK);
    ck_assert(hv_tuple_at(m, 1) == hv_int(7));
    hv_release(m);
    ck_assert_int_eq(
        hv_send(hv_atom("check_names_nobody"), hv_string("dropped")),
        HV_ENOPROC);
    /* A bridge can hold a name too. */
    ck_assert_int_eq(
        hv_register(hv_atom("check_names_bridge"), hv_bridge_pid(b), NULL),
        HV_OK);
    ck_assert_int_eq(hv_send(hv_atom("check_names_bridge"), hv_atom("hi")),
                     HV_OK);
    ck_assert_int_eq(hv_bridge_recv(b, WAIT_MS, &m), HV_OK);
    ck_assert(m == hv_atom("hi"));
    hv_bridge_close(b);
    ck_assert(hv_whereis(hv_atom("check_names_bridge")) == HV_NONE);
    ck_assert_int_eq(hv_stop(), HV_OK);
    ck_assert(hv_whereis(name) == HV_NONE);
    hv_expect_assert();
}
END_TEST

/* ---- names die with their process ------------------------------------- */

static void (*volatile exit_fn)(hv_term) = hv_exit;

static void __attribute__((noinline)) exit_deep(int depth)
{
    if (depth == 0) {
        exit_fn(hv_tuple(2, hv_atom("shutdown"), hv_string("deep")));
        return;
    }
    exit_deep(depth - 1);
    EXPECT(!"returned into a frame above hv_exit");
}

struct ender {
    hv_term parent, name;
    int how; /* 0 return, 1 hv_exit from depth, 2 registers itself */
};

static void
ender(void *arg)
{
    struct ender *e = arg;
    if (e->how == 2)
        EXPECT(hv_register(e->name, hv_self(), NULL) == HV_OK);
    EXPECT(hv_send(e->parent, hv_atom("registered")) == HV_OK);
    await_atom("end");
    if (e->how == 1)
        exit_deep(3);
}

static void
main_names_freed_on_exit(void *arg)
{
    (void)arg;
    static struct ender e[4];

    for (int how = 0; how < 4; how++) {
        char buf[48];
        snprintf(buf, sizeof buf, "check_names_ender_%d", how);
        hv_term name = hv_atom(buf);
        hv_term pid = HV_NONE;
        e[how].parent = hv_self();
        e[how].name = name;
        e[how].how = how;
        if (how == 3) {
            /* Named through the spawn option. */
            hv_spawn_opts o;
            memset(&o, 0, sizeof o);
            o.name = name;
            EXPECT(hv_spawn_opt(ender, &e[how], &o, &pid, NULL) == HV_OK);
        } else {
            pid = hv_spawn(ender, &e[how]);
            if (how < 2)
                EXPECT(hv_register(name, pid, NULL) == HV_OK);
        }
        await_atom("registered");
        EXPECT(hv_whereis(name) == pid);
        EXPECT(hv_send(name, hv_atom("end")) == HV_OK);
        EXPECT(eventually_unnamed(name));
        EXPECT(eventually_dead(pid));
        EXPECT(hv_send(name, hv_string("late")) == HV_ENOPROC);
        /* The name is free again. */
        EXPECT(hv_register(name, hv_self(), NULL) == HV_OK);
        EXPECT(hv_unregister(name) == HV_OK);
    }
}

START_TEST(test_names_name_is_freed_when_its_process_exits)
{
    run_main(main_names_freed_on_exit, NULL, 2);
}
END_TEST

static void
main_dead_means_unnamed(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++) {
        hv_term name = hv_atom("check_names_short_lived");
        hv_term pid = hv_spawn(await_stop, NULL);
        EXPECT(hv_register(name, pid, NULL) == HV_OK);
        EXPECT(hv_send(pid, hv_atom("stop")) == HV_OK);
        EXPECT(eventually_dead(pid));
        /* Once the process reads as dead its name must be gone too. */
        EXPECT(hv_whereis(name) == HV_NONE);
        EXPECT(hv_send(name, hv_atom("late")) == HV_ENOPROC);
        if (!EXPECT(hv_register(name, hv_self(), NULL) == HV_OK))
            break;
        EXPECT(hv_unregister(name) == HV_OK);
    }
}

START_TEST(test_names_name_is_gone_once_the_process_reads_as_dead)
{
    run_main(main_dead_means_unnamed, NULL, 2);
}
END_TEST

static void
main_former_holder_exits(void *arg)
{
    (void)arg;
    hv_term name = hv_atom("check_names_handed_over");
    for (int i = 0; i < 20; i++) {
        hv_term a = hv_spawn(await_stop, NULL);
        hv_term b = hv_spawn(await_stop, NULL);
        EXPECT(hv_register(name, a, NULL) == HV_OK);
        EXPECT(hv_unregister(name) == HV_OK);
        EXPECT(hv_register(name, b, NULL) == HV_OK);
        /* a's exit must not take b's name with it. */
        stop_and_reap(a);
        EXPECT(hv_whereis(name) == b);
        EXPECT(name_of(b) == name);
        stop_and_reap(b);
        EXPECT(eventually_unnamed(name));
    }
}

START_TEST(test_names_exit_of_a_former_holder_leaves_the_new_one)
{
    run_main(main_former_holder_exits, NULL, 2);
}
END_TEST

static int cleanup_register_rc;

/* A cleanup that names its dying process. */
static void
register_in_cleanup(void *arg)
{
    cleanup_register_rc = hv_register((hv_term)(uintptr_t)arg, hv_self(), NULL);
}

static void
names_itself_while_dying(void *arg)
{
    EXPECT(hv_defer(register_in_cleanup, arg) == HV_OK);
}

static void
main_cleanup_registers(void *arg)
{
    (void)arg;
    hv_term name = hv_atom("check_names_from_a_cleanup");
    hv_term pid = hv_spawn(names_itself_while_dying, (void *)(uintptr_t)name);
    EXPECT(eventually_dead(pid));
    /* Whether the late registration was refused or not, no name may
     * outlive its process. */
    EXPECT(eventually_unnamed(name));
    EXPECT(hv_send(name, hv_string("late")) == HV_ENOPROC);
    EXPECT(hv_register(name, hv_self(), NULL) == HV_OK);
}

START_TEST(test_names_a_name_taken_in_a_cleanup_dies_with_the_process)
{
    cleanup_register_rc = 1;
    run_main(main_cleanup_registers, NULL, 2);
    ck_assert_int_le(cleanup_register_rc, HV_OK);
}
END_TEST

/* ---- refusals -------------------------------------------------------------
 */

static void
main_refusals(void *arg)
{
    (void)arg;
    hv_term n1 = hv_atom("check_names_n1"), n2 = hv_atom("check_names_n2");
    hv_error err;

    hv_term a = hv_spawn(await_stop, NULL);
    hv_term b = hv_spawn(await_stop, NULL);
    EXPECT(hv_register(n1, a, NULL) == HV_OK);

    /* A taken name. */
    memset(&err, 0, sizeof err);
    EXPECT(hv_register(n1, b, &err) == HV_EBADARG);
    EXPECT(err.code == HV_EBADARG);
    EXPECT(hv_register(n1, b, NULL) == HV_EBADARG);
    EXPECT(hv_whereis(n1) == a);
    EXPECT(name_of(b) == HV_NONE);
    /* The same registration twice: the name is taken (by itself). */
    EXPECT(hv_register(n1, a, NULL) == HV_EBADARG);
    EXPECT(hv_whereis(n1) == a);

    /* A pid that has a name already. */
    memset(&err, 0, sizeof err);
    EXPECT(hv_register(n2, a, &err) == HV_EBADARG);
    EXPECT(err.code == HV_EBADARG);
    EXPECT(hv_whereis(n2) == HV_NONE);
    EXPECT(name_of(a) == n1);
    /* b, refused above, can still take n2. */
    EXPECT(hv_register(n2, b, NULL) == HV_OK);
    EXPECT(hv_whereis(n2) == b);

    stop_and_reap(a);
    stop_and_reap(b);
}

START_TEST(test_names_register_refuses_a_taken_name_and_a_named_pid)
{
    run_main(main_refusals, NULL, 2);
}
END_TEST

static void
main_dead_pid(void *arg)
{
    (void)arg;
    hv_term name = hv_atom("check_names_for_the_dead");
    hv_error err;

    hv_term pid = hv_spawn(returns_at_once, NULL);
    EXPECT(eventually_dead(pid));
    memset(&err, 0, sizeof err);
    EXPECT(hv_register(name, pid, &err) == HV_ENOPROC);
    EXPECT(err.code == HV_ENOPROC);
    EXPECT(hv_whereis(name) == HV_NONE);
    EXPECT(hv_register(name, hv_pid_local(1000000, 3), NULL) == HV_ENOPROC);
    EXPECT(hv_whereis(name) == HV_NONE);
    /* The name was not taken by the failures. */
    EXPECT(hv_register(name, hv_self(), NULL) == HV_OK);
}

START_TEST(test_names_register_a_dead_pid_is_enoproc)
{
    run_main(main_dead_pid, NULL, 2);
}
END_TEST

static void
main_bad_names(void *arg)
{
    (void)arg;
    hv_term bin = hv_string("check_names_binary");
    hv_term tup = hv_tuple(1, hv_atom("check_names_tuple"));
    hv_term bad[] = {HV_NONE, HV_NIL,    hv_int(1),        bin,
                     tup,     hv_self(), HV_ATOM_UNDEFINED};
    hv_error err;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        hv_expect_at(hv_register(bad[i], hv_self(), &err) == HV_EBADARG,
                  "register(bad[line], self) is EBADARG", (int)i);
        hv_expect_at(err.code == HV_EBADARG, "err.code for bad[line]", (int)i);
        hv_expect_at(hv_whereis(bad[i]) == HV_NONE, "whereis(bad[line])", (int)i);
        hv_expect_at(hv_unregister(bad[i]) == HV_EBADARG, "unregister(bad[line])",
                  (int)i);
    }
    EXPECT(name_of(hv_self()) == HV_NONE);
    hv_release(bin);
    hv_release(tup);

    /* Not a pid at all. */
    hv_term name = hv_atom("check_names_not_a_pid");
    EXPECT(hv_register(name, hv_int(3), NULL) == HV_EBADARG);
    EXPECT(hv_register(name, hv_atom("pid"), NULL) == HV_EBADARG);
    EXPECT(hv_register(name, HV_NONE, NULL) == HV_EBADARG);
    EXPECT(hv_whereis(name) == HV_NONE);
    EXPECT(hv_unregister(hv_atom("check_names_never_registered")) ==
           HV_EBADARG);
}

START_TEST(test_names_register_refuses_non_atoms_and_undefined)
{
    run_main(main_bad_names, NULL, 2);
}
END_TEST

static void
main_bad_sends(void *arg)
{
    (void)arg;
    /* Boxed messages: the fixture sees them leak if not freed. */
    EXPECT(hv_send(hv_atom("check_names_nobody"), hv_string("lost")) ==
           HV_ENOPROC);
    EXPECT(hv_send(hv_atom("check_names_nobody"),
                   hv_tuple(2, hv_atom("x"), hv_string("lost"))) == HV_ENOPROC);
    EXPECT(hv_send(HV_ATOM_UNDEFINED, hv_string("lost")) == HV_ENOPROC);
    EXPECT(hv_send(hv_int(3), hv_string("lost")) == HV_EBADARG);
    hv_term bin = hv_string("not an address");
    EXPECT(hv_send(bin, hv_string("lost")) == HV_EBADARG); /* borrowed */
    hv_release(bin);
    EXPECT(hv_send(hv_atom("check_names_nobody"), HV_NONE) == HV_EBADARG);
    /* Registered: HV_NONE is still refused, nothing is delivered. */
    EXPECT(hv_register(hv_atom("check_names_me"), hv_self(), NULL) == HV_OK);
    EXPECT(hv_send(hv_atom("check_names_me"), HV_NONE) == HV_EBADARG);
    hv_term m = HV_NIL;
    EXPECT(hv_recv(20, &m) == HV_ETIMEOUT);
}

START_TEST(test_names_send_to_an_unregistered_name_is_enoproc_and_frees_it)
{
    run_main(main_bad_sends, NULL, 2);
}
END_TEST

static void
check_no_runtime(hv_term old_pid)
{
    hv_term name = hv_atom("check_names_no_runtime");
    ck_assert(hv_whereis(name) == HV_NONE);
    ck_assert_int_eq(hv_unregister(name), HV_EBADARG);
    /* Nobody is alive: the header gives ENOPROC for a dead pid, and the
     * API answers EBADARG for "no runtime" elsewhere; either is a refusal
     * the caller can act on. */
    int rc = hv_register(name, old_pid, NULL);
    ck_assert_msg(rc == HV_ENOPROC || rc == HV_EBADARG,
                  "hv_register without a runtime gave %d", rc);
    ck_assert_int_eq(hv_register(hv_int(1), old_pid, NULL), HV_EBADARG);
    ck_assert_int_eq(hv_send(name, hv_string("lost")), HV_ENOPROC);
    ck_assert(hv_whereis(name) == HV_NONE);
}

static hv_term last_main;

static void
main_registers_and_leaves(void *arg)
{
    (void)arg;
    last_main = hv_self();
    EXPECT(hv_register(hv_atom("check_names_no_runtime"), hv_self(), NULL) ==
           HV_OK);
}

/* Before any runtime ran, and again once one has run and stopped with the
 * name still registered (its tables are gone: nothing may read them). */
START_TEST(test_names_without_a_runtime)
{
    check_no_runtime(hv_pid_local(1, 0));
    run_main(main_registers_and_leaves, NULL, 2);
    check_no_runtime(last_main);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("names");
    TCase *tc;

    tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_names_register_whereis_unregister_round_trip);
    tcase_add_test(tc, test_names_send_to_a_name_delivers_in_order);
    tcase_add_test(tc, test_names_send_to_a_name_from_a_plain_thread);
    tcase_add_test(tc, test_names_name_is_freed_when_its_process_exits);
    tcase_add_test(tc, test_names_name_is_gone_once_the_process_reads_as_dead);
    tcase_add_test(tc, test_names_exit_of_a_former_holder_leaves_the_new_one);
    tcase_add_test(tc,
                   test_names_a_name_taken_in_a_cleanup_dies_with_the_process);

    tc = hv_check_tcase(s, "errors");
    tcase_add_test(tc,
                   test_names_register_refuses_a_taken_name_and_a_named_pid);
    tcase_add_test(tc, test_names_register_a_dead_pid_is_enoproc);
    tcase_add_test(tc, test_names_register_refuses_non_atoms_and_undefined);
    tcase_add_test(
        tc, test_names_send_to_an_unregistered_name_is_enoproc_and_frees_it);
    tcase_add_test(tc, test_names_without_a_runtime);
    return s;
}
