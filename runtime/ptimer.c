/* runtime/ptimer.c - hv_send_after, hv_cancel_timer, hv_sleep.
 *
 * A timer set with hv_send_after is a record in the wheel of the
 * scheduler that set it (or, when set from a plain thread, of one chosen
 * round-robin, which adds it from its timer inbox).  The wheel is owned by
 * its scheduler thread, but hv_cancel_timer may come from any thread, so
 * records are also kept in a sharded hash by their ref.  The shard lock
 * orders cancel against fire: whoever takes a PENDING record first wins
 * its message.  A cancel on the owning scheduler takes the record out of
 * the wheel at once; a cancel from elsewhere leaves it there marked
 * CANCELLED until its deadline (a tombstone), when the owner frees it.
 * Records stay in the hash until freed, so shutdown finds them all. */
#include <pthread.h>

#include "runtime/alloc.h"
#include "runtime/atom.h"
#include "runtime/sched.h"
#include "runtime/signal.h"
#include "runtime/term_box.h"
#include "runtime/util.h"

enum { T_QUEUED, T_PENDING, T_CANCELLED };

struct ptimer {
    struct hv__stimer st;
    struct hv__mpsc_node node; /* in a timer inbox until added */
    struct ptimer *hnext;      /* hash chain */
    struct hv__sched *owner;
    hv_term ref, to, msg;
    uint64_t deadline_ms;
    int state;
    bool in_wheel;
};

#define SHARDS 64
#define BUCKETS 512

struct shard {
    pthread_mutex_t lock;
    struct ptimer *bucket[BUCKETS];
};

static struct shard shards[SHARDS];

static struct shard *
shard_of(hv_term ref, struct ptimer ***head)
{
    uint64_t h = ref * 0x9e3779b97f4a7c15ull;
    struct shard *sh = &shards[h >> 58];
    *head = &sh->bucket[(h >> 40) % BUCKETS];
    return sh;
}

int
hv__ptimer_init(void)
{
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&shards[i].lock, NULL);
        for (size_t j = 0; j < BUCKETS; j++)
            shards[i].bucket[j] = NULL;
    }
    return HV_OK;
}

static void
free_record(struct ptimer *t)
{
    hv_release(t->to);
    hv_release(t->msg);
    hv__free(t, sizeof *t);
}

void
hv__ptimer_fini(void)
{
    for (size_t i = 0; i < SHARDS; i++) {
        for (size_t j = 0; j < BUCKETS; j++) {
            struct ptimer *t = shards[i].bucket[j];
            while (t != NULL) {
                struct ptimer *next = t->hnext;
                free_record(t);
                t = next;
            }
            shards[i].bucket[j] = NULL;
        }
        pthread_mutex_destroy(&shards[i].lock);
    }
}

/* Unlinks t from its chain.  Shard lock held. */
static void
unhash(struct ptimer **head, struct ptimer *t)
{
    for (struct ptimer **pp = head; *pp != NULL; pp = &(*pp)->hnext) {
        if (*pp == t) {
            *pp = t->hnext;
            return;
        }
    }
}

static void
fire(struct hv__stimer *st)
{
    struct ptimer *t = hv__container_of(st, struct ptimer, st);
    struct ptimer **head;
    struct shard *sh = shard_of(t->ref, &head);
    pthread_mutex_lock(&sh->lock);
    bool send = t->state == T_PENDING;
    unhash(head, t);
    pthread_mutex_unlock(&sh->lock);
    if (send) {
        /* A dead or unregistered target drops the message, as in
         * Erlang; hv_send consumes it either way. */
        hv_send(t->to, t->msg);
        t->msg = HV_NONE;
    }
    free_record(t);
}

static void
arm(struct hv__sched *s, struct ptimer *t)
{
    t->in_wheel = true;
    t->st.fire = fire;
    hv__wheel_add(s->wheel, &t->st.t, t->deadline_ms);
}

void
hv__ptimer_pull(struct hv__sched *s)
{
    struct hv__mpsc_node *n;
    while ((n = hv__mpsc_pop(&s->timer_inbox)) != NULL) {
        struct ptimer *t = hv__container_of(n, struct ptimer, node);
        struct ptimer **head;
        struct shard *sh = shard_of(t->ref, &head);
        pthread_mutex_lock(&sh->lock);
        bool cancelled = t->state == T_CANCELLED;
        if (!cancelled)
            t->state = T_PENDING;
        pthread_mutex_unlock(&sh->lock);
        /* A cancelled queued timer is freed when its deadline passes like
         * any tombstone, so arm it either way. */
        arm(s, t);
    }
}

