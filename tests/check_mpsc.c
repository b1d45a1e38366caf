/* tests/check_mpsc.c - the MPSC queue: order, emptiness, the was-empty
 * flag, many producers, and a sleeping consumer that is never left
 * asleep. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "runtime/alloc.h"
#include "runtime/mpsc.h"
#include "runtime/util.h"
#include "tests/hv_check.h"

enum { PRODUCERS = 4, PER_PRODUCER = 200000, BATCH = 256, WAKE_ROUNDS = 400 };

struct item {
    struct hv__mpsc_node node;
    int producer;
    int seq;
};

static struct item *
item_of(struct hv__mpsc_node *n)
{
    return hv__container_of(n, struct item, node);
}

START_TEST(test_mpsc_pops_in_push_order_on_one_thread)
{
    struct hv__mpsc q;
    struct item it[1000];

    hv__mpsc_init(&q);
    for (int i = 0; i < 1000; i++) {
        it[i].seq = i;
        hv__mpsc_push(&q, &it[i].node);
    }
    for (int i = 0; i < 1000; i++) {
        struct hv__mpsc_node *n = hv__mpsc_pop(&q);
        ck_assert_ptr_nonnull(n);
        ck_assert_int_eq(item_of(n)->seq, i);
    }
    ck_assert_ptr_null(hv__mpsc_pop(&q));
}
END_TEST

START_TEST(test_mpsc_empty_queue_pops_null_and_says_empty)
{
    struct hv__mpsc q;
    struct item a, b;

    hv__mpsc_init(&q);
    ck_assert(hv__mpsc_empty(&q));
    ck_assert_ptr_null(hv__mpsc_pop(&q));
    ck_assert_ptr_null(hv__mpsc_pop(&q));
    ck_assert(hv__mpsc_empty(&q));
    for (int round = 0; round < 3; round++) {
        hv__mpsc_push(&q, &a.node);
        ck_assert(!hv__mpsc_empty(&q));
        hv__mpsc_push(&q, &b.node);
        ck_assert_ptr_eq(hv__mpsc_pop(&q), &a.node);
        ck_assert(!hv__mpsc_empty(&q));
        ck_assert_ptr_eq(hv__mpsc_pop(&q), &b.node);
        ck_assert(hv__mpsc_empty(&q));
        ck_assert_ptr_null(hv__mpsc_pop(&q));
        ck_assert(hv__mpsc_empty(&q));
    }
}
END_TEST

START_TEST(test_mpsc_push_says_was_empty_only_after_the_queue_drained)
{
    struct hv__mpsc q;
    struct item a, b, c;

    hv__mpsc_init(&q);
    ck_assert(hv__mpsc_push(&q, &a.node));  /* fresh queue */
    ck_assert(!hv__mpsc_push(&q, &b.node)); /* behind a */
    ck_assert_ptr_eq(hv__mpsc_pop(&q), &a.node);
    ck_assert(!hv__mpsc_push(&q, &c.node)); /* b still queued */
    ck_assert_ptr_eq(hv__mpsc_pop(&q), &b.node);
    ck_assert_ptr_eq(hv__mpsc_pop(&q), &c.node);
    ck_assert(hv__mpsc_push(&q, &a.node)); /* drained: wake the consumer */
    ck_assert(!hv__mpsc_push(&q, &b.node));
    ck_assert_ptr_eq(hv__mpsc_pop(&q), &a.node);
    ck_assert_ptr_eq(hv__mpsc_pop(&q), &b.node);
    /* A popped node goes straight back in, and counts as a new push. */
    ck_assert(hv__mpsc_push(&q, &b.node));
    ck_assert_ptr_eq(hv__mpsc_pop(&q), &b.node);
    ck_assert_ptr_null(hv__mpsc_pop(&q));
}
END_TEST

/* The first half of a push, as a preempted producer leaves it: head is
 * swapped but the old head is not linked yet. */
static struct hv__mpsc_node *
half_push(struct hv__mpsc *q, struct hv__mpsc_node *n)
{
    atomic_store(&n->next, NULL);
    return atomic_exchange(&q->head, n);
}

