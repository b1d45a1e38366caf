/* bench/terms.c - term throughput on a mix of typical messages: build with
 * the C constructors, hv_pack, hv_unpack; against msgpack-c packing the
 * same layout by hand and unpacking it with msgpack_unpack_next.
 *
 * The mix, round robin, is what an Erlang-style system sends:
 *   {call, From, Ref, {get, <<"user:123">>}}
 *   {cast, {put, <<"k">>, <<64 bytes>>}}
 *   {'$gen_call', {Pid, Ref}, {deposit, 100}}
 *   {reply, Ref, {ok, #{name => <<"x">>, age => 42, tags => [a, b, c]}}}
 *   {'EXIT', Pid, normal}
 *   {event, 1700000000123, 3.14, [1, 2, 3, 4, 5]}
 * Pids change from message to message and every ref is fresh, as in a
 * running system; sizes stay the same, so bytes_per_msg is stable.
 *
 * Lines, in the peers' format (../shared/peers/README.md), one op being
 * one message:
 *   terms_build_pack_unpack  build, pack, unpack, release both
 *   terms_build              build and release (extra.release_ns: the
 *                            release's share of per_op_ns)
 *   terms_pack               pack a built message into a reused buffer
 *   terms_unpack             unpack and release (extra.release_ns)
 * so the last three add up to about the first.  impl=msgpack-c does the
 * same job the way a C program using msgpack-c alone would: there is
 * nothing to build (the values stay in C variables), and what it unpacks
 * is a msgpack_object tree, not terms: no atom is interned and nothing is
 * refcounted, and the tree lives in a zone that the next
 * msgpack_unpack_next frees.  That is the baseline hive's convenience is
 * measured against, not a like-for-like decoder.
 *
 * Each phase first runs untimed with growing N (the warm-up), and N is
 * picked so one timed run takes about 0.6-0.9 s; then three timed runs,
 * and the line gives the median with the spread (runs, wall_min_s,
 * wall_max_s), as the peers' median lines do.  A "# WARNING" note says
 * when other processes used the CPU meanwhile.  -n N fixes N for every
 * phase, -r R the runs, --short runs a few hundred messages for make
 * check.  Before timing, hive's bytes for each kind are compared with
 * msgpack-c's, and each side decodes the other's. */
#include <errno.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hive/hive.h"

#define NKINDS 6
/* Prebuilt messages for the pack and unpack phases: small enough to stay
 * in cache, as a message in flight would be. */
#define POOL (NKINDS * 64)
#define BATCH 256
#define TARGET_S 0.9
#define SHORT_N ((size_t)NKINDS * 50)
#define MAX_RUNS 15

static const char *const kind_name[NKINDS] = {"call",  "cast", "gen_call",
                                              "reply", "exit", "event"};

/* Atoms are looked up once, as a real program does at start. */
struct atoms {
    hv_term call, get, cast, put, gen_call, deposit, reply, name, age, tags;
    hv_term a, b, c, exit, normal, event;
};

struct ctx {
    struct atoms at;
    char value64[64];
    hv_buf buf;
    hv_term pool[POOL];
    hv_term batch[BATCH];
    /* The pool packed back to back, by hive and by msgpack-c. */
    hv_buf packed;
    size_t packed_off[POOL + 1];
    msgpack_sbuffer mp_packed;
    size_t mp_off[POOL + 1];
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_unpacked up;
    uint64_t mp_ref; /* the msgpack-c side's ref counter */
};

/* Wall time of one timed run, and the part of it spent releasing. */
struct timing {
    double wall_s, release_s;
};

typedef void (*phase_fn)(struct ctx *c, size_t n, struct timing *tm);

