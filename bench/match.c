/* bench/match.c - how fast a receive set with six unlike clauses tests
 * messages.  hive's own benchmark: the peers have none like it (Erlang
 * compiles a receive into code, and its cost shows only inside the
 * selective receive figures), so bench/run prints hive's figures alone.
 *
 * The set, whose clauses share no position that a mailbox index could
 * key on, so every message is tested against the clauses themselves:
 *     {add, X, Y} when is_integer(X), is_integer(Y)
 *     {mul, X, Y} when is_integer(X), is_integer(Y)
 *     {get, Key} when is_atom(Key)
 *     {put, Key, Val}
 *     [H | T] when is_integer(H)
 *     #{op := Op}
 * The stream: STREAM_LEN distinct terms of the KINDS below, in an order
 * drawn from a fixed seed; 12 kinds match one clause each (2 per clause),
 * 8 match none, some only by failing a guard.  Every result is checked
 * against the clause its kind must match.
 *
 * match6: hv_rset_match over the pre-built stream, ROUNDS times (pure
 * matching: no mailbox, no process switch).  One op is one term tested.
 *
 * match6_receive: a process sends itself the stream ROUNDS_RECV times
 * (untimed), the terms that match some clause first, then those that
 * match none.  Timed: one hv_receive (timeout 0) per matching message,
 * each finding its message at the head of the mailbox, then one more,
 * which tests every message left and times out.  One op is one message
 * tested: n = matching + non-matching messages.  Afterwards exactly the
 * non-matching messages are left, in order.
 *
 * match6: 4,096 terms x 2,000 rounds; match6_receive: 4,096 x 250.
 * --short: 4,096 x 10 and 4,096 x 3. */
#include "bench/bench.h"

#define STREAM_LEN 4096
#define FULL_ROUNDS 2000
#define FULL_ROUNDS_RECV 250
#define SHORT_ROUNDS 10
#define SHORT_ROUNDS_RECV 3
#define NCLAUSES 6
#define SEED 0x9e3779b97f4a7c15u

static const char *const clauses[NCLAUSES] = {
    "{add, X, Y} when is_integer(X), is_integer(Y)",
    "{mul, X, Y} when is_integer(X), is_integer(Y)",
    "{get, Key} when is_atom(Key)",
    "{put, Key, Val}",
    "[H | T] when is_integer(H)",
    "#{op := Op}",
};

/* Each kind is an hv_make format given one int64_t V (formats that do not
 * use it ignore it) and the clause it must match, -1 for none. */
