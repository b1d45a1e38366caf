/* runtime/bridge.c - a mailbox with a pid for a plain thread.
 *
 * A bridge is a process record of kind K_BRIDGE: in the process table
 * (so processes send to it like to any pid), waited on with a futex by
 * whatever thread uses it.  A call abandoned by its timeout leaves its
 * ref in a set, and a reply carrying it that arrives later is
 * dropped on sight instead of surfacing in a later receive (what
 * gen_server's aliases do for Erlang). */
#include <string.h>
#include <unistd.h>

#include "runtime/alloc.h"
#include "runtime/ptable.h"
#include "runtime/sched.h"
#include "runtime/signal.h"
#include "runtime/util.h"

/* The refs of calls that timed out and whose reply has not come yet: an
 * open-addressed set (linear probing, deletion by backward shift).  It
 * holds 8 bytes per abandoned call until its reply arrives or the bridge
 * closes. */
struct refset {
    hv_term *keys; /* HV_NONE: empty */
    size_t cap, n;
};

struct hv_bridge {
    struct hv__proc *p;
    hv_term pid;
    bool stopped; /* the runtime stopped under it */
    struct refset abandoned;
};

static size_t
refset_home(const struct refset *rs, hv_term k)
{
    return (size_t)((k * 0x9e3779b97f4a7c15ull) >> 17) & (rs->cap - 1);
}

static bool
refset_has(const struct refset *rs, hv_term k)
{
    if (rs->n == 0)
        return false;
    for (size_t i = refset_home(rs, k);; i = (i + 1) & (rs->cap - 1)) {
        if (rs->keys[i] == k)
            return true;
        if (rs->keys[i] == HV_NONE)
            return false;
    }
}

static void
refset_put_raw(struct refset *rs, hv_term k)
{
    size_t i = refset_home(rs, k);
    while (rs->keys[i] != HV_NONE)
        i = (i + 1) & (rs->cap - 1);
    rs->keys[i] = k;
    rs->n++;
}

/* False when memory is out (the ref is then not remembered). */
static bool
refset_add(struct refset *rs, hv_term k)
{
    if ((rs->n + 1) * 2 > rs->cap) {
        size_t ncap = rs->cap ? rs->cap * 2 : 16;
        hv_term *nk = hv__alloc(ncap * sizeof *nk);
        if (nk == NULL)
            return false;
        memset(nk, 0, ncap * sizeof *nk);
        struct refset old = *rs;
        rs->keys = nk;
        rs->cap = ncap;
        rs->n = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.keys[i] != HV_NONE)
                refset_put_raw(rs, old.keys[i]);
        hv__free(old.keys, old.cap * sizeof *old.keys);
    }
    refset_put_raw(rs, k);
    return true;
}

static bool
refset_remove(struct refset *rs, hv_term k)
{
    if (rs->n == 0)
        return false;
    size_t i = refset_home(rs, k);
    while (rs->keys[i] != k) {
        if (rs->keys[i] == HV_NONE)
            return false;
        i = (i + 1) & (rs->cap - 1);
    }
    /* Backward shift: pull later members of the cluster into the hole
     * when their home lies at or before it. */
    size_t hole = i;
    for (size_t j = (i + 1) & (rs->cap - 1); rs->keys[j] != HV_NONE;
         j = (j + 1) & (rs->cap - 1)) {
        size_t h = refset_home(rs, rs->keys[j]);
        if (((j - h) & (rs->cap - 1)) >= ((j - hole) & (rs->cap - 1))) {
            rs->keys[hole] = rs->keys[j];
            hole = j;
        }
    }
    rs->keys[hole] = HV_NONE;
    rs->n--;
    return true;
}

static pthread_mutex_t bridges_lock = PTHREAD_MUTEX_INITIALIZER;

static hv_bridge *open_in(hv_error *err);

