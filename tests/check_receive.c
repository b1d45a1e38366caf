/* tests/check_receive.c - hv_receive in processes: Erlang's selective
 * receive, timeouts, the mailbox index and ref mark (faster, never
 * different), bad input, ownership; and random operations checked
 * against a naive C mailbox.  _i of the loop tests: 1 or 2 schedulers. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hive/hive.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"

/* A wait that should end at once; past it the test fails, not hangs. */
enum { WAIT_MS = 10000 };

static hv_term main_pid;

/* Every set a test compiles (keep), freed together by free_sets. */
static hv_rset *compiled[64];
static atomic_int ncompiled;
static hv_error compile_err; /* written only when a compile fails */

static hv_rset *
keep(hv_rset *s)
{
    int i = atomic_fetch_add(&ncompiled, 1);
    if (hv_expect_at(s != NULL && i < 64, compile_err.what, __LINE__))
        compiled[i] = s;
    return s;
}

/* A set of the clauses given, ended by NULL. */
static hv_rset *
rset(const char *first, ...)
{
    const char *clauses[8];
    size_t n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *c = first; c != NULL && n < 8;
         c = va_arg(ap, const char *))
        clauses[n++] = c;
    va_end(ap);
    return keep(hv_rset_compile(clauses, n, &compile_err));
}

static void
free_sets(void)
{
    for (int i = 0; i < atomic_load(&ncompiled) && i < 64; i++)
        hv_rset_free(compiled[i]);
    atomic_store(&ncompiled, 0);
}

static void
send_self(hv_term msg)
{
    EXPECT(hv_send(hv_self(), msg) == HV_OK);
}

static void
send_text(hv_term to, const char *text)
{
    EXPECT(hv_send(to, hv_parse(text, NULL)) == HV_OK);
}

static int64_t
bound_int(const hv_bindings *b, const char *name)
{
    int64_t v;
    return hv_int_value(hv_binding(b, name), &v) == HV_OK ? v : INT64_MIN;
}

/* Receives with s (waiting up to 1 s) and expects clause `clause` with
 * its variable N bound to n. */
static void
expect_n(const hv_rset *s, const hv_pins *pins, int clause, int64_t n)
{
    hv_bindings b;
    EXPECT(hv_receive(s, pins, 1000, &b) == HV_OK);
    EXPECT(b.clause == clause && bound_int(&b, "N") == n);
    hv_bindings_release(&b);
}

/* Drains the mailbox with hv_recv, expecting exactly texts, in order. */
static void
expect_left(const char *const *texts, size_t n)
{
    hv_term m = HV_NONE;
    for (size_t i = 0; i < n; i++) {
        hv_term want = hv_parse(texts[i], NULL);
        EXPECT(hv_recv(0, &m) == HV_OK);
        bool same = hv_equal(m, want);
        hv_release(m);
        hv_release(want);
        if (!EXPECT(same))
            return;
    }
    EXPECT(hv_recv(0, &m) == HV_ETIMEOUT);
}

static size_t
mailbox_len(void)
{
    hv_proc_info info;
    return hv_process_info(hv_self(), &info) == HV_OK ? info.mailbox_len : 0;
}

static hv_term
reply_msg(hv_term ref, int64_t n)
{
    return hv_tuple(3, hv_atom("reply"), ref, hv_int(n));
}

/* Sends self {junk, I} for even I in [0, n), {reply, Other, I} for odd. */
static void
queue_junk(long n, hv_term other)
{
    for (long i = 0; i < n; i++)
        send_self(i % 2 ? reply_msg(other, i)
                        : hv_tuple(2, hv_atom("junk"), hv_int(i)));
}

/* Takes the n messages of queue_junk(n, other), expecting their order. */
static void
expect_junk(long n, hv_term other)
{
    for (long i = 0; i < n; i++) {
        hv_term m = HV_NONE;
        EXPECT(hv_recv(0, &m) == HV_OK);
        bool ok =
            i % 2 ? hv_equal(hv_tuple_at(m, 1), other) && elem_int(m, 2) == i
                  : is_tagged(m, "junk") && elem_int(m, 1) == i;
        hv_release(m);
        if (!EXPECT(ok || !"junk lost or out of order"))
            return;
    }
}

