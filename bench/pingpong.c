/* bench/pingpong.c - pingpong as the peers define it
 * (../shared/peers/README.md, benchmark 3).
 *
 * Setup, untimed: processes A and B, each sent {peer, Other}, then the
 * ready barrier.  Timed: the driver sends `go` to A; for K = R down to 1, A
 * sends K to B and waits for B's reply, the same K sent back; after R
 * round trips A sends `done` to the driver.  One op is one round trip (two
 * messages).  extra.same_sched (hive's own) is 1 when A and B share a
 * home scheduler, so no message of the loop crosses threads.
 *
 * R = 1,000,000; --short: 10,000. */
#include "bench/bench.h"

#define FULL_ROUNDS 1000000
#define SHORT_ROUNDS 10000

struct pingpong_ctx {
    struct bench_opts opts;
    int64_t rounds;
    struct bench_ready ready;
    hv_term peer, go, done, stop;
};

/* Receives {peer, Pid} and returns Pid. */
static hv_term
recv_peer(struct pingpong_ctx *c)
{
    const struct bench_opts *o = &c->opts;
    hv_term msg = bench_recv(o);
    hv_term peer = hv_retain(hv_tuple_at(msg, 1));
    if (hv_tuple_size(msg) != 2 || hv_tuple_at(msg, 0) != c->peer ||
        !hv_is_pid(peer))
        bench_fail(o->name, "the receive of {peer, Pid}", 0);
    hv_release(msg);
    bench_ready_arrive(o, &c->ready);
    return peer;
}

static void
ping(void *arg)
{
    struct pingpong_ctx *c = arg;
    const struct bench_opts *o = &c->opts;
    hv_term b = recv_peer(c);

    hv_term msg = bench_recv(o);
    if (msg != c->go)
        bench_fail(o->name, "ping's receive of go", 0);
    for (int64_t k = c->rounds; k > 0; k--) {
        bench_send(o, b, hv_int(k));
        hv_term reply = bench_recv(o);
        int64_t v;
        if (hv_int_value(reply, &v) != HV_OK || v != k)
            bench_fail(o->name, "ping's check of the reply", 0);
        hv_release(reply);
    }
    bench_send(o, c->ready.driver, c->done);
    hv_release(b);
}

static void
pong(void *arg)
{
    struct pingpong_ctx *c = arg;
    const struct bench_opts *o = &c->opts;
    hv_term a = recv_peer(c);

    for (;;) {
        hv_term msg = bench_recv(o);
        if (hv_is_integer(msg))
            bench_send(o, a, msg); /* the same term goes back */
        else if (msg == c->stop)
            break;
        else
            bench_fail(o->name, "pong's receive of an integer or stop", 0);
    }
    hv_release(a);
}

static void
driver(void *arg)
{
    struct pingpong_ctx *c = arg;
    const struct bench_opts *o = &c->opts;

    c->peer = bench_atom(o, "peer");
    c->go = bench_atom(o, "go");
    c->done = bench_atom(o, "done");
    c->stop = bench_atom(o, "stop");
    bench_ready_init(&c->ready, 2);
    hv_term b = bench_spawn(o, pong, c);
    hv_term a = bench_spawn(o, ping, c);
    bench_send(o, b, hv_tuple(2, c->peer, a));
    bench_send(o, a, hv_tuple(2, c->peer, b));
    bench_await(o, "ready");
    bool same = bench_home(o, a) == bench_home(o, b);

    int64_t t0 = bench_now_ns();
    bench_send(o, a, c->go);
    bench_await(o, "done");
    int64_t t1 = bench_now_ns();

    bench_send(o, b, c->stop);
    bench_line(o, "pingpong", c->rounds, t1 - t0, c->rounds, "same_sched:%d",
               same);
}

int
main(int argc, char **argv)
{
    static struct pingpong_ctx c;
    bench_opts_parse(&c.opts, "pingpong", argc, argv);
    c.rounds = c.opts.short_mode ? SHORT_ROUNDS : FULL_ROUNDS;
    bench_run(&c.opts, driver, &c);
    return 0;
}
