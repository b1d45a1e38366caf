/* supervisor/sup_children.c - a supervisor's child records: checking a
 * spec, starting and stopping one child (OTP's shutdown/2 escalation),
 * stopping all simple_one_for_one children at once, and the supervisor's
 * side of the dynamic-child calls (start, terminate, restart and delete
 * child, which_children, count_children).
 *
 * Everything here runs in the supervisor process (it is the children's
 * link partner and the only one touching its records); hv__sup_spec_check
 * also runs in hv_sup_start's caller. */
#include "supervisor/sup.h"

#include "runtime/alloc.h"
#include "runtime/sys.h"

/* OTP's default shutdown for a worker. */
#define DEFAULT_WORKER_SHUTDOWN_MS 5000

hv_term
hv__sup_bad_spec(hv_term id, hv_term field, hv_term value)
{
    if (id == HV_NONE)
        id = HV_ATOM_UNDEFINED;
    return hv_tuple(3, hv__sup_atom.bad_child_spec, hv_retain(id),
                    hv_tuple(2, field, value));
}

/* The check of one field failed: sets *reason, returns HV_EBADARG. */
static int
reject(hv_term *reason, hv_term id, hv_term field, hv_term value)
{
    hv_term r = hv__sup_bad_spec(id, field, value);
    if (reason != NULL)
        *reason = r;
    else
        hv_release(r);
    return HV_EBADARG;
}

/* The backoff fields: each >= 0, and a maximum below the minimum is an
 * error rather than a silent clamp.  0 keeps a field's default. */
static int
check_backoff(const hv_child_spec *spec, hv_term *reason)
{
    const struct hv__sup_atoms *a = &hv__sup_atom;
    if (spec->backoff_min_ms < 0)
        return reject(reason, spec->id, a->backoff_min_ms,
                      hv_int(spec->backoff_min_ms));
    if (spec->backoff_max_ms < 0 ||
        (spec->backoff_max_ms != 0 &&
         spec->backoff_max_ms < spec->backoff_min_ms))
        return reject(reason, spec->id, a->backoff_max_ms,
                      hv_int(spec->backoff_max_ms));
    if (spec->backoff_reset_ms < 0)
        return reject(reason, spec->id, a->backoff_reset_ms,
                      hv_int(spec->backoff_reset_ms));
    return HV_OK;
}

int
hv__sup_spec_check(const hv_child_spec *spec, hv_auto_shutdown as,
                   hv_term *reason)
{
    const struct hv__sup_atoms *a = &hv__sup_atom;
    hv_term id = spec->id;
    /* In OTP's order: id, start, restart, significant, type, shutdown. */
    if (id == HV_NONE)
        return reject(reason, HV_NONE, a->id, HV_ATOM_UNDEFINED);
    if (spec->start == NULL && spec->fn == NULL)
        return reject(reason, id, a->start, HV_ATOM_UNDEFINED);
    if ((unsigned)spec->restart > HV_TEMPORARY)
        return reject(reason, id, a->restart, hv_int(spec->restart));
    /* OTP 24's rule (bad_combination): a significant child must be able
     * to end for good, and matters only with auto_shutdown. */
    if (spec->significant &&
        (spec->restart == HV_PERMANENT || as == HV_AUTO_NEVER))
        return reject(reason, id, a->significant, HV_ATOM_TRUE);
    if ((unsigned)spec->type > HV_SUPERVISOR)
        return reject(reason, id, a->type, hv_int(spec->type));
    if (spec->shutdown < 0 && spec->shutdown != HV_INFINITY &&
        spec->shutdown != HV_SHUTDOWN_BRUTAL_KILL)
        return reject(reason, id, a->shutdown, hv_int(spec->shutdown));
    return check_backoff(spec, reason);
}

struct hv__sup_child *
hv__sup_child_new(const hv_child_spec *spec, hv_term args)
{
    struct hv__sup_child *c = hv__alloc(sizeof *c);
    if (c == NULL) {
        hv_release(args);
        return NULL;
    }
    *c = (struct hv__sup_child){.spec = *spec,
                                .args = args,
                                .pid = HV_NONE,
                                .last_pid = HV_NONE,
                                .state = HV__SUP_STOPPED,
                                .timer = HV_NONE,
                                .mon = HV_NONE};
    hv_retain(c->spec.id);
    if (c->spec.shutdown == 0)
        c->spec.shutdown = c->spec.type == HV_SUPERVISOR
                               ? HV_INFINITY
                               : DEFAULT_WORKER_SHUTDOWN_MS;
    return c;
}

