/* tests/check_server_table.c - pattern-dispatched servers, one row per
 * rule: a call picks its handler by shape (clauses in order, guards
 * included) and the handler gets the bindings by name; a request no
 * clause matches is answered {error, {bad_request, Req}} and the server
 * runs on; a bad pattern is {bad_pattern, Index, Text} before any
 * process exists; cb->handle_call is refused; casts, other messages,
 * init and terminate go to cb.  Also here, against a table server: the
 * seeds' account (the threaded actor post: a withdrawal past the balance
 * is an error reply and the account runs on), bridges calling in, and
 * hv_reply from a plain thread.
 *
 * The server is a bank: its state is the balance and the process to
 * tell what cb saw ({cast, Msg}, {info, Msg}, {terminate, Reason}).
 * Nothing sleeps to synchronize; rows run on 1 and 2 schedulers. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hive/hive.h"
#include "runtime/util.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"
#include "tests/signal_util.h"

enum { WAIT_MS = SIGNAL_WAIT_MS };

/* ---- the bank ----------------------------------------------------------- */

enum bank_init { BANK_OK, BANK_IGNORE, BANK_STOP };

/* Owned by the test (malloc'd, never on a process stack), freed once the
 * server is dead. */
struct bank {
    hv_term observer;
    enum bank_init init;
    int64_t balance;
};

static void
tell(hv_term to, const char *tag, hv_term what)
{
    hv_send(to, hv_tuple(2, hv_atom(tag), what));
}

/* Amount, bound by the clause (an integer, as its guard says). */
static int64_t
amount(const hv_bindings *b)
{
    int64_t n = 0;
    EXPECT(hv_int_value(hv_binding(b, "Amount"), &n) == HV_OK);
    return n;
}

static hv_server_result
deposit(const hv_bindings *b, hv_term from, void *state)
{
    struct bank *bank = state;
    (void)from;
    bank->balance += amount(b);
    return hv_result_reply(hv_tuple(2, HV_ATOM_OK, hv_int(bank->balance)));
}

/* The seeds' InsufficientFunds, as a reply carrying the balance. */
static hv_server_result
withdraw(const hv_bindings *b, hv_term from, void *state)
{
    struct bank *bank = state;
    int64_t n = amount(b);
    (void)from;
    if (bank->balance < n)
        return hv_result_reply(hv_tuple(3, HV_ATOM_ERROR,
                                        hv_atom("insufficient_funds"),
                                        hv_int(bank->balance)));
    bank->balance -= n;
    return hv_result_reply(hv_tuple(2, HV_ATOM_OK, hv_int(n)));
}

static hv_server_result
balance(const hv_bindings *b, hv_term from, void *state)
{
    struct bank *bank = state;
    (void)b;
    (void)from;
    return hv_result_reply(hv_tuple(2, HV_ATOM_OK, hv_int(bank->balance)));
}

/* {swap, A, B} -> {B, A}: bindings are found by name, not position. */
static hv_server_result
swap(const hv_bindings *b, hv_term from, void *state)
{
    (void)from;
    (void)state;
    return hv_result_reply(hv_tuple(2, hv_retain(hv_binding(b, "B")),
                                    hv_retain(hv_binding(b, "A"))));
}

/* Replies {clause, Index}: which clause matched. */
static hv_server_result
which(const hv_bindings *b, hv_term from, void *state)
{
    (void)from;
    (void)state;
    return hv_result_reply(hv_tuple(2, hv_atom("clause"), hv_int(b->clause)));
}

/* {later, To}: To gets {from, From} and replies when it likes. */
static hv_server_result
later(const hv_bindings *b, hv_term from, void *state)
{
    (void)state;
    tell(hv_binding(b, "To"), "from", hv_retain(from));
    return hv_result_noreply();
}

static hv_server_result
crash(const hv_bindings *b, hv_term from, void *state)
{
    (void)from;
    (void)state;
    hv_exit(hv_retain(hv_binding(b, "Why")));
}

static hv_server_result
stop(const hv_bindings *b, hv_term from, void *state)
{
    (void)from;
    (void)state;
    return hv_result_stop(hv_retain(hv_binding(b, "Why")), hv_atom("stopping"));
}