START_TEST(test_mpsc_pop_tells_busy_from_empty_while_a_producer_is_mid_push)
{
    struct hv__mpsc q;
    struct item a, b;

    /* Mid-push behind a real node: NULL, but not empty (retry). */
    hv__mpsc_init(&q);
    hv__mpsc_push(&q, &a.node);
    struct hv__mpsc_node *prev = half_push(&q, &b.node);
    ck_assert_ptr_eq(prev, &a.node); /* that push will return false */
    ck_assert_ptr_null(hv__mpsc_pop(&q));
    ck_assert(!hv__mpsc_empty(&q));
    atomic_store(&prev->next, &b.node);
    ck_assert_ptr_eq(hv__mpsc_pop(&q), &a.node);
    ck_assert_ptr_eq(hv__mpsc_pop(&q), &b.node);
    ck_assert(hv__mpsc_empty(&q));

    /* Mid-push into a drained queue: empty, and that push says so. */
    prev = half_push(&q, &a.node);
    ck_assert_ptr_eq(prev, &q.stub); /* that push will return true */
    ck_assert_ptr_null(hv__mpsc_pop(&q));
    ck_assert(hv__mpsc_empty(&q));
    atomic_store(&prev->next, &a.node);
    ck_assert(!hv__mpsc_empty(&q));
    ck_assert_ptr_eq(hv__mpsc_pop(&q), &a.node);
    ck_assert(hv__mpsc_empty(&q));
}
END_TEST

static void
collect(struct hv__mpsc_node *n, void *ctx)
{
    int *next_seq = ctx;
    ck_assert_int_eq(item_of(n)->seq, *next_seq);
    (*next_seq)++;
}

START_TEST(test_mpsc_pop_all_drains_everything_in_order)
{
    struct hv__mpsc q;
    struct item it[100];
    int next_seq = 0;

    hv__mpsc_init(&q);
    ck_assert_uint_eq(hv__mpsc_pop_all(&q, collect, &next_seq), 0);
    for (int i = 0; i < 100; i++) {
        it[i].seq = i;
        hv__mpsc_push(&q, &it[i].node);
    }
    ck_assert_uint_eq(hv__mpsc_pop_all(&q, collect, &next_seq), 100);
    ck_assert_int_eq(next_seq, 100);
    ck_assert(hv__mpsc_empty(&q));
    ck_assert(hv__mpsc_push(&q, &it[0].node));
}
END_TEST

/* Shared by the threaded tests.  The wake is a level-triggered flag under
 * a mutex, the shape a scheduler's park/unpark has. */
struct rig {
    struct hv__mpsc q;
    struct item *items; /* PRODUCERS * PER_PRODUCER, or BATCH each */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool woken;
    _Atomic int taken[PRODUCERS]; /* per producer, consumer's count */
    _Atomic long wakes;
};

struct producer {
    struct rig *rig;
    int id;
};

static void
wake(struct rig *r)
{
    pthread_mutex_lock(&r->lock);
    r->woken = true;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    atomic_fetch_add_explicit(&r->wakes, 1, memory_order_relaxed);
}

static void
sleep_until_woken(struct rig *r)
{
    pthread_mutex_lock(&r->lock);
    while (!r->woken)
        pthread_cond_wait(&r->cond, &r->lock);
    r->woken = false;
    pthread_mutex_unlock(&r->lock);
}

static void
rig_start(struct rig *r, size_t items, pthread_t *th, struct producer *p,
          void *(*fn)(void *))
{
    hv__mpsc_init(&r->q);
    r->items = hv__alloc(items * sizeof *r->items);
    ck_assert_ptr_nonnull(r->items);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->woken = false;
    atomic_init(&r->wakes, 0);
    for (int i = 0; i < PRODUCERS; i++) {
        atomic_init(&r->taken[i], 0);
        p[i] = (struct producer){r, i};
        ck_assert_int_eq(pthread_create(&th[i], NULL, fn, &p[i]), 0);
    }
}

