/* supervisor/supervisor.c - supervisors: hv_sup_start, the server
 * callbacks, the restart strategies, restart intensity and backoff, and
 * the client side of the dynamic-child calls.
 *
 * The rules are OTP's supervisor.erl, followed step by step (the OTP
 * function each part mirrors is named beside it).  A child that ends is
 * looked up by pid; its restart type says whether it comes back; a
 * restart is first counted against intensity (more than `intensity`
 * within period_ms ends the supervisor with `shutdown`), then done by the
 * strategy.  A restart whose start fails leaves the child `restarting`
 * and casts {try_again_restart, Key} to the supervisor itself, so that
 * what is already queued (a stop, other exits) is handled before the
 * next attempt, which counts against intensity again.
 *
 * OTP's supervisor reports (child_terminated, start_error, shutdown,
 * reached_max_restart_intensity) and its "unexpected message" log are
 * not printed: a supervisor cannot read hv_config.quiet_crashes, and a
 * report per restart would flood stderr in a restart loop. */
#include "supervisor/sup.h"

#include <pthread.h>
#include <stdatomic.h>

#include "runtime/alloc.h"
#include "runtime/proc.h"
#include "runtime/sys.h"

struct hv__sup_atoms hv__sup_atom;
static pthread_mutex_t atoms_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool atoms_ready;

int
hv__sup_atoms_init(void)
{
    if (atomic_load_explicit(&atoms_ready, memory_order_acquire))
        return HV_OK;
    bool ok = true;
    pthread_mutex_lock(&atoms_lock);
    if (!atomic_load_explicit(&atoms_ready, memory_order_relaxed)) {
#define HV__SUP_ATOM_MAKE(field, name)                                         \
    ok = (hv__sup_atom.field = hv_atom(name)) != HV_NONE && ok;
        HV__SUP_ATOMS(HV__SUP_ATOM_MAKE)
#undef HV__SUP_ATOM_MAKE
        /* release: a reader that sees ready sees every atom. */
        if (ok)
            atomic_store_explicit(&atoms_ready, true, memory_order_release);
    }
    pthread_mutex_unlock(&atoms_lock);
    return ok ? HV_OK : HV_ENOMEM;
}

static void
give(hv_term *out, hv_term t)
{
    if (out != NULL)
        *out = t;
    else
        hv_release(t);
}

static bool
is_simple(const struct hv__sup *s)
{
    return s->flags.strategy == HV_SIMPLE_ONE_FOR_ONE;
}

/* ---- checking flags and specs ------------------------------------------ */

/* {bad_flags, {Field, Value}}: sets *reason, returns HV_EBADARG. */
static int
reject_flags(hv_term *reason, hv_term field, int64_t value)
{
    give(reason, hv_tuple(2, hv__sup_atom.bad_flags,
                          hv_tuple(2, field, hv_int(value))));
    return HV_EBADARG;
}

/* OTP's init_state checks, in its order. */
static int
check_flags(const hv_sup_flags *f, hv_term *reason)
{
    const struct hv__sup_atoms *a = &hv__sup_atom;
    if ((unsigned)f->strategy > HV_SIMPLE_ONE_FOR_ONE)
        return reject_flags(reason, a->strategy, f->strategy);
    if (f->intensity < 0)
        return reject_flags(reason, a->intensity, f->intensity);
    if (f->period_ms <= 0)
        return reject_flags(reason, a->period_ms, f->period_ms);
    if ((unsigned)f->auto_shutdown > HV_AUTO_ALL_SIGNIFICANT)
        return reject_flags(reason, a->auto_shutdown, f->auto_shutdown);
    return HV_OK;
}

/* OTP's check_startspec: each spec valid, ids unique, and exactly one
 * spec for simple_one_for_one (OTP's bad_start_spec). */
