/* bench/selective.c - selective receive as the peers define it
 * (../shared/peers/README.md, benchmark 6; Erlang only there), mirroring
 * selective_ref and selective_scan of ../shared/peers/erlang/peers.erl.
 * One OS process prints the three results in turn.
 *
 * selective_ref: a process P (not the driver) sends itself J messages
 * {junk, X}, X = J..1, and checks that its mailbox holds J (untimed).
 * Timed inside P: K calls to a plain server process S, for I = K..1:
 *     Ref = hv_ref_make(), S ! {call, self, Ref, I},
 *     receive {^Ref, R} -> check R == I + 1
 * with the receive set compiled once, before any process runs, and Ref
 * supplied as its pin on each call.  Afterwards P checks that the junk is
 * still there: J messages, all received back in the order sent.  The
 * driver then asks S for its count of calls ({count, From}), which must
 * be K.  One op is one call.  J = 100,000, K = 10,000.
 * selective_ref_0junk: the same with J = 0, the control.  extra.same_sched
 * (hive's own) is 1 when P and S share a home scheduler at the end, so no
 * message of the loop crossed threads.
 * (selective_ref_offheap has no counterpart: a hive message is never on a
 * process heap, whatever the setting would be.)
 *
 * selective_scan: P sends itself J {junk, X}.  Timed: for I = K..1,
 * self ! {tag, I}, receive {tag, ^I}.  In Erlang each receive tests all J
 * junk before the tagged message at the end; hive may answer it from its
 * mailbox index.  One op is one receive.  J = 10,000, K = 10,000.
 *
 * --short: J = 1,000 and K = 1,000 throughout. */
#include "bench/bench.h"

#define FULL_REF_JUNK 100000
#define FULL_SCAN_JUNK 10000
#define FULL_K 10000
#define SHORT_JUNK 1000
#define SHORT_K 1000

struct sel_ctx {
    struct bench_opts opts;
    /* Compiled once and shared by every process (sets are immutable). */
    hv_rset *server_set; /* {call, From, Ref, I}; {count, From}; stop */
    hv_rset *reply_set;  /* {^Ref, R} */
    hv_rset *tag_set;    /* {tag, ^I} */
    int call_from, call_ref, call_i, count_from, reply_r;
    long junk, k; /* J and K of the benchmark in progress */
    hv_term driver, server;
    hv_term junk_tag, tag, call, count, stop, sel_done;
};

static size_t
mailbox_len(const struct bench_opts *o)
{
    hv_proc_info info;
    int rc = hv_process_info(hv_self(), &info);
    if (rc != HV_OK)
        bench_fail(o->name, "hv_process_info", rc);
    return info.mailbox_len;
}

/* P's untimed setup: J junk messages to itself, as peers.erl's
 * self_junk/1, then the check that all of them are queued. */
static void
send_junk(struct sel_ctx *c)
{
    const struct bench_opts *o = &c->opts;
    hv_term self = hv_self();
    for (long x = c->junk; x > 0; x--)
        bench_send(o, self, hv_tuple(2, c->junk_tag, hv_int(x)));
    size_t len = mailbox_len(o);
    if (len != (size_t)c->junk)
        bench_failf(o->name, "%zu messages queued after the junk, not %ld", len,
                    c->junk);
}

/* The check after the timed part: the receives took nothing but their
 * own messages, so exactly the junk is left, in the order it was sent. */
static void
check_junk(struct sel_ctx *c)
{
    const struct bench_opts *o = &c->opts;
    size_t len = mailbox_len(o);
    if (len != (size_t)c->junk)
        bench_failf(o->name, "%zu messages left after the loop, not %ld", len,
                    c->junk);
    for (long x = c->junk; x > 0; x--) {
        hv_term msg;
        int64_t v;
        if (hv_recv(0, &msg) != HV_OK || hv_tuple_size(msg) != 2 ||
            hv_tuple_at(msg, 0) != c->junk_tag ||
            hv_int_value(hv_tuple_at(msg, 1), &v) != HV_OK || v != x)
            bench_failf(o->name, "junk {junk, %ld} missing or misplaced", x);
        hv_release(msg);
    }
}

/* peers.erl's raw_server/1: {call, From, Ref, I} -> From ! {Ref, I + 1};
 * {count, From} -> From ! {count, Count}; stop -> return. */
static void
server(void *arg)
{
    struct sel_ctx *c = arg;
    struct bench_raw_server r = {&c->opts,   c->server_set, c->call_from,
                                 c->call_ref, c->call_i,     c->count_from,
                                 c->count};
    bench_raw_server_loop(&r);
}

/* Whether P and the server share a home scheduler: a call to a server on
 * another thread is a cross-thread wake-up each way. */
static bool
same_sched(struct sel_ctx *c)
{
    return bench_home(&c->opts, hv_self()) == bench_home(&c->opts, c->server);
}

/* P of selective_ref: peers.erl's raw_calls/2 amid the junk; it reports
 * {sel_done, Ns, SameSched}. */
static void
ref_caller(void *arg)
{
    struct sel_ctx *c = arg;
    const struct bench_opts *o = &c->opts;
    hv_term self = hv_self();

    send_junk(c);
    int64_t t0 = bench_now_ns();
    for (int64_t i = c->k; i > 0; i--) {
        hv_term ref = hv_ref_make();
        if (ref == HV_NONE)
            bench_fail(o->name, "hv_ref_make", 0);
        bench_send(o, c->server,
                   hv_tuple(4, c->call, self, hv_retain(ref), hv_int(i)));
        hv_bindings b;
        bench_receive(o, c->reply_set, HV_PINS(ref), o->wait_ms, &b,
                "reply {Ref, R}");
        int64_t r;
        if (hv_int_value(b.var[c->reply_r], &r) != HV_OK || r != i + 1)
            bench_failf(o->name, "call %" PRId64 " got a wrong reply", i);
        hv_bindings_release(&b);
        hv_release(ref);
    }
    int64_t t1 = bench_now_ns();
    bool same = same_sched(c);
    check_junk(c);
    bench_send(o, c->driver,
               hv_tuple(3, c->sel_done, hv_int(t1 - t0), hv_int(same)));
}

