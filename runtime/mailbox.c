/* runtime/mailbox.c - send and receive: the inbox every sender pushes
 * to, the private queue selective receive leaves skipped messages in, and
 * waiting.  The wake-up protocol is in proc.h. */
#define _GNU_SOURCE
#include <sched.h>

#include "runtime/alloc.h"
#include "runtime/ptable.h"
#include "runtime/sched.h"
#include "runtime/signal.h"
#include "runtime/term_box.h"
#include "runtime/util.h"

void
hv__mbox_init(struct hv__proc *p)
{
    hv__mpsc_init(&p->inbox);
    p->first = NULL;
    p->lastp = &p->first;
    p->mark_ref = HV_NONE;
    p->mark_at = &p->first;
    p->index = NULL;
    p->long_scans = 0;
}

uint64_t
hv__mbox_len(struct hv__proc *p)
{
    return atomic_load_explicit(&p->enqueued, memory_order_relaxed) +
           atomic_load_explicit(&p->local_in, memory_order_relaxed) -
           atomic_load_explicit(&p->dequeued, memory_order_relaxed);
}

/* Appends m to the private queue. */
static void
append(struct hv__proc *p, struct hv__msg *m)
{
    m->next = NULL;
    m->prevp = p->lastp;
    *p->lastp = m;
    p->lastp = &m->next;
}

static void
free_msg(struct hv__msg *m)
{
    hv_release(m->term);
    hv__free(m, sizeof *m);
}

void
hv__mbox_drop(struct hv__proc *p)
{
    hv__mbox_pull(p);
    hv__mbox_index_free(p);
    struct hv__msg *m = p->first;
    while (m != NULL) {
        struct hv__msg *next = m->next;
        free_msg(m);
        m = next;
    }
    p->first = NULL;
    p->lastp = &p->first;
    p->mark_ref = HV_NONE;
    p->mark_at = &p->first;
}

/* Frees m, which leaves the mailbox without being received. */
static void
discard(struct hv__proc *p, struct hv__msg *m)
{
    hv_release(m->term);
    hv__free(m, sizeof *m);
    atomic_store_explicit(
        &p->dequeued,
        atomic_load_explicit(&p->dequeued, memory_order_relaxed) + 1,
        memory_order_relaxed); /* only the owner writes it */
}

void
hv__mbox_pull(struct hv__proc *p)
{
    struct hv__mpsc_node *n;
    while ((n = hv__mpsc_pop(&p->inbox)) != NULL) {
        struct hv__msg *m = hv__container_of(n, struct hv__msg, node);
        if (m->ixnext == HV__MSG_SIGNAL) {
            /* A signal takes effect here, in order with the messages
             * around it; it may leave a message in its place. */
            p->signals_taken++;
            m->ixnext = NULL;
            m->term = hv__signal_take(p, m->term);
        } else if (p->sig != NULL && p->sig->abandoned.count > 0 &&
                   hv__signal_abandoned(p, m->term)) {
            hv_release(m->term); /* a reply its caller gave up on */
            m->term = HV_NONE;
        }
        if (m->term == HV_NONE)
            discard(p, m);
        else
            append(p, m);
    }
}

/* A waker's half of the protocol: make p runnable if it waits for a
 * message, else leave P_NOTIFY for it.  Always a successful RMW. */
static void
notify(struct hv__proc *p)
{
    uint32_t old = atomic_load_explicit(&p->state, memory_order_relaxed);
    for (;;) {
        bool wake = (old & P_STATE_MASK) == P_WAIT_MSG;
        uint32_t new = wake ? P_RUNNABLE : (old | P_NOTIFY);
        if (atomic_compare_exchange_weak_explicit(&p->state, &old, new,
                                                  memory_order_acq_rel,
                                                  memory_order_relaxed)) {
            if (!wake)
                return;
            if (p->kind == K_THREAD || p->kind == K_BRIDGE)
                hv__sys_futex_wake(&p->state, 1);
            else
                hv__sched_enqueue(p);
            return;
        }
    }
}

void
hv__mbox_deliver(struct hv__proc *p, hv_term msg)
{
    struct hv__msg *m = hv__alloc(sizeof *m);
    if (m == NULL) {
        /* Erlang would die of memory exhaustion here; dropping one message
         * is the closest we get without taking the sender down. */
        hv_release(msg);
        return;
    }
    m->term = msg;
    m->ixnext = NULL;
    atomic_fetch_add_explicit(&p->enqueued, 1, memory_order_relaxed);
    if (hv__mpsc_push(&p->inbox, &m->node))
        notify(p);
}