void
hv__sup_child_append(struct hv__sup *s, struct hv__sup_child *c)
{
    c->next = NULL;
    c->prev = s->tail;
    if (s->tail != NULL)
        s->tail->next = c;
    else
        s->head = c;
    s->tail = c;
    s->count++;
}

/* Releases what the record holds and frees it (off the list already). */
static void
child_free(struct hv__sup_child *c)
{
    hv_release(c->spec.id);
    hv_release(c->args);
    hv__free(c, sizeof *c);
}

void
hv__sup_child_free(struct hv__sup *s, struct hv__sup_child *c)
{
    hv__sup_child_stopped(s, c);
    child_free(c);
}

void
hv__sup_child_remove(struct hv__sup *s, struct hv__sup_child *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        s->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    else
        s->tail = c->prev;
    s->count--;
    hv__sup_child_free(s, c);
}

struct hv__sup_child *
hv__sup_child_by_pid(const struct hv__sup *s, hv_term pid)
{
    hv_term v;
    if (!hv_is_pid(pid) || !hv__tmap_get(&s->by_pid, pid, &v))
        return NULL;
    return (struct hv__sup_child *)(uintptr_t)v;
}

struct hv__sup_child *
hv__sup_child_by_id(const struct hv__sup *s, hv_term id)
{
    for (struct hv__sup_child *c = s->head; c != NULL; c = c->next)
        if (hv_equal(c->spec.id, id))
            return c;
    return NULL;
}

static bool
is_waiting(const struct hv__sup_child *c)
{
    return c->state == HV__SUP_RETRY || c->state == HV__SUP_BACKOFF;
}

struct hv__sup_child *
hv__sup_child_by_old_pid(const struct hv__sup *s, hv_term pid)
{
    for (struct hv__sup_child *c = s->head; c != NULL; c = c->next)
        if (is_waiting(c) && hv_equal(c->last_pid, pid))
            return c;
    return NULL;
}

struct hv__sup_child *
hv__sup_child_by_key(const struct hv__sup *s, uint64_t key)
{
    for (struct hv__sup_child *c = s->head; c != NULL; c = c->next)
        if (is_waiting(c) && c->key == key)
            return c;
    return NULL;
}

void
hv__sup_child_stopped(struct hv__sup *s, struct hv__sup_child *c)
{
    if (c->state == HV__SUP_RUNNING) {
        hv__tmap_del(&s->by_pid, c->pid, NULL);
        c->pid = HV_NONE;
    } else if (is_waiting(c)) {
        s->nwaiting--;
        if (c->timer != HV_NONE) {
            /* A timer that fired already left a message whose key no
             * longer names a wait: it will find nothing. */
            hv_cancel_timer(c->timer);
            hv_release(c->timer);
            c->timer = HV_NONE;
        }
    }
    c->state = HV__SUP_STOPPED;
}

uint64_t
hv__sup_child_wait(struct hv__sup *s, struct hv__sup_child *c,
                   enum hv__sup_cstate state)
{
    hv__sup_child_stopped(s, c);
    c->state = state;
    c->key = ++s->next_key;
    s->nwaiting++;
    return c->key;
}

static bool
is_simple(const struct hv__sup *s)
{
    return s->flags.strategy == HV_SIMPLE_ONE_FOR_ONE;
}

void
hv__sup_child_drop(struct hv__sup *s, struct hv__sup_child *c)
{
    if (is_simple(s) || c->spec.restart == HV_TEMPORARY)
        hv__sup_child_remove(s, c);
    else
        hv__sup_child_stopped(s, c);
}

/* ---- stopping ---------------------------------------------------------- */

struct match_pid {
    hv_term tag, pid;
};

/* {'EXIT', Pid, _} of one pid. */
static bool
is_exit_of(hv_term msg, void *ctx)
{
    const struct match_pid *m = ctx;
    return hv_tuple_size(msg) == 3 && hv_tuple_at(msg, 0) == m->tag &&
           hv_equal(hv_tuple_at(msg, 1), m->pid);
}

/* {'DOWN', Ref, process, _, _} of one monitor. */
static bool
is_down_of(hv_term msg, void *ctx)
{
    const hv_term *mon = ctx;
    return hv_tuple_size(msg) == 5 &&
           hv_tuple_at(msg, 0) == hv__sup_atom.down &&
           hv_equal(hv_tuple_at(msg, 1), *mon);
}