static int
check_specs(const hv_sup_flags *f, const hv_child_spec *children, size_t n,
            hv_term *reason)
{
    const struct hv__sup_atoms *a = &hv__sup_atom;
    if (f->strategy == HV_SIMPLE_ONE_FOR_ONE && n != 1) {
        give(reason, hv_tuple(2, a->bad_start_spec,
                              hv_tuple(2, a->children, hv_int((int64_t)n))));
        return HV_EBADARG;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = hv__sup_spec_check(&children[i], f->auto_shutdown, reason);
        if (rc != HV_OK)
            return rc;
        for (size_t j = 0; j < i; j++) {
            if (!hv_equal(children[j].id, children[i].id))
                continue;
            give(reason, hv__sup_bad_spec(children[i].id, a->duplicate_id,
                                          hv_retain(children[i].id)));
            return HV_EBADARG;
        }
    }
    return HV_OK;
}

/* ---- intensity and backoff --------------------------------------------- */

/* Makes room for one more restart time: the ring doubles up to
 * `intensity` entries, which is all it ever holds. */
static bool
ring_grow(struct hv__sup *s)
{
    size_t cap = s->ring_cap ? s->ring_cap * 2 : 4;
    if (cap > (size_t)s->flags.intensity)
        cap = (size_t)s->flags.intensity;
    uint64_t *ring = hv__alloc(cap * sizeof *ring);
    if (ring == NULL)
        return false;
    for (size_t i = 0; i < s->ring_len; i++)
        ring[i] = s->ring[(s->ring_head + i) % s->ring_cap];
    if (s->ring != NULL)
        hv__free(s->ring, s->ring_cap * sizeof *s->ring);
    s->ring = ring;
    s->ring_cap = cap;
    s->ring_head = 0;
    return true;
}

/* OTP's add_restart: records a restart now and says whether it keeps
 * the supervisor within intensity restarts per period.  Times older than
 * the period leave from the front, each once: O(1) amortized. */
static bool
intensity_ok(struct hv__sup *s)
{
    uint64_t now = hv__sys_now_ms();
    uint64_t period = (uint64_t)s->flags.period_ms;
    /* OTP keeps restarts R >= Now - Period: the window is inclusive. */
    while (s->ring_len > 0 && s->ring[s->ring_head] + period < now) {
        s->ring_head = (s->ring_head + 1) % s->ring_cap;
        s->ring_len--;
    }
    if (s->ring_len >= (size_t)s->flags.intensity)
        return false;
    /* No memory to remember the restart: give up rather than let a
     * crash loop run uncounted. */
    if (s->ring_len == s->ring_cap && !ring_grow(s))
        return false;
    s->ring[(s->ring_head + s->ring_len) % s->ring_cap] = now;
    s->ring_len++;
    return true;
}

static bool
backoff_on(const struct hv__sup_child *c)
{
    return c->spec.backoff_min_ms > 0;
}

/* The next delay: the minimum at first, and again once the child has
 * run backoff_reset_ms (0: as long as the longest delay) since its last
 * start; else double the last one, up to backoff_max_ms (0: the
 * minimum).  A start that failed is a crash with no quiet time. */
static int64_t
next_delay(struct hv__sup_child *c, bool failed_start)
{
    const hv_child_spec *sp = &c->spec;
    int64_t max =
        sp->backoff_max_ms > 0 ? sp->backoff_max_ms : sp->backoff_min_ms;
    int64_t quiet = sp->backoff_reset_ms > 0 ? sp->backoff_reset_ms : max;
    bool reset =
        c->backoff_ms == 0 ||
        (!failed_start && hv__sys_now_ms() - c->started_ms >= (uint64_t)quiet);
    if (reset)
        c->backoff_ms = sp->backoff_min_ms;
    else
        c->backoff_ms = c->backoff_ms > max / 2 ? max : c->backoff_ms * 2;
    return c->backoff_ms;
}

/* Asks for a restart of the waiting child under key, as a cast to
 * ourselves (OTP's try_again_restart). */
static void
cast_try_again(uint64_t key)
{
    hv_cast(hv_self(),
            hv_tuple(2, hv__sup_atom.try_again, hv_int((int64_t)key)));
}