/* Deferred messages keep their order, and a new receive, with any set,
 * starts from the oldest again, also after one that waited and rejected
 * everything.  Erlang: the first MESSAGE that matches any clause wins,
 * and among the clauses that match it, the first clause; `_` and a lone
 * variable take the oldest message, whatever it is. */
static void
order_main(void *arg)
{
    static const char *const queued[] = {"a", "{x, 1}", "b",     "{x, 2}",
                                         "c", "{y, 1}", "{y, 2}"};
    static const char *const left[] = {"a", "b", "c", "{y, 3}"};
    static const char *const sent[] = {"{b, 1}", "{a, 1}", "{k, 5}",
                                       "{k, 5}", "{k, 2}", "<<\"t\">>",
                                       "{a, 3}"};
    hv_rset *x = rset("{x, N}", NULL), *y = rset("{y, N}", NULL);
    hv_rset *none = rset("{never}", NULL);
    hv_rset *ab = rset("{a, N}", "{b, N}", NULL);
    hv_rset *k = rset("{k, N} when N > 10", "{k, N} when N > 1", "{k, _}",
                      "{a, N}", NULL);
    hv_rset *both = rset("{k, N}", "{k, 5}", NULL);
    hv_rset *any = rset("{a, N}", "_", NULL), *var = rset("N", NULL);
    hv_bindings b;
    (void)arg;
    for (size_t i = 0; i < sizeof queued / sizeof *queued; i++)
        send_text(hv_self(), queued[i]);
    expect_n(x, NULL, 0, 1);
    EXPECT(hv_receive(none, NULL, 10, &b) == HV_ETIMEOUT);
    send_text(hv_self(), "{y, 3}");
    expect_n(y, NULL, 0, 1);
    expect_n(x, NULL, 0, 2);
    expect_n(y, NULL, 0, 2);
    expect_left(left, 4);
    for (size_t i = 0; i < sizeof sent / sizeof *sent; i++)
        send_text(hv_self(), sent[i]);
    expect_n(ab, NULL, 1, 1); /* {b, 1} is older than {a, 1} */
    expect_n(k, NULL, 3, 1);  /* {a, 1} is older than {k, 5} */
    expect_n(k, NULL, 1, 5);
    expect_n(both, NULL, 0, 5);
    EXPECT(hv_receive(any, NULL, 0, &b) == HV_OK && b.clause == 1);
    EXPECT(elem_int(b.msg, 1) == 2 && b.nvars == 0);
    hv_bindings_release(&b);
    EXPECT(hv_receive(var, NULL, 0, &b) == HV_OK && hv_is_binary(b.msg));
    EXPECT(hv_binding(&b, "N") == b.msg && b.nvars == 1);
    hv_bindings_release(&b);
    expect_n(any, NULL, 0, 3);
    expect_left(NULL, 0);
    free_sets();
}

START_TEST(test_receive_takes_the_oldest_match_and_keeps_the_rest_in_order)
{
    run_main(order_main, NULL, (unsigned)_i);
}
END_TEST

static void
timeouts_main(void *arg)
{
    hv_rset *x = rset("{x, N}", NULL), *late = rset("{x, N}", "after 30", NULL);
    hv_rset *first = rset("after 0", "{x, N}", NULL);
    hv_rset *inf = rset("{x, N}", "after infinity", NULL);
    hv_bindings b;
    (void)arg;
    send_text(hv_self(), "z");
    EXPECT(hv_receive(x, NULL, 0, &b) == HV_ETIMEOUT && b.clause == -1);
    EXPECT(mailbox_len() == 1); /* the poll took nothing */
    double t0 = now_ms();
    EXPECT(hv_receive(x, NULL, 50, &b) == HV_ETIMEOUT && b.clause == -1);
    EXPECT(now_ms() - t0 >= 50);
    /* HV_AFTER: the after clause's timeout, and its index on timeout. */
    t0 = now_ms();
    EXPECT(hv_receive(late, NULL, HV_AFTER, &b) == HV_ETIMEOUT);
    EXPECT(b.clause == 1 && now_ms() - t0 >= 30);
    EXPECT(hv_receive(first, NULL, HV_AFTER, &b) == HV_ETIMEOUT);
    EXPECT(b.clause == 0);
    EXPECT(hv_receive(late, NULL, 0, &b) == HV_ETIMEOUT); /* 0 overrides */
    send_text(hv_self(), "{x, 3}");
    expect_n(first, NULL, 1, 3);
    /* HV_INFINITY, and HV_AFTER with no after clause or after infinity,
     * wait for ever: a later send wakes them. */
    const hv_rset *forever[] = {x, x, inf};
    for (int i = 0; i < 3; i++) {
        hv_release(hv_send_after(60, hv_self(), hv_parse("{x, 7}", NULL)));
        t0 = now_ms();
        EXPECT(hv_receive(forever[i], NULL, i ? HV_AFTER : HV_INFINITY, &b) ==
               HV_OK);
        EXPECT(b.clause == 0 && now_ms() - t0 >= 50);
        hv_bindings_release(&b);
    }
    await_atom("z");
    free_sets();
}