/* Removes a queued {'EXIT', pid, _}; true if there was one. */
static bool
take_exit(hv_term pid)
{
    struct match_pid m = {hv__sup_atom.exit, pid};
    hv_term msg;
    if (hv_recv_if(is_exit_of, &m, 0, &msg) != HV_OK)
        return false;
    hv_release(msg);
    return true;
}

/* Waits up to timeout_ms for the DOWN of mon.  HV_OK or HV_ETIMEOUT. */
static int
wait_down(hv_term mon, int64_t timeout_ms)
{
    hv_term msg;
    int rc = hv_recv_if(is_down_of, &mon, timeout_ms, &msg);
    if (rc == HV_OK)
        hv_release(msg);
    return rc;
}

/* OTP's monitor_child: monitors pid and unlinks it, so a child that
 * unlinked itself cannot hang us waiting for an EXIT, and takes an EXIT
 * that came before the unlink (the child is gone then: its DOWN is taken
 * too).  Returns the monitor (new), or HV_NONE when the child is gone or
 * cannot be monitored (then it is killed and not waited for). */
static hv_term
monitor_child(hv_term pid)
{
    hv_term mon = hv_monitor(pid);
    hv_unlink(pid);
    if (mon == HV_NONE) {
        hv_exit_pid(pid, hv__sup_atom.kill);
        take_exit(pid);
        return HV_NONE;
    }
    if (take_exit(pid)) {
        wait_down(mon, HV_INFINITY);
        return HV_NONE;
    }
    return mon;
}

/* The first exit signal a shutdown sends. */
static hv_term
shutdown_signal(int64_t shutdown)
{
    return shutdown == HV_SHUTDOWN_BRUTAL_KILL ? hv__sup_atom.kill
                                               : hv__sup_atom.shutdown;
}

/* OTP's shutdown/2: brutal_kill kills at once; a timeout sends
 * `shutdown` and kills when the child has not ended in time; infinity
 * sends `shutdown` and waits.  The child's exit reason would go in a
 * supervisor report; hive's supervisors print none. */
static void
shutdown_pid(hv_term pid, int64_t shutdown)
{
    hv_term mon = monitor_child(pid);
    if (mon == HV_NONE)
        return;
    hv_exit_pid(pid, shutdown_signal(shutdown));
    int64_t wait = shutdown == HV_SHUTDOWN_BRUTAL_KILL ? HV_INFINITY : shutdown;
    if (wait_down(mon, wait) == HV_ETIMEOUT) {
        hv_exit_pid(pid, hv__sup_atom.kill);
        wait_down(mon, HV_INFINITY);
    }
    hv_release(mon);
}

void
hv__sup_child_stop(struct hv__sup *s, struct hv__sup_child *c)
{
    if (c->state == HV__SUP_RUNNING) {
        hv_term pid = c->pid;
        /* Forget it first: while we wait, its EXIT is not ours to see. */
        hv__sup_child_stopped(s, c);
        shutdown_pid(pid, c->spec.shutdown);
    }
    hv__sup_child_stopped(s, c);
}

/* A DOWN for one of the children stop_dynamic waits for. */
static bool
is_child_down(hv_term msg, void *ctx)
{
    const struct hv__sup *s = ctx;
    if (hv_tuple_size(msg) != 5 || hv_tuple_at(msg, 0) != hv__sup_atom.down)
        return false;
    struct hv__sup_child *c = hv__sup_child_by_pid(s, hv_tuple_at(msg, 3));
    return c != NULL && c->mon != HV_NONE &&
           hv_equal(c->mon, hv_tuple_at(msg, 1));
}

/* Monitors every running child, unlinks it and sends it its first exit
 * signal.  Returns how many DOWNs to wait for. */
static size_t
signal_dynamic(struct hv__sup *s, int64_t shutdown)
{
    size_t n = 0;
    for (struct hv__sup_child *c = s->head; c != NULL; c = c->next) {
        if (c->state != HV__SUP_RUNNING)
            continue;
        c->mon = monitor_child(c->pid);
        if (c->mon == HV_NONE)
            continue;
        hv_exit_pid(c->pid, shutdown_signal(shutdown));
        n++;
    }
    return n;
}

/* The shutdown timeout ran out: kills the children not yet down. */
static void
kill_remaining(struct hv__sup *s)
{
    for (struct hv__sup_child *c = s->head; c != NULL; c = c->next)
        if (c->state == HV__SUP_RUNNING && c->mon != HV_NONE)
            hv_exit_pid(c->pid, hv__sup_atom.kill);
}

