/* bench/restart.c - supervisor restarts as the peers define them
 * (../shared/peers/README.md, benchmark 8, `restart`; Erlang only there),
 * mirroring restart/2 and crash_start/3 of ../shared/peers/erlang/peers.erl.
 *
 * A one_for_one supervisor (hv_sup_start, linked to the driver, as
 * supervisor:start_link) with intensity 100,000,000 and period 1 s (the
 * smallest OTP allows), and one child: permanent, brutal_kill, whose start
 * function counts its calls with an atomic and returns a process it
 * spawns linked, which exits with reason `crash` at once.  On start number
 * S (1 = the first start) S - 1 restarts are done; the start function
 * sends {restarts_at, M} to the driver when that is M = 1,000 and
 * {restarts_at, R} when it is R = 10,000.
 *
 * Timed: from just before hv_sup_start until the driver receives
 * {restarts_at, R}.  One op is one restart: per_op_ns = wall / R;
 * extra.restarts_per_s = R / wall; extra.first1k_per_op_ns = the time to
 * {restarts_at, 1000} / 1,000, which shows whether the cost of a restart
 * grows with the restarts before it (OTP's intensity bookkeeping keeps
 * every restart of the period).  Afterwards the driver checks that the
 * supervisor is still alive (intensity was never exceeded) and holds its
 * one child spec, then unlinks and kills it, as peers.erl does.
 *
 * Erlang sets the logger's level to none so no SUPERVISOR REPORT is
 * printed; here hv_config.quiet_crashes plays that part.
 *
 * --short: R = 300 restarts, the mark at 100 (first100_per_op_ns); under
 * ThreadSanitizer, where each new process costs milliseconds (bench.h),
 * R = 60 and the mark at 20. */
#include "bench/bench.h"

#define FULL_RESTARTS 10000
#define FULL_MARK 1000
#define SHORT_RESTARTS 300
#define SHORT_MARK 100
#define TSAN_SHORT_RESTARTS 60
#define TSAN_SHORT_MARK 20
#define SUP_INTENSITY 100000000
#define SUP_PERIOD_MS 1000

struct restart_ctx {
    struct bench_opts opts;
    int64_t restarts, mark;
    atomic_long starts; /* calls of the start function */
    hv_term driver;
    hv_term restarts_at, crash;
};

/* The child's process: exit(crash) at once. */
static void
crasher(void *arg)
{
    struct restart_ctx *c = arg;
    hv_exit(c->crash);
}

/* peers.erl's count_start/3: start S means S - 1 restarts are done;
 * tell the driver at the mark and at the end. */
static void
count_start(struct restart_ctx *c)
{
    long done = atomic_fetch_add_explicit(&c->starts, 1, memory_order_relaxed);
    if (done == c->mark || done == c->restarts)
        bench_send(&c->opts, c->driver,
                   hv_tuple(2, c->restarts_at, hv_int(done)));
}

/* peers.erl's crash_start/3, run in the supervisor. */
static int
crash_start(void *arg, hv_term args, hv_term *pid, hv_term *reason)
{
    struct restart_ctx *c = arg;
    (void)args;
    count_start(c);
    *pid = hv_spawn_link(crasher, c);
    if (*pid == HV_NONE) {
        *reason = bench_atom(&c->opts, "spawn_failed");
        return HV_ENOMEM;
    }
    return HV_OK;
}

/* Waits for {restarts_at, want} and returns the time it arrived. */
static int64_t
await_restarts_at(struct restart_ctx *c, int64_t want)
{
    const struct bench_opts *o = &c->opts;
    hv_term msg = bench_recv_driver(o, "{restarts_at, N}");
    int64_t t = bench_now_ns();
    int64_t n;
    if (hv_tuple_size(msg) != 2 || hv_tuple_at(msg, 0) != c->restarts_at ||
        hv_int_value(hv_tuple_at(msg, 1), &n) != HV_OK || n != want) {
        char text[128];
        hv_format(msg, text, sizeof text);
        bench_failf(o->name, "expected {restarts_at, %" PRId64 "}, got %s",
                    want, text);
    }
    hv_release(msg);
    return t;
}

/* The supervisor is still running its one child spec: intensity was
 * never exceeded. */
static void
check_sup(struct restart_ctx *c, hv_term sup)
{
    const struct bench_opts *o = &c->opts;
    hv_sup_counts counts;
    int rc = hv_sup_count_children(sup, &counts);
    if (rc != HV_OK)
        bench_fail(o->name, "hv_sup_count_children", rc);
    if (counts.specs != 1 || counts.workers != 1)
        bench_failf(o->name, "the supervisor holds %zu specs, %zu workers",
                    counts.specs, counts.workers);
    long starts = atomic_load_explicit(&c->starts, memory_order_relaxed);
    if (starts < c->restarts + 1)
        bench_failf(o->name, "%ld starts, fewer than %" PRId64, starts,
                    c->restarts + 1);
}

static void
driver(void *arg)
{
    struct restart_ctx *c = arg;
    const struct bench_opts *o = &c->opts;
    const hv_sup_flags flags = {.strategy = HV_ONE_FOR_ONE,
                                .intensity = SUP_INTENSITY,
                                .period_ms = SUP_PERIOD_MS};
    const hv_child_spec child = {.id = bench_atom(o, "worker"),
                                 .start = crash_start,
                                 .arg = c,
                                 .restart = HV_PERMANENT,
                                 .shutdown = HV_SHUTDOWN_BRUTAL_KILL,
                                 .type = HV_WORKER};
    const hv_server_opts opts = {.name = HV_NONE, .link = true};

    c->driver = hv_self();
    c->restarts_at = bench_atom(o, "restarts_at");
    c->crash = bench_atom(o, "crash");
    atomic_store_explicit(&c->starts, 0, memory_order_relaxed);

    int64_t t0 = bench_now_ns();
    hv_term sup, reason = HV_NONE;
    int rc = hv_sup_start(&flags, &child, 1, &opts, &sup, &reason);
    if (rc != HV_OK)
        bench_fail(o->name, "hv_sup_start", rc);
    int64_t t1 = await_restarts_at(c, c->mark);
    int64_t t2 = await_restarts_at(c, c->restarts);

    check_sup(c, sup);
    hv_unlink(sup);
    hv_exit_pid(sup, bench_atom(o, "kill"));
    /* The peers' key is first1k_per_op_ns; a short run's says its mark. */
    char mark[24];
    if (c->mark % 1000 == 0)
        snprintf(mark, sizeof mark, "%" PRId64 "k", c->mark / 1000);
    else
        snprintf(mark, sizeof mark, "%" PRId64, c->mark);
    bench_line(o, "restart", c->restarts, t2 - t0, c->restarts,
               "restarts_per_s:%.0f,first%s_per_op_ns:%.0f,worker:plain",
               (double)c->restarts / ((double)(t2 - t0) * 1e-9), mark,
               (double)(t1 - t0) / (double)c->mark);
}

int
main(int argc, char **argv)
{
    static struct restart_ctx c;
    bench_opts_parse(&c.opts, "restart", argc, argv);
    c.restarts = FULL_RESTARTS;
    c.mark = FULL_MARK;
    if (c.opts.short_mode) {
        c.restarts = BENCH_TSAN ? TSAN_SHORT_RESTARTS : SHORT_RESTARTS;
        c.mark = BENCH_TSAN ? TSAN_SHORT_MARK : SHORT_MARK;
    }
    c.opts.quiet_crashes = true; /* as the peers set the logger to none */
    bench_run(&c.opts, driver, &c);
    return 0;
}
