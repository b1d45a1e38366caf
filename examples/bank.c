/* examples/bank.c - the seeds' bank Account as a pattern-dispatched
 * server, hammered by concurrent clients; money is conserved.
 *
 * An account is a server (hv_server_start_table) whose calls go to the
 * handler whose pattern and guards they match:
 *   {deposit, N}   -> {ok, NewBalance}
 *   {withdraw, N}  -> {ok, N}, or {error, insufficient_funds, Balance}:
 *                     an answer, not a crash; the account runs on
 *   balance        -> {ok, Balance}
 * and anything else ({withdraw, -5}) -> {error, {bad_request, Request}}.
 * It handles one call at a time, so the balance needs no lock.
 *
 * Part 1 (the seed's account-2): fred, barney and betty withdraw from one
 * account until refused, while wilma deposits.  Part 2 (account-3): fred
 * and barney each move money from the other's account into their own,
 * both at once, until refused; a transfer is a withdrawal, then a deposit.
 * Each part checks that money was conserved.  Clients are linked to main:
 * one that meets a surprise exits with `surprise` and takes main with it
 * (exit status 1).  --short opens accounts with 1000, as the seed; the
 * default with 100000. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h> /* rand_r */
#include <string.h>

#include <hive/hive.h>

enum { WAIT_MS = 30000 }; /* a call slower than this is a surprise */

static int64_t opening = 100000; /* each account's opening balance */
static int64_t budget = 100000;  /* most deposits or transfers per client */

/* A client process's argument.  Static, never on main's stack: a process
 * must not be handed a pointer into another's stack (process.h). */
struct client {
    const char *name;
    hv_term account; /* the account it uses: a registered name */
    hv_term other;   /* part 2: the account it takes money from */
    unsigned seed;   /* its own random numbers (rand_r) */
};

static hv_term main_pid;  /* clients report {done, Name, Amount} here */
static hv_rset *done_set; /* main receives those reports with it */

/* Each account's state, its balance: only its server touches it. */
static int64_t balances[3];

/* The guards checked N already: the handlers need no checks of
 * their own.  Bindings are borrowed from the request. */
static hv_server_result
deposit(const hv_bindings *b, hv_term from, void *state)
{
    int64_t *balance = state, amount = 0;
    (void)from;
    hv_int_value(hv_binding(b, "N"), &amount);
    *balance += amount;
    return hv_result_reply(hv_make("{ok, ~l}", *balance));
}

static hv_server_result
withdraw(const hv_bindings *b, hv_term from, void *state)
{
    int64_t *balance = state, amount = 0;
    (void)from;
    hv_int_value(hv_binding(b, "N"), &amount);
    if (amount > *balance) /* refused, and the server runs on */
        return hv_result_reply(
            hv_make("{error, insufficient_funds, ~l}", *balance));
    *balance -= amount;
    return hv_result_reply(hv_make("{ok, ~l}", amount));
}

static hv_server_result
balance(const hv_bindings *b, hv_term from, void *state)
{
    (void)b;
    (void)from;
    return hv_result_reply(hv_make("{ok, ~l}", *(int64_t *)state));
}

/* Compiled once into one receive set: a request is tested against every
 * clause in one pass.  The bound keeps balances far from int64's limit. */
static const hv_server_clause account_clauses[] = {
    {"{deposit, N} when is_integer(N), N > 0, N =< 1000000000", deposit},
    {"{withdraw, N} when is_integer(N), N > 0, N =< 1000000000", withdraw},
    {"balance", balance},
};

/* A surprise ends the calling process with reason `surprise`. */
static void
check(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "bank: unexpected: %s\n", what);
    hv_exit(hv_atom("surprise"));
}

/* Calls account with req (consumed).  {ok, N}: true and *n = N.
 * {error, insufficient_funds, Balance}: false and *n = Balance. */
static bool
request(hv_term account, hv_term req, int64_t *n)
{
    hv_term reply = HV_NONE;
    check(hv_call(account, req, WAIT_MS, &reply) == HV_OK, "hv_call failed");
    bool ok = hv_tuple_at(reply, 0) == HV_ATOM_OK;
    check(ok || hv_tuple_at(reply, 1) == hv_atom("insufficient_funds"),
          "a reply neither ok nor insufficient_funds");
    check(hv_int_value(hv_tuple_at(reply, ok ? 1 : 2), n) == HV_OK,
          "a reply without an amount");
    hv_release(reply);
    return ok;
}

/* The seed's MoneyDrain: withdraws 10, 20, 40, 80 or 160 until refused. */
static void
drain(void *arg)
{
    static const int64_t choices[] = {10, 20, 40, 80, 160};
    struct client *c = arg;
    int64_t grabbed = 0, got, want;
    for (;;) {
        want = choices[rand_r(&c->seed) % 5];
        if (!request(c->account, hv_make("{withdraw, ~l}", want), &got))
            break;
        grabbed += got;
    }
    printf("  %s: tapped out, balance %lld < %lld\n", c->name, (long long)got,
           (long long)want);
    hv_send(main_pid, hv_make("{done, ~a, ~l}", c->name, grabbed));
}

/* The seed's MoneySource: deposits 1..100 until told to stop. */
static void
source(void *arg)
{
    struct client *c = arg;
    int64_t deposited = 0, now;
    hv_term stop = HV_NONE;
    for (int64_t i = 0; i < budget && hv_recv(0, &stop) != HV_OK; i++) {
        int64_t amount = 1 + rand_r(&c->seed) % 100;
        check(request(c->account, hv_make("{deposit, ~l}", amount), &now),
              "a deposit refused");
        deposited += amount;
    }
    if (stop == HV_NONE) /* out of budget: wait to be told */
        hv_recv(HV_INFINITY, &stop);
    hv_release(stop);
    hv_send(main_pid, hv_make("{done, ~a, ~l}", c->name, deposited));
}