void
hv__sup_stop_dynamic(struct hv__sup *s)
{
    if (s->head == NULL)
        return;
    /* Every instance has the template's shutdown, resolved. */
    int64_t shutdown = s->head->spec.shutdown;
    size_t n = signal_dynamic(s, shutdown);
    bool timed = shutdown > 0;
    uint64_t deadline = hv__sys_now_ms() + (timed ? (uint64_t)shutdown : 0);
    while (n > 0) {
        int64_t wait = HV_INFINITY;
        if (timed) {
            uint64_t now = hv__sys_now_ms();
            wait = now >= deadline ? 0 : (int64_t)(deadline - now);
        }
        hv_term msg;
        if (hv_recv_if(is_child_down, s, wait, &msg) != HV_OK) {
            kill_remaining(s);
            timed = false;
            continue;
        }
        struct hv__sup_child *c = hv__sup_child_by_pid(s, hv_tuple_at(msg, 3));
        hv_release(c->mon);
        c->mon = HV_NONE;
        hv_release(msg);
        n--;
    }
    while (s->head != NULL)
        hv__sup_child_remove(s, s->head);
}

/* ---- starting ---------------------------------------------------------- */

/* The default start: fn(arg) spawned linked to the supervisor. */
static int
spawn_linked(const hv_child_spec *spec, hv_term *pid, hv_term *why)
{
    hv_spawn_opts o = {.link = true, .name = HV_NONE};
    int rc = hv_spawn_opt(spec->fn, spec->arg, &o, pid, NULL);
    if (rc != HV_OK)
        *why =
            rc == HV_ELIMIT ? hv__sup_atom.system_limit : hv__sup_atom.enomem;
    return rc;
}

/* Runs the child's start.  HV_OK with *pid (HV_NONE: ignore), or an error
 * with *why (new). */
static int
run_start(struct hv__sup_child *c, hv_term *pid, hv_term *why)
{
    *pid = HV_NONE;
    *why = HV_NONE;
    int rc = c->spec.start != NULL
                 ? c->spec.start(c->spec.arg, c->args, pid, why)
                 : spawn_linked(&c->spec, pid, why);
    if (rc != HV_OK) {
        /* A start that failed without saying why: the code is the why. */
        if (*why == HV_NONE)
            *why = hv_int(rc);
        return HV_EEXIT;
    }
    if (*pid != HV_NONE && !hv_is_pid(*pid)) {
        /* OTP's {error, What} for a start returning something odd. */
        *why = hv_tuple(2, hv__sup_atom.bad_return, *pid);
        *pid = HV_NONE;
        return HV_EEXIT;
    }
    return HV_OK;
}

int
hv__sup_child_start(struct hv__sup *s, struct hv__sup_child *c, hv_term *why)
{
    hv__sup_child_stopped(s, c);
    hv_term pid;
    int rc = run_start(c, &pid, why);
    if (rc != HV_OK)
        return rc;
    if (pid == HV_NONE)
        return 0;
    if (hv__tmap_put(&s->by_pid, pid, (hv_term)(uintptr_t)c, NULL) != HV_OK) {
        /* Untracked, it could not be restarted or stopped: end it. */
        shutdown_pid(pid, HV_SHUTDOWN_BRUTAL_KILL);
        *why = hv__sup_atom.enomem;
        return HV_EEXIT;
    }
    c->pid = pid;
    c->last_pid = pid;
    c->state = HV__SUP_RUNNING;
    c->started_ms = hv__sys_now_ms();
    return 1;
}

/* ---- which_children, count_children ------------------------------------ */

static hv_term
child_type_atom(const hv_child_spec *spec)
{
    return spec->type == HV_SUPERVISOR ? hv__sup_atom.supervisor
                                       : hv__sup_atom.worker;
}

/* What which_children shows for c: its pid, restarting or undefined. */
static hv_term
child_state_term(const struct hv__sup_child *c)
{
    if (c->state == HV__SUP_RUNNING)
        return c->pid;
    return is_waiting(c) ? hv__sup_atom.restarting : HV_ATOM_UNDEFINED;
}

hv_term
hv__sup_which(const struct hv__sup *s)
{
    /* Built from the last child back, so the list reads in start order
     * (OTP's list happens to be newest first; the header promises start
     * order and OTP documents none). */
    hv_term list = HV_NIL;
    for (const struct hv__sup_child *c = s->tail; c != NULL; c = c->prev) {
        hv_term e = hv_tuple(3, hv_retain(c->spec.id), child_state_term(c),
                             child_type_atom(&c->spec));
        list = hv_cons(e, list);
        if (list == HV_NONE)
            return HV_NONE;
    }
    return list;
}