START_TEST(test_receive_polls_waits_and_takes_the_after_clause)
{
    run_main(timeouts_main, NULL, (unsigned)_i);
}
END_TEST

enum { SENDERS = 8 };
static hv_term il_refs[2];
static long il_n;

/* Sender k sends {junk, k, I} for I in [0, n); senders 0 and 1 also send
 * {done, Ref} with il_refs[k] half way, sender 1 after a pause (so that
 * the second receive, indexed, waits). */
static void
junk_sender(void *arg)
{
    int k = (int)(intptr_t)arg;
    if (k == 1)
        hv_sleep(20);
    for (long i = 0; i < il_n; i++) {
        if (k < 2 && i == il_n / 2)
            EXPECT(hv_send(main_pid,
                           hv_tuple(2, hv_atom("done"), il_refs[k])) == HV_OK);
        EXPECT(hv_send(main_pid, hv_tuple(3, hv_atom("junk"), hv_int(k),
                                          hv_int(i))) == HV_OK);
    }
}

static void
interleave_main(void *arg)
{
    hv_rset *done = rset("{done, ^Ref}", NULL);
    long next[SENDERS] = {0};
    hv_bindings b;
    (void)arg;
    main_pid = hv_self();
    il_n = hv_check_scale(1000);
    il_refs[0] = hv_ref_make();
    il_refs[1] = hv_ref_make();
    (void)hv_ref_make(); /* no ref mark: a scan, then the index, waits */
    for (int k = 0; k < SENDERS; k++)
        EXPECT(hv_spawn(junk_sender, (void *)(intptr_t)k) != HV_NONE);
    for (int r = 0; r < 2; r++) {
        EXPECT(hv_receive(done, HV_PINS(il_refs[r]), WAIT_MS, &b) == HV_OK);
        hv_bindings_release(&b);
    }
    for (long got = 0; got < il_n * SENDERS; got++) {
        hv_term m = HV_NONE;
        EXPECT(hv_recv(WAIT_MS, &m) == HV_OK);
        int64_t k = elem_int(m, 1), i = elem_int(m, 2);
        bool ok =
            is_tagged(m, "junk") && k >= 0 && k < SENDERS && i == next[k]++;
        hv_release(m);
        if (!EXPECT(ok || !"junk lost or out of per-sender order"))
            break;
    }
    expect_left(NULL, 0);
    free_sets();
}

START_TEST(test_receive_finds_replies_among_junk_from_eight_senders)
{
    run_main(interleave_main, NULL, (unsigned)_i);
}
END_TEST

/* The helper: a process that forwards lists of messages, or makes a ref
 * and sends {Ref, made}, then acks.  It runs on an OS thread of its own
 * (hv_spawn_opts.thread), where hv_receive blocks the thread.
 * helper_start compiles its sets: stop it before free_sets. */
static hv_rset *helper_set, *ack_set;

