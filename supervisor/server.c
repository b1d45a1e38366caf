/* supervisor/server.c - the client side of servers: starting one (the
 * init handshake), hv_call, hv_cast, hv_reply, hv_server_stop; and the
 * result helpers. */
#include <pthread.h>
#include <stdlib.h>

#include "runtime/sched.h"
#include "runtime/signal.h"
#include "supervisor/server.h"

static struct hv__srv_atoms atoms;
static pthread_once_t atoms_once = PTHREAD_ONCE_INIT;

static void
make_atoms(void)
{
    atoms.gen_call = hv_atom("$gen_call");
    atoms.gen_cast = hv_atom("$gen_cast");
    atoms.hv_init = hv_atom("$hv_init");
    atoms.ok = HV_ATOM_OK;
    atoms.ignore = hv_atom("ignore");
    atoms.stop = hv_atom("stop");
    atoms.timeout = hv_atom("timeout");
    atoms.bad_request = hv_atom("bad_request");
    atoms.already_started = hv_atom("already_started");
    atoms.bad_pattern = hv_atom("bad_pattern");
    atoms.down = hv_atom("DOWN");
}

const struct hv__srv_atoms *
hv__srv_atoms(void)
{
    pthread_once(&atoms_once, make_atoms);
    return &atoms;
}

/* ---- waiting ----
 * The client side waits with plain predicates on the runtime's receive
 * rather than compiled patterns: three fixed shapes, tested in a few
 * loads, and nothing shared to allocate and free. */

/* What a wait looks for: {Tag, Ref, _} when tag is set (the init answer)
 * or {Ref, _} (a reply), and the DOWN of monitor mon. */
struct awaited {
    hv_term tag, ref, mon;
};

static bool
is_awaited(hv_term msg, void *arg)
{
    const struct awaited *w = arg;
    int64_t n = hv_tuple_size(msg);
    if (n == 5 && hv_tuple_at(msg, 0) == atoms.down)
        return hv_tuple_at(msg, 1) == w->mon;
    if (w->tag != HV_NONE)
        return n == 3 && hv_tuple_at(msg, 0) == w->tag &&
               hv_tuple_at(msg, 1) == w->ref;
    return n == 2 && w->ref != HV_NONE && hv_tuple_at(msg, 0) == w->ref;
}

/* Waits for what w describes.  within: a ref every such message holds
 * (the receive starts at the mark when it is the caller's newest). */
static int
await(const struct awaited *w, hv_term within, int64_t timeout_ms,
      hv_term *msg)
{
    struct hv__proc *p = hv__tls_proc;
    struct hv__recv_key key = {-1, HV_NONE, within};
    int rc = hv__mbox_receive(p, is_awaited, (void *)w, &key, timeout_ms, msg);
    if (rc == HV_ENOPROC) /* the runtime is stopping: as hv_recv */
        hv__proc_exit(p, hv__rt.atom_shutdown);
    return rc;
}

static bool
is_down(hv_term msg)
{
    return hv_tuple_size(msg) == 5 && hv_tuple_at(msg, 0) == atoms.down;
}

/* ---- results ---- */

hv_server_result
hv_result_reply(hv_term reply)
{
    return (hv_server_result){HV_SERVER_REPLY, reply, HV_NONE, HV_INFINITY};
}

hv_server_result
hv_result_noreply(void)
{
    return (hv_server_result){HV_SERVER_NOREPLY, HV_NONE, HV_NONE,
                              HV_INFINITY};
}

hv_server_result
hv_result_stop(hv_term reason, hv_term reply)
{
    return (hv_server_result){HV_SERVER_STOP, reply, reason, HV_INFINITY};
}

hv_server_result
hv_result_timeout(hv_server_result r, int64_t timeout_ms)
{
    r.timeout_ms = timeout_ms;
    return r;
}

/* ---- starting ---- */