hv_bridge *
hv_bridge_open(hv_error *err)
{
    if (!hv__api_enter()) {
        hv__error_set(err, HV_EBADARG, 0, 0, 0,
                      "hv_bridge_open: the runtime is not running");
        return NULL;
    }
    hv_bridge *b = open_in(err);
    hv__api_leave();
    return b;
}

static hv_bridge *
open_in(hv_error *err)
{
    hv_bridge *b = hv__alloc(sizeof *b);
    struct hv__proc *p = hv__proc_new(K_BRIDGE);
    if (b == NULL || p == NULL) {
        hv__free(b, sizeof *b);
        if (p != NULL)
            hv__proc_free(p);
        hv__error_set(err, HV_ENOMEM, 0, 0, 0,
                      "hv_bridge_open: out of memory");
        return NULL;
    }
    memset(b, 0, sizeof *b);
    atomic_store_explicit(&p->state, P_RUNNING, memory_order_relaxed);
    p->arg = b;
    if (hv__ptable_insert(p) != HV_OK) {
        hv__proc_free(p);
        hv__free(b, sizeof *b);
        hv__error_set(err, HV_ELIMIT, 0, 0, 0,
                      "hv_bridge_open: the process table is full "
                      "(max_processes %zu)",
                      hv__ptable_capacity());
        return NULL;
    }
    b->p = p;
    b->pid = p->pid;
    return b;
}

/* Ends the bridge's process part: unreachable, messages dropped. */
static void
end_proc(struct hv__proc *p, bool table_alive)
{
    p->exiting = true; /* links and monitors made now get noproc */
    hv__ptable_kill(p);
    hv__registry_drop(p);
    hv__mbox_drop(p);
    /* A bridge ends normally; whoever monitors it is told. */
    hv__signal_exit(p, hv__rt.atom_normal, HV_NONE);
    if (table_alive)
        hv__ptable_release_number(p);
}

void
hv__bridge_stop(struct hv__proc *p)
{
    hv_bridge *b = p->arg;
    pthread_mutex_lock(&bridges_lock);
    end_proc(p, false);
    b->stopped = true;
    pthread_mutex_unlock(&bridges_lock);
}

void
hv_bridge_close(hv_bridge *b)
{
    if (b == NULL)
        return;
    if (hv__api_enter()) {
        pthread_mutex_lock(&bridges_lock);
        if (!b->stopped)
            end_proc(b->p, true);
        pthread_mutex_unlock(&bridges_lock);
        hv__api_leave();
    } else {
        /* The runtime is stopping (or stopped): hv_stop ends the bridge's
         * process part; wait until it has. */
        for (;;) {
            pthread_mutex_lock(&bridges_lock);
            bool done = b->stopped;
            pthread_mutex_unlock(&bridges_lock);
            if (done)
                break;
            usleep(1000);
        }
    }
    hv__proc_free(b->p);
    hv__free(b->abandoned.keys, b->abandoned.cap * sizeof(hv_term));
    hv__free(b, sizeof *b);
}

hv_term
hv_bridge_pid(const hv_bridge *b)
{
    return b != NULL ? b->pid : HV_NONE;
}

/* True if msg is {Ref, _} for a ref in list (which it then forgets). */
static bool
is_abandoned_reply(hv_bridge *b, hv_term msg)
{
    if (b->abandoned.n == 0 || hv_tuple_size(msg) != 2)
        return false;
    return refset_remove(&b->abandoned, hv_tuple_at(msg, 0));
}

static int
receive(hv_bridge *b, bool (*pred)(hv_term, void *), void *ctx,
        int64_t timeout_ms, hv_term *msg)
{
    int64_t deadline = hv__deadline(timeout_ms);
    for (;;) {
        if (b->stopped ||
            atomic_load_explicit(&hv__rt.stopping, memory_order_acquire))
            return HV_ENOPROC;
        int64_t left = timeout_ms;
        if (deadline >= 0) {
            uint64_t now = hv__sys_now_ms();
            left = (uint64_t)deadline > now
                       ? (int64_t)((uint64_t)deadline - now)
                       : 0;
        }
        int rc = hv__mbox_receive(b->p, pred, ctx, NULL, left, msg);
        if (rc != HV_OK)
            return rc;
        if (!is_abandoned_reply(b, *msg))
            return HV_OK;
        hv_release(*msg);
        *msg = HV_NONE;
    }
}

