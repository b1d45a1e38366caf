/* runtime/mpsc.c - intrusive lock-free FIFO, many producers, one consumer.
 * The design and the memory orders are in mpsc.h. */
#include "runtime/mpsc.h"

/* The two steps of a push; returns the node swapped out of head.  Used by
 * producers and by the consumer to re-push the stub. */
static struct hv__mpsc_node *
append(struct hv__mpsc *q, struct hv__mpsc_node *node)
{
    /* Relaxed: the acq_rel exchange below orders it before the store by
     * whichever push swaps node out of head next. */
    atomic_store_explicit(&node->next, NULL, memory_order_relaxed);
    struct hv__mpsc_node *prev =
        atomic_exchange_explicit(&q->head, node, memory_order_acq_rel);
    /* Release: publishes the caller's payload and our NULL with the link.
     * Until this store the chain is broken at prev (pop says "busy"). */
    atomic_store_explicit(&prev->next, node, memory_order_release);
    return prev;
}

void
hv__mpsc_init(struct hv__mpsc *q)
{
    atomic_init(&q->stub.next, NULL);
    atomic_init(&q->head, &q->stub);
    q->tail = &q->stub;
}

bool
hv__mpsc_push(struct hv__mpsc *q, struct hv__mpsc_node *node)
{
    /* Only the consumer puts the stub back into head, and only when it
     * takes the last node; so the one push that swaps the stub out is the
     * first since the queue drained. */
    return append(q, node) == &q->stub;
}

struct hv__mpsc_node *
hv__mpsc_pop(struct hv__mpsc *q)
{
    struct hv__mpsc_node *tail = q->tail;
    struct hv__mpsc_node *next =
        atomic_load_explicit(&tail->next, memory_order_acquire);

    if (tail == &q->stub) {
        if (next == NULL)
            return NULL; /* empty: the push that links here says so */
        /* Step over the stub; it is out of the chain until re-pushed. */
        q->tail = next;
        tail = next;
        next = atomic_load_explicit(&tail->next, memory_order_acquire);
    }
    if (next != NULL) {
        q->tail = next;
        return tail;
    }

    /* tail is the last linked node.  If head moved past it, a producer has
     * swapped head but not linked yet: we cannot step over tail. */
    if (tail != atomic_load_explicit(&q->head, memory_order_acquire))
        return NULL;

    /* tail is the newest node: put the stub behind it so that the chain
     * stays non-empty once tail is handed out.  A producer may slip in
     * before the stub; then the stub lands behind its node instead. */
    append(q, &q->stub);
    next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (next != NULL) {
        q->tail = next;
        return tail;
    }
    return NULL; /* a producer slipped in and has not linked to tail yet */
}

bool
hv__mpsc_empty(struct hv__mpsc *q)
{
    /* When the stub is the last linked node, the push that links behind it
     * is the one that swapped the stub out of head, and it returns true.
     * Behind any other node the linking push returns false, so the
     * consumer must not sleep on it. */
    return q->tail == &q->stub &&
           atomic_load_explicit(&q->stub.next, memory_order_acquire) == NULL;
}

size_t
hv__mpsc_pop_all(struct hv__mpsc *q,
                 void (*fn)(struct hv__mpsc_node *node, void *ctx), void *ctx)
{
    size_t n = 0;
    struct hv__mpsc_node *node;

    while ((node = hv__mpsc_pop(q)) != NULL) {
        fn(node, ctx);
        n++;
    }
    return n;
}