static _Noreturn void
die(const char *what, int code)
{
    fprintf(stderr, "terms: %s failed: %s\n", what,
            code ? hv_strerror(code) : "returned HV_NONE");
    exit(1);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static hv_term
atom(const char *name)
{
    hv_term a = hv_atom(name);
    if (a == HV_NONE)
        die("hv_atom", 0);
    return a;
}

static void
atoms_init(struct atoms *at)
{
    at->call = atom("call");
    at->get = atom("get");
    at->cast = atom("cast");
    at->put = atom("put");
    at->gen_call = atom("$gen_call");
    at->deposit = atom("deposit");
    at->reply = atom("reply");
    at->name = atom("name");
    at->age = atom("age");
    at->tags = atom("tags");
    at->a = atom("a");
    at->b = atom("b");
    at->c = atom("c");
    at->exit = atom("EXIT");
    at->normal = atom("normal");
    at->event = atom("event");
}

/* The pid number of message i: senders vary, sizes do not. */
static uint32_t
pid_number(size_t i)
{
    return 100 + (uint32_t)(i & 0xfff);
}

/* Message i of the mix, new.  Constructors consume their arguments, so a
 * failure anywhere inside gives HV_NONE with nothing leaked. */
static hv_term
build_msg(const struct ctx *c, size_t i)
{
    const struct atoms *at = &c->at;
    hv_term pid = hv_pid_local(pid_number(i), 0);
    switch (i % NKINDS) {
    case 0:
        return hv_tuple(4, at->call, pid, hv_ref_make(),
                        hv_tuple(2, at->get, hv_binary("user:123", 8)));
    case 1:
        return hv_tuple(2, at->cast,
                        hv_tuple(3, at->put, hv_binary("k", 1),
                                 hv_binary(c->value64, sizeof c->value64)));
    case 2:
        return hv_tuple(3, at->gen_call, hv_tuple(2, pid, hv_ref_make()),
                        hv_tuple(2, at->deposit, hv_int(100)));
    case 3: {
        hv_term keys[3] = {at->name, at->age, at->tags};
        hv_term vals[3] = {hv_binary("x", 1), hv_int(42),
                           hv_list(3, at->a, at->b, at->c)};
        return hv_tuple(3, at->reply, hv_ref_make(),
                        hv_tuple(2, HV_ATOM_OK, hv_map_from(3, keys, vals)));
    }
    case 4:
        return hv_tuple(3, at->exit, pid, at->normal);
    default:
        return hv_tuple(4, at->event, hv_int(1700000000123), hv_float(3.14),
                        hv_list(5, hv_int(1), hv_int(2), hv_int(3),
                                hv_int(4), hv_int(5)));
    }
}

/* The ref inside message i, borrowed, or HV_NONE for kinds without one. */
static hv_term
msg_ref(hv_term msg, size_t i)
{
    switch (i % NKINDS) {
    case 0: return hv_tuple_at(msg, 2);
    case 2: return hv_tuple_at(hv_tuple_at(msg, 1), 1);
    case 3: return hv_tuple_at(msg, 1);
    default: return HV_NONE;
    }
}

/* ---- the same layout by hand with msgpack-c (see hive/term.h) ---- */

enum { EXT_ATOM = 1, EXT_PID = 2, EXT_REF = 3, EXT_TUPLE = 4 };

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A tuple is an array whose element 0 is a zero-length ext(4). */
static int
mp_tuple(msgpack_packer *pk, size_t arity)
{
    if (msgpack_pack_array(pk, arity + 1) != 0)
        return -1;
    return msgpack_pack_ext(pk, 0, EXT_TUPLE);
}

static int
mp_atom(msgpack_packer *pk, const char *name)
{
    return msgpack_pack_ext_with_body(pk, name, strlen(name), EXT_ATOM);
}

static int
mp_bin(msgpack_packer *pk, const void *data, size_t len)
{
    return msgpack_pack_bin_with_body(pk, data, len);
}

/* A local pid: number, serial, creation (u32 BE), empty node name. */
static int
mp_pid(msgpack_packer *pk, uint32_t number)
{
    uint8_t body[12];
    put_be32(body, number);
    put_be32(body + 4, 0);
    put_be32(body + 8, 0);
    return msgpack_pack_ext_with_body(pk, body, sizeof body, EXT_PID);
}

/* A local ref: creation (u32 BE), word count (u8), the words least
 * significant first (u32 BE each), empty node name. */
static int
mp_ref(msgpack_packer *pk, uint64_t value)
{
    uint8_t body[5 + 8];
    uint8_t nwords = value >> 32 ? 2 : 1;
    put_be32(body, 0);
    body[4] = nwords;
    put_be32(body + 5, (uint32_t)value);
    put_be32(body + 9, (uint32_t)(value >> 32));
    return msgpack_pack_ext_with_body(pk, body, 5 + 4 * (size_t)nwords,
                                      EXT_REF);
}

/* Message i, with ref as its ref.  Map keys go in term order (age, name,
 * tags), the order hive keeps them in.  Each msgpack-c call returns 0 on
 * success, so || packs left to right and stops at the first failure.
 * Returns 0, or -1 when msgpack-c failed. */
static int
mp_msg(const struct ctx *c, msgpack_packer *pk, size_t i, uint64_t ref)
{
    uint32_t pid = pid_number(i);
    bool fail;
    switch (i % NKINDS) {
    case 0:
        fail = mp_tuple(pk, 4) || mp_atom(pk, "call") || mp_pid(pk, pid) ||
               mp_ref(pk, ref) || mp_tuple(pk, 2) || mp_atom(pk, "get") ||
               mp_bin(pk, "user:123", 8);
        break;
    case 1:
        fail = mp_tuple(pk, 2) || mp_atom(pk, "cast") || mp_tuple(pk, 3) ||
               mp_atom(pk, "put") || mp_bin(pk, "k", 1) ||
               mp_bin(pk, c->value64, sizeof c->value64);
        break;
    case 2:
        fail = mp_tuple(pk, 3) || mp_atom(pk, "$gen_call") ||
               mp_tuple(pk, 2) || mp_pid(pk, pid) || mp_ref(pk, ref) ||
               mp_tuple(pk, 2) || mp_atom(pk, "deposit") ||
               msgpack_pack_int64(pk, 100);
        break;
    case 3:
        fail = mp_tuple(pk, 3) || mp_atom(pk, "reply") || mp_ref(pk, ref) ||
               mp_tuple(pk, 2) || mp_atom(pk, "ok") ||
               msgpack_pack_map(pk, 3) || mp_atom(pk, "age") ||
               msgpack_pack_int64(pk, 42) || mp_atom(pk, "name") ||
               mp_bin(pk, "x", 1) || mp_atom(pk, "tags") ||
               msgpack_pack_array(pk, 3) || mp_atom(pk, "a") ||
               mp_atom(pk, "b") || mp_atom(pk, "c");
        break;
    case 4:
        fail = mp_tuple(pk, 3) || mp_atom(pk, "EXIT") || mp_pid(pk, pid) ||
               mp_atom(pk, "normal");
        break;
    default:
        fail = mp_tuple(pk, 4) || mp_atom(pk, "event") ||
               msgpack_pack_int64(pk, 1700000000123) ||
               msgpack_pack_double(pk, 3.14) || msgpack_pack_array(pk, 5);
        for (int64_t v = 1; v <= 5 && !fail; v++)
            fail = msgpack_pack_int64(pk, v) != 0;
        break;
    }
    return fail ? -1 : 0;
}

/* ---- phases ---- */

static void
hive_build_pack_unpack(struct ctx *c, size_t n, struct timing *tm)
{
    hv_error err;
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        hv_term msg = build_msg(c, i);
        if (msg == HV_NONE)
            die("building a message", 0);
        c->buf.len = 0; /* reuse the buffer: hv_pack appends */
        int rc = hv_pack(msg, &c->buf);
        if (rc != HV_OK)
            die("hv_pack", rc);
        hv_term back = hv_unpack(c->buf.data, c->buf.len, &err);
        if (back == HV_NONE)
            die("hv_unpack", err.code);
        hv_release(msg);
        hv_release(back);
    }
    tm->wall_s = now_s() - t0;
    tm->release_s = 0;
}