void
hv__sup_count(const struct hv__sup *s, hv_sup_counts *out)
{
    *out = (hv_sup_counts){0};
    bool simple = s->flags.strategy == HV_SIMPLE_ONE_FOR_ONE;
    for (const struct hv__sup_child *c = s->head; c != NULL; c = c->next) {
        /* OTP counts a static child active only while it is alive, and a
         * simple_one_for_one child while it is not restarting. */
        if (c->state == HV__SUP_RUNNING && (simple || hv_is_alive(c->pid)))
            out->active++;
        if (c->spec.type == HV_SUPERVISOR)
            out->supervisors++;
        else
            out->workers++;
    }
    out->specs = simple ? 1 : s->count;
}

/* ---- the dynamic-child calls ------------------------------------------- */

/* A call's answer: {Code, Value}, Code an HV_* status for the client. */
static hv_term
answer(int code, hv_term value)
{
    return hv_tuple(2, hv_int(code), value);
}

static hv_term
pid_or_undefined(const struct hv__sup_child *c, int started)
{
    return started > 0 ? c->pid : HV_ATOM_UNDEFINED;
}

/* OTP's handle_start_child.  addr is the address of the caller's heap
 * copy of the spec (see hv_sup_start_child). */
static hv_term
call_start_child(struct hv__sup *s, hv_term addr)
{
    const struct hv__sup_atoms *a = &hv__sup_atom;
    int64_t p;
    if (is_simple(s))
        return answer(HV_EBADARG, a->simple_one_for_one);
    if (hv_int_value(addr, &p) != HV_OK || p == 0)
        return answer(HV_EBADARG, a->bad_request);
    const hv_child_spec *spec = (const hv_child_spec *)(uintptr_t)p;
    hv_term why;
    if (hv__sup_spec_check(spec, s->flags.auto_shutdown, &why) != HV_OK)
        return answer(HV_EBADARG, why);
    struct hv__sup_child *c = hv__sup_child_by_id(s, spec->id);
    if (c != NULL && c->state == HV__SUP_RUNNING)
        return answer(HV_EBADARG, hv_tuple(2, a->already_started, c->pid));
    if (c != NULL)
        return answer(HV_EBADARG,
                      hv_tuple(2, a->already_present, hv_retain(spec->id)));
    if ((c = hv__sup_child_new(spec, HV_NIL)) == NULL)
        return answer(HV_ENOMEM, a->enomem);
    int rc = hv__sup_child_start(s, c, &why);
    if (rc < 0 || (rc == 0 && c->spec.restart == HV_TEMPORARY)) {
        hv__sup_child_free(s, c);
        return rc < 0 ? answer(HV_EEXIT, why)
                      : answer(HV_OK, HV_ATOM_UNDEFINED);
    }
    hv__sup_child_append(s, c);
    return answer(HV_OK, pid_or_undefined(c, rc));
}

/* simple_one_for_one's start_child: an instance of the template. */
static hv_term
call_start_args(struct hv__sup *s, hv_term args)
{
    const struct hv__sup_atoms *a = &hv__sup_atom;
    if (!is_simple(s))
        return answer(HV_EBADARG,
                      hv__sup_bad_spec(HV_NONE, a->args, hv_retain(args)));
    hv_child_spec spec = s->tmpl;
    spec.id = HV_ATOM_UNDEFINED;
    struct hv__sup_child *c = hv__sup_child_new(&spec, hv_retain(args));
    if (c == NULL)
        return answer(HV_ENOMEM, a->enomem);
    hv_term why;
    int rc = hv__sup_child_start(s, c, &why);
    if (rc <= 0) {
        hv__sup_child_free(s, c);
        return rc < 0 ? answer(HV_EEXIT, why)
                      : answer(HV_OK, HV_ATOM_UNDEFINED);
    }
    if (c->spec.restart == HV_TEMPORARY) {
        /* Never restarted, so its args are not kept (as OTP). */
        hv_release(c->args);
        c->args = HV_NIL;
    }
    hv__sup_child_append(s, c);
    return answer(HV_OK, c->pid);
}

/* OTP's terminate_child.  For simple_one_for_one by pid: a pid that is
 * no child but is dead is `ok` (OTP's find_child falls back to the
 * template there), a live one not_found. */