static const hv_server_clause bank_clauses[] = {
    {"{deposit, Amount} when is_integer(Amount), Amount > 0", deposit},
    {"{withdraw, Amount} when is_integer(Amount), Amount > 0", withdraw},
    {"balance", balance},
    {"{swap, A, B}", swap},
    {"{pair, X, X}", which},                                 /* clause 4 */
    {"{pair, _, _}", which},                                 /* clause 5 */
    {"{name, N} when N =~ \"^[a-z]+$\"", which},             /* clause 6 */
    {"{size, T} when tuple_size(T) > 2; is_list(T)", which}, /* 7 */
    {"{later, To} when is_pid(To)", later},
    {"{crash, Why}", crash},
    {"{stop, Why}", stop},
};

static enum hv_server_init_action
bank_init(void *arg, void **state, int64_t *timeout_ms, hv_term *reason)
{
    struct bank *bank = arg;
    (void)timeout_ms;
    *state = bank;
    if (bank->init == BANK_STOP)
        *reason = hv_tuple(2, hv_atom("closed"), hv_int(bank->balance));
    return bank->init == BANK_OK       ? HV_SERVER_INIT_OK
           : bank->init == BANK_IGNORE ? HV_SERVER_INIT_IGNORE
                                       : HV_SERVER_INIT_STOP;
}

static hv_server_result
bank_cast(hv_term msg, void *state)
{
    struct bank *bank = state;
    tell(bank->observer, "cast", hv_retain(msg));
    return hv_result_noreply();
}

static hv_server_result
bank_info(hv_term msg, void *state)
{
    struct bank *bank = state;
    tell(bank->observer, "info", hv_retain(msg));
    return hv_result_noreply();
}

static void
bank_terminate(hv_term reason, void *state)
{
    struct bank *bank = state;
    tell(bank->observer, "terminate", hv_retain(reason));
}

static const hv_server_callbacks bank_cb = {.init = bank_init,
                                            .handle_cast = bank_cast,
                                            .handle_info = bank_info,
                                            .terminate = bank_terminate};

/* (process) A bank observed by the caller. */
static struct bank *
bank_new(int64_t balance)
{
    struct bank *b = malloc(sizeof *b);
    if (!EXPECT(b != NULL))
        abort();
    *b = (struct bank){hv_self(), BANK_OK, balance};
    return b;
}

/* (process) Starts a bank server registered as name (unless HV_NONE). */
static hv_term
open_bank(struct bank *b, hv_term name)
{
    hv_server_opts o = {.name = name};
    hv_term pid = HV_NONE;

    EXPECT(hv_server_start_table(bank_clauses, HV_ARRAY_LEN(bank_clauses),
                                 &bank_cb, b, &o, &pid, NULL) == HV_OK);
    return pid;
}

/* (process) Stops pid if it runs, waits until it is gone, frees b. */
static void
close_bank(hv_term pid, struct bank *b)
{
    hv_term ref = hv_monitor(pid);

    hv_server_stop(pid, hv_atom("normal"), WAIT_MS);
    hv_release(down_reason(ref));
    hv_release(ref);
    free(b);
}

/* (process) Whether calling server with the request (text) gives rc and
 * a reply (or exit reason) matching want. */
static bool
call_gives(hv_term server, const char *request, int rc, const char *want)
{
    hv_term reply = HV_NONE;
    int got_rc = hv_call(server, hv_parse(request, NULL), WAIT_MS, &reply);

    if (got_rc != rc) {
        if (got_rc == HV_OK || got_rc == HV_EEXIT)
            hv_release(reply);
        return false;
    }
    return matches(reply, want, NULL);
}

static bool
calls(hv_term server, const char *request, const char *want)
{
    return call_gives(server, request, HV_OK, want);
}

/* (process) Whether the monitor ref (consumed) reports reason. */
static bool
ends_with(hv_term ref, const char *reason)
{
    bool ok = matches(down_reason(ref), reason, NULL);
    hv_release(ref);
    return ok;
}

/* ---- dispatch ------------------------------------------------------------ */