/* Makes term i of a phase; dies on failure. */
typedef hv_term make_fn(struct ctx *c, size_t i);

/* Makes n terms in batches and releases each batch, timing the two apart
 * (the release share is printed as release_ns). */
static void
make_and_release(struct ctx *c, size_t n, make_fn *make, struct timing *tm)
{
    double make_s = 0, release_s = 0;
    for (size_t i = 0; i < n;) {
        size_t m = n - i < BATCH ? n - i : BATCH;
        double t0 = now_s();
        for (size_t j = 0; j < m; j++)
            c->batch[j] = make(c, i + j);
        double t1 = now_s();
        for (size_t j = 0; j < m; j++)
            hv_release(c->batch[j]);
        double t2 = now_s();
        make_s += t1 - t0;
        release_s += t2 - t1;
        i += m;
    }
    tm->wall_s = make_s + release_s;
    tm->release_s = release_s;
}

static hv_term
make_built(struct ctx *c, size_t i)
{
    hv_term t = build_msg(c, i);
    if (t == HV_NONE)
        die("building a message", 0);
    return t;
}

static hv_term
make_unpacked(struct ctx *c, size_t i)
{
    hv_error err;
    size_t k = i % POOL;
    const uint8_t *p = c->packed.data + c->packed_off[k];
    size_t len = c->packed_off[k + 1] - c->packed_off[k];
    hv_term t = hv_unpack(p, len, &err);
    if (t == HV_NONE)
        die("hv_unpack", err.code);
    return t;
}