void
hv__srv_free(struct hv__srv *s)
{
    if (s == NULL)
        return;
    hv_rset_free(s->table);
    free(s->handlers);
    free(s);
}

static void
set_reason(hv_term *reason, hv_term r)
{
    if (reason != NULL)
        *reason = r;
    else
        hv_release(r);
}

/* Waits for the new server's answer to its init. */
static int
await_init(struct hv__srv *init, hv_term pid, hv_term mon, int64_t timeout,
           hv_term *reason)
{
    const struct hv__srv_atoms *a = hv__srv_atoms();
    struct awaited w = {a->hv_init, init->init_ref, mon};
    hv_term msg;
    int rc = await(&w, HV_NONE, timeout, &msg);
    if (rc == HV_ETIMEOUT) {
        hv_demonitor(mon, true);
        hv_exit_pid(pid, hv_atom("kill"));
        set_reason(reason, a->timeout);
        return HV_ETIMEOUT;
    }
    if (rc != HV_OK)
        return rc;
    bool died = is_down(msg); /* during init */
    hv_term r = hv_tuple_at(msg, died ? 4 : 2);
    if (died) {
        set_reason(reason, hv_retain(r));
        rc = HV_EEXIT;
    } else {
        hv_demonitor(mon, true);
        if (r == a->ok) {
            rc = HV_OK;
        } else if (r == a->ignore) {
            rc = HV_EIGNORE;
        } else { /* {stop, Reason} */
            set_reason(reason, hv_retain(hv_tuple_at(r, 1)));
            rc = HV_EEXIT;
        }
    }
    hv_release(msg);
    return rc;
}

int
hv__server_spawn(struct hv__srv *s, const hv_server_opts *opts, hv_term *pid,
                 hv_term *reason)
{
    static const hv_server_opts none = {0};
    const struct hv__srv_atoms *a = hv__srv_atoms();
    if (opts == NULL)
        opts = &none;
    if (reason != NULL)
        *reason = HV_NONE;
    hv_term self = hv_self(), existing;
    if (self == HV_NONE || pid == NULL) {
        hv__srv_free(s);
        return HV_EBADARG;
    }
    if (opts->name != HV_NONE &&
        (existing = hv_whereis(opts->name)) != HV_NONE) {
        hv__srv_free(s);
        set_reason(reason, hv_tuple(2, a->already_started, existing));
        return HV_EBADARG;
    }
    s->starter = self;
    s->init_ref = hv_ref_make();
    s->parent = opts->link ? self : HV_NONE;
    s->trap_exit = opts->trap_exit;
    hv_spawn_opts so = opts->spawn;
    hv_term mon = HV_NONE, p;
    so.name = opts->name;
    so.link = false; /* linked once init succeeds, as OTP's failed init
                        leaves no link behind */
    so.monitor = &mon;
    struct hv__srv copy = *s; /* s belongs to the server once spawned */
    if (hv_spawn_opt(hv__server_main, s, &so, &p, NULL) != HV_OK) {
        hv__srv_free(s);
        existing = opts->name != HV_NONE ? hv_whereis(opts->name) : HV_NONE;
        if (existing != HV_NONE)
            set_reason(reason, hv_tuple(2, a->already_started, existing));
        return existing != HV_NONE ? HV_EBADARG : HV_ENOMEM;
    }
    /* 0: the default; HV_INFINITY waits as long as init takes (a
     * supervisor's init starts all its children). */
    int64_t t = opts->start_timeout_ms != 0 ? opts->start_timeout_ms : 5000;
    int rc = await_init(&copy, p, mon, t, reason);
    if (rc == HV_OK)
        *pid = p;
    return rc;
}

int
hv_server_start(const hv_server_callbacks *cb, void *arg,
                const hv_server_opts *opts, hv_term *pid, hv_term *reason)
{
    if (cb == NULL)
        return HV_EBADARG;
    struct hv__srv *s = calloc(1, sizeof *s);
    if (s == NULL)
        return HV_ENOMEM;
    s->cb = *cb;
    s->arg = arg;
    return hv__server_spawn(s, opts, pid, reason);
}