static void
helper(void *arg)
{
    hv_bindings b;
    (void)arg;
    for (;;) {
        if (!EXPECT(hv_receive(helper_set, NULL, HV_INFINITY, &b) == HV_OK))
            return;
        if (b.clause == 2)
            return; /* stop, an atom: nothing to release */
        hv_term to = hv_binding(&b, "To"), v = hv_int(0);
        if (b.clause == 0) {
            for (hv_term l = hv_binding(&b, "L"); hv_is_cons(l);
                 l = hv_list_tail(l))
                EXPECT(hv_send(to, hv_retain(hv_list_head(l))) == HV_OK);
        } else {
            v = hv_ref_make(); /* its first message comes before it */
            EXPECT(hv_send(to, hv_tuple(2, v, hv_atom("made"))) == HV_OK);
        }
        hv_term ack =
            hv_tuple(3, hv_atom("ack"), hv_retain(hv_binding(&b, "A")), v);
        EXPECT(hv_send(to, ack) == HV_OK);
        hv_bindings_release(&b);
    }
}

static hv_term
helper_start(void)
{
    helper_set =
        rset("{forward, To, L, A}", "{make_ref, To, _, A}", "stop", NULL);
    ack_set = rset("{ack, ^A, V}", NULL);
    hv_spawn_opts o = {.thread = true};
    hv_term pid = HV_NONE;
    EXPECT(hv_spawn_opt(helper, NULL, &o, &pid, NULL) == HV_OK);
    return pid;
}

/* Sends the helper {tag, Self, Arg, A} (arg consumed) and returns V of
 * its {ack, A, V} (new). */
static hv_term
helper_call(hv_term pid, const char *tag, hv_term arg)
{
    hv_term a = hv_ref_make(), v = HV_NONE;
    hv_bindings b;
    hv_term msg = hv_tuple(4, hv_atom(tag), hv_self(), arg, a);
    EXPECT(hv_send(pid, msg) == HV_OK);
    if (EXPECT(hv_receive(ack_set, HV_PINS(a), WAIT_MS, &b) == HV_OK)) {
        v = hv_retain(hv_binding(&b, "V"));
        hv_bindings_release(&b);
    }
    return v;
}

/* Among junk: many rounds of answers to refs older than the junk (the
 * index's work, the ref mark cannot help) and to fresh refs; then the
 * cases where a ref mark must not skip what Erlang would find. */
static void
index_main(void *arg)
{
    hv_rset *reply = rset("{reply, ^Ref, N}", NULL);
    hv_rset *tagged = rset("{^Ref, N}", NULL),
            *made = rset("{^Ref, made}", NULL);
    long junk = hv_check_scale(10000), rounds = hv_check_scale(2000);
    hv_term other = hv_ref_make(), pid = helper_start();
    hv_term *refs = malloc((size_t)rounds * sizeof *refs);
    hv_bindings b;
    (void)arg;
    for (long i = 0; i < rounds; i++)
        refs[i] = hv_ref_make();
    queue_junk(junk, other);
    for (long i = 0; i < rounds; i++) {
        hv_term fresh = hv_ref_make();
        send_self(reply_msg(refs[i], i));
        send_self(reply_msg(fresh, -i));
        expect_n(reply, HV_PINS(fresh), 0, -i);
        expect_n(reply, HV_PINS(refs[i]), 0, i);
    }
    /* All answers queued first, then taken newest first. */
    for (long i = 0; i < rounds; i++)
        send_self(reply_msg(refs[i], i));
    for (long i = rounds - 1; i >= 0; i--)
        expect_n(reply, HV_PINS(refs[i]), 0, i);
    /* Refs older than the newest: their messages predate its mark. */
    hv_term r1 = hv_ref_make();
    send_self(hv_tuple(2, r1, hv_int(2)));
    hv_term r2 = hv_ref_make();
    send_self(hv_tuple(2, r2, hv_int(3)));
    (void)hv_ref_make();
    expect_n(tagged, HV_PINS(r1), 0, 2);
    expect_n(tagged, HV_PINS(r2), 0, 3);
    /* The helper's ref is newer than our call's ref, and its message
     * arrived before we learnt the ref: it must still be found. */
    hv_term hr = helper_call(pid, "make_ref", HV_NIL);
    (void)hv_ref_make();
    EXPECT(hv_receive(made, HV_PINS(hr), 0, &b) == HV_OK);
    hv_bindings_release(&b);
    /* A plain call: our fresh ref comes back from another process. */
    hv_term r3 = hv_ref_make();
    hv_release(
        helper_call(pid, "forward", hv_list(1, hv_tuple(2, r3, hv_int(6)))));
    expect_n(tagged, HV_PINS(r3), 0, 6);
    expect_junk(junk, other);
    expect_left(NULL, 0);
    stop_and_reap(pid);
    free_sets();
    free(refs);
}