/* Puts c in BACKOFF with a timer that sends {backoff_restart, Key}. */
static void
wait_backoff(struct hv__sup *s, struct hv__sup_child *c, bool failed_start)
{
    int64_t delay = next_delay(c, failed_start);
    uint64_t key = hv__sup_child_wait(s, c, HV__SUP_BACKOFF);
    c->timer =
        hv_send_after(delay, hv_self(),
                      hv_tuple(2, hv__sup_atom.backoff, hv_int((int64_t)key)));
    /* No timer (no memory): retry at once rather than never. */
    if (c->timer == HV_NONE)
        cast_try_again(key);
}

/* A restart of c failed to start it (OTP's {try_again, Id}): c waits,
 * by its backoff when it has one. */
static void
retry_later(struct hv__sup *s, struct hv__sup_child *c)
{
    if (backoff_on(c))
        wait_backoff(s, c, true);
    else
        cast_try_again(hv__sup_child_wait(s, c, HV__SUP_RETRY));
}

/* ---- restart strategies ------------------------------------------------ */

/* OTP's terminate_children over first..last: stops them in reverse start
 * order; temporary children go, the others stay, stopped (a waiting one
 * stops waiting: the restart that follows starts it). */
static void
stop_back_to(struct hv__sup *s, struct hv__sup_child *first)
{
    struct hv__sup_child *c = s->tail;
    while (c != NULL) {
        struct hv__sup_child *prev = c->prev;
        bool last = c == first;
        hv__sup_child_stop(s, c);
        if (c->spec.restart == HV_TEMPORARY)
            hv__sup_child_remove(s, c);
        if (last)
            break;
        c = prev;
    }
}

/* OTP's start_children from c on, in start order: a temporary child that
 * says ignore goes.  HV_OK, or HV_EEXIT at the first failure with
 * *failed and *why (new); the children after it are not started. */
static int
start_from(struct hv__sup *s, struct hv__sup_child *c,
           struct hv__sup_child **failed, hv_term *why)
{
    while (c != NULL) {
        struct hv__sup_child *next = c->next;
        int rc = hv__sup_child_start(s, c, why);
        if (rc < 0) {
            *failed = c;
            return rc;
        }
        if (rc == 0 && c->spec.restart == HV_TEMPORARY)
            hv__sup_child_remove(s, c);
        c = next;
    }
    return HV_OK;
}

/* one_for_one and simple_one_for_one: only c. */
static void
restart_one(struct hv__sup *s, struct hv__sup_child *c)
{
    hv_term why;
    int rc = hv__sup_child_start(s, c, &why);
    if (rc < 0) {
        hv_release(why);
        retry_later(s, c);
    } else if (rc == 0 && is_simple(s)) {
        /* Ignored: OTP would keep an instance with no pid that nothing
         * can reach again; it goes. */
        hv__sup_child_remove(s, c);
    }
}

/* OTP's restart_multiple_children: stops first and those after it (the
 * whole list for one_for_all) in reverse order, then starts them in
 * order; a child that fails to start waits for its retry, those after it
 * stay stopped until then. */
static void
restart_group(struct hv__sup *s, struct hv__sup_child *first)
{
    bool all = s->flags.strategy == HV_ONE_FOR_ALL;
    stop_back_to(s, first);
    hv_term why;
    struct hv__sup_child *failed;
    if (start_from(s, all ? s->head : first, &failed, &why) != HV_OK) {
        hv_release(why);
        retry_later(s, failed);
    }
}

/* OTP's restart/2: counts the restart, then restarts by the strategy. */
static hv_server_result
restart(struct hv__sup *s, struct hv__sup_child *c)
{
    if (!intensity_ok(s)) {
        hv__sup_child_drop(s, c);
        return hv_result_stop(hv__sup_atom.shutdown, HV_NONE);
    }
    switch (s->flags.strategy) {
    case HV_ONE_FOR_ALL:
        restart_group(s, s->head);
        break;
    case HV_REST_FOR_ONE:
        restart_group(s, c);
        break;
    default:
        restart_one(s, c);
        break;
    }
    return hv_result_noreply();
}

