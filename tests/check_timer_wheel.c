/* tests/check_timer_wheel.c - the timing wheel against a sorted reference,
 * ties, cancel, re-adding, past and huge deadlines, next_deadline. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/timer_wheel.h"
#include "runtime/util.h"
#include "tests/hv_check.h"

struct tmr {
    struct hv__timer t;
    uint32_t id;
};

enum { MODEL_TIMERS = 2048, MODEL_STEPS = 30000 };

/* What the callback saw, in order. */
struct log {
    size_t n;
    uint32_t ids[MODEL_TIMERS];
};

static uint64_t rng_state;

static uint64_t
rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform below 2^k for a random k <= max_bits: many ties, many levels. */
static uint64_t
rng_span(unsigned max_bits)
{
    unsigned k = (unsigned)(rng() % (max_bits + 1));
    return rng() & (((uint64_t)1 << k) - 1);
}

static void
record(struct hv__timer *t, void *ctx)
{
    struct log *log = ctx;
    /* Plain ifs in hot paths: every ck_assert is a write to Check's pipe. */
    if (hv__timer_pending(t) || log->n >= MODEL_TIMERS)
        ck_abort_msg("fired timer still pending, or too many fired");
    log->ids[log->n++] = hv__container_of(t, struct tmr, t)->id;
}

static void
check_log(const struct log *log, const uint32_t *want, size_t n)
{
    ck_assert_uint_eq(log->n, n);
    for (size_t i = 0; i < n; i++)
        if (log->ids[i] != want[i])
            ck_abort_msg("fire %zu: timer %u, expected %u", i,
                         (unsigned)log->ids[i], (unsigned)want[i]);
}

static void
tmrs_init(struct tmr *tm, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        hv__timer_init(&tm[i].t);
        tm[i].id = i;
    }
}

/* The reference: which timers are pending, their deadlines and the order
 * they were (re-)added in. */
struct model {
    uint64_t deadline[MODEL_TIMERS], seq[MODEL_TIMERS];
    bool pending[MODEL_TIMERS];
    uint32_t due[MODEL_TIMERS];
};

static const struct model *sort_model;

static int
by_deadline_then_seq(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    const struct model *m = sort_model;
    if (m->deadline[x] != m->deadline[y])
        return m->deadline[x] < m->deadline[y] ? -1 : 1;
    return m->seq[x] < m->seq[y] ? -1 : m->seq[x] > m->seq[y];
}

static void
run_model(bool with_cancels)
{
    struct hv__wheel *w = hv__alloc(sizeof *w);
    struct model *m = hv__alloc(sizeof *m);
    struct tmr *tm = hv__alloc(MODEL_TIMERS * sizeof *tm);
    struct log *log = hv__alloc(sizeof *log);
    uint64_t seq = 0;

    rng_state = with_cancels ? 42 : 7;
    hv__wheel_init(w, 1000);
    tmrs_init(tm, MODEL_TIMERS);
    memset(m->pending, 0, sizeof m->pending);
    for (int step = 0; step < MODEL_STEPS; step++) {
        uint32_t i = (uint32_t)(rng() % MODEL_TIMERS);
        unsigned op = (unsigned)(rng() % 8);
        /* Add or re-arm, hours ahead at most; re-arming is a cancel. */
        if (op < 4 && (with_cancels || !m->pending[i])) {
            m->deadline[i] = w->now_ms + rng_span(24);
            m->seq[i] = seq++;
            m->pending[i] = true;
            hv__wheel_add(w, &tm[i].t, m->deadline[i]);
        } else if (op < 6 && with_cancels) {
            ck_assert(hv__wheel_cancel(w, &tm[i].t) == m->pending[i]);
            m->pending[i] = false;
        } else { /* advance by a random step, up to about an hour */
            uint64_t to = w->now_ms + rng_span(22);
            size_t n = 0;
            for (uint32_t j = 0; j < MODEL_TIMERS; j++)
                if (m->pending[j] && m->deadline[j] <= to)
                    m->due[n++] = j;
            sort_model = m;
            qsort(m->due, n, sizeof m->due[0], by_deadline_then_seq);
            log->n = 0;
            ck_assert_uint_eq(hv__wheel_advance(w, to, record, log), n);
            check_log(log, m->due, n);
            for (size_t k = 0; k < n; k++)
                m->pending[m->due[k]] = false;
            ck_assert_uint_eq(w->now_ms, to);
        }
        uint64_t least = UINT64_MAX;
        size_t pending = 0;
        for (uint32_t j = 0; j < MODEL_TIMERS; j++) {
            if (m->pending[j]) {
                pending++;
                if (m->deadline[j] < least)
                    least = m->deadline[j];
            }
            if (hv__timer_pending(&tm[j].t) != m->pending[j])
                ck_abort_msg("step %d: timer %u pending is wrong", step,
                             (unsigned)j);
        }
        ck_assert_uint_eq(w->pending, pending);
        int64_t next = hv__wheel_next_deadline(w);
        if (pending == 0)
            ck_assert_int_eq(next, -1);
        else if (with_cancels) /* a lower bound, never in the past */
            ck_assert(next >= (int64_t)w->now_ms && (uint64_t)next <= least);
        else
            ck_assert_int_eq(next, (int64_t)least);
    }
    hv__free(log, sizeof *log);
    hv__free(tm, MODEL_TIMERS * sizeof *tm);
    hv__free(m, sizeof *m);
    hv__free(w, sizeof *w);
}