START_TEST(test_receive_index_and_ref_mark_find_replies_among_junk)
{
    run_main(index_main, NULL, (unsigned)_i);
}
END_TEST

/* Kinds of message, as bits: {reply, R, N}, {reply, R, N, x}, {note, R,
 * N}, {junk, N}, {a, N}, {b, N}, {c, N}, N, and {R, made} (which the
 * helper sends with a ref it makes).  N is unique per message. */
/* clang-format off */
enum { K_REPLY = 1, K_REPLY4 = 2, K_NOTE = 4, K_JUNK = 8, K_A = 16, K_B = 32,
       K_C = 64, K_INT = 128, K_MADE = 256, K_ANY = 511 };
/* clang-format on */
enum { MAX_REFS = 128, P_REF = 1, P_LIM = 2, PIN = 1 };
enum guard { G_NONE, G_EVEN, G_ODD, G_DIV3, G_ABOVE_LIM };

struct mmsg {
    unsigned kind;
    int ref; /* index into md.refs; -1 for kinds without one */
    int64_t n;
};

/* A set: its pins (^R before ^Lim), its after clause, and for each
 * clause the kinds it takes, whether R must be the pin, its guard on N. */
static const struct mset {
    int pins, after;
    const char *clauses[4];
    struct mclause {
        unsigned kinds, pinned;
        enum guard guard;
    } model[2];
} msets[] = {
    /* clang-format off */
    /* Every clause pins element 1 to ^R: the index answers. */
    {P_REF, -1, {"{reply, ^R, N}"}, {{K_REPLY, PIN}}},
    {P_REF, -1, {"{reply, ^R, N}", "{reply, ^R, N, _}"},
     {{K_REPLY, PIN}, {K_REPLY4, PIN}}},
    {P_REF, -1, {"{_, ^R, N}"}, {{K_REPLY | K_NOTE, PIN}}},
    {P_REF, -1, {"{reply, ^R, N} when N rem 2 =:= 0", "{note, ^R, N}"},
     {{K_REPLY, PIN, G_EVEN}, {K_NOTE, PIN}}},
    {P_REF, -1, {"{^R, made}"}, {{K_MADE, PIN}}},
    /* Every clause has the same literal tag: the index answers. */
    {0, -1, {"{junk, N}"}, {{K_JUNK}}},
    {P_LIM, -1, {"{junk, N} when N rem 2 =:= 1", "{junk, N} when N > ^Lim"},
     {{K_JUNK, 0, G_ODD}, {K_JUNK, 0, G_ABOVE_LIM}}},
    {0, -1, {"{c, N}"}, {{K_C}}},
    /* Guards, mixed positions, catch-alls: a scan answers. */
    {0, -1, {"{T, N} when T =:= a; T =:= b"}, {{K_A | K_B}}},
    {0, 2, {"{a, N} when N rem 3 =:= 0", "{b, N}", "after 0"},
     {{K_A, 0, G_DIV3}, {K_B}}},
    {P_REF, -1, {"{reply, R, N} when R =:= ^P"}, {{K_REPLY, PIN}}},
    {P_LIM, -1, {"N when is_integer(N), N > ^Lim"}, {{K_INT, 0, G_ABOVE_LIM}}},
    {0, -1, {"{reply, _, N} when N rem 2 =:= 0", "{note, _, N}"},
     {{K_REPLY, 0, G_EVEN}, {K_NOTE}}},
    {P_REF | P_LIM, -1, {"{reply, ^R, N}", "{junk, N} when N > ^Lim"},
     {{K_REPLY, PIN}, {K_JUNK, 0, G_ABOVE_LIM}}},
    {0, -1, {"_"}, {{K_ANY}}},
    {0, -1, {"{c, N}", "M"}, {{K_C}, {K_ANY}}},
    /* clang-format on */
};
enum { NSETS = sizeof msets / sizeof msets[0] };

/* The clause of s that m matches with pins ref and lim, or -1: Erlang's
 * rule, clause by clause. */