/* normal, shutdown or {shutdown, _}: a transient child is done. */
static bool
is_clean_exit(hv_term reason)
{
    const struct hv__sup_atoms *a = &hv__sup_atom;
    return reason == a->normal || reason == a->shutdown ||
           (hv_tuple_size(reason) == 2 &&
            hv_tuple_at(reason, 0) == a->shutdown);
}

/* OTP's do_restart: whether a child that ended with reason comes back. */
static bool
wants_restart(const struct hv__sup_child *c, hv_term reason)
{
    if (c->spec.restart == HV_PERMANENT)
        return true;
    return c->spec.restart == HV_TRANSIENT && !is_clean_exit(reason);
}

/* OTP's do_auto_shutdown, after a child ended for good. */
static bool
auto_shutdown(const struct hv__sup *s, bool significant)
{
    if (s->flags.auto_shutdown == HV_AUTO_NEVER || !significant)
        return false;
    if (s->flags.auto_shutdown == HV_AUTO_ANY_SIGNIFICANT)
        return true;
    if (is_simple(s))
        return s->count == 0;
    /* A waiting significant child counts as alive, as OTP's
     * {restarting, _} does. */
    for (const struct hv__sup_child *c = s->head; c != NULL; c = c->next)
        if (c->spec.significant && c->state != HV__SUP_STOPPED)
            return false;
    return true;
}

/* c ended with reason: restart it, let it wait out its backoff, or let
 * it go (OTP's restart_child/3). */
static hv_server_result
child_exited(struct hv__sup *s, struct hv__sup_child *c, hv_term reason)
{
    hv__sup_child_stopped(s, c);
    if (wants_restart(c, reason)) {
        if (!backoff_on(c))
            return restart(s, c);
        /* The children its strategy restarts with it stop now, not when
         * the delay is over: they may depend on it. */
        if (s->flags.strategy == HV_ONE_FOR_ALL)
            stop_back_to(s, s->head);
        else if (s->flags.strategy == HV_REST_FOR_ONE)
            stop_back_to(s, c);
        wait_backoff(s, c, false);
        return hv_result_noreply();
    }
    bool significant = c->spec.significant;
    hv__sup_child_drop(s, c);
    if (auto_shutdown(s, significant))
        return hv_result_stop(hv__sup_atom.shutdown, HV_NONE);
    return hv_result_noreply();
}

/* ---- the server callbacks ---------------------------------------------- */

/* Who frees the state when hv_sup_start's server may never run init:
 * init and the starter each swap `taken`, and the first to swap owns the
 * state (see settle_claim). */
struct claim {
    atomic_bool taken;
    struct hv__sup *s;
};

/* The state is freed by terminate, which the server runs on every end
 * but `killed` (and a failed init, which frees it itself); this cleanup
 * covers `killed`.  It runs before the server's own cleanup, which may
 * still call terminate: so it must not touch the state otherwise. */
static void
sup_cleanup(void *arg)
{
    if (hv__proc_exit_reason() == hv__sup_atom.killed)
        hv__sup_free(arg);
}

static enum hv_server_init_action
sup_init(void *arg, void **state, int64_t *timeout_ms, hv_term *reason)
{
    (void)timeout_ms;
    struct claim *cl = arg;
    if (atomic_exchange(&cl->taken, true)) {
        *reason = hv__sup_atom.shutdown; /* the starter gave up on us */
        return HV_SERVER_INIT_STOP;
    }
    struct hv__sup *s = cl->s;
    *state = s;
    if (hv_defer(sup_cleanup, s) != HV_OK) {
        hv__sup_free(s);
        *reason = hv__sup_atom.enomem;
        return HV_SERVER_INIT_STOP;
    }
    hv_term why;
    struct hv__sup_child *failed;
    if (start_from(s, s->head, &failed, &why) == HV_OK)
        return HV_SERVER_INIT_OK;
    const struct hv__sup_atoms *a = &hv__sup_atom;
    *reason = hv_tuple(
        2, a->shutdown,
        hv_tuple(3, a->failed_to_start_child, hv_retain(failed->spec.id), why));
    stop_back_to(s, s->head);
    hv__sup_free(s);
    return HV_SERVER_INIT_STOP;
}