int
hv_bridge_recv(hv_bridge *b, int64_t timeout_ms, hv_term *msg)
{
    if (msg != NULL)
        *msg = HV_NONE;
    if (b == NULL || msg == NULL)
        return HV_EBADARG;
    if (!hv__api_enter())
        return HV_ENOPROC;
    int rc = receive(b, NULL, NULL, timeout_ms, msg);
    hv__api_leave();
    return rc;
}

/* Matches {Ref, _} for the call's ref, and abandoned replies (so they
 * are dropped while the call waits, not left queued). */
struct call_match {
    hv_bridge *b;
    hv_term ref;
};

static bool
is_reply(hv_term msg, void *ctx)
{
    struct call_match *m = ctx;
    if (hv_tuple_size(msg) != 2)
        return false;
    hv_term ref = hv_tuple_at(msg, 0);
    return ref == m->ref || refset_has(&m->b->abandoned, ref);
}

static int call_in(hv_bridge *b, hv_term to, hv_term request,
                   int64_t timeout_ms, hv_term *reply);

int
hv_bridge_call(hv_bridge *b, hv_term to, hv_term request, int64_t timeout_ms,
               hv_term *reply)
{
    if (reply != NULL)
        *reply = HV_NONE;
    if (b == NULL || reply == NULL || request == HV_NONE) {
        hv_release(request);
        return HV_EBADARG;
    }
    if (!hv__api_enter()) {
        hv_release(request);
        return HV_ENOPROC;
    }
    int rc = call_in(b, to, request, timeout_ms, reply);
    hv__api_leave();
    return rc;
}

static int
call_in(hv_bridge *b, hv_term to, hv_term request, int64_t timeout_ms,
        hv_term *reply)
{
    if (reply != NULL)
        *reply = HV_NONE;
    if (b == NULL || reply == NULL || request == HV_NONE) {
        hv_release(request);
        return HV_EBADARG;
    }
    if (b->stopped) {
        hv_release(request);
        return HV_ENOPROC;
    }
    hv_term pid = hv_is_atom(to) ? hv_whereis(to) : to;
    if (pid == HV_NONE) {
        hv_release(request);
        return HV_ENOPROC;
    }
    if (hv_type_of(pid) != HV_TYPE_PID) {
        hv_release(request);
        return HV_EBADARG;
    }
    /* A target already dead is known now; one that dies during the call
     * shows as a timeout (monitors will tell it apart). */
    struct hv__proc *target = hv__ptable_pin(pid);
    if (target == NULL) {
        hv_release(request);
        return HV_ENOPROC;
    }
    hv_term ref = hv_ref_make();
    hv_term msg = hv_tuple(3, hv_atom("$gen_call"),
                           hv_tuple(2, b->pid, ref), request);
    if (msg == HV_NONE) {
        hv__ptable_unpin(target);
        return HV_ENOMEM;
    }
    hv__mbox_deliver(target, msg);
    hv__ptable_unpin(target);

    struct call_match m = {.b = b, .ref = ref};
    for (;;) {
        hv_term got;
        int rc = receive(b, is_reply, &m, timeout_ms, &got);
        if (rc == HV_ETIMEOUT) {
            /* Out of memory: the late reply, if any, will be delivered
             * like any message.  Nothing better is possible. */
            refset_add(&b->abandoned, ref);
            return HV_ETIMEOUT;
        }
        if (rc != HV_OK)
            return rc;
        /* receive() dropped abandoned replies; this is ours. */
        *reply = hv_retain(hv_tuple_at(got, 1));
        hv_release(got);
        return HV_OK;
    }
}