/* Each shape reaches its clause; handlers read bindings by name. */
static void
calls_dispatch_by_shape_with_bindings(void)
{
    struct bank *b = bank_new(0);
    hv_term pid = open_bank(b, HV_NONE);

    EXPECT(calls(pid, "{deposit, 100}", "{ok, 100}"));
    EXPECT(calls(pid, "{withdraw, 30}", "{ok, 30}"));
    EXPECT(calls(pid, "balance", "{ok, 70}"));
    EXPECT(calls(pid, "{swap, 1, {x, [y]}}", "{{x, [y]}, 1}"));
    close_bank(pid, b);
}

/* No clause matches (a shape nobody handles, a guard that fails, exact
 * matching): {error, {bad_request, Req}}, and the server runs on with
 * its state untouched. */
static void
unmatched_requests_are_bad_requests(void)
{
    static const char *const bad[] = {
        "{withdraw, -5}",      "{deposit, 1.5}",
        "{deposit, 0}",        "frobnicate",
        "{balance}",           "<<\"balance\">>",
        "{swap, 1}",           "[]",
        "{later, self}",       "{name, abc}",
        "{name, <<\"ABC\">>}",
    };
    struct bank *b = bank_new(10);
    hv_term pid = open_bank(b, HV_NONE);
    char want[128];

    for (size_t i = 0; i < HV_ARRAY_LEN(bad); i++) {
        snprintf(want, sizeof want, "{error, {bad_request, %s}}", bad[i]);
        EXPECT(calls(pid, bad[i], want));
    }
    EXPECT(hv_is_alive(pid));
    EXPECT(calls(pid, "balance", "{ok, 10}"));
    close_bank(pid, b);
}

/* Clauses are tried in order; repeated variables must be equal (=:=),
 * guards (regex, sequences with ';') pick among same-shaped clauses. */
static void
guards_and_clause_order(void)
{
    struct bank *b = bank_new(0);
    hv_term pid = open_bank(b, HV_NONE);

    EXPECT(calls(pid, "{pair, 1, 1}", "{clause, 4}"));
    EXPECT(calls(pid, "{pair, 1, 2}", "{clause, 5}"));
    EXPECT(calls(pid, "{pair, 1, 1.0}", "{clause, 5}"));
    EXPECT(calls(pid, "{name, <<\"abc\">>}", "{clause, 6}"));
    EXPECT(calls(pid, "{size, {1, 2, 3}}", "{clause, 7}"));
    EXPECT(calls(pid, "{size, [1]}", "{clause, 7}"));
    EXPECT(
        calls(pid, "{size, {1, 2}}", "{error, {bad_request, {size, {1, 2}}}}"));
    close_bank(pid, b);
}

/* The seeds' account: withdrawing more than the balance gets
 * {error, insufficient_funds, Balance}, and the account runs on. */
static void
account_refuses_an_overdraft_and_runs_on(void)
{
    struct bank *b = bank_new(10);
    hv_term pid = open_bank(b, hv_atom("account"));

    EXPECT(calls(hv_atom("account"), "{deposit, 100}", "{ok, 110}"));
    EXPECT(calls(pid, "{withdraw, 160}", "{error, insufficient_funds, 110}"));
    EXPECT(hv_is_alive(pid));
    EXPECT(calls(pid, "{deposit, 50}", "{ok, 160}"));
    EXPECT(calls(pid, "{withdraw, 160}", "{ok, 160}"));
    EXPECT(calls(pid, "{withdraw, 1}", "{error, insufficient_funds, 0}"));
    close_bank(pid, b);
}

/* Many clients at once: every deposit lands. */
struct client {
    hv_term bank, main;
    int64_t deposits;
};

static void
depositor(void *arg)
{
    const struct client *c = arg;
    bool right = true;

    for (int64_t i = 0; i < c->deposits; i++)
        right &= calls(c->bank, "{deposit, 1}", "{ok, _}");
    tell(c->main, "done", right ? HV_ATOM_TRUE : HV_ATOM_FALSE);
}

