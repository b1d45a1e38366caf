/* bench/ring.c - ring as the peers define it (../shared/peers/README.md,
 * benchmark 2).
 *
 * Setup, untimed: the driver spawns P0..P(N-1) and sends each Pi
 * {next, P((i+1) mod N)}; a process goes through the ready barrier once it
 * holds its successor.  Timed: the driver sends the integer H = N*M to P0;
 * a process that receives T > 0 sends T-1 to its successor, the one that
 * receives 0 sends `done` to the driver, so the token goes round exactly M
 * times.  One op is one hop: per_op_ns = wall / H.
 *
 * extra.cross_sched_links (hive's own) counts the processes whose
 * successor is homed on another scheduler: each is a cross-thread wake-up
 * per round, so the figure depends on where spawn placed the processes.
 *
 * N = 10,000 processes, M = 100 rounds; --short: 100 x 100. */
#include "bench/bench.h"

#define FULL_PROCS 10000
#define FULL_ROUNDS 100
#define SHORT_PROCS 100
#define SHORT_ROUNDS 100

struct ring_ctx {
    struct bench_opts opts;
    long procs, rounds;
    struct bench_ready ready;
    hv_term next, done, stop;
};

static void
node(void *arg)
{
    struct ring_ctx *c = arg;
    const struct bench_opts *o = &c->opts;

    hv_term first = bench_recv(o);
    hv_term next = hv_retain(hv_tuple_at(first, 1));
    if (hv_tuple_size(first) != 2 || hv_tuple_at(first, 0) != c->next ||
        !hv_is_pid(next))
        bench_fail(o->name, "a node's receive of {next, Pid}", 0);
    hv_release(first);
    bench_ready_arrive(o, &c->ready);

    for (;;) {
        hv_term msg = bench_recv(o);
        int64_t t;
        if (hv_int_value(msg, &t) == HV_OK) {
            hv_release(msg);
            if (t > 0)
                bench_send(o, next, hv_int(t - 1));
            else
                bench_send(o, c->ready.driver, c->done);
        } else if (msg == c->stop) {
            break;
        } else {
            bench_fail(o->name, "a node's receive of an integer or stop", 0);
        }
    }
    hv_release(next);
}

static void
driver(void *arg)
{
    struct ring_ctx *c = arg;
    const struct bench_opts *o = &c->opts;
    long n = c->procs;
    int64_t hops = (int64_t)c->procs * c->rounds;

    c->next = bench_atom(o, "next");
    c->done = bench_atom(o, "done");
    c->stop = bench_atom(o, "stop");
    hv_term *pids = malloc((size_t)n * sizeof *pids);
    if (pids == NULL)
        bench_fail(o->name, "malloc of the pid array", HV_ENOMEM);
    bench_ready_init(&c->ready, n);
    for (long i = 0; i < n; i++)
        pids[i] = bench_spawn(o, node, c);
    for (long i = 0; i < n; i++)
        bench_send(o, pids[i], hv_tuple(2, c->next, pids[(i + 1) % n]));
    bench_await(o, "ready");
    long cross = 0; /* links to a successor homed on another scheduler */
    unsigned first = bench_home(o, pids[0]), home = first;
    for (long i = 1; i <= n; i++) {
        unsigned next = i < n ? bench_home(o, pids[i]) : first;
        cross += next != home;
        home = next;
    }

    int64_t t0 = bench_now_ns();
    bench_send(o, pids[0], hv_int(hops));
    bench_await(o, "done");
    int64_t t1 = bench_now_ns();

    for (long i = 0; i < n; i++)
        bench_send(o, pids[i], c->stop);
    free(pids);
    bench_line(o, "ring", hops, t1 - t0, hops,
               "procs:%ld,rounds:%ld,cross_sched_links:%ld", n, c->rounds,
               cross);
}

int
main(int argc, char **argv)
{
    static struct ring_ctx c;
    bench_opts_parse(&c.opts, "ring", argc, argv);
    c.procs = c.opts.short_mode ? SHORT_PROCS : FULL_PROCS;
    c.rounds = c.opts.short_mode ? SHORT_ROUNDS : FULL_ROUNDS;
    bench_run(&c.opts, driver, &c);
    return 0;
}
