/* bench/skynet.c - skynet as the peers define it
 * (../shared/peers/README.md, benchmark 4).
 *
 * process(num, size): if size is 1 it sends num to its parent and returns;
 * otherwise it spawns ten children process(num + i*size/10, size/10),
 * i = 0..9, receives ten integers and sends their sum to its parent.
 * Timed from just before the driver spawns the root (num 0, size L) until
 * it receives the sum, which must be 0 + 1 + ... + (L-1): 499,999,500,000
 * for L = 1,000,000.  n is L, the leaves; one op is one process (1,111,111
 * processes and as many messages).  extra.minflt: minor faults meanwhile.
 *
 * A process's arguments travel in a malloc'd struct the child frees, as
 * Erlang's closure or CAF's spawn arguments are heap objects too.
 *
 * L = 1,000,000; --short: 1,000 (1,111 processes; under TSan 100). */
#include "bench/bench.h"

#define FULL_LEAVES 1000000
#define SHORT_LEAVES (BENCH_TSAN ? 100 : 1000)
#define FANOUT 10

struct skynet_args {
    hv_term parent;
    int64_t num, size;
};

/* The options for failure messages: every process reads them. */
static struct bench_opts opts;

static void node(void *arg);

static void
spawn_node(hv_term parent, int64_t num, int64_t size)
{
    struct skynet_args *a = malloc(sizeof *a);
    if (a == NULL)
        bench_fail(opts.name, "malloc of a process's arguments", HV_ENOMEM);
    a->parent = parent;
    a->num = num;
    a->size = size;
    bench_spawn(&opts, node, a);
}

static void
node(void *arg)
{
    struct skynet_args a = *(struct skynet_args *)arg;
    free(arg);

    if (a.size == 1) {
        bench_send(&opts, a.parent, hv_int(a.num));
        return;
    }
    int64_t sub = a.size / FANOUT;
    hv_term self = hv_self();
    for (int64_t i = 0; i < FANOUT; i++)
        spawn_node(self, a.num + i * sub, sub);
    int64_t sum = 0;
    for (int i = 0; i < FANOUT; i++) {
        hv_term msg = bench_recv(&opts);
        int64_t v;
        if (hv_int_value(msg, &v) != HV_OK)
            bench_fail(opts.name, "a node's receive of an integer", 0);
        hv_release(msg);
        sum += v;
    }
    bench_send(&opts, a.parent, hv_int(sum));
}

static void
driver(void *arg)
{
    int64_t leaves = *(const int64_t *)arg;
    int64_t procs = 0;
    for (int64_t level = 1; level <= leaves; level *= FANOUT)
        procs += level;
    int64_t want = leaves * (leaves - 1) / 2;

    int64_t flt0 = bench_minflt();
    int64_t t0 = bench_now_ns();
    spawn_node(hv_self(), 0, leaves);
    hv_term msg = bench_recv_driver(&opts, "sum");
    int64_t t1 = bench_now_ns();
    int64_t flt1 = bench_minflt();

    int64_t sum;
    if (hv_int_value(msg, &sum) != HV_OK)
        bench_fail(opts.name, "the driver's receive of the sum", 0);
    hv_release(msg);
    if (sum != want)
        bench_failf(opts.name, "sum %" PRId64 ", expected %" PRId64, sum, want);
    bench_line(&opts, "skynet", leaves, t1 - t0, procs,
               "procs:%" PRId64 ",sum:%" PRId64 ",minflt:%" PRId64, procs, sum,
               flt1 - flt0);
}

int
main(int argc, char **argv)
{
    static int64_t leaves;
    bench_opts_parse(&opts, "skynet", argc, argv);
    leaves = opts.short_mode ? SHORT_LEAVES : FULL_LEAVES;
    bench_run(&opts, driver, &leaves);
    return 0;
}