static hv_term send_after_in(int64_t ms, hv_term to, hv_term msg);

hv_term
hv_send_after(int64_t ms, hv_term to, hv_term msg)
{
    if (!hv__api_enter()) {
        hv_release(msg);
        return HV_NONE;
    }
    hv_term ref = send_after_in(ms, to, msg);
    hv__api_leave();
    return ref;
}

static hv_term
send_after_in(int64_t ms, hv_term to, hv_term msg)
{
    if (!atomic_load_explicit(&hv__rt.running, memory_order_acquire) ||
        atomic_load_explicit(&hv__rt.stopping, memory_order_acquire) ||
        ms < 0 || msg == HV_NONE ||
        (!hv_is_atom(to) && hv__imm_tag(to) != HV__TAG_PID)) {
        hv_release(msg);
        return HV_NONE;
    }
    struct ptimer *t = hv__alloc(sizeof *t);
    if (t == NULL) {
        hv_release(msg);
        return HV_NONE;
    }
    struct hv__sched *s = hv__tls_sched;
    t->owner = s != NULL ? s : hv__sched_place();
    t->ref = hv_ref_make();
    t->to = to;
    t->msg = msg;
    t->deadline_ms = (uint64_t)hv__deadline(ms);
    t->in_wheel = false;
    t->state = s != NULL ? T_PENDING : T_QUEUED;
    hv__timer_init(&t->st.t);

    struct ptimer **head;
    struct shard *sh = shard_of(t->ref, &head);
    pthread_mutex_lock(&sh->lock);
    t->hnext = *head;
    *head = t;
    pthread_mutex_unlock(&sh->lock);

    hv_term ref = t->ref; /* t may fire and go once armed elsewhere */
    if (s != NULL) {
        arm(s, t);
    } else if (hv__mpsc_push(&t->owner->timer_inbox, &t->node)) {
        hv__sched_kick(t->owner);
    }
    return ref;
}

static int cancel_in(hv_term ref);

int
hv_cancel_timer(hv_term ref)
{
    if (hv_type_of(ref) != HV_TYPE_REF)
        return HV_EBADARG;
    if (!hv__api_enter())
        return 0;
    int rc = cancel_in(ref);
    hv__api_leave();
    return rc;
}

static int
cancel_in(hv_term ref)
{
    struct ptimer **head;
    struct shard *sh = shard_of(ref, &head);
    struct ptimer *found = NULL;
    hv_term msg = HV_NONE;
    bool free_now = false;
    pthread_mutex_lock(&sh->lock);
    for (struct ptimer *t = *head; t != NULL; t = t->hnext) {
        if (t->ref == ref &&
            (t->state == T_PENDING || t->state == T_QUEUED)) {
            found = t;
            break;
        }
    }
    if (found != NULL) {
        found->state = T_CANCELLED;
        msg = found->msg;
        found->msg = HV_NONE;
        if (found->owner == hv__tls_sched && found->in_wheel) {
            hv__wheel_cancel(found->owner->wheel, &found->st.t);
            unhash(head, found);
            free_now = true;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    hv_release(msg);
    if (free_now)
        free_record(found);
    return found != NULL ? 1 : 0;
}

int
hv_sleep(int64_t ms)
{
    struct hv__proc *p = hv__tls_proc;
    if (p == NULL || p->exiting || ms < 0)
        return HV_EBADARG;
    int64_t deadline = hv__deadline(ms);
    for (;;) {
        hv__signal_check(p); /* one that came before it slept */
        int rc = hv__proc_block(p, P_WAIT_TIMER, deadline);
        /* An exit signal wakes a sleeper early; any other signal waits. */
        hv__signal_check(p);
        if (rc == HV_ETIMEOUT)
            return HV_OK;
        if (rc == HV_ENOPROC)
            hv__proc_exit(p, hv__rt.atom_shutdown);
        if (hv__sys_now_ms() >= (uint64_t)deadline)
            return HV_OK;
    }
}