START_TEST(test_timer_wheel_fires_like_a_sorted_reference_across_cascades)
{
    run_model(true);
}
END_TEST

START_TEST(test_timer_wheel_next_deadline_is_exact_without_cancels)
{
    run_model(false);
}
END_TEST

START_TEST(test_timer_wheel_equal_deadlines_fire_in_insertion_order)
{
    struct hv__wheel w;
    struct tmr tm[6];
    struct log log = {.n = 0};

    hv__wheel_init(&w, 0);
    tmrs_init(tm, 6);
    /* 0 goes in at level 2; 1 and 2 join later, lower down; 3 is at the
     * same deadline but re-armed last; 4 and 5 are earlier and later. */
    hv__wheel_add(&w, &tm[0].t, 5000);
    hv__wheel_add(&w, &tm[3].t, 5000);
    ck_assert_uint_eq(hv__wheel_advance(&w, 4000, record, &log), 0);
    hv__wheel_add(&w, &tm[1].t, 5000);
    ck_assert_uint_eq(hv__wheel_advance(&w, 4990, record, &log), 0);
    hv__wheel_add(&w, &tm[2].t, 5000);
    hv__wheel_add(&w, &tm[3].t, 5000);
    hv__wheel_add(&w, &tm[5].t, 5001);
    hv__wheel_add(&w, &tm[4].t, 4999);
    ck_assert_uint_eq(hv__wheel_advance(&w, 6000, record, &log), 6);
    check_log(&log, (const uint32_t[]){4, 0, 1, 2, 3, 5}, 6);
}
END_TEST

START_TEST(
    test_timer_wheel_cancel_before_expiry_returns_true_and_it_never_fires)
{
    struct hv__wheel w;
    struct tmr a = {.id = 1}, b = {.id = 2}, c = {.id = 3};
    struct log log = {.n = 0};

    hv__wheel_init(&w, 100);
    hv__wheel_add(&w, &a.t, 150);
    hv__wheel_add(&w, &b.t, 100 + 3600000); /* an hour: a high level */
    hv__wheel_add(&w, &c.t, 50);            /* due */
    ck_assert(hv__wheel_cancel(&w, &a.t));
    ck_assert(hv__wheel_cancel(&w, &c.t));
    ck_assert_uint_eq(hv__wheel_advance(&w, 200000, record, &log), 0);
    ck_assert(hv__wheel_cancel(&w, &b.t)); /* after a partial cascade */
    ck_assert(!hv__wheel_cancel(&w, &b.t));
    ck_assert_uint_eq(w.pending, 0);
    ck_assert_int_eq(hv__wheel_next_deadline(&w), -1);
    ck_assert_uint_eq(hv__wheel_advance(&w, UINT64_MAX, record, &log), 0);
}
END_TEST

START_TEST(test_timer_wheel_fired_timer_cancels_false_and_can_be_re_added)
{
    struct hv__wheel w;
    struct tmr a = {.id = 7}, never = {.id = 2}; /* zero-filled: idle */
    struct log log = {.n = 0};

    hv__wheel_init(&w, 0);
    ck_assert(!hv__wheel_cancel(&w, &never.t));
    hv__wheel_add(&w, &a.t, 100000);
    ck_assert_uint_eq(hv__wheel_advance(&w, 100000, record, &log), 1);
    ck_assert(!hv__timer_pending(&a.t));
    ck_assert(!hv__wheel_cancel(&w, &a.t));
    ck_assert_uint_eq(w.pending, 0);
    hv__wheel_add(&w, &a.t, 100001);
    ck_assert(hv__timer_pending(&a.t));
    ck_assert_int_eq(hv__wheel_next_deadline(&w), 100001);
    hv__wheel_add(&w, &a.t, 100500); /* re-arming a pending timer moves it */
    ck_assert_uint_eq(w.pending, 1);
    ck_assert_uint_eq(hv__wheel_advance(&w, 100499, record, &log), 0);
    ck_assert_uint_eq(hv__wheel_advance(&w, 100500, record, &log), 1);
    check_log(&log, (const uint32_t[]){7, 7}, 2);
}
END_TEST