static hv_server_result
sup_call(hv_term req, hv_term from, void *state)
{
    (void)from;
    return hv_result_reply(hv__sup_call(state, req));
}

/* {Tag, Key} naming a waiting child: the child, or NULL (a stale
 * message, or not ours). */
static struct hv__sup_child *
waiting_child(struct hv__sup *s, hv_term msg, hv_term tag)
{
    int64_t key;
    if (hv_tuple_size(msg) != 2 || hv_tuple_at(msg, 0) != tag ||
        hv_int_value(hv_tuple_at(msg, 1), &key) != HV_OK)
        return NULL;
    return hv__sup_child_by_key(s, (uint64_t)key);
}

/* OTP's handle_cast({try_again_restart, Id}). */
static hv_server_result
sup_cast(hv_term msg, void *state)
{
    struct hv__sup *s = state;
    struct hv__sup_child *c = waiting_child(s, msg, hv__sup_atom.try_again);
    return c != NULL ? restart(s, c) : hv_result_noreply();
}

/* A child's exit, or a backoff timer; anything else is dropped (OTP
 * logs it). */
static hv_server_result
sup_info(hv_term msg, void *state)
{
    struct hv__sup *s = state;
    const struct hv__sup_atoms *a = &hv__sup_atom;
    if (hv_tuple_size(msg) == 3 && hv_tuple_at(msg, 0) == a->exit) {
        struct hv__sup_child *c = hv__sup_child_by_pid(s, hv_tuple_at(msg, 1));
        return c != NULL ? child_exited(s, c, hv_tuple_at(msg, 2))
                         : hv_result_noreply();
    }
    struct hv__sup_child *c = waiting_child(s, msg, a->backoff);
    return c != NULL ? restart(s, c) : hv_result_noreply();
}

/* OTP's terminate: stops the children in reverse start order (all at
 * once for simple_one_for_one), then frees the state.  Run from the
 * server's cleanup (the process is ending abnormally) it cannot wait for
 * them; its links carry its exit reason to them instead. */
static void
sup_terminate(hv_term reason, void *state)
{
    (void)reason;
    struct hv__sup *s = state;
    if (hv__proc_exit_reason() == HV_NONE) {
        if (is_simple(s))
            hv__sup_stop_dynamic(s);
        else
            stop_back_to(s, s->head);
    }
    hv__sup_free(s);
}

static const hv_server_callbacks sup_callbacks = {
    .init = sup_init,
    .handle_call = sup_call,
    .handle_cast = sup_cast,
    .handle_info = sup_info,
    .terminate = sup_terminate,
};

/* ---- starting ---------------------------------------------------------- */

/* The state with copies of the specs, nothing started. */
static struct hv__sup *
sup_new(const hv_sup_flags *f, const hv_child_spec *children, size_t n)
{
    struct hv__sup *s = hv__alloc(sizeof *s);
    if (s == NULL)
        return NULL;
    *s = (struct hv__sup){.flags = *f};
    if (f->strategy == HV_SIMPLE_ONE_FOR_ONE) {
        s->tmpl = children[0];
        hv_retain(s->tmpl.id);
        return s;
    }
    for (size_t i = 0; i < n; i++) {
        struct hv__sup_child *c = hv__sup_child_new(&children[i], HV_NIL);
        if (c == NULL) {
            hv__sup_free(s);
            return NULL;
        }
        hv__sup_child_append(s, c);
    }
    return s;
}