/* ---- calling ---- */

static hv_term
resolve(hv_term server)
{
    return hv_is_atom(server) ? hv_whereis(server) : server;
}

int
hv_call(hv_term server, hv_term request, int64_t timeout_ms, hv_term *reply)
{
    const struct hv__srv_atoms *a = hv__srv_atoms();
    hv_term self = hv_self();
    if (reply != NULL)
        *reply = HV_NONE;
    if (self == HV_NONE || request == HV_NONE) {
        hv_release(request);
        return HV_EBADARG;
    }
    hv_term pid = resolve(server);
    if (pid == HV_NONE || !hv_is_pid(pid)) {
        hv_release(request);
        return pid == HV_NONE ? HV_ENOPROC : HV_EBADARG;
    }
    /* The monitor's ref tags the call, as gen_server's does: a fresh ref,
     * so the reply is looked for only among messages newer than it. */
    hv_term ref = hv_monitor(pid);
    hv_send(pid, hv_tuple(3, a->gen_call, hv_tuple(2, self, ref), request));
    struct awaited w = {HV_NONE, ref, ref};
    hv_term msg;
    int rc = await(&w, ref, timeout_ms, &msg);
    if (rc == HV_ETIMEOUT) {
        hv__call_abandon(ref);
        return HV_ETIMEOUT;
    }
    if (rc != HV_OK)
        return rc;
    bool died = is_down(msg);
    hv_term v = hv_tuple_at(msg, died ? 4 : 1);
    if (!died)
        hv_demonitor(ref, true);
    else if (v == hv_atom("noproc"))
        rc = HV_ENOPROC;
    else
        rc = HV_EEXIT;
    if (reply != NULL && rc != HV_ENOPROC)
        *reply = hv_retain(v);
    hv_release(msg);
    return rc;
}

int
hv_cast(hv_term server, hv_term msg)
{
    if (msg == HV_NONE)
        return HV_EBADARG;
    hv_term pid = resolve(server);
    if (pid == HV_NONE) {
        hv_release(msg);
        return HV_OK; /* as gen_server:cast to a name nobody has */
    }
    return hv_send(pid, hv_tuple(2, hv__srv_atoms()->gen_cast, msg));
}

int
hv_reply(hv_term from, hv_term reply)
{
    if (hv_tuple_size(from) != 2 || !hv_is_pid(hv_tuple_at(from, 0)) ||
        reply == HV_NONE) {
        hv_release(reply);
        return HV_EBADARG;
    }
    return hv_send(hv_tuple_at(from, 0),
                   hv_tuple(2, hv_retain(hv_tuple_at(from, 1)), reply));
}

int
hv_server_stop(hv_term server, hv_term reason, int64_t timeout_ms)
{
    hv_term pid = resolve(server);
    if (hv_self() == HV_NONE || reason == HV_NONE) {
        hv_release(reason);
        return HV_EBADARG;
    }
    if (pid == HV_NONE || !hv_is_alive(pid)) {
        hv_release(reason);
        return HV_ENOPROC;
    }
    hv_term mon = hv_monitor(pid);
    hv_send(pid, hv_tuple(2, hv_atom("$hv_stop"), hv_retain(reason)));
    struct awaited w = {HV_NONE, HV_NONE, mon};
    hv_term msg;
    int rc = await(&w, mon, timeout_ms, &msg);
    if (rc == HV_OK) {
        hv_term why = hv_tuple_at(msg, 4);
        rc = hv_equal(why, reason)         ? HV_OK
             : why == hv_atom("noproc") ? HV_ENOPROC
                                         : HV_EEXIT;
        hv_release(msg);
    } else {
        hv_demonitor(mon, true);
    }
    hv_release(reason);
    return rc;
}
