/* bench/fanin.c - fanin as the peers define it
 * (../shared/peers/README.md, benchmark 7).
 *
 * Setup, untimed: one receiver R and S senders, then the ready barrier
 * (here R goes through it too, so the timed part never includes its first
 * run; the peers count the senders only, an untimed difference).  Timed:
 * the driver sends `go` to each sender; each sends the integers K..1 to R;
 * R counts the messages and after the (S*K)th sends `done` to the driver.
 * R also sums the integers and fails the run unless the sum is
 * S * K(K+1)/2.  One op is one message; extra.msgs_per_s = ops / wall.
 *
 * S = 1,000 senders x K = 1,000 messages; --short: 100 x 100. */
#include "bench/bench.h"

#define FULL_SENDERS 1000
#define FULL_PER_SENDER 1000
#define SHORT_SENDERS 100
#define SHORT_PER_SENDER 100

struct fanin_ctx {
    struct bench_opts opts;
    long senders;
    int64_t per_sender;
    struct bench_ready ready;
    hv_term receiver; /* set before any sender is spawned */
    hv_term go, done;
};

static void
receiver(void *arg)
{
    struct fanin_ctx *c = arg;
    const struct bench_opts *o = &c->opts;
    int64_t total = (int64_t)c->senders * c->per_sender;
    int64_t want = c->senders * (c->per_sender * (c->per_sender + 1) / 2);

    bench_ready_arrive(o, &c->ready);
    int64_t sum = 0;
    for (int64_t i = 0; i < total; i++) {
        hv_term msg = bench_recv(o);
        int64_t v;
        if (hv_int_value(msg, &v) != HV_OK)
            bench_fail(o->name, "the receiver's receive of an integer", 0);
        hv_release(msg);
        sum += v;
    }
    if (sum != want)
        bench_failf(o->name,
                    "the receiver's sum is %" PRId64 ", expected %" PRId64, sum,
                    want);
    bench_send(o, c->ready.driver, c->done);
}

static void
sender(void *arg)
{
    struct fanin_ctx *c = arg;
    const struct bench_opts *o = &c->opts;

    bench_ready_arrive(o, &c->ready);
    hv_term msg = bench_recv(o);
    if (msg != c->go)
        bench_fail(o->name, "a sender's receive of go", 0);
    for (int64_t k = c->per_sender; k > 0; k--)
        bench_send(o, c->receiver, hv_int(k));
}

static void
driver(void *arg)
{
    struct fanin_ctx *c = arg;
    const struct bench_opts *o = &c->opts;
    long s = c->senders;
    int64_t total = (int64_t)s * c->per_sender;

    c->go = bench_atom(o, "go");
    c->done = bench_atom(o, "done");
    hv_term *pids = malloc((size_t)s * sizeof *pids);
    if (pids == NULL)
        bench_fail(o->name, "malloc of the pid array", HV_ENOMEM);
    bench_ready_init(&c->ready, s + 1);
    c->receiver = bench_spawn(o, receiver, c);
    for (long i = 0; i < s; i++)
        pids[i] = bench_spawn(o, sender, c);
    bench_await(o, "ready");

    int64_t t0 = bench_now_ns();
    for (long i = 0; i < s; i++)
        bench_send(o, pids[i], c->go);
    bench_await(o, "done");
    int64_t t1 = bench_now_ns();

    free(pids);
    bench_line(o, "fanin", total, t1 - t0, total, "senders:%ld,msgs_per_s:%.0f",
               s, (double)total / ((double)(t1 - t0) * 1e-9));
}

int
main(int argc, char **argv)
{
    static struct fanin_ctx c;
    bench_opts_parse(&c.opts, "fanin", argc, argv);
    c.senders = c.opts.short_mode ? SHORT_SENDERS : FULL_SENDERS;
    c.per_sender = c.opts.short_mode ? SHORT_PER_SENDER : FULL_PER_SENDER;
    bench_run(&c.opts, driver, &c);
    return 0;
}