/* P of selective_scan: peers.erl's scan_loop/1 amid the junk; it reports
 * {sel_done, Ns, 1}. */
static void
scanner(void *arg)
{
    struct sel_ctx *c = arg;
    const struct bench_opts *o = &c->opts;
    hv_term self = hv_self();

    send_junk(c);
    int64_t t0 = bench_now_ns();
    for (int64_t i = c->k; i > 0; i--) {
        hv_term tag = hv_int(i);
        bench_send(o, self, hv_tuple(2, c->tag, hv_retain(tag)));
        hv_bindings b;
        bench_receive(o, c->tag_set, HV_PINS(tag), o->wait_ms, &b, "{tag, I}");
        if (!hv_equal(hv_tuple_at(b.msg, 1), tag))
            bench_failf(o->name,
                        "receive {tag, %" PRId64 "} took another message", i);
        hv_bindings_release(&b);
        hv_release(tag);
    }
    int64_t t1 = bench_now_ns();
    check_junk(c);
    bench_send(o, c->driver,
               hv_tuple(3, c->sel_done, hv_int(t1 - t0), hv_int(1)));
}

/* Waits for P's {sel_done, Ns, SameSched}; returns Ns and sets *same. */
static int64_t
await_sel_done(struct sel_ctx *c, int64_t *same)
{
    const struct bench_opts *o = &c->opts;
    hv_term msg = bench_recv_driver(o, "sel_done");
    int64_t ns;
    if (hv_tuple_size(msg) != 3 || hv_tuple_at(msg, 0) != c->sel_done ||
        hv_int_value(hv_tuple_at(msg, 1), &ns) != HV_OK ||
        hv_int_value(hv_tuple_at(msg, 2), same) != HV_OK)
        bench_fail(o->name, "the driver's receive of {sel_done, Ns, Same}", 0);
    hv_release(msg);
    return ns;
}

/* Asks the server for its count of calls, which must be K, and stops it. */
static void
check_and_stop_server(struct sel_ctx *c)
{
    const struct bench_opts *o = &c->opts;
    bench_send(o, c->server, hv_tuple(2, c->count, c->driver));
    hv_term msg = bench_recv_driver(o, "{count, N}");
    int64_t n;
    if (hv_tuple_size(msg) != 2 || hv_tuple_at(msg, 0) != c->count ||
        hv_int_value(hv_tuple_at(msg, 1), &n) != HV_OK || n != c->k)
        bench_failf(o->name, "the server did not count %ld calls", c->k);
    hv_release(msg);
    bench_send(o, c->server, c->stop);
}

static void
run_ref(struct sel_ctx *c, const char *bench, long junk)
{
    const struct bench_opts *o = &c->opts;
    c->junk = junk;
    c->k = o->short_mode ? SHORT_K : FULL_K;
    c->server = bench_spawn(o, server, c);
    bench_spawn(o, ref_caller, c);
    int64_t same;
    int64_t ns = await_sel_done(c, &same);
    check_and_stop_server(c);
    bench_line(o, bench, c->k, ns, c->k, "junk:%ld,same_sched:%" PRId64, junk,
               same);
}

static void
run_scan(struct sel_ctx *c)
{
    const struct bench_opts *o = &c->opts;
    c->junk = o->short_mode ? SHORT_JUNK : FULL_SCAN_JUNK;
    c->k = o->short_mode ? SHORT_K : FULL_K;
    bench_spawn(o, scanner, c);
    int64_t same;
    int64_t ns = await_sel_done(c, &same);
    bench_line(o, "selective_scan", c->k, ns, c->k, "junk:%ld", c->junk);
}

static void
driver(void *arg)
{
    struct sel_ctx *c = arg;
    const struct bench_opts *o = &c->opts;

    c->driver = hv_self();
    c->junk_tag = bench_atom(o, "junk");
    c->tag = bench_atom(o, "tag");
    c->call = bench_atom(o, "call");
    c->count = bench_atom(o, "count");
    c->stop = bench_atom(o, "stop");
    c->sel_done = bench_atom(o, "sel_done");
    run_ref(c, "selective_ref", o->short_mode ? SHORT_JUNK : FULL_REF_JUNK);
    run_ref(c, "selective_ref_0junk", 0);
    run_scan(c);
}

int
main(int argc, char **argv)
{
    static struct sel_ctx c;
    const struct bench_opts *o = &c.opts;
    bench_opts_parse(&c.opts, "selective", argc, argv);

    c.server_set =
        bench_compile_set(o, (const char *const[]){"{call, From, Ref, I}",
                                             "{count, From}", "stop", NULL});
    c.reply_set = bench_compile_set(o, (const char *const[]){"{^Ref, R}", NULL});
    c.tag_set = bench_compile_set(o, (const char *const[]){"{tag, ^I}", NULL});
    c.call_from = bench_var_index(o, c.server_set, 0, "From");
    c.call_ref = bench_var_index(o, c.server_set, 0, "Ref");
    c.call_i = bench_var_index(o, c.server_set, 0, "I");
    c.count_from = bench_var_index(o, c.server_set, 1, "From");
    c.reply_r = bench_var_index(o, c.reply_set, 0, "R");

    bench_run(&c.opts, driver, &c);
    hv_rset_free(c.server_set);
    hv_rset_free(c.reply_set);
    hv_rset_free(c.tag_set);
    return 0;
}