static int
model_clause(const struct mset *s, const struct mmsg *m, int ref, int64_t lim)
{
    for (int i = 0; i < 2 && s->model[i].kinds; i++) {
        const struct mclause *c = &s->model[i];
        enum guard g = c->guard;
        bool holds = g == G_EVEN   ? m->n % 2 == 0
                     : g == G_ODD  ? m->n % 2 == 1
                     : g == G_DIV3 ? m->n % 3 == 0
                                   : g != G_ABOVE_LIM || m->n > lim;
        if ((c->kinds & m->kind) && (!c->pinned || m->ref == ref) && holds)
            return i;
    }
    return -1;
}

/* The model's state; static, as no process may share its stack. */
static struct {
    struct mmsg *q; /* oldest first */
    size_t n, cap;
    hv_term refs[MAX_REFS];
    int nrefs;
    int64_t serial;
    uint64_t rng, seed;
    long op;
    bool failed;
    hv_rset *sets[NSETS];
    hv_term helper;
} md;

static uint64_t
rnd(uint64_t bound)
{
    md.rng ^= md.rng << 13; /* xorshift64 */
    md.rng ^= md.rng >> 7;
    md.rng ^= md.rng << 17;
    return md.rng % bound;
}

/* The newest ref half the time, so the ref mark gets its chances. */
static int
pick_ref(void)
{
    return rnd(2) ? md.nrefs - 1 : (int)rnd((uint64_t)md.nrefs);
}

static hv_term
model_term(const struct mmsg *m)
{
    static const char *const tags[] = {"reply", "reply", "note", "junk",
                                       "a",     "b",     "c"};
    hv_term n = hv_int(m->n), r = m->ref >= 0 ? md.refs[m->ref] : HV_NONE;
    if (m->kind == K_INT)
        return n;
    if (m->kind == K_MADE)
        return hv_tuple(2, r, hv_atom("made"));
    hv_term tag = hv_atom(tags[__builtin_ctz(m->kind)]);
    if (m->kind == K_REPLY4)
        return hv_tuple(4, tag, r, n, hv_atom("x"));
    return r != HV_NONE ? hv_tuple(3, tag, r, n) : hv_tuple(2, tag, n);
}

/* Records the first divergence; the model is worthless after it, so the
 * run stops there. */
static bool
model_check(bool ok, const char *what, hv_term got)
{
    if (ok || md.failed)
        return ok;
    char text[160], g[64] = "nothing";
    if (got != HV_NONE)
        hv_format(got, g, sizeof g);
    snprintf(text, sizeof text, "model seed %llu op %ld: %s (got %s)",
             (unsigned long long)md.seed, md.op, what, g);
    md.failed = true;
    return hv_expect_at(false, text, __LINE__);
}

static void
model_push(struct mmsg m)
{
    if (md.n == md.cap) {
        md.cap = md.cap ? md.cap * 2 : 1024;
        md.q = realloc(md.q, md.cap * sizeof *md.q);
    }
    md.q[md.n++] = m;
}

/* Removes message `at` from the model, checking that it is msg. */
static void
model_take(size_t at, hv_term msg)
{
    hv_term want = model_term(&md.q[at]);
    model_check(hv_equal(msg, want), "took the wrong message", msg);
    hv_release(want);
    memmove(md.q + at, md.q + at + 1, (md.n - at - 1) * sizeof *md.q);
    md.n--;
}

/* One message we send, or 1..8 that the helper forwards (they arrive
 * before its ack). */
static void
op_send(bool forward)
{
    hv_term list = HV_NIL;
    struct mmsg batch[8];
    int k = forward ? 1 + (int)rnd(8) : 1;
    for (int i = 0; i < k; i++) {
        struct mmsg m = {1u << rnd(8), -1, ++md.serial};
        if (m.kind & (K_REPLY | K_REPLY4 | K_NOTE))
            m.ref = pick_ref();
        model_push(batch[i] = m);
    }
    for (int i = k - 1; i >= 0; i--)
        list = hv_cons(model_term(&batch[i]), list);
    if (forward) {
        hv_release(helper_call(md.helper, "forward", list));
    } else {
        send_self(hv_retain(hv_list_head(list)));
        hv_release(list);
    }
}