static void
hive_build(struct ctx *c, size_t n, struct timing *tm)
{
    make_and_release(c, n, make_built, tm);
}

static void
hive_pack(struct ctx *c, size_t n, struct timing *tm)
{
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        c->buf.len = 0;
        int rc = hv_pack(c->pool[i % POOL], &c->buf);
        if (rc != HV_OK)
            die("hv_pack", rc);
    }
    tm->wall_s = now_s() - t0;
    tm->release_s = 0;
}

static void
hive_unpack(struct ctx *c, size_t n, struct timing *tm)
{
    make_and_release(c, n, make_unpacked, tm);
}

static void
mp_unpack_one(struct ctx *c, const char *data, size_t len)
{
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(&c->up, data, len, &off);
    if (r != MSGPACK_UNPACK_SUCCESS || off != len) {
        fprintf(stderr, "terms: msgpack_unpack_next failed (%d)\n", (int)r);
        exit(1);
    }
}

static void
mp_pack_check(int rc)
{
    if (rc != 0) {
        fprintf(stderr, "terms: msgpack-c packing failed\n");
        exit(1);
    }
}

static void
mp_pack_unpack(struct ctx *c, size_t n, struct timing *tm)
{
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        msgpack_sbuffer_clear(&c->sbuf);
        mp_pack_check(mp_msg(c, &c->pk, i, ++c->mp_ref));
        mp_unpack_one(c, c->sbuf.data, c->sbuf.size);
    }
    tm->wall_s = now_s() - t0;
    tm->release_s = 0;
}

static void
mp_pack(struct ctx *c, size_t n, struct timing *tm)
{
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        msgpack_sbuffer_clear(&c->sbuf);
        mp_pack_check(mp_msg(c, &c->pk, i, ++c->mp_ref));
    }
    tm->wall_s = now_s() - t0;
    tm->release_s = 0;
}

static void
mp_unpack(struct ctx *c, size_t n, struct timing *tm)
{
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        size_t k = i % POOL;
        mp_unpack_one(c, c->mp_packed.data + c->mp_off[k],
                      c->mp_off[k + 1] - c->mp_off[k]);
    }
    tm->wall_s = now_s() - t0;
    tm->release_s = 0;
}

/* ---- setup, checks, driver ---- */

static void
print_hex(const char *label, const uint8_t *p, size_t len)
{
    printf("#   %-9s", label);
    for (size_t i = 0; i < len; i++)
        printf(" %02x", p[i]);
    printf("\n");
}

static void
unpack_equal(const uint8_t *bytes, size_t len, hv_term want,
             const char *whose, size_t i)
{
    hv_error err;
    hv_term back = hv_unpack(bytes, len, &err);
    if (back == HV_NONE)
        die("hv_unpack", err.code);
    if (!hv_equal(back, want)) {
        fprintf(stderr, "terms: hv_unpack of %s bytes for %s gives "
                "another term\n", whose, kind_name[i]);
        exit(1);
    }
    hv_release(back);
}

/* Packs one message of each kind both ways and compares the bytes, and
 * checks that each side decodes the other's.  Returns the kinds that
 * differ (a note, not a failure: the timings still stand, but are then
 * not of the same bytes). */