/* Wakes p from a sleep or an IO wait (a timer or the poller would have
 * later), for an exit signal. */
static void
wake_sleeper(struct hv__proc *p)
{
    uint32_t old = atomic_load_explicit(&p->state, memory_order_relaxed);
    for (;;) {
        uint32_t st = old & P_STATE_MASK;
        if (st != P_WAIT_TIMER && st != P_WAIT_IO)
            return;
        if (atomic_compare_exchange_weak_explicit(
                &p->state, &old, (old & P_NOTIFY) | P_RUNNABLE,
                memory_order_acq_rel, memory_order_relaxed))
            break;
    }
    if (p->kind == K_THREAD || p->kind == K_BRIDGE)
        hv__sys_futex_wake(&p->state, 1);
    else
        hv__sched_enqueue(p);
}

void
hv__mbox_deliver_signal(struct hv__proc *p, hv_term sig, bool wake_sleepers)
{
    struct hv__msg *m = hv__alloc(sizeof *m);
    if (m == NULL) {
        hv_release(sig); /* as a message would be: see hv__mbox_deliver */
        return;
    }
    m->term = sig;
    m->ixnext = HV__MSG_SIGNAL;
    atomic_fetch_add_explicit(&p->enqueued, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->signals_in, 1, memory_order_relaxed);
    if (hv__mpsc_push(&p->inbox, &m->node))
        notify(p);
    if (wake_sleepers)
        wake_sleeper(p);
}

void
hv__mbox_deliver_local(struct hv__proc *p, hv_term msg)
{
    /* Messages this sender pushed to p's inbox before p moved here (an
     * unstarted process handed over by give_work) must stay ahead: take
     * the inbox first.  If a push is half-way through, go through the
     * inbox ourselves, behind it. */
    hv__mbox_pull(p);
    if (!hv__mpsc_empty(&p->inbox)) {
        hv__mbox_deliver(p, msg);
        return;
    }
    if (p->sig != NULL && p->sig->abandoned.count > 0 && hv__signal_abandoned(p, msg)) {
        hv_release(msg); /* a reply its caller gave up on */
        return;
    }
    struct hv__msg *m = hv__alloc(sizeof *m);
    if (m == NULL) {
        hv_release(msg);
        return;
    }
    m->term = msg;
    m->ixnext = NULL;
    append(p, m);
    atomic_store_explicit(
        &p->local_in,
        atomic_load_explicit(&p->local_in, memory_order_relaxed) + 1,
        memory_order_relaxed);
    /* p is not running (we are, on its thread).  If it is not waiting for
     * a message it will scan its private queue before it waits, so only
     * WAIT_MSG needs a wake; remote senders may set P_NOTIFY meanwhile,
     * hence the loop. */
    uint32_t old = atomic_load_explicit(&p->state, memory_order_relaxed);
    while ((old & P_STATE_MASK) == P_WAIT_MSG) {
        if (atomic_compare_exchange_weak_explicit(&p->state, &old,
                                                  P_RUNNABLE,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed)) {
            hv__sched_enqueue_next(p);
            return;
        }
    }
}

void
hv__proc_spend(struct hv__proc *self)
{
    if (--self->reds <= 0 && !self->exiting) {
        self->reds = HV__SLICE_REDS;
        if (self->kind == K_COPY || self->kind == K_DEDICATED)
            hv__proc_switch_out(self, WHY_YIELD);
    }
}

static int
send_checked(hv_term to, hv_term msg);

int
hv_send(hv_term to, hv_term msg)
{
    if (msg == HV_NONE)
        return HV_EBADARG;
    if (!hv__api_enter()) {
        /* No runtime: nobody is registered and no pid is alive. */
        bool pid = hv__imm_tag(to) == HV__TAG_PID;
        hv_release(msg);
        return hv_is_atom(to) ? HV_ENOPROC : pid ? HV_OK : HV_EBADARG;
    }
    int rc = send_checked(to, msg);
    hv__api_leave();
    return rc;
}