static void
concurrent_clients(void)
{
    enum { CLIENTS = 50 };
    struct bank *b = bank_new(0);
    struct client *c = malloc(sizeof *c);
    char want[40];

    *c = (struct client){open_bank(b, HV_NONE), hv_self(), hv_check_scale(200)};
    for (int i = 0; i < CLIENTS; i++)
        EXPECT(hv_spawn(depositor, c) != HV_NONE);
    for (int i = 0; i < CLIENTS; i++)
        EXPECT(got("{done, true}", NULL));
    snprintf(want, sizeof want, "{ok, %lld}",
             (long long)(CLIENTS * c->deposits));
    EXPECT(calls(c->bank, "balance", want));
    close_bank(c->bank, b);
    free(c);
}

/* ---- replies later, crashes, stops ------------------------------------- */

struct later_job {
    hv_term bank, main;
};

/* Calls {later, Main} and reports {result, Rc, Reply}. */
static void
later_caller(void *arg)
{
    struct later_job job = *(struct later_job *)arg;
    hv_term reply = HV_NONE;

    free(arg);
    int rc = hv_call(job.bank, hv_tuple(2, hv_atom("later"), job.main), WAIT_MS,
                     &reply);
    if (rc != HV_OK)
        reply = hv_atom("none");
    hv_send(job.main, hv_tuple(3, hv_atom("result"), hv_int(rc), reply));
}

/* (process) Spawns a later_caller; returns the {from, From} message. */
static hv_term
handed_over(hv_term bank)
{
    struct later_job *job = malloc(sizeof *job);
    if (!EXPECT(job != NULL))
        abort();
    *job = (struct later_job){bank, hv_self()};
    EXPECT(hv_spawn(later_caller, job) != HV_NONE);
    return recv_match("{from, _}", NULL, WAIT_MS);
}

static void *
reply_from_thread(void *from)
{
    EXPECT(hv_reply((hv_term)(uintptr_t)from, hv_atom("threaded")) == HV_OK);
    return NULL;
}

/* A handler's noreply answered with hv_reply(From) by another process,
 * then by a plain thread ("any process or thread"). */
static void
handlers_reply_later(void)
{
    struct bank *b = bank_new(0);
    hv_term pid = open_bank(b, HV_NONE);
    pthread_t th;

    hv_term m = handed_over(pid);
    EXPECT(hv_reply(hv_tuple_at(m, 1), hv_atom("later")) == HV_OK);
    EXPECT(got("{result, 0, later}", NULL));
    hv_release(m);

    m = handed_over(pid);
    EXPECT(pthread_create(&th, NULL, reply_from_thread,
                          (void *)(uintptr_t)hv_tuple_at(m, 1)) == 0);
    EXPECT(got("{result, 0, threaded}", NULL));
    pthread_join(th, NULL);
    hv_release(m);
    close_bank(pid, b);
}

/* A handler that exits: the caller gets HV_EEXIT with the reason and cb's
 * terminate runs with it; a stop clause replies, then terminates. */
static void
handler_crash_and_stop(void)
{
    struct bank *b = bank_new(0), *c = bank_new(0);
    hv_term pid = open_bank(b, HV_NONE), ref = hv_monitor(pid);

    EXPECT(call_gives(pid, "{crash, {oops, 1}}", HV_EEXIT, "{oops, 1}"));
    EXPECT(got("{terminate, {oops, 1}}", NULL));
    EXPECT(ends_with(ref, "{oops, 1}"));
    close_bank(pid, b);

    pid = open_bank(c, HV_NONE);
    ref = hv_monitor(pid);
    EXPECT(calls(pid, "{stop, closing}", "stopping"));
    EXPECT(got("{terminate, closing}", NULL));
    EXPECT(ends_with(ref, "closing"));
    close_bank(pid, c);
}

/* ---- cb: casts, info, init ---------------------------------------------- */

/* Casts and other messages go to cb, never to the table: a cast shaped
 * like a clause's request changes nothing. */