/* The seed's MischiefMaker: moves 10..100 at a time from the other's
 * account into its own until the other cannot pay.  A refused withdrawal
 * moves nothing; an accepted one is always deposited. */
static void
mischief_maker(void *arg)
{
    struct client *c = arg;
    int64_t grabbed = 0, got, now;
    for (int64_t i = 0; i < budget; i++) {
        int64_t grab = 10 * (1 + rand_r(&c->seed) % 10);
        if (!request(c->other, hv_make("{withdraw, ~l}", grab), &got))
            break;
        check(request(c->account, hv_make("{deposit, ~l}", got), &now),
              "a deposit refused");
        grabbed += got;
    }
    hv_send(main_pid, hv_make("{done, ~a, ~l}", c->name, grabbed));
}

/* Opens account number i, linked to main; returns its registered name.
 * No callbacks (NULL): the table answers calls, the state is the arg. */
static hv_term
open_account(const char *name, int i)
{
    hv_server_opts opts = {.name = hv_atom(name), .link = true};
    hv_term pid = HV_NONE, reason = HV_NONE;
    balances[i] = opening; /* before the server runs: no race */
    check(hv_server_start_table(account_clauses, 3, NULL, &balances[i], &opts,
                                &pid, &reason) == HV_OK,
          "hv_server_start_table failed");
    return opts.name;
}

static hv_term
start_client(hv_fn *fn, struct client *c, hv_term account, unsigned seed)
{
    c->account = account;
    c->seed = seed;
    hv_term pid = hv_spawn_link(fn, c);
    check(pid != HV_NONE, "hv_spawn_link failed");
    return pid;
}

/* Waits for a client's {done, Who, Amount}; returns Amount. */
static int64_t
await_done(const char *verb)
{
    hv_bindings b;
    int64_t amount = 0;
    check(hv_receive(done_set, NULL, WAIT_MS, &b) == HV_OK, "no report");
    hv_int_value(hv_binding(&b, "Amount"), &amount);
    printf("  %s %s %lld\n", hv_atom_name(hv_binding(&b, "Who"), NULL), verb,
           (long long)amount);
    hv_bindings_release(&b);
    return amount;
}

/* Checks that no money was created or lost, then closes the accounts
 * (reason normal: main is linked to them, and links ignore normal). */
static void
settle_up(const char *what, int64_t expected, const hv_term *accounts, int n)
{
    int64_t found = 0, now = 0;
    for (int i = 0; i < n; i++) {
        check(request(accounts[i], hv_atom("balance"), &now), "no balance");
        found += now;
    }
    printf("  %s = %lld; the accounts hold %lld: money is %s\n", what,
           (long long)expected, (long long)found,
           expected == found ? "conserved" : "NOT conserved");
    check(expected == found, "money was created or lost");
    for (int i = 0; i < n; i++)
        check(hv_server_stop(accounts[i], hv_atom("normal"), WAIT_MS) == HV_OK,
              "hv_server_stop failed");
}

static void
one_account(void)
{
    static struct client drains[3] = {
        {.name = "fred"}, {.name = "barney"}, {.name = "betty"}};
    static struct client wilma = {.name = "wilma"};
    hv_term account = open_account("account", 0), reply = HV_NONE;
    hv_term bad = hv_parse("{error, {bad_request, {withdraw, -5}}}", NULL);
    printf("part 1: account opens with %lld\n", (long long)opening);
    hv_term req = hv_parse("{withdraw, -5}", NULL);
    check(hv_call(account, req, WAIT_MS, &reply) == HV_OK &&
              hv_equal(reply, bad),
          "{withdraw, -5} was not a bad request");
    printf("  {withdraw, -5} fails the guards: a bad_request; it runs on\n");
    hv_release(reply);
    hv_release(bad);
    for (unsigned i = 0; i < 3; i++)
        start_client(drain, &drains[i], account, 1 + i);
    hv_term wilma_pid = start_client(source, &wilma, account, 42);
    int64_t withdrawn = 0;
    for (int i = 0; i < 3; i++)
        withdrawn += await_done("withdrew");
    hv_send(wilma_pid, hv_atom("stop"));
    int64_t deposited = await_done("deposited");
    settle_up("opening + deposited - withdrawn",
              opening + deposited - withdrawn, &account, 1);
}

static void
two_accounts(void)
{
    static struct client makers[2] = {{.name = "fred"}, {.name = "barney"}};
    hv_term own[2] = {open_account("account1", 1), open_account("account2", 2)};
    printf("part 2: account1 and account2 open with %lld each\n",
           (long long)opening);
    for (unsigned i = 0; i < 2; i++) {
        makers[i].other = own[1 - i];
        start_client(mischief_maker, &makers[i], own[i], 7 + i);
    }
    await_done("grabbed");
    await_done("grabbed");
    settle_up("the total before", 2 * opening, own, 2);
}

static void
bank(void *arg)
{
    main_pid = hv_self();
    done_set = hv_rset_new(NULL, "{done, Who, Amount}", NULL);
    check(done_set != NULL, "the receive set did not compile");
    (void)arg;
    one_account();
    two_accounts();
    printf("ok\n");
}

int
main(int argc, char **argv)
{
    hv_term reason = HV_NONE;
    if (argc > 1 && strcmp(argv[1], "--short") == 0) {
        opening = 1000;
        budget = 2000;
    }
    bool ok = hv_run(bank, NULL, NULL, &reason) == HV_OK &&
              hv_equal(reason, hv_atom("normal"));
    hv_release(reason);
    hv_rset_free(done_set);
    return ok ? 0 : 1;
}