static int
send_checked(hv_term to, hv_term msg)
{
    hv_term pid = to;
    if (hv_is_atom(to)) {
        pid = hv_whereis(to);
        if (pid == HV_NONE) {
            hv_release(msg);
            return HV_ENOPROC;
        }
    } else if (hv__imm_tag(to) != HV__TAG_PID) {
        hv_release(msg);
        return HV_EBADARG;
    }
    struct hv__sched *s = hv__tls_sched;
    struct hv__proc *p;
    if (s != NULL && (p = hv__ptable_local(pid, s->index)) != NULL) {
        hv__mbox_deliver_local(p, msg);
    } else if ((p = hv__ptable_pin(pid)) != NULL) {
        hv__mbox_deliver(p, msg);
        hv__ptable_unpin(p);
    } else {
        hv_release(msg);
    }
    struct hv__proc *self = hv__tls_proc;
    if (self != NULL) {
        /* A sender that never receives still acts on exit signals. */
        hv__signal_check(self);
        hv__proc_spend(self);
    }
    return HV_OK;
}

int64_t
hv__deadline(int64_t timeout_ms)
{
    if (timeout_ms < 0)
        return -1;
    /* Rounded up: the wheel fires when the whole-ms clock reaches the
     * deadline, which must be at least timeout_ms from now, as Erlang
     * promises. */
    uint64_t now_ms = (hv__sys_now_ns() + 999999) / 1000000;
    return (int64_t)(now_ms + (uint64_t)timeout_ms);
}

void
hv__mbox_cursor_begin(struct hv__proc *p, struct hv__mbox_cursor *c)
{
    c->at = &p->first;
}

hv_term
hv__mbox_cursor_peek(struct hv__proc *p, struct hv__mbox_cursor *c)
{
    if (*c->at == NULL)
        hv__mbox_pull(p);
    return *c->at != NULL ? (*c->at)->term : HV_NONE;
}

void
hv__mbox_cursor_skip(struct hv__mbox_cursor *c)
{
    c->at = &(*c->at)->next;
}

/* Unlinks m from the private queue and the index and frees it; returns
 * its term.  Pointers to m's next field (the queue's end, the receive
 * mark, the index's end) move to what pointed at m. */
static hv_term
take(struct hv__proc *p, struct hv__msg *m)
{
    hv__mbox_index_remove(p, m);
    hv__mbox_index_retarget(p, m);
    *m->prevp = m->next;
    if (m->next != NULL)
        m->next->prevp = m->prevp;
    if (p->lastp == &m->next)
        p->lastp = m->prevp;
    if (p->mark_at == &m->next)
        p->mark_at = m->prevp;
    hv_term t = m->term;
    hv__free(m, sizeof *m);
    atomic_store_explicit(
        &p->dequeued, atomic_load_explicit(&p->dequeued, memory_order_relaxed) + 1,
        memory_order_relaxed); /* only the owner writes it */
    return t;
}

hv_term
hv__mbox_cursor_take(struct hv__proc *p, struct hv__mbox_cursor *c)
{
    return take(p, *c->at);
}

/* A thread's or bridge's wait: sleep on the state word. */
static int
wait_thread(struct hv__proc *p, uint32_t waiting, int64_t deadline_ms)
{
    for (;;) {
        int64_t timeout_ns = -1;
        if (deadline_ms >= 0) {
            uint64_t now = hv__sys_now_ms();
            timeout_ns = (uint64_t)deadline_ms > now
                             ? (int64_t)((uint64_t)deadline_ms - now) * 1000000
                             : 0;
        }
        uint32_t s = atomic_load_explicit(&p->state, memory_order_acquire);
        if ((s & P_STATE_MASK) == waiting && timeout_ns != 0 &&
            !atomic_load(&hv__rt.stopping)) /* seq_cst: vs kick_waiter */
            hv__sys_futex_wait(&p->state, s, timeout_ns);
        s = atomic_load_explicit(&p->state, memory_order_acquire);
        if ((s & P_STATE_MASK) != waiting) {
            /* Woken: RUNNABLE -> RUNNING, keeping P_NOTIFY. */
            atomic_fetch_xor_explicit(&p->state, P_RUNNABLE ^ P_RUNNING,
                                      memory_order_acquire);
            return HV_OK;
        }
        bool expired = deadline_ms >= 0 &&
                       hv__sys_now_ms() >= (uint64_t)deadline_ms;
        bool stopping =
            atomic_load_explicit(&hv__rt.stopping, memory_order_acquire);
        if (expired || stopping) {
            if (atomic_compare_exchange_strong_explicit(
                    &p->state, &s, (s & P_NOTIFY) | P_RUNNING,
                    memory_order_acquire, memory_order_relaxed))
                return stopping ? HV_ENOPROC : HV_ETIMEOUT;
            /* A waker won the race: loop and take its wake-up. */
        }
    }
}

/* Common to every wait: RUNNING -> waiting, unless P_NOTIFY says a
 * message came.  False when it did (the caller should look again). */