/* A ref of ours, or the helper's, which comes after {Ref, made}. */
static void
op_new_ref(bool ours)
{
    if (md.nrefs == MAX_REFS)
        return;
    hv_term r =
        ours ? hv_ref_make() : helper_call(md.helper, "make_ref", HV_NIL);
    md.refs[md.nrefs++] = r;
    if (!ours)
        model_push((struct mmsg){K_MADE, md.nrefs - 1, ++md.serial});
}

static void
op_receive(int set, int ref, int64_t timeout)
{
    const struct mset *ms = &msets[set];
    int64_t lim = (int64_t)rnd((uint64_t)md.serial + 1);
    hv_term pv[2];
    hv_pins pins = {0, pv};
    if (ms->pins & P_REF)
        pv[pins.n++] = md.refs[ref];
    if (ms->pins & P_LIM)
        pv[pins.n++] = hv_int(lim);
    size_t at = 0;
    int want = -1;
    while (at < md.n && (want = model_clause(ms, &md.q[at], ref, lim)) < 0)
        at++;
    if (want < 0 && timeout == HV_AFTER && ms->after < 0)
        return; /* it would wait for ever */
    hv_bindings b;
    int rc = hv_receive(md.sets[set], &pins, timeout, &b);
    if (want < 0) {
        model_check(rc == HV_ETIMEOUT, "took what none should", b.msg);
        if (rc == HV_OK)
            hv_bindings_release(&b);
        else if (timeout == HV_AFTER || ms->after < 0)
            model_check(b.clause == ms->after, "clause on timeout", 0);
    } else if (model_check(rc == HV_OK, "missed a match", HV_NONE)) {
        model_check(b.clause == want, "wrong clause", b.msg);
        if (hv_pattern_var_index(b.pattern, "N") >= 0)
            model_check(bound_int(&b, "N") == md.q[at].n, "N", b.msg);
        model_take(at, b.msg);
        hv_bindings_release(&b);
    }
}

/* hv_recv: the oldest message, whatever the index holds. */
static void
op_recv(void)
{
    hv_term msg = HV_NONE;
    int rc = hv_recv(0, &msg);
    if (md.n == 0)
        model_check(rc == HV_ETIMEOUT, "hv_recv took a ghost", msg);
    else if (model_check(rc == HV_OK, "hv_recv missed", HV_NONE))
        model_take(0, msg);
    hv_release(msg);
}

static void
model_step(void)
{
    int r = (int)rnd(100), set = (int)rnd(NSETS);
    int64_t timeout = 0;
    if (rnd(30) == 0)
        timeout = 2; /* wait, then give up: nothing may move */
    else if (msets[set].after >= 0 ? rnd(2) : rnd(20) == 0)
        timeout = HV_AFTER;
    size_t oldest = 0; /* of the replies: an indexed receive, deep down */
    while (oldest < md.n && md.q[oldest].kind != K_REPLY)
        oldest++;
    if (r < 38)
        op_send(r >= 33);
    else if (r < 41)
        op_new_ref(r < 40);
    else if (r < 80)
        op_receive(set, pick_ref(), timeout);
    else if (r < 90)
        op_recv();
    else if (oldest < md.n)
        op_receive(r % 2 ? 0 : 13, md.q[oldest].ref, 0);
}

static void
model_main(void *arg)
{
    (void)arg;
    md.helper = helper_start();
    for (int i = 0; i < NSETS; i++) {
        size_t n = 1;
        while (n < 4 && msets[i].clauses[n] != NULL)
            n++;
        md.sets[i] = keep(hv_rset_compile(msets[i].clauses, n, &compile_err));
    }
    md.failed = hv_expect_failures() > 0;
    for (md.seed = 1; md.seed <= 4 && !md.failed; md.seed++) {
        md.rng = md.seed * 0x9E3779B97F4A7C15u;
        md.serial = md.nrefs = 0;
        md.n = 0;
        for (int i = 0; i < 3; i++)
            op_new_ref(i != 1);
        for (int i = 0; i < 300; i++)
            op_send(false);
        for (md.op = 0; md.op < hv_check_scale(4000) && !md.failed; md.op++) {
            model_step();
            if (md.op % 64 == 0)
                model_check(mailbox_len() == md.n, "mailbox length", 0);
        }
        while (md.n > 0 && !md.failed)
            op_recv();
        op_recv(); /* and nothing more */
    }
    stop_and_reap(md.helper);
    free_sets();
    free(md.q);
    md.q = NULL;
    md.cap = 0;
}