/* After hv_server_start returned rc: frees what nobody else will.  The
 * server touches the claim only in init's first step; if it did not take
 * the state it never ran init and, being dead or never spawned, never
 * will: except after a start timeout, when it was killed perhaps before
 * reaching init, and might still read the claim.  Then the claim (not
 * the state) is left to leak, a few bytes on a rare path, rather than
 * freed under it. */
static void
settle_claim(struct claim *cl, int rc)
{
    bool server_took = atomic_exchange(&cl->taken, true);
    if (!server_took)
        hv__sup_free(cl->s);
    if (server_took || rc != HV_ETIMEOUT)
        hv__free(cl, sizeof *cl);
}

int
hv_sup_start(const hv_sup_flags *flags, const hv_child_spec *children, size_t n,
             const hv_server_opts *opts, hv_term *pid, hv_term *reason)
{
    if (reason != NULL)
        *reason = HV_NONE;
    if (hv__sup_atoms_init() != HV_OK)
        return HV_ENOMEM;
    if (flags == NULL || (children == NULL && n > 0) || pid == NULL)
        return HV_EBADARG;
    int rc = check_flags(flags, reason);
    if (rc == HV_OK)
        rc = check_specs(flags, children, n, reason);
    if (rc != HV_OK)
        return rc;
    struct hv__sup *s = sup_new(flags, children, n);
    struct claim *cl = s != NULL ? hv__alloc(sizeof *cl) : NULL;
    if (cl == NULL) {
        if (s != NULL)
            hv__sup_free(s);
        return HV_ENOMEM;
    }
    atomic_init(&cl->taken, false);
    cl->s = s;
    hv_server_opts so = opts != NULL ? *opts : (hv_server_opts){0};
    so.trap_exit = true;
    /* OTP's supervisor:start_link waits for init without a limit. */
    if (so.start_timeout_ms == 0)
        so.start_timeout_ms = HV_INFINITY;
    rc = hv_server_start(&sup_callbacks, cl, &so, pid, reason);
    settle_claim(cl, rc);
    return rc;
}

/* ---- the dynamic-child calls, client side ------------------------------ */

/* Calls the supervisor with req (consumed) and unpacks its {Code, Value}
 * answer: returns Code with *value (new).  hv_call's own failures pass
 * through: HV_ENOPROC, HV_EEXIT with the supervisor's exit reason when it
 * died mid-call, HV_EBADARG when not called from a process. */
static int
sup_request(hv_term sup, hv_term req, hv_term *value)
{
    hv_term reply;
    *value = HV_NONE;
    int rc = hv_call(sup, req, HV_INFINITY, &reply);
    if (rc != HV_OK) {
        *value = rc == HV_EEXIT ? reply : HV_NONE;
        return rc;
    }
    int64_t code;
    if (hv_tuple_size(reply) != 2 ||
        hv_int_value(hv_tuple_at(reply, 0), &code) != HV_OK) {
        /* Not a supervisor's answer. */
        *value = hv_tuple(2, hv__sup_atom.bad_reply, reply);
        return HV_EBADARG;
    }
    *value = hv_retain(hv_tuple_at(reply, 1));
    hv_release(reply);
    return (int)code;
}

/* Hands a call's result out: on HV_OK the value to *pid (`undefined`,
 * an ignored start, as HV_NONE), else to *reason. */
static int
deliver(int rc, hv_term v, hv_term *pid, hv_term *reason)
{
    if (rc == HV_OK)
        give(pid, v == HV_ATOM_UNDEFINED ? HV_NONE : v);
    else
        give(reason, v);
    return rc;
}

/* Clears the out-params and interns the atoms.  HV_OK or HV_ENOMEM. */
static int
begin(hv_term *pid, hv_term *reason)
{
    if (pid != NULL)
        *pid = HV_NONE;
    if (reason != NULL)
        *reason = HV_NONE;
    return hv__sup_atoms_init();
}