static int
check_bytes(struct ctx *c)
{
    int differ = 0;
    for (size_t i = 0; i < NKINDS; i++) {
        hv_term msg = build_msg(c, i);
        if (msg == HV_NONE)
            die("building a message", 0);
        uint64_t ref = 0;
        hv_term r = msg_ref(msg, i);
        if (r != HV_NONE) {
            uint32_t words[5];
            int nwords = hv_ref_fields(r, NULL, NULL, words);
            if (nwords < 1)
                die("hv_ref_fields", nwords);
            ref = words[0] | (nwords > 1 ? (uint64_t)words[1] << 32 : 0);
        }
        c->buf.len = 0;
        int rc = hv_pack(msg, &c->buf);
        if (rc != HV_OK)
            die("hv_pack", rc);
        msgpack_sbuffer_clear(&c->sbuf);
        mp_pack_check(mp_msg(c, &c->pk, i, ref));

        const uint8_t *mp = (const uint8_t *)c->sbuf.data;
        if (c->buf.len == c->sbuf.size &&
            memcmp(c->buf.data, mp, c->buf.len) == 0) {
            printf("# bytes match kind=%s bytes=%zu\n", kind_name[i],
                   c->buf.len);
        } else {
            differ++;
            printf("# bytes differ kind=%s hive=%zu msgpack-c=%zu\n",
                   kind_name[i], c->buf.len, c->sbuf.size);
            print_hex("hive", c->buf.data, c->buf.len);
            print_hex("msgpack-c", mp, c->sbuf.size);
        }

        /* hive reads back its own bytes and msgpack-c's as an equal
         * term; msgpack-c reads hive's. */
        unpack_equal(c->buf.data, c->buf.len, msg, "hive's", i);
        unpack_equal(mp, c->sbuf.size, msg, "msgpack-c's", i);
        mp_unpack_one(c, (const char *)c->buf.data, c->buf.len);
        hv_release(msg);
    }
    return differ;
}

/* Fills the pool, packed both ways, for the pack and unpack phases. */
static void
pool_init(struct ctx *c)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, &c->mp_packed, msgpack_sbuffer_write);
    for (size_t i = 0; i < POOL; i++) {
        c->pool[i] = build_msg(c, i);
        if (c->pool[i] == HV_NONE)
            die("building a message", 0);
        c->packed_off[i] = c->packed.len;
        int rc = hv_pack(c->pool[i], &c->packed);
        if (rc != HV_OK)
            die("hv_pack", rc);
        c->mp_off[i] = c->mp_packed.size;
        mp_pack_check(mp_msg(c, &pk, i, ++c->mp_ref));
    }
    c->packed_off[POOL] = c->packed.len;
    c->mp_off[POOL] = c->mp_packed.size;
}

/* The largest of 1, 1.5, 2, 3, 4, 5, 7 times a power of ten not above x,
 * so N reads well and a run takes 67-100% of the target. */
static size_t
round_n(double x)
{
    static const double steps[] = {7, 5, 4, 3, 2, 1.5, 1};
    if (x < 10)
        return 10;
    double p = 1;
    while (p * 10 <= x)
        p *= 10;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] * p <= x)
            return (size_t)(steps[i] * p);
    return (size_t)p;
}

/* Untimed runs with growing n until one lasts 50 ms, then the n that
 * should take TARGET_S.  These runs are the phase's warm-up too. */
static size_t
pick_n(struct ctx *c, phase_fn fn)
{
    struct timing tm;
    size_t n = POOL;
    for (;;) {
        fn(c, n, &tm);
        if (tm.wall_s >= 0.05 || n >= ((size_t)1 << 40))
            break;
        n *= 2;
    }
    return round_n(TARGET_S * (double)n / (tm.wall_s > 0 ? tm.wall_s : 1e-9));
}

/* CPU seconds all processes have used (/proc/stat), or -1 when that is
 * not readable.  With our own CPU time it shows whether anything else ran
 * during a phase: on a 2-vCPU VM one busy neighbour moves figures by a
 * factor of 2 to 3 (see the peers' README). */
static double
busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return -1;
    unsigned long long v[8] = {0};
    int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
                     &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    if (got != 8 || hz <= 0)
        return -1;
    /* user nice system idle iowait irq softirq steal: all but idle and
     * iowait are busy. */
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)hz;
}

static double
own_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
by_wall(const void *a, const void *b)
{
    double x = ((const struct timing *)a)->wall_s;
    double y = ((const struct timing *)b)->wall_s;
    return (x > y) - (x < y);
}

/* Warms up (or picks n), then times runs runs and prints the median one
 * with the spread, as the peers' median lines do. */