START_TEST(test_receive_agrees_with_a_naive_mailbox_on_random_operations)
{
    run_main(model_main, NULL, (unsigned)_i);
}
END_TEST

/* Bad input takes nothing; b->msg is the caller's, bindings are borrowed
 * from it. */
static void
errors_main(void *arg)
{
    hv_rset *reply = rset("{reply, ^Ref, N}", NULL),
            *two = rset("{^A, ^B}", NULL);
    hv_rset *big = rset("{big, Bin, #{k := V}}", "_", NULL);
    hv_term ref = hv_ref_make(), kept;
    hv_bindings b;
    (void)arg;
    send_text(hv_self(), "{big, <<\"a binary, so boxed\">>, #{k => v}}");
    send_self(reply_msg(ref, 2));
    EXPECT(hv_receive(NULL, HV_PINS(ref), 0, &b) == HV_EBADARG);
    EXPECT(hv_receive(reply, HV_PINS(ref), 0, NULL) == HV_EBADARG);
    EXPECT(hv_receive(reply, NULL, 0, &b) == HV_EBADARG);
    EXPECT(strstr(b.what, "Ref") != NULL);
    EXPECT(hv_receive(reply, &(hv_pins){0, NULL}, 1000, &b) == HV_EBADARG);
    EXPECT(hv_receive(two, HV_PINS(ref), 0, &b) == HV_EBADARG);
    EXPECT(strstr(b.what, "B") != NULL);
    EXPECT(mailbox_len() == 2);
    expect_n(reply, HV_PINS(ref), 0, 2);
    EXPECT(hv_receive(big, NULL, 0, &b) == HV_OK && b.clause == 0);
    EXPECT(b.pattern == hv_rset_clause(big, 0) && b.nvars == 2);
    EXPECT(hv_binding(&b, "Bin") == hv_tuple_at(b.msg, 1));
    EXPECT(b.var[1] == hv_atom("v") && hv_binding(&b, "K") == HV_NONE);
    kept = b.msg; /* taken: b is reused below, kept stays ours */
    send_text(hv_self(), "[1]");
    EXPECT(hv_receive(big, NULL, 0, &b) == HV_OK && b.clause == 1);
    hv_bindings_release(&b);
    EXPECT(b.msg == HV_NONE);
    EXPECT(hv_binary_size(hv_tuple_at(kept, 1)) == 18);
    hv_release(kept);
    free_sets();
}

START_TEST(test_receive_rejects_bad_input_and_hands_over_the_message)
{
    hv_rset *s = rset("_", NULL);
    hv_bindings b;
    hv_config c = config_of(1);
    hv_expect_reset();
    ck_assert_int_eq(hv_receive(s, NULL, 0, &b), HV_EBADARG);
    ck_assert_int_eq(hv_start(&c), HV_OK); /* a thread that is no process */
    ck_assert_int_eq(hv_receive(s, NULL, 0, &b), HV_EBADARG);
    ck_assert_int_eq(hv_stop(), HV_OK);
    free_sets();
    hv_expect_assert();
    run_main(errors_main, NULL, (unsigned)_i);
}
END_TEST

Suite *
hv_check_suite(void)
{
    const TTest *core[] = {
        test_receive_takes_the_oldest_match_and_keeps_the_rest_in_order,
        test_receive_polls_waits_and_takes_the_after_clause,
        test_receive_rejects_bad_input_and_hands_over_the_message,
        test_receive_finds_replies_among_junk_from_eight_senders,
        test_receive_index_and_ref_mark_find_replies_among_junk,
        test_receive_agrees_with_a_naive_mailbox_on_random_operations,
    };
    Suite *s = suite_create("receive");
    TCase *tc = hv_check_tcase(s, "core");
    for (size_t i = 0; i < sizeof core / sizeof *core; i++)
        tcase_add_loop_test(tc, core[i], 1, 3); /* _i: 1, 2 schedulers */
    return s;
}