int
hv_sup_start_child(hv_term sup, const hv_child_spec *spec, hv_term *pid,
                   hv_term *reason)
{
    int rc = begin(pid, reason);
    if (rc != HV_OK || spec == NULL)
        return rc != HV_OK ? rc : HV_EBADARG;
    /* A spec holds C pointers, which no term can, so it travels by
     * address, as an integer in the request.  The caller's spec may sit
     * on its stack, which another process occupies while this one waits
     * (process.h), so the address is of a heap copy.  The supervisor
     * reads the copy only while it handles this call, keeping copies of
     * its own (id retained); the copy is freed here once the call
     * returns, whatever the outcome: a supervisor that died mid-call
     * reads nothing more.  (A caller killed while it waits leaks it.) */
    hv_child_spec *copy = hv__alloc(sizeof *copy);
    if (copy == NULL)
        return HV_ENOMEM;
    *copy = *spec;
    hv_term v;
    rc = sup_request(
        sup,
        hv_tuple(2, hv__sup_atom.start_child, hv_int((int64_t)(uintptr_t)copy)),
        &v);
    hv__free(copy, sizeof *copy);
    return deliver(rc, v, pid, reason);
}

int
hv_sup_start_child_args(hv_term sup, hv_term args, hv_term *pid,
                        hv_term *reason)
{
    int rc = begin(pid, reason);
    if (rc != HV_OK || args == HV_NONE) {
        hv_release(args);
        return rc != HV_OK ? rc : HV_EBADARG;
    }
    hv_term v;
    rc = sup_request(sup, hv_tuple(2, hv__sup_atom.start_child_args, args), &v);
    return deliver(rc, v, pid, reason);
}

/* The calls that take an id (or pid) and answer ok or a pid.  tag
 * points into hv__sup_atom, read once begin has interned it. */
static int
id_request(hv_term sup, const hv_term *tag, hv_term id, hv_term *pid,
           hv_term *reason)
{
    int rc = begin(pid, reason);
    if (rc != HV_OK || id == HV_NONE)
        return rc != HV_OK ? rc : HV_EBADARG;
    hv_term v;
    rc = sup_request(sup, hv_tuple(2, *tag, hv_retain(id)), &v);
    return deliver(rc, v, pid, reason);
}

int
hv_sup_terminate_child(hv_term sup, hv_term id_or_pid, hv_term *reason)
{
    return id_request(sup, &hv__sup_atom.terminate_child, id_or_pid, NULL,
                      reason);
}

int
hv_sup_restart_child(hv_term sup, hv_term id, hv_term *pid, hv_term *reason)
{
    return id_request(sup, &hv__sup_atom.restart_child, id, pid, reason);
}

int
hv_sup_delete_child(hv_term sup, hv_term id, hv_term *reason)
{
    return id_request(sup, &hv__sup_atom.delete_child, id, NULL, reason);
}

int
hv_sup_which_children(hv_term sup, hv_term *list)
{
    if (list == NULL)
        return HV_EBADARG;
    int rc = begin(list, NULL);
    if (rc != HV_OK)
        return rc;
    hv_term v;
    rc = sup_request(sup, hv__sup_atom.which_children, &v);
    if (rc == HV_OK)
        *list = v;
    else
        hv_release(v);
    return rc;
}

int
hv_sup_count_children(hv_term sup, hv_sup_counts *counts)
{
    if (counts == NULL)
        return HV_EBADARG;
    int rc = hv__sup_atoms_init();
    if (rc != HV_OK)
        return rc;
    hv_term v;
    rc = sup_request(sup, hv__sup_atom.count_children, &v);
    if (rc != HV_OK) {
        hv_release(v);
        return rc;
    }
    int64_t f[4] = {0};
    for (size_t i = 0; i < 4; i++)
        hv_int_value(hv_tuple_at(v, i), &f[i]);
    hv_release(v);
    *counts =
        (hv_sup_counts){(size_t)f[0], (size_t)f[1], (size_t)f[2], (size_t)f[3]};
    return HV_OK;
}