static void
casts_and_info_go_to_cb(void)
{
    struct bank *b = bank_new(5);
    hv_term pid = open_bank(b, HV_NONE);

    EXPECT(hv_cast(pid, hv_parse("{deposit, 100}", NULL)) == HV_OK);
    EXPECT(got("{cast, {deposit, 100}}", NULL));
    EXPECT(hv_send(pid, hv_parse("{withdraw, 5}", NULL)) == HV_OK);
    EXPECT(got("{info, {withdraw, 5}}", NULL));
    EXPECT(calls(pid, "balance", "{ok, 5}"));
    close_bank(pid, b);
}

/* init's ignore and stop reach the starter as with hv_server_start and
 * leave no process; with cb NULL the state is arg. */
static void
init_and_null_cb(void)
{
    static const hv_server_clause one[] = {{"balance", balance}};
    struct bank *b = bank_new(3);
    hv_server_opts o = {.name = hv_atom("bank")};
    hv_term pid = HV_NONE, why = HV_NONE;
    size_t n = hv_process_count();

    b->init = BANK_IGNORE;
    EXPECT(hv_server_start_table(one, 1, &bank_cb, b, &o, &pid, NULL) ==
           HV_EIGNORE);
    b->init = BANK_STOP;
    EXPECT(hv_server_start_table(one, 1, &bank_cb, b, &o, &pid, &why) ==
           HV_EEXIT);
    EXPECT(matches(why, "{closed, 3}", NULL));
    EXPECT(eventually_count(n) && eventually_unnamed(hv_atom("bank")));
    EXPECT(hv_server_start_table(one, 1, NULL, b, &o, &pid, NULL) == HV_OK);
    EXPECT(calls(hv_atom("bank"), "balance", "{ok, 3}"));
    EXPECT(calls(pid, "{deposit, 1}", "{error, {bad_request, {deposit, 1}}}"));
    EXPECT(hv_cast(pid, hv_atom("dropped")) == HV_OK);
    EXPECT(calls(pid, "balance", "{ok, 3}"));
    close_bank(pid, b);
}

/* ---- errors -------------------------------------------------------------- */

/* A bad pattern: HV_EBADARG and {bad_pattern, Index, Text} (Index counts
 * from 0, as hv_rset_compile's "clause N"), no process, no name. */
static void
bad_patterns_are_refused(void)
{
    static const struct {
        const char *pattern;
        int index;
    } bad[] = {
        {"{withdraw, ", 1},            /* unfinished */
        {"{x, A} when frob(A)", 0},    /* unknown guard function */
        {"{x, A} when B > 0", 2},      /* unbound guard variable */
        {"{x, A} when A =~ \"(\"", 1}, /* bad regex */
    };
    struct bank *b = bank_new(0);
    hv_server_opts o = {.name = hv_atom("bank")};
    size_t n = hv_process_count();
    char want[64];

    for (size_t i = 0; i < HV_ARRAY_LEN(bad); i++) {
        hv_server_clause table[3] = {{"balance", balance},
                                     {"{swap, A, B}", swap},
                                     {"{pair, X, X}", which}};
        hv_term pid = HV_NONE, why = HV_NONE;

        table[bad[i].index].pattern = bad[i].pattern;
        EXPECT(hv_server_start_table(table, 3, &bank_cb, b, &o, &pid, &why) ==
               HV_EBADARG);
        snprintf(want, sizeof want,
                 "{bad_pattern, %d, T} when byte_size(T) > 0", bad[i].index);
        EXPECT(matches(why, want, NULL));
    }
    EXPECT(eventually_count(n));
    EXPECT(hv_whereis(hv_atom("bank")) == HV_NONE);
    EXPECT(quiet("{terminate, _}", NULL));
    free(b);
}

static hv_server_result
stray_call(hv_term request, hv_term from, void *state)
{
    (void)request;
    (void)from;
    (void)state;
    return hv_result_reply(hv_atom("stray"));
}

/* cb->handle_call set: the table decides calls, so it is refused. */
static void
handle_call_in_cb_is_refused(void)
{
    static const hv_server_callbacks with_call = {.handle_call = stray_call};
    struct bank *b = bank_new(0);
    hv_server_opts o = {0};
    hv_term pid = HV_NONE;
    size_t n = hv_process_count();

    EXPECT(hv_server_start_table(bank_clauses, HV_ARRAY_LEN(bank_clauses),
                                 &with_call, b, &o, &pid, NULL) == HV_EBADARG);
    EXPECT(eventually_count(n));
    free(b);
}