static const struct kind {
    const char *fmt;
    int clause;
} kinds[] = {
    {"{add, ~l, 2}", 0},
    {"{add, 7, ~l}", 0},
    {"{mul, ~l, 3}", 1},
    {"{mul, -2, ~l}", 1},
    {"{get, counter}", 2},
    {"{get, 'user name'}", 2},
    {"{put, counter, ~l}", 3},
    {"{put, <<\"key\">>, [~l]}", 3},
    {"[~l, 2, 3]", 4},
    {"[~l | tail]", 4},
    {"#{op => inc, arg => ~l}", 5},
    {"#{n => ~l, op => dec, extra => x}", 5},
    {"{add, ~l, 2.5}", -1},     /* Y is no integer */
    {"{mul, x, ~l}", -1},       /* X is no integer */
    {"{get, ~l}", -1},          /* Key is no atom */
    {"[a, ~l]", -1},            /* H is no integer */
    {"#{opx => ~l}", -1},       /* no key op */
    {"{put, ~l}", -1},          /* put with one argument */
    {"{noop, ~l, ~l, ~l}", -1}, /* no such tag */
    {"~l", -1},                 /* no tuple, list or map */
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

struct match_ctx {
    struct bench_opts opts;
    hv_rset *set;
    hv_term stream[STREAM_LEN];
    int expect[STREAM_LEN]; /* the clause stream[i] must match, or -1 */
    long matching;          /* stream entries with expect >= 0 */
    long rounds, rounds_recv;
    hv_term driver, done;
};

/* xorshift64: a fixed, cheap order that a branch predictor cannot learn
 * from a short cycle. */
static uint64_t
next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static void
build_stream(struct match_ctx *c)
{
    const struct bench_opts *o = &c->opts;
    uint64_t state = SEED;
    c->matching = 0;
    for (size_t i = 0; i < STREAM_LEN; i++) {
        const struct kind *k = &kinds[next_random(&state) % NKINDS];
        int64_t v = (int64_t)(next_random(&state) % 1000000);
        hv_error err;
        c->stream[i] = hv_make_e(&err, k->fmt, v, v, v);
        if (c->stream[i] == HV_NONE)
            bench_failf(o->name, "hv_make of %s: %s", k->fmt, err.what);
        c->expect[i] = k->clause;
        c->matching += k->clause >= 0;
    }
}

/* Fails the run unless a test of stream[i] came out as expected. */
static inline void
check_result(const struct match_ctx *c, size_t i, int rc, const hv_bindings *b,
             const char *what)
{
    int want = c->expect[i];
    if (want >= 0 ? rc == HV_OK && b->clause == want : rc == HV_ENOMATCH)
        return;
    char text[128];
    hv_format(c->stream[i], text, sizeof text);
    bench_failf(c->opts.name, "%s of %s: %s, clause %d; expected clause %d",
                what, text, rc == HV_OK ? "matched" : hv_strerror(rc),
                rc == HV_OK ? b->clause : -1, want);
}

/* match6, in the driver: the stream tested over and over. */
static void
run_match(struct match_ctx *c)
{
    const struct bench_opts *o = &c->opts;
    hv_bindings b;

    int64_t t0 = bench_now_ns();
    for (long r = 0; r < c->rounds; r++) {
        for (size_t i = 0; i < STREAM_LEN; i++) {
            int rc = hv_rset_match(c->set, c->stream[i], NULL, &b);
            check_result(c, i, rc, &b, "hv_rset_match");
        }
    }
    int64_t t1 = bench_now_ns();
    int64_t n = (int64_t)c->rounds * STREAM_LEN;
    bench_line(o, "match6", n, t1 - t0, n,
               "clauses:%d,kinds:%zu,nomatch_pct:%ld", NCLAUSES, NKINDS,
               100 - 100 * c->matching / STREAM_LEN);
}

/* Fills the caller's mailbox: every round's matching terms, then every
 * round's non-matching ones, so that no receive but the last has to pass
 * over a message it cannot take. */
static void
fill_mailbox(struct match_ctx *c)
{
    const struct bench_opts *o = &c->opts;
    hv_term self = hv_self();
    for (int pass = 0; pass < 2; pass++)
        for (long r = 0; r < c->rounds_recv; r++)
            for (size_t i = 0; i < STREAM_LEN; i++)
                if ((c->expect[i] >= 0) == (pass == 0))
                    bench_send(o, self, hv_retain(c->stream[i]));
}

/* After the timed part: exactly the non-matching messages are left, in
 * the order sent. */
static void
check_leftovers(struct match_ctx *c)
{
    const struct bench_opts *o = &c->opts;
    hv_proc_info info;
    int rc = hv_process_info(hv_self(), &info);
    if (rc != HV_OK)
        bench_fail(o->name, "hv_process_info", rc);
    long left = c->rounds_recv * (STREAM_LEN - c->matching);
    if (info.mailbox_len != (size_t)left)
        bench_failf(o->name, "%zu messages left, expected %ld",
                    info.mailbox_len, left);
    for (long r = 0; r < c->rounds_recv; r++) {
        for (size_t i = 0; i < STREAM_LEN; i++) {
            if (c->expect[i] >= 0)
                continue;
            hv_term msg;
            if (hv_recv(0, &msg) != HV_OK || !hv_equal(msg, c->stream[i]))
                bench_fail(o->name, "a non-matching message went missing", 0);
            hv_release(msg);
        }
    }
}

/* match6_receive's process: it reports {done, Ns} to the driver. */
static void
receiver(void *arg)
{
    struct match_ctx *c = arg;
    const struct bench_opts *o = &c->opts;
    hv_bindings b;

    fill_mailbox(c);
    int64_t t0 = bench_now_ns();
    for (long r = 0; r < c->rounds_recv; r++) {
        for (size_t i = 0; i < STREAM_LEN; i++) {
            if (c->expect[i] < 0)
                continue;
            int rc = hv_receive(c->set, NULL, 0, &b);
            check_result(c, i, rc, &b, "hv_receive");
            if (!hv_equal(b.msg, c->stream[i]))
                bench_fail(o->name, "hv_receive took another message", 0);
            hv_bindings_release(&b);
        }
    }
    int rc = hv_receive(c->set, NULL, 0, &b);
    int64_t t1 = bench_now_ns();
    if (rc != HV_ETIMEOUT)
        bench_failf(o->name, "the last receive: %s, not a timeout",
                    rc == HV_OK ? "a match" : hv_strerror(rc));
    check_leftovers(c);
    bench_send(o, c->driver, hv_tuple(2, c->done, hv_int(t1 - t0)));
}

static void
run_receive(struct match_ctx *c)
{
    const struct bench_opts *o = &c->opts;
    bench_spawn(o, receiver, c);
    hv_term msg = bench_recv_driver(o, "{done, Ns}");
    int64_t ns;
    if (hv_tuple_size(msg) != 2 || hv_tuple_at(msg, 0) != c->done ||
        hv_int_value(hv_tuple_at(msg, 1), &ns) != HV_OK)
        bench_fail(o->name, "the driver's receive of {done, Ns}", 0);
    hv_release(msg);
    int64_t n = (int64_t)c->rounds_recv * STREAM_LEN;
    bench_line(o, "match6_receive", n, ns, n,
               "clauses:%d,matching:%" PRId64 ",nomatch:%" PRId64, NCLAUSES,
               (int64_t)c->rounds_recv * c->matching,
               (int64_t)c->rounds_recv * (STREAM_LEN - c->matching));
}

static void
driver(void *arg)
{
    struct match_ctx *c = arg;
    c->driver = hv_self();
    c->done = bench_atom(&c->opts, "done");
    run_match(c);
    run_receive(c);
}

int
main(int argc, char **argv)
{
    static struct match_ctx c;
    const struct bench_opts *o = &c.opts;
    bench_opts_parse(&c.opts, "match", argc, argv);
    c.rounds = o->short_mode ? SHORT_ROUNDS : FULL_ROUNDS;
    c.rounds_recv = o->short_mode ? SHORT_ROUNDS_RECV : FULL_ROUNDS_RECV;

    hv_error err;
    c.set = hv_rset_compile(clauses, NCLAUSES, &err);
    if (c.set == NULL)
        bench_failf(o->name, "hv_rset_compile: %s at %d:%d (%s)",
                    hv_strerror(err.code), err.line, err.column, err.what);
    build_stream(&c);

    bench_run(&c.opts, driver, &c);
    for (size_t i = 0; i < STREAM_LEN; i++)
        hv_release(c.stream[i]);
    hv_rset_free(c.set);
    return 0;
}