START_TEST(test_timer_wheel_past_deadlines_fire_on_the_next_advance_in_order)
{
    struct hv__wheel w;
    struct tmr tm[4] = {{.id = 0}, {.id = 1}, {.id = 2}, {.id = 3}};
    struct log log = {.n = 0};

    hv__wheel_init(&w, 1000);
    hv__wheel_add(&w, &tm[3].t, 1001);
    hv__wheel_add(&w, &tm[0].t, 500);
    hv__wheel_add(&w, &tm[1].t, 0);
    hv__wheel_add(&w, &tm[2].t, 1000); /* the clock itself is past */
    ck_assert_int_eq(hv__wheel_next_deadline(&w), 1000);
    /* The clock does not move back; added order, not deadline order. */
    ck_assert_uint_eq(hv__wheel_advance(&w, 10, record, &log), 3);
    check_log(&log, (const uint32_t[]){0, 1, 2}, 3);
    ck_assert_uint_eq(w.now_ms, 1000);
    ck_assert_int_eq(hv__wheel_next_deadline(&w), 1001);
    ck_assert_uint_eq(hv__wheel_advance(&w, 5000, record, &log), 1);
    check_log(&log, (const uint32_t[]){0, 1, 2, 3}, 4);
}
END_TEST

/* The callback context for timers that act on the wheel when they fire. */
struct actor {
    struct hv__wheel *w;
    struct log log;
    struct tmr *extra;  /* added for the current time by the first fire */
    struct tmr *victim; /* cancelled by the first fire */
    uint64_t period_ms, until_ms;
};

static void
act(struct hv__timer *t, void *ctx)
{
    struct actor *a = ctx;
    record(t, &a->log);
    if (a->extra != NULL) {
        hv__wheel_add(a->w, &a->extra->t, a->w->now_ms);
        ck_assert(hv__wheel_cancel(a->w, &a->victim->t));
        a->extra = NULL;
    }
    if (a->period_ms != 0 && t->deadline_ms + a->period_ms <= a->until_ms)
        hv__wheel_add(a->w, t, t->deadline_ms + a->period_ms);
}

START_TEST(test_timer_wheel_timer_added_in_a_callback_for_now_fires_at_once)
{
    struct hv__wheel w;
    struct tmr first = {.id = 1}, victim = {.id = 2}, extra = {.id = 3};
    struct tmr later = {.id = 4};
    struct actor a = {&w, {.n = 0}, &extra, &victim, 0, 0};

    /* Defined: it fires in the same advance, after the timers already due
     * at that instant, before later deadlines; a cancelled one does not. */
    hv__wheel_init(&w, 0);
    hv__wheel_add(&w, &first.t, 300);
    hv__wheel_add(&w, &victim.t, 300);
    hv__wheel_add(&w, &later.t, 301);
    ck_assert_uint_eq(hv__wheel_advance(&w, 1000, act, &a), 3);
    check_log(&a.log, (const uint32_t[]){1, 3, 4}, 3);
    ck_assert_uint_eq(w.pending, 0);
}
END_TEST

START_TEST(test_timer_wheel_periodic_timer_catches_up_within_one_advance)
{
    struct hv__wheel w;
    struct tmr tick = {.id = 9};
    struct actor a = {&w, {.n = 0}, NULL, NULL, 10, 1000};
    hv__wheel_init(&w, 0);
    hv__wheel_add(&w, &tick.t, 10);
    ck_assert_uint_eq(hv__wheel_advance(&w, 995, act, &a), 99);
    ck_assert_int_eq(hv__wheel_next_deadline(&w), 1000);
    ck_assert_uint_eq(hv__wheel_advance(&w, 5000, act, &a), 1);
    ck_assert(!hv__timer_pending(&tick.t));
}
END_TEST

START_TEST(test_timer_wheel_huge_deadlines_work)
{
    struct hv__wheel w;
    struct tmr tm[4] = {{.id = 0}, {.id = 1}, {.id = 2}, {.id = 3}};
    struct log log = {.n = 0};
    const uint64_t day = 86400000, start = (uint64_t)1 << 40;

    hv__wheel_init(&w, start);
    hv__wheel_add(&w, &tm[3].t, UINT64_MAX);
    hv__wheel_add(&w, &tm[2].t, (uint64_t)INT64_MAX + 5);
    hv__wheel_add(&w, &tm[1].t, start + 30 * day);
    hv__wheel_add(&w, &tm[0].t, start + 3 * day);
    ck_assert_int_eq(hv__wheel_next_deadline(&w), (int64_t)(start + 3 * day));
    ck_assert_uint_eq(hv__wheel_advance(&w, start + 3 * day - 1, record, &log),
                      0);
    ck_assert_uint_eq(hv__wheel_advance(&w, start + 3 * day, record, &log), 1);
    ck_assert_uint_eq(hv__wheel_advance(&w, start + 31 * day, record, &log), 1);
    ck_assert_int_eq(hv__wheel_next_deadline(&w), INT64_MAX); /* clamped */
    ck_assert_uint_eq(hv__wheel_advance(&w, UINT64_MAX - 1, record, &log), 1);
    ck_assert_int_eq(hv__wheel_next_deadline(&w), INT64_MAX);
    ck_assert_uint_eq(hv__wheel_advance(&w, UINT64_MAX, record, &log), 1);
    check_log(&log, (const uint32_t[]){0, 1, 2, 3}, 4);
    ck_assert_int_eq(hv__wheel_next_deadline(&w), -1);
}
END_TEST