/* ---- plain threads: bridges call in; hv_call and starts refuse ---------- */

static void *
bridge_thread(void *arg)
{
    hv_term server = (hv_term)(uintptr_t)arg, reply = HV_NONE, pid;
    hv_bridge *br = hv_bridge_open(NULL);

    if (!EXPECT(br != NULL))
        return NULL;
    EXPECT(hv_bridge_call(br, server, hv_parse("{deposit, 7}", NULL), WAIT_MS,
                          &reply) == HV_OK);
    EXPECT(matches(reply, "{ok, 7}", NULL));
    EXPECT(hv_bridge_call(br, hv_atom("bank"), hv_parse("{swap, 1, 2}", NULL),
                          WAIT_MS, &reply) == HV_OK);
    EXPECT(matches(reply, "{2, 1}", NULL));
    EXPECT(hv_bridge_call(br, server, hv_atom("nope"), WAIT_MS, &reply) ==
           HV_OK);
    EXPECT(matches(reply, "{error, {bad_request, nope}}", NULL));
    EXPECT(hv_call(server, hv_atom("balance"), WAIT_MS, &reply) == HV_EBADARG);
    EXPECT(hv_server_start_table(bank_clauses, 1, NULL, NULL, NULL, &pid,
                                 NULL) == HV_EBADARG);
    hv_bridge_close(br);
    hv_send(hv_atom("main"), hv_atom("bridged"));
    return NULL;
}

static void
bridges_call_a_table_server(void)
{
    struct bank *b = bank_new(0);
    hv_term pid = open_bank(b, hv_atom("bank"));
    pthread_t th;

    EXPECT(hv_register(hv_atom("main"), hv_self(), NULL) == HV_OK);
    EXPECT(pthread_create(&th, NULL, bridge_thread, (void *)(uintptr_t)pid) ==
           0);
    /* The thread needs the schedulers while it calls: a join would block
     * the one this process runs on, so wait for its message first. */
    EXPECT(got("bridged", NULL));
    pthread_join(th, NULL);
    EXPECT(calls(pid, "balance", "{ok, 7}"));
    close_bank(pid, b);
}

/* ---- the rows ------------------------------------------------------------ */

struct row {
    const char *rule;
    void (*body)(void);
};

static const struct row rows[] = {
    {"dispatch, bindings", calls_dispatch_by_shape_with_bindings},
    {"bad requests", unmatched_requests_are_bad_requests},
    {"guards, order", guards_and_clause_order},
    {"account", account_refuses_an_overdraft_and_runs_on},
    {"concurrent clients", concurrent_clients},
    {"reply later", handlers_reply_later},
    {"crash, stop", handler_crash_and_stop},
    {"casts, info", casts_and_info_go_to_cb},
    {"init, NULL cb", init_and_null_cb},
    {"bridges", bridges_call_a_table_server},
    /* errors */
    {"bad patterns", bad_patterns_are_refused},
    {"handle_call in cb", handle_call_in_cb_is_refused},
};
enum { ERROR_ROWS = 10 };

static void
run_body(void *row)
{
    ((const struct row *)row)->body();
}

START_TEST(test_server_table_rule)
{
    run_main(run_body, (void *)&rows[_i], 1);
    run_main(run_body, (void *)&rows[_i], 2);
}
END_TEST

/* With no runtime: not from a process. */
START_TEST(test_server_table_start_outside_a_process_is_ebadarg)
{
    hv_term pid = HV_NONE;
    ck_assert_int_eq(
        hv_server_start_table(bank_clauses, 1, NULL, NULL, NULL, &pid, NULL),
        HV_EBADARG);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("server_table");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_loop_test(tc, test_server_table_rule, 0, ERROR_ROWS);
    tc = hv_check_tcase(s, "errors");
    tcase_add_loop_test(tc, test_server_table_rule, ERROR_ROWS,
                        (int)HV_ARRAY_LEN(rows));
    tcase_add_test(tc, test_server_table_start_outside_a_process_is_ebadarg);
    return s;
}