static void
rig_stop(struct rig *r, size_t items, pthread_t *th)
{
    for (int i = 0; i < PRODUCERS; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    ck_assert_ptr_null(hv__mpsc_pop(&r->q));
    ck_assert(hv__mpsc_empty(&r->q));
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    hv__free(r->items, items * sizeof *r->items);
}

static void *
produce_all(void *arg)
{
    struct producer *p = arg;
    struct item *mine = p->rig->items + (size_t)p->id * PER_PRODUCER;

    for (int i = 0; i < PER_PRODUCER; i++) {
        mine[i].producer = p->id;
        mine[i].seq = i;
        hv__mpsc_push(&p->rig->q, &mine[i].node);
    }
    return NULL;
}

START_TEST(test_mpsc_four_producers_deliver_every_item_once_in_order)
{
    struct rig r;
    pthread_t th[PRODUCERS];
    struct producer p[PRODUCERS];
    int next[PRODUCERS] = {0};
    const size_t items = (size_t)PRODUCERS * PER_PRODUCER;

    rig_start(&r, items, th, p, produce_all);
    for (size_t got = 0; got < items;) {
        struct hv__mpsc_node *n = hv__mpsc_pop(&r.q);
        if (n == NULL) {
            sched_yield();
            continue;
        }
        struct item *it = item_of(n);
        /* In order per producer, hence each item exactly once.  Plain ifs:
         * every ck_assert is a write to Check's pipe. */
        if (it->producer < 0 || it->producer >= PRODUCERS ||
            it->seq != next[it->producer])
            ck_abort_msg("producer %d: got %d, expected the next in order",
                         it->producer, it->seq);
        next[it->producer]++;
        got++;
    }
    for (int i = 0; i < PRODUCERS; i++)
        ck_assert_int_eq(next[i], PER_PRODUCER);
    rig_stop(&r, items, th);
}
END_TEST

/* Pushes its BATCH nodes, wakes the consumer when the push says the queue
 * was empty, and reuses the nodes once the consumer has taken them all, so
 * the queue drains and the consumer sleeps over and over. */
static void *
produce_in_rounds(void *arg)
{
    struct producer *p = arg;
    struct rig *r = p->rig;
    struct item *mine = r->items + (size_t)p->id * BATCH;

    for (int round = 0; round < WAKE_ROUNDS; round++) {
        for (int i = 0; i < BATCH; i++) {
            mine[i].producer = p->id;
            mine[i].seq = round * BATCH + i;
            if (hv__mpsc_push(&r->q, &mine[i].node))
                wake(r);
        }
        while (atomic_load_explicit(&r->taken[p->id], memory_order_acquire) <
               (round + 1) * BATCH)
            sched_yield();
    }
    return NULL;
}

START_TEST(test_mpsc_sleeping_consumer_is_woken_without_a_lost_wakeup)
{
    struct rig r;
    pthread_t th[PRODUCERS];
    struct producer p[PRODUCERS];
    int next[PRODUCERS] = {0};
    const size_t items = (size_t)PRODUCERS * BATCH;
    const long total = (long)PRODUCERS * BATCH * WAKE_ROUNDS;
    long sleeps = 0;

    rig_start(&r, items, th, p, produce_in_rounds);
    for (long got = 0; got < total;) {
        struct hv__mpsc_node *n = hv__mpsc_pop(&r.q);
        if (n == NULL) {
            if (hv__mpsc_empty(&r.q)) {
                sleep_until_woken(&r); /* a lost wake-up hangs here */
                sleeps++;
            } else {
                sched_yield(); /* a producer is mid-push */
            }
            continue;
        }
        struct item *it = item_of(n);
        int who = it->producer;
        if (who < 0 || who >= PRODUCERS || it->seq != next[who])
            ck_abort_msg("producer %d: got %d out of order", who, it->seq);
        next[who]++;
        got++;
        /* Release: our reads of the node precede the producer's reuse. */
        atomic_store_explicit(&r.taken[who], next[who], memory_order_release);
    }
    rig_stop(&r, items, th);
    /* Every sleep was ended by a wake (the flag is level-triggered, so a
     * wake may also come while the consumer is awake). */
    ck_assert_int_le(sleeps, atomic_load(&r.wakes));
    ck_assert_int_ge(atomic_load(&r.wakes), 1);
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("mpsc");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_mpsc_pops_in_push_order_on_one_thread);
    tcase_add_test(tc, test_mpsc_empty_queue_pops_null_and_says_empty);
    tcase_add_test(tc,
                   test_mpsc_push_says_was_empty_only_after_the_queue_drained);
    tcase_add_test(
        tc, test_mpsc_pop_tells_busy_from_empty_while_a_producer_is_mid_push);
    tcase_add_test(tc, test_mpsc_pop_all_drains_everything_in_order);

    tc = hv_check_tcase(s, "threads");
    tcase_set_timeout(tc, 60); /* a lost wake-up fails here, not hangs */
    tcase_add_test(tc,
                   test_mpsc_four_producers_deliver_every_item_once_in_order);
    tcase_add_test(tc,
                   test_mpsc_sleeping_consumer_is_woken_without_a_lost_wakeup);
    return s;
}