static bool
enter_wait(struct hv__proc *p, uint32_t waiting, bool keep_notify)
{
    uint32_t old = atomic_load_explicit(&p->state, memory_order_relaxed);
    for (;;) {
        if ((old & P_NOTIFY) && !keep_notify) {
            atomic_fetch_and_explicit(&p->state, ~(uint32_t)P_NOTIFY,
                                      memory_order_acquire);
            return false;
        }
        if (atomic_compare_exchange_weak_explicit(
                &p->state, &old, (old & P_NOTIFY) | waiting,
                memory_order_acq_rel, memory_order_relaxed))
            return true;
    }
}

static void
wake_on_timer(struct hv__stimer *st)
{
    struct hv__proc *p = hv__container_of(st, struct hv__proc, timer);
    uint32_t old = atomic_load_explicit(&p->state, memory_order_relaxed);
    for (;;) {
        uint32_t m = old & P_STATE_MASK;
        if (m != P_WAIT_MSG && m != P_WAIT_TIMER && m != P_WAIT_IO)
            return;
        if (atomic_compare_exchange_weak_explicit(
                &p->state, &old, (old & P_NOTIFY) | P_RUNNABLE,
                memory_order_acq_rel, memory_order_relaxed))
            break;
    }
    p->timed_out = true;
    hv__sched_enqueue(p);
}

int
hv__proc_block(struct hv__proc *p, uint32_t waiting, int64_t deadline_ms)
{
    if (!enter_wait(p, waiting, waiting != P_WAIT_MSG))
        return HV_OK;
    if (p->kind == K_THREAD || p->kind == K_BRIDGE)
        return wait_thread(p, waiting, deadline_ms);
    if (deadline_ms >= 0) {
        p->timed_out = false;
        p->timer.fire = wake_on_timer;
        hv__wheel_add(p->home->wheel, &p->timer.t, (uint64_t)deadline_ms);
    }
    hv__proc_switch_out(p, WHY_WAIT);
    if (deadline_ms >= 0 && !p->timed_out)
        hv__wheel_cancel(p->home->wheel, &p->timer.t);
    if (p->timed_out) {
        p->timed_out = false;
        return HV_ETIMEOUT;
    }
    return HV_OK;
}

int
hv__mbox_wait(struct hv__proc *p, int64_t deadline_ms)
{
    if (atomic_load_explicit(&hv__rt.stopping, memory_order_acquire) &&
        p->kind != K_COPY && p->kind != K_DEDICATED)
        return HV_ENOPROC;
    if (!hv__mpsc_empty(&p->inbox)) {
        /* A message came, or a sender is half-way through its push:
         * then give it a moment rather than spin. */
        struct hv__msg **end = p->lastp;
        hv__mbox_pull(p);
        if (p->lastp != end)
            return HV_OK;
        if (p->kind == K_COPY || p->kind == K_DEDICATED)
            hv__proc_switch_out(p, WHY_YIELD);
        else
            sched_yield();
        return HV_OK;
    }
    /* A deadline already past needs no timer.  A scheduler's wheel knows
     * the time as of its last tick, which is never ahead of the clock
     * (a deadline it has not reached yet fires from the wheel); reading
     * the clock here would cost as much as the rest of a wait. */
    uint64_t now = p->kind == K_COPY || p->kind == K_DEDICATED
                       ? p->home->wheel->now_ms
                       : hv__sys_now_ms();
    if (deadline_ms >= 0 && now >= (uint64_t)deadline_ms)
        return HV_ETIMEOUT;
    return hv__proc_block(p, P_WAIT_MSG, deadline_ms);
}

/* A keyed receive indexes the mailbox when it is long and an earlier
 * keyed receive already had to scan far: building the index costs
 * several scans (a record per distinct key), which pays only when the
 * process keeps receiving that way. */
#define INDEX_MIN_LEN 32

/* Where a receive is in its walk over candidate messages: the private
 * queue in order, or the list of one key in the index. */
struct scan {
    bool indexed;
    size_t elem;
    hv_term key;
    struct hv__mbox_cursor c; /* queue walk */
    struct hv__msg *last;     /* index walk: the last message tested */
};

static struct hv__msg *scan_next(struct hv__proc *p, struct scan *sc);

