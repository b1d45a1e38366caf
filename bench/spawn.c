/* bench/spawn.c - spawn and spawn_exit as the peers define them
 * (../shared/peers/README.md, benchmark 1), from one OS process.
 *
 * spawn: the driver spawns N processes in a loop and keeps their pids in
 * an array, in spawn order.  Each process goes through the ready barrier
 * when it first runs and then waits for one message.  Timed from the first
 * hv_spawn until the driver receives `ready`, that is until all N have run
 * and wait; extra.loop_s is when the spawn loop itself returned.  RSS and
 * minor faults are read before the loop and right after `ready`, so
 * rss_bytes_per_proc includes the driver's pid array (8 B a process) and
 * everything the runtime allocated for the processes.
 *
 * spawn_exit: the driver sends `go` to each process in spawn order; each
 * counts down a shared counter that starts at N, the one that brings it to
 * 0 sends `done`, and each returns, which ends it.  Timed from the first
 * send to the receipt of `done`.
 *
 * One op is one process.  N = 1,000,000; --short: 1,000 (200 under
 * TSan). */
#include "bench/bench.h"

#define FULL_N 1000000
#define SHORT_N (BENCH_TSAN ? 200 : 1000)

struct spawn_ctx {
    struct bench_opts opts;
    long n;
    struct bench_ready ready;
    atomic_long waiting; /* processes that have not had their `go` yet */
    hv_term go, done;
};

static void
waiter(void *arg)
{
    struct spawn_ctx *c = arg;
    const struct bench_opts *o = &c->opts;

    bench_ready_arrive(o, &c->ready);
    hv_term msg = bench_recv(o);
    if (msg != c->go)
        bench_fail(o->name, "a waiter's receive of go", 0);
    /* acq_rel: the last one's `done` is sent after every other waiter
     * has taken its message. */
    if (atomic_fetch_sub_explicit(&c->waiting, 1, memory_order_acq_rel) == 1)
        bench_send(o, c->ready.driver, c->done);
}

static void
driver(void *arg)
{
    struct spawn_ctx *c = arg;
    const struct bench_opts *o = &c->opts;
    long n = c->n;

    c->go = bench_atom(o, "go");
    c->done = bench_atom(o, "done");
    /* Untouched pages of a large block are not resident yet: the array is
     * counted in the RSS delta as the spawn loop fills it. */
    hv_term *pids = malloc((size_t)n * sizeof *pids);
    if (pids == NULL)
        bench_fail(o->name, "malloc of the pid array", HV_ENOMEM);
    bench_ready_init(&c->ready, n);
    atomic_store_explicit(&c->waiting, n, memory_order_relaxed);

    int64_t rss0 = bench_rss_bytes(), flt0 = bench_minflt();
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        pids[i] = bench_spawn(o, waiter, c);
    int64_t t1 = bench_now_ns();
    bench_await(o, "ready");
    int64_t t2 = bench_now_ns();
    int64_t rss1 = bench_rss_bytes(), flt1 = bench_minflt();

    /* Every waiter is alive and waiting, and so is the driver. */
    size_t alive = hv_process_count();
    if (alive < (size_t)n + 1)
        bench_failf(o->name,
                    "%zu processes alive after ready, expected at least %ld",
                    alive, n + 1);

    int64_t t3 = bench_now_ns();
    for (long i = 0; i < n; i++)
        bench_send(o, pids[i], c->go);
    bench_await(o, "done");
    int64_t t4 = bench_now_ns();
    free(pids);

    bench_line(o, "spawn", n, t2 - t0, n,
               "loop_s:%.6f,rss_bytes_per_proc:%" PRId64
               ",rss_delta_mib:%" PRId64 ",minflt:%" PRId64,
               (double)(t1 - t0) * 1e-9, (rss1 - rss0) / n, (rss1 - rss0) >> 20,
               flt1 - flt0);
    bench_line(o, "spawn_exit", n, t4 - t3, n, NULL);
}

int
main(int argc, char **argv)
{
    static struct spawn_ctx c;
    bench_opts_parse(&c.opts, "spawn", argc, argv);
    c.n = c.opts.short_mode ? SHORT_N : FULL_N;
    bench_run(&c.opts, driver, &c);
    return 0;
}