static hv_term
call_terminate(struct hv__sup *s, hv_term x)
{
    const struct hv__sup_atoms *a = &hv__sup_atom;
    struct hv__sup_child *c;
    if (is_simple(s)) {
        if (!hv_is_pid(x))
            return answer(HV_EBADARG, a->simple_one_for_one);
        c = hv__sup_child_by_pid(s, x);
        if (c == NULL)
            c = hv__sup_child_by_old_pid(s, x);
        if (c == NULL)
            return hv_is_alive(x) ? answer(HV_EBADARG, a->not_found)
                                  : answer(HV_OK, HV_ATOM_OK);
    } else if ((c = hv__sup_child_by_id(s, x)) == NULL) {
        return answer(HV_EBADARG, a->not_found);
    }
    hv__sup_child_stop(s, c);
    hv__sup_child_drop(s, c);
    return answer(HV_OK, HV_ATOM_OK);
}

/* The stopped child with this id for restart_child and delete_child, or
 * NULL with *err the answer saying why not. */
static struct hv__sup_child *
stopped_child(struct hv__sup *s, hv_term id, hv_term *err)
{
    const struct hv__sup_atoms *a = &hv__sup_atom;
    struct hv__sup_child *c = is_simple(s) ? NULL : hv__sup_child_by_id(s, id);
    if (is_simple(s))
        *err = answer(HV_EBADARG, a->simple_one_for_one);
    else if (c == NULL)
        *err = answer(HV_EBADARG, a->not_found);
    else if (c->state == HV__SUP_RUNNING)
        *err = answer(HV_EBADARG, a->running);
    else if (c->state != HV__SUP_STOPPED)
        *err = answer(HV_EBADARG, a->restarting);
    else
        return c;
    return NULL;
}

/* OTP's restart_child call (not counted against intensity). */
static hv_term
call_restart(struct hv__sup *s, hv_term id)
{
    hv_term err, why;
    struct hv__sup_child *c = stopped_child(s, id, &err);
    if (c == NULL)
        return err;
    int rc = hv__sup_child_start(s, c, &why);
    if (rc < 0)
        return answer(HV_EEXIT, why);
    return answer(HV_OK, pid_or_undefined(c, rc));
}

static hv_term
call_delete(struct hv__sup *s, hv_term id)
{
    hv_term err;
    struct hv__sup_child *c = stopped_child(s, id, &err);
    if (c == NULL)
        return err;
    hv__sup_child_remove(s, c);
    return answer(HV_OK, HV_ATOM_OK);
}

static hv_term
call_which(struct hv__sup *s)
{
    hv_term list = hv__sup_which(s);
    return list == HV_NONE ? answer(HV_ENOMEM, hv__sup_atom.enomem)
                           : answer(HV_OK, list);
}

static hv_term
call_count(struct hv__sup *s)
{
    hv_sup_counts n;
    hv__sup_count(s, &n);
    return answer(HV_OK, hv_tuple(4, hv_int((int64_t)n.specs),
                                  hv_int((int64_t)n.active),
                                  hv_int((int64_t)n.supervisors),
                                  hv_int((int64_t)n.workers)));
}

hv_term
hv__sup_call(struct hv__sup *s, hv_term req)
{
    const struct hv__sup_atoms *a = &hv__sup_atom;
    hv_term tag = hv_tuple_size(req) == 2 ? hv_tuple_at(req, 0) : req;
    hv_term arg = hv_tuple_at(req, 1);
    hv_term r;
    if (tag == a->which_children)
        r = call_which(s);
    else if (tag == a->count_children)
        r = call_count(s);
    else if (tag == a->start_child && arg != HV_NONE)
        r = call_start_child(s, arg);
    else if (tag == a->start_child_args && arg != HV_NONE)
        r = call_start_args(s, arg);
    else if (tag == a->terminate_child && arg != HV_NONE)
        r = call_terminate(s, arg);
    else if (tag == a->restart_child && arg != HV_NONE)
        r = call_restart(s, arg);
    else if (tag == a->delete_child && arg != HV_NONE)
        r = call_delete(s, arg);
    else
        r = hv_tuple(2, HV_ATOM_ERROR,
                     hv_tuple(2, a->bad_request, hv_retain(req)));
    return r;
}

void
hv__sup_free(struct hv__sup *s)
{
    while (s->head != NULL)
        hv__sup_child_remove(s, s->head);
    hv__tmap_free(&s->by_pid);
    if (s->ring != NULL)
        hv__free(s->ring, s->ring_cap * sizeof *s->ring);
    hv_release(s->tmpl.id);
    hv__free(s, sizeof *s);
}
