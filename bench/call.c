/* bench/call.c - synchronous calls as the peers define them
 * (../shared/peers/README.md, benchmark 5), mirroring `call` and
 * `call_raw` of ../shared/peers/erlang/peers.erl.  One OS process prints
 * both results in turn.
 *
 * Setup, untimed: the server and C clients, then the ready barrier.
 * Timed: the driver sends `go` to every client; each client makes K calls
 * one after another, I = K..1, checking that every reply is I + 1, and
 * then sends `done`; the time stops when the driver has C `done`.  The
 * driver then asks the server for its count of calls, which must be C*K.
 * One op is one call; extra.calls_per_s = ops / wall.
 *
 * call: the server is a hive server (hv_server_start, as peers_srv is a
 * gen_server) whose handle_call replies I + 1 to an integer I and counts
 * it, and its count to `count`.  A client call is hv_call(S, I, 5000),
 * gen_server:call's default timeout: a monitor of the server per call,
 * as gen_server:call does.
 *
 * call_raw: the server is a plain receive loop over one compiled set
 * ({call, From, Ref, I}; {count, From}; stop).  A client call is
 *     Ref = hv_ref_make(), S ! {call, self, Ref, I}, receive {^Ref, R}
 * with the reply set compiled once, before any process runs: no monitor,
 * the protocol of peers.erl's raw_calls/2 (and of CAF and Go).
 *
 * C = 100 clients x K = 10,000 calls; --short: 10 x 1,000. */
#include "bench/bench.h"

#define FULL_CLIENTS 100
#define FULL_CALLS 10000
#define SHORT_CLIENTS 10
#define SHORT_CALLS 1000
/* hv_call's timeout: gen_server:call's default. */
#define CALL_TIMEOUT_MS 5000

struct call_ctx;
/* One call of the benchmark in progress: request i, returns the reply. */
typedef int64_t call_fn(struct call_ctx *c, int64_t i);

struct call_ctx {
    struct bench_opts opts;
    long clients;
    int64_t calls; /* per client */
    struct bench_ready ready;
    hv_term server;
    call_fn *call_one;
    int64_t gs_count; /* the hive server's state: touched by it alone */
    /* Compiled once and shared by every process (sets are immutable). */
    hv_rset *server_set; /* {call, From, Ref, I}; {count, From}; stop */
    hv_rset *reply_set;  /* {^Ref, R} */
    int call_from, call_ref, call_i, count_from, reply_r;
    hv_term go, done, call, count, stop;
};

/* ---- call: a hive server and hv_call ---- */

/* peers_srv:handle_call/3: I -> I + 1, counted; count -> the count. */
static hv_server_result
gs_handle_call(hv_term request, hv_term from, void *state)
{
    struct call_ctx *c = state;
    (void)from;
    int64_t i;
    if (hv_int_value(request, &i) == HV_OK) {
        c->gs_count++;
        return hv_result_reply(hv_int(i + 1));
    }
    if (request == c->count)
        return hv_result_reply(hv_int(c->gs_count));
    /* Nothing else is ever sent: an unknown request is a bug here. */
    bench_fail(c->opts.name, "the server's match of a request", 0);
}

static const hv_server_callbacks gs_callbacks = {
    .handle_call = gs_handle_call,
};

static int64_t
gs_call(struct call_ctx *c, int64_t i)
{
    hv_term reply;
    int rc = hv_call(c->server, hv_int(i), CALL_TIMEOUT_MS, &reply);
    if (rc != HV_OK)
        bench_fail(c->opts.name, "hv_call", rc);
    int64_t r;
    if (hv_int_value(reply, &r) != HV_OK)
        bench_fail(c->opts.name, "the client's check of the reply", 0);
    hv_release(reply);
    return r;
}

static void
gs_start(struct call_ctx *c)
{
    const hv_server_opts opts = {.name = HV_NONE};
    hv_term reason = HV_NONE;
    c->gs_count = 0;
    int rc = hv_server_start(&gs_callbacks, c, &opts, &c->server, &reason);
    if (rc != HV_OK)
        bench_fail(c->opts.name, "hv_server_start", rc);
}

/* The server's count of calls, asked for with a call, as peers.erl. */
static int64_t
gs_count_and_stop(struct call_ctx *c)
{
    const char *name = c->opts.name;
    hv_term reply;
    int rc = hv_call(c->server, c->count, CALL_TIMEOUT_MS, &reply);
    int64_t n;
    if (rc != HV_OK || hv_int_value(reply, &n) != HV_OK)
        bench_fail(name, "the call for the server's count", rc);
    hv_release(reply);
    rc = hv_server_stop(c->server, bench_atom(&c->opts, "normal"),
                        CALL_TIMEOUT_MS);
    if (rc != HV_OK)
        bench_fail(name, "hv_server_stop", rc);
    return n;
}

/* ---- call_raw: a receive loop and ref-tagged messages ---- */

/* peers.erl's raw_server/1: {call, From, Ref, I} -> From ! {Ref, I + 1};
 * {count, From} -> From ! {count, Count}; stop -> return. */
static void
raw_server(void *arg)
{
    struct call_ctx *c = arg;
    struct bench_raw_server r = {&c->opts,   c->server_set, c->call_from,
                                 c->call_ref, c->call_i,     c->count_from,
                                 c->count};
    bench_raw_server_loop(&r);
}