static void
scan_begin(struct hv__proc *p, struct scan *sc, const struct hv__recv_key *key)
{
    sc->indexed = false;
    sc->last = NULL;
    sc->elem = 0;
    sc->key = HV_NONE;
    hv__mbox_cursor_begin(p, &sc->c);
    if (key == NULL)
        return;
    if (key->within == p->mark_ref &&
        hv__imm_tag(key->within) == HV__TAG_REF) {
        /* The ref is newer than every message queued before the mark. */
        sc->c.at = p->mark_at;
        return;
    }
    if (key->elem < 0)
        return;
    sc->elem = (size_t)key->elem;
    sc->key = key->key;
    sc->indexed = hv__mbox_index_by(p, sc->elem) ||
                  (p->long_scans > 0 && hv__mbox_len(p) >= INDEX_MIN_LEN);
}

/* The next message to test, or NULL when none is queued yet.  A process
 * that a signal told to die while it pulled dies here, before it takes
 * another message. */
static struct hv__msg *
scan_peek(struct hv__proc *p, struct scan *sc)
{
    struct hv__msg *m = scan_next(p, sc);
    hv__signal_act(p);
    return m;
}

static struct hv__msg *
scan_next(struct hv__proc *p, struct scan *sc)
{
    if (sc->indexed) {
        if (hv__mbox_index_catch_up(p, sc->elem) == HV_OK)
            return sc->last != NULL ? hv__mbox_index_next(sc->last)
                                    : hv__mbox_index_first(p, sc->key);
        /* No memory for the index: scan from the start instead. */
        sc->indexed = false;
        hv__mbox_cursor_begin(p, &sc->c);
    }
    return hv__mbox_cursor_peek(p, &sc->c) != HV_NONE ? *sc->c.at : NULL;
}

static void
scan_skip(struct scan *sc, struct hv__msg *m)
{
    if (sc->indexed)
        sc->last = m;
    else
        hv__mbox_cursor_skip(&sc->c);
}

int
hv__mbox_receive(struct hv__proc *p, bool (*pred)(hv_term, void *),
                 void *ctx, const struct hv__recv_key *key,
                 int64_t timeout_ms, hv_term *msg)
{
    struct scan sc;
    int64_t deadline = -2; /* not computed yet */
    bool spends = p->kind == K_COPY || p->kind == K_DEDICATED;
    uint64_t skipped = 0;
    scan_begin(p, &sc, key);
    for (;;) {
        struct hv__msg *m;
        while ((m = scan_peek(p, &sc)) != NULL) {
            if (pred == NULL || pred(m->term, ctx)) {
                if (!sc.indexed && key != NULL && key->elem >= 0 &&
                    skipped >= INDEX_MIN_LEN)
                    p->long_scans++;
                *msg = take(p, m);
                if (spends)
                    hv__proc_spend(p);
                return HV_OK;
            }
            scan_skip(&sc, m);
            skipped++;
        }
        if (timeout_ms == 0)
            break;
        if (deadline == -2)
            deadline = hv__deadline(timeout_ms);
        int rc = hv__mbox_wait(p, deadline);
        if (rc == HV_ETIMEOUT) {
            /* As in Erlang, messages that came with the timeout still
             * count: look once more before giving up. */
            timeout_ms = 0;
            continue;
        }
        if (rc != HV_OK) {
            *msg = HV_NONE;
            return rc;
        }
    }
    *msg = HV_NONE;
    /* A poll that finds nothing is work too: a polling loop must not
     * starve the others. */
    if (spends)
        hv__proc_spend(p);
    return HV_ETIMEOUT;
}

static int
recv_check(struct hv__proc *p, hv_term *msg)
{
    if (msg != NULL)
        *msg = HV_NONE;
    if (p == NULL || p->exiting || msg == NULL)
        return HV_EBADARG;
    return HV_OK;
}

int
hv_recv(int64_t timeout_ms, hv_term *msg)
{
    struct hv__proc *p = hv__tls_proc;
    int rc = recv_check(p, msg);
    if (rc != HV_OK)
        return rc;
    rc = hv__mbox_receive(p, NULL, NULL, NULL, timeout_ms, msg);
    if (rc == HV_ENOPROC)
        hv__proc_exit(p, hv__rt.atom_shutdown);
    return rc;
}

int
hv_recv_if(bool (*pred)(hv_term msg, void *ctx), void *ctx,
           int64_t timeout_ms, hv_term *msg)
{
    struct hv__proc *p = hv__tls_proc;
    int rc = recv_check(p, msg);
    if (rc != HV_OK)
        return rc;
    if (pred == NULL)
        return HV_EBADARG;
    rc = hv__mbox_receive(p, pred, ctx, NULL, timeout_ms, msg);
    if (rc == HV_ENOPROC)
        hv__proc_exit(p, hv__rt.atom_shutdown);
    return rc;
}
