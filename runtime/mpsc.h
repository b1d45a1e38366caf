/* runtime/mpsc.h - intrusive lock-free FIFO: many producers, one consumer.
 *
 * The inbox of a mailbox.  Nodes are embedded in the caller's structs
 * (recover the struct with hv__container_of); the queue never allocates.
 * Any thread may push; exactly one thread at a time, the consumer, may
 * pop.  Order is FIFO per producer, and FIFO overall in the order the
 * producers' exchanges on `head` took effect.
 *
 * Design (Vyukov's node queue).  The queue is a singly-linked chain from
 * `tail` (oldest, consumer only) to `head` (newest, swapped by producers).
 * A push is two steps: swap `head` to the new node, then link the old head
 * to it.  Between the steps the chain is broken, so the consumer can see a
 * last linked node that is not `head`: pop then returns NULL although the
 * queue is not empty ("busy": the link is a few instructions away, unless
 * the producer's thread was preempted).  A stub node owned by the queue is
 * re-pushed by the consumer whenever it takes the last node, so the chain
 * is never empty and a producer never touches a node the consumer has
 * returned.
 *
 * The was-empty flag.  A push returns true when the node it swapped out of
 * `head` was the stub, i.e. it is the first push since the consumer took
 * the last node.  Exactly one push per stub re-insertion says true, so the
 * flag never misses the transition a consumer can sleep on: if
 * hv__mpsc_empty() returns true, the push that ends that emptiness returns
 * true, whether it happens later or is already under way.  It may say true
 * spuriously: when a push lands between pop seeing the last node and
 * re-pushing the stub, the stub goes in behind that node and the next push
 * says "was empty" while one node is still queued.  A false is never
 * spurious in a way that matters: it means the node linked behind a real
 * node the consumer has not taken yet.
 *
 * Memory orders.  Push stores node->next = NULL (relaxed), swaps head with
 * acq_rel (release: that NULL precedes our link by the next producer;
 * acquire: the previous producer's NULL precedes our link), and publishes
 * with a release store to prev->next, which also publishes the caller's
 * payload.  The consumer reads every ->next with acquire, so a node's
 * payload is visible once the consumer reaches it.  No fences (TSan cannot
 * model them). */
#ifndef HV_RUNTIME_MPSC_H
#define HV_RUNTIME_MPSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct hv__mpsc_node {
    _Atomic(struct hv__mpsc_node *) next;
};

struct hv__mpsc {                         /* embedded by the owner */
    _Atomic(struct hv__mpsc_node *) head; /* newest; producers swap */
    struct hv__mpsc_node *tail;           /* oldest; consumer only */
    struct hv__mpsc_node stub;            /* keeps the chain non-empty */
};

/* Makes q empty.  Not concurrent with anything on q. */
void hv__mpsc_init(struct hv__mpsc *q);

/* Appends node (which must not be in any queue).  Any thread; wait-free.
 * Returns true if the queue was empty before this push as the consumer
 * sees it (see the header comment): the caller should wake the consumer.
 * May return true spuriously.  After hv__mpsc_empty() said true, the
 * first push to take effect returns true (it may be under way already). */
bool hv__mpsc_push(struct hv__mpsc *q, struct hv__mpsc_node *node);

/* Removes and returns the oldest node, or NULL when there is none to take:
 * either the queue is empty or a producer is mid-push behind the last
 * node.  Consumer only.  A returned node is no longer touched by the
 * queue: it may be freed or pushed again at once. */
struct hv__mpsc_node *hv__mpsc_pop(struct hv__mpsc *q);

/* Tells the two NULLs of pop apart.  Consumer only.  True when nothing can
 * be popped and the push that changes that returns true (possibly it is
 * under way now), so the consumer may sleep until woken by a producer.
 * False when a node can be popped, or when a producer is mid-push behind a
 * node: then pop again soon (spin, yield, requeue), but do not sleep.
 * The wake must be level-triggered (a flag or futex word the consumer
 * checks before sleeping): a true push may wake it before it sleeps. */
bool hv__mpsc_empty(struct hv__mpsc *q);

/* Pops nodes in order and passes each to fn until pop returns NULL.
 * Returns how many.  Consumer only.  fn may free or re-push its node. */
size_t hv__mpsc_pop_all(struct hv__mpsc *q,
                        void (*fn)(struct hv__mpsc_node *node, void *ctx),
                        void *ctx);

#endif /* HV_RUNTIME_MPSC_H */