START_TEST(test_timer_wheel_sleeping_until_next_deadline_fires_everything)
{
    struct hv__wheel w;
    enum { N = 500 };
    struct tmr tm[N];
    struct log log = {.n = 0};
    int wakeups = 0;

    rng_state = 3;
    hv__wheel_init(&w, 0);
    tmrs_init(tm, N);
    for (uint32_t i = 0; i < N; i++)
        hv__wheel_add(&w, &tm[i].t, 1 + rng_span(30));
    for (uint32_t i = 0; i < N; i += 3) /* stale slot minima */
        ck_assert(hv__wheel_cancel(&w, &tm[i].t));
    int64_t next;
    while ((next = hv__wheel_next_deadline(&w)) >= 0) {
        ck_assert_int_ge(next, (int64_t)w.now_ms);
        hv__wheel_advance(&w, (uint64_t)next, record, &log);
        wakeups++;
    }
    ck_assert_uint_eq(log.n, N - (N + 2) / 3);
    for (size_t k = 1; k < log.n; k++)
        ck_assert_uint_le(tm[log.ids[k - 1]].t.deadline_ms,
                          tm[log.ids[k]].t.deadline_ms);
    /* A lower bound costs at most a few extra wake-ups per timer. */
    ck_assert_int_le(wakeups, (int)log.n * HV__WHEEL_LEVELS);
}
END_TEST

START_TEST(test_timer_wheel_a_million_timers_are_added_and_cancelled)
{
    enum { N = 1000000 };
    struct hv__wheel *w = hv__alloc(sizeof *w);
    struct hv__timer *t = hv__alloc(N * sizeof *t);
    struct log log = {.n = 0};

    rng_state = 11;
    hv__wheel_init(w, 12345);
    for (size_t i = 0; i < N; i++) {
        hv__timer_init(&t[i]);
        hv__wheel_add(w, &t[i], 12345 + rng_span(40));
    }
    ck_assert_uint_eq(w->pending, N);
    /* A stride coprime with N visits every timer once, out of order. */
    for (size_t k = 0, i = 0; k < N; k++, i = (i + 7919) % N)
        if (!hv__wheel_cancel(w, &t[i]))
            ck_abort_msg("timer %zu was not pending", i);
    ck_assert_uint_eq(w->pending, 0);
    ck_assert_int_eq(hv__wheel_next_deadline(w), -1);
    ck_assert_uint_eq(hv__wheel_advance(w, UINT64_MAX, record, &log), 0);
    hv__free(t, N * sizeof *t);
    hv__free(w, sizeof *w);
}
END_TEST

static void
add_tests(TCase *tc, const TTest *const *tests, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
}

Suite *
hv_check_suite(void)
{
    const TTest *const core[] = {
        test_timer_wheel_fires_like_a_sorted_reference_across_cascades,
        test_timer_wheel_next_deadline_is_exact_without_cancels,
        test_timer_wheel_equal_deadlines_fire_in_insertion_order,
        test_timer_wheel_cancel_before_expiry_returns_true_and_it_never_fires,
        test_timer_wheel_fired_timer_cancels_false_and_can_be_re_added,
    };
    const TTest *const edges[] = {
        test_timer_wheel_past_deadlines_fire_on_the_next_advance_in_order,
        test_timer_wheel_timer_added_in_a_callback_for_now_fires_at_once,
        test_timer_wheel_periodic_timer_catches_up_within_one_advance,
        test_timer_wheel_huge_deadlines_work,
        test_timer_wheel_sleeping_until_next_deadline_fires_everything,
        test_timer_wheel_a_million_timers_are_added_and_cancelled,
    };
    Suite *s = suite_create("timer_wheel");
    add_tests(hv_check_tcase(s, "core"), core, HV_ARRAY_LEN(core));
    add_tests(hv_check_tcase(s, "edges"), edges, HV_ARRAY_LEN(edges));
    return s;
}