static int64_t
raw_call(struct call_ctx *c, int64_t i)
{
    const struct bench_opts *o = &c->opts;
    hv_term ref = hv_ref_make();
    if (ref == HV_NONE)
        bench_fail(o->name, "hv_ref_make", 0);
    bench_send(o, c->server,
               hv_tuple(4, c->call, hv_self(), hv_retain(ref), hv_int(i)));
    hv_bindings b;
    bench_receive(o, c->reply_set, HV_PINS(ref), o->wait_ms, &b, "reply {Ref, R}");
    int64_t r;
    if (hv_int_value(b.var[c->reply_r], &r) != HV_OK)
        bench_fail(o->name, "the client's check of the reply", 0);
    hv_bindings_release(&b);
    hv_release(ref);
    return r;
}

static void
raw_start(struct call_ctx *c)
{
    c->server = bench_spawn(&c->opts, raw_server, c);
}

/* Asks the server for its count ({count, From}) and stops it. */
static int64_t
raw_count_and_stop(struct call_ctx *c)
{
    const struct bench_opts *o = &c->opts;
    bench_send(o, c->server, hv_tuple(2, c->count, hv_self()));
    hv_term msg = bench_recv_driver(o, "{count, N}");
    int64_t n;
    if (hv_tuple_size(msg) != 2 || hv_tuple_at(msg, 0) != c->count ||
        hv_int_value(hv_tuple_at(msg, 1), &n) != HV_OK)
        bench_fail(o->name, "the driver's receive of {count, N}", 0);
    hv_release(msg);
    bench_send(o, c->server, c->stop);
    return n;
}

/* ---- the workload, common to both ---- */

/* peers.erl's client: ready, `go`, K calls checked, `done`. */
static void
client(void *arg)
{
    struct call_ctx *c = arg;
    const struct bench_opts *o = &c->opts;

    bench_ready_arrive(o, &c->ready);
    hv_term msg = bench_recv(o);
    if (msg != c->go)
        bench_fail(o->name, "a client's receive of go", 0);
    for (int64_t i = c->calls; i > 0; i--) {
        int64_t r = c->call_one(c, i);
        if (r != i + 1)
            bench_failf(o->name,
                        "call %" PRId64 " got %" PRId64 ", not %" PRId64, i, r,
                        i + 1);
    }
    bench_send(o, c->ready.driver, c->done);
}

struct call_kind {
    const char *bench, *api;
    void (*start)(struct call_ctx *c);
    call_fn *call_one;
    int64_t (*count_and_stop)(struct call_ctx *c);
};

static void
run_kind(struct call_ctx *c, const struct call_kind *k)
{
    const struct bench_opts *o = &c->opts;
    long n = c->clients;
    int64_t total = (int64_t)n * c->calls;
    hv_term *pids = malloc((size_t)n * sizeof *pids);
    if (pids == NULL)
        bench_fail(o->name, "malloc of the pid array", HV_ENOMEM);

    c->call_one = k->call_one;
    k->start(c);
    bench_ready_init(&c->ready, n);
    for (long i = 0; i < n; i++)
        pids[i] = bench_spawn(o, client, c);
    bench_await(o, "ready");

    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        bench_send(o, pids[i], c->go);
    for (long i = 0; i < n; i++)
        bench_await(o, "done");
    int64_t t1 = bench_now_ns();

    free(pids);
    int64_t count = k->count_and_stop(c);
    if (count != total)
        bench_failf(o->name,
                    "%s: the server counted %" PRId64 " calls, not %" PRId64,
                    k->bench, count, total);
    bench_line(o, k->bench, total, t1 - t0, total,
               "clients:%ld,calls_per_s:%.0f,api:%s", n,
               (double)total / ((double)(t1 - t0) * 1e-9), k->api);
}

static void
driver(void *arg)
{
    static const struct call_kind kinds[] = {
        {"call", "hv_call", gs_start, gs_call, gs_count_and_stop},
        {"call_raw", "hv_ref_make+send+hv_receive", raw_start, raw_call,
         raw_count_and_stop},
    };
    struct call_ctx *c = arg;
    const struct bench_opts *o = &c->opts;

    c->go = bench_atom(o, "go");
    c->done = bench_atom(o, "done");
    c->call = bench_atom(o, "call");
    c->count = bench_atom(o, "count");
    c->stop = bench_atom(o, "stop");
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        run_kind(c, &kinds[i]);
}

int
main(int argc, char **argv)
{
    static struct call_ctx c;
    const struct bench_opts *o = &c.opts;
    bench_opts_parse(&c.opts, "call", argc, argv);
    c.clients = o->short_mode ? SHORT_CLIENTS : FULL_CLIENTS;
    c.calls = o->short_mode ? SHORT_CALLS : FULL_CALLS;

    c.server_set =
        bench_compile_set(o, (const char *const[]){"{call, From, Ref, I}",
                                             "{count, From}", "stop", NULL});
    c.reply_set = bench_compile_set(o, (const char *const[]){"{^Ref, R}", NULL});
    c.call_from = bench_var_index(o, c.server_set, 0, "From");
    c.call_ref = bench_var_index(o, c.server_set, 0, "Ref");
    c.call_i = bench_var_index(o, c.server_set, 0, "I");
    c.count_from = bench_var_index(o, c.server_set, 1, "From");
    c.reply_r = bench_var_index(o, c.reply_set, 0, "R");

    bench_run(&c.opts, driver, &c);
    hv_rset_free(c.server_set);
    hv_rset_free(c.reply_set);
    return 0;
}
