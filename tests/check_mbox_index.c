/* tests/check_mbox_index.c - the mailbox index (runtime/mbox_index.c) and
 * the receive mark, from the inside: after every kind of change to the
 * private queue (arrivals, takes from the front, the middle and the end
 * by plain and keyed receives, a switch to another element) the index's
 * list for every key must be exactly the queue's messages with that key,
 * in queue order.  The receive-level behaviour is in check_receive.c. */
#include <stdint.h>
#include <stdio.h>

#include "hive/hive.h"
#include "runtime/proc.h"
#include "tests/hv_check.h"
#include "tests/proc_util.h"

static uint64_t rng = 88172645463325252u;

static uint32_t
next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

/* A message of a random shape: {Tag, Key, Seq} with few distinct keys
 * (some boxed), a bare integer, a 1-tuple, or a list. */
static hv_term
random_msg(int seq)
{
    static const char *const keys[] = {"a", "b", "c"};
    switch (next_rand() % 6) {
    case 0:
        return hv_int(seq);
    case 1:
        return hv_tuple(1, hv_int(seq));
    case 2:
        return hv_list(2, hv_int(seq), hv_int(seq));
    case 3:
        return hv_tuple(3, hv_atom("t"), hv_string(keys[next_rand() % 3]),
                        hv_int(seq));
    default:
        return hv_tuple(3, hv_atom("t"), hv_int(next_rand() % 5), hv_int(seq));
    }
}

static hv_term
key_of(hv_term t, size_t elem)
{
    return hv_is_tuple(t) && (size_t)hv_tuple_size(t) > elem
               ? hv_tuple_at(t, elem)
               : HV_NONE;
}

/* Every key's list in the index is the queue's messages with that key,
 * in order; and every keyed message is in its list. */
static bool
index_consistent(struct hv__proc *p, size_t elem)
{
    size_t queued = 0, listed = 0;
    for (struct hv__msg *m = p->first; m != NULL; m = m->next) {
        hv_term k = key_of(m->term, elem);
        queued++;
        if (k == HV_NONE) {
            listed++;
            continue;
        }
        /* m's list, from its head, holds exactly the earlier messages
         * with k, then m. */
        struct hv__msg *q = hv__mbox_index_first(p, k);
        for (struct hv__msg *o = p->first; o != m; o = o->next) {
            if (!hv_equal(key_of(o->term, elem), k))
                continue;
            if (q != o)
                return false;
            q = hv__mbox_index_next(q);
        }
        if (q != m)
            return false;
        listed++;
    }
    return queued == listed;
}

static bool
take_nth(hv_term msg, void *ctx)
{
    (void)msg;
    int *n = ctx;
    return (*n)-- == 0;
}

static void
index_body(void *arg)
{
    (void)arg;
    struct hv__proc *p = hv__tls_proc;
    hv_term self = hv_self();
    int seq = 0;
    size_t elem = 1;
    hv_error e;
    hv_rset *keyed = hv_rset_new(&e, "{t, ^K, _}", NULL);
    EXPECT(keyed != NULL);
    for (int round = 0; round < hv_check_scale(300) + 20; round++) {
        int arrivals = (int)(next_rand() % 8);
        for (int i = 0; i < arrivals; i++)
            hv_send(self, random_msg(seq++));
        EXPECT(hv__mbox_index_catch_up(p, elem) == HV_OK);
        if (!EXPECT(index_consistent(p, elem)))
            break;
        hv_term m = HV_NONE;
        uint32_t op = next_rand() % 10;
        uint64_t len = hv__mbox_len(p);
        if (op < 4 && len > 0) {
            int n = (int)(next_rand() % len); /* anywhere in the queue */
            EXPECT(hv_recv_if(take_nth, &n, 0, &m) == HV_OK);
        } else if (op < 6) {
            hv_bindings b;
            hv_term k = next_rand() % 2 ? hv_int(next_rand() % 5)
                                        : hv_string("b");
            int rc = hv_receive(keyed, HV_PINS(k), 0, &b);
            EXPECT(rc == HV_OK || rc == HV_ETIMEOUT);
            if (rc == HV_OK)
                EXPECT(hv_equal(hv_tuple_at(b.msg, 1), k));
            m = b.msg;
            hv_release(k);
        } else if (op == 6) {
            elem = elem == 1 ? 2 : 1; /* rebuilt by the next catch-up */
        } else if (len > 0) {
            EXPECT(hv_recv(0, &m) == HV_OK);
        }
        hv_release(m);
    }
    hv_rset_free(keyed);
}

START_TEST(test_mbox_index_lists_match_the_queue_through_every_change)
{
    run_main(index_body, NULL, 1);
    hv_expect_assert();
}
END_TEST

/* The mark moves with the queue: taking the message it points behind
 * keeps it valid, and a receive for the marked ref still finds a reply
 * that arrives after other messages. */
static void
mark_body(void *arg)
{
    (void)arg;
    struct hv__proc *p = hv__tls_proc;
    hv_term self = hv_self();
    hv_error e;
    hv_rset *reply = hv_rset_new(&e, "{^Ref, R}", NULL);
    for (int i = 0; i < 10; i++)
        hv_send(self, hv_tuple(2, hv_atom("junk"), hv_int(i)));
    hv__mbox_pull(p);
    hv_term ref = hv_ref_make();
    EXPECT(p->mark_ref == ref);
    EXPECT(p->mark_at == p->lastp);
    /* Take the last junk message: the mark stood just after it. */
    int n = 9;
    hv_term m;
    EXPECT(hv_recv_if(take_nth, &n, 0, &m) == HV_OK);
    hv_release(m);
    EXPECT(p->mark_at == p->lastp);
    hv_send(self, hv_atom("other"));
    hv_send(self, hv_tuple(2, ref, hv_int(7)));
    hv_bindings b;
    EXPECT(hv_receive(reply, HV_PINS(ref), 0, &b) == HV_OK);
    EXPECT(hv_equal(hv_binding(&b, "R"), hv_int(7)));
    hv_bindings_release(&b);
    /* Everything else is still there, in order. */
    for (int i = 0; i < 9; i++) {
        EXPECT(hv_recv(0, &m) == HV_OK && hv_tuple_at(m, 1) == hv_int(i));
        hv_release(m);
    }
    EXPECT(hv_recv(0, &m) == HV_OK && m == hv_atom("other"));
    EXPECT(hv_recv(0, &m) == HV_ETIMEOUT);
    hv_rset_free(reply);
}

START_TEST(test_mbox_index_mark_survives_takes_around_it)
{
    run_main(mark_body, NULL, 1);
    hv_expect_assert();
}
END_TEST

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("mbox_index");
    TCase *tc = hv_check_tcase(s, "index");
    tcase_add_test(tc, test_mbox_index_lists_match_the_queue_through_every_change);
    tc = hv_check_tcase(s, "mark");
    tcase_add_test(tc, test_mbox_index_mark_survives_takes_around_it);
    return s;
}