static void
run_phase(struct ctx *c, const char *bench, const char *impl, phase_fn fn,
          size_t n_fixed, unsigned runs, double bytes_per_msg)
{
    struct timing tm[MAX_RUNS];
    size_t n = n_fixed;
    if (n == 0)
        n = pick_n(c, fn);
    else
        fn(c, n < POOL ? n : POOL, &tm[0]); /* warm-up */

    double busy0 = busy_s(), cpu0 = own_cpu_s(), t0 = now_s();
    for (unsigned r = 0; r < runs; r++)
        fn(c, n, &tm[r]);
    double wall = now_s() - t0;
    double others = busy_s() - busy0 - (own_cpu_s() - cpu0);

    qsort(tm, runs, sizeof tm[0], by_wall);
    const struct timing *med = &tm[runs / 2];
    printf("bench=%s impl=%s n=%zu wall_s=%.6f per_op_ns=%.1f "
           "extra=bytes_per_msg:%.1f,kinds:%d",
           bench, impl, n, med->wall_s, med->wall_s * 1e9 / (double)n,
           bytes_per_msg, NKINDS);
    if (med->release_s > 0)
        printf(",release_ns:%.1f", med->release_s * 1e9 / (double)n);
    printf(",runs:%u,wall_min_s:%.6f,wall_max_s:%.6f\n", runs, tm[0].wall_s,
           tm[runs - 1].wall_s);
    /* Tick granularity (10 ms) makes short phases read as busy. */
    if (busy0 >= 0 && wall > 0.2 && others > 0.1 * wall)
        printf("# WARNING bench=%s impl=%s: other processes used %.2f s of "
               "CPU during %.2f s of runs; figures may be skewed\n",
               bench, impl, others, wall);
    fflush(stdout);
}

static _Noreturn void
usage(int status)
{
    fprintf(status ? stderr : stdout,
            "usage: terms [--short] [-n N] [-r RUNS]\n"
            "  --short  a few hundred messages per phase (for make check)\n"
            "  -n N     N messages per phase (default: ~0.6-0.9 s a run)\n"
            "  -r RUNS  timed runs per phase, median printed (default 3, "
            "at most 15)\n");
    exit(status);
}

int
main(int argc, char **argv)
{
    size_t n = 0;
    unsigned runs = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--short") == 0) {
            n = SHORT_N;
        } else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (errno != 0 || *end != '\0' || v == 0 || argv[i][0] == '-')
                usage(2);
            n = (size_t)v;
        } else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end != '\0' || v == 0 || v > MAX_RUNS || argv[i][0] == '-')
                usage(2);
            runs = (unsigned)v;
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            usage(0);
        } else {
            usage(2);
        }
    }

    static struct ctx c; /* large; zeroed, which starts every buffer */
    atoms_init(&c.at);
    for (size_t i = 0; i < sizeof c.value64; i++)
        c.value64[i] = (char)('a' + i % 26);
    msgpack_sbuffer_init(&c.sbuf);
    msgpack_sbuffer_init(&c.mp_packed);
    msgpack_packer_init(&c.pk, &c.sbuf, msgpack_sbuffer_write);
    msgpack_unpacked_init(&c.up);

    int differ = check_bytes(&c);
    pool_init(&c);
    double hive_bpm = (double)c.packed.len / POOL;
    double mp_bpm = (double)c.mp_packed.size / POOL;
    printf("# terms: %d kinds round robin (call, cast, gen_call, reply, "
           "EXIT, event); build and unpack include the release; "
           "msgpack-c builds nothing and unpacks to msgpack_object\n",
           NKINDS);
    if (differ)
        printf("# bytes differ in %d of %d kinds: msgpack-c's figures are "
               "for other bytes\n", differ, NKINDS);

    run_phase(&c, "terms_build_pack_unpack", "hive", hive_build_pack_unpack,
              n, runs, hive_bpm);
    run_phase(&c, "terms_build", "hive", hive_build, n, runs, hive_bpm);
    run_phase(&c, "terms_pack", "hive", hive_pack, n, runs, hive_bpm);
    run_phase(&c, "terms_unpack", "hive", hive_unpack, n, runs, hive_bpm);
    run_phase(&c, "terms_build_pack_unpack", "msgpack-c", mp_pack_unpack, n,
              runs, mp_bpm);
    run_phase(&c, "terms_pack", "msgpack-c", mp_pack, n, runs, mp_bpm);
    run_phase(&c, "terms_unpack", "msgpack-c", mp_unpack, n, runs, mp_bpm);

    for (size_t i = 0; i < POOL; i++)
        hv_release(c.pool[i]);
    hv_buf_free(&c.buf);
    hv_buf_free(&c.packed);
    msgpack_unpacked_destroy(&c.up);
    msgpack_sbuffer_destroy(&c.sbuf);
    msgpack_sbuffer_destroy(&c.mp_packed);
    return 0;
}
