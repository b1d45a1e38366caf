/* supervisor/server_loop.c - the server process: init and its answer to
 * the starter, then one message at a time through the callbacks, as
 * gen_server's loop does.
 *
 * terminate runs where the server decides to end (a stop result,
 * hv_server_stop, an exit from its parent while it traps exits), so it
 * may receive there (a supervisor waits for its children).  When a
 * callback ends the process instead (hv_exit, a stack overflow), it runs
 * as a hv_defer cleanup: it may send, not receive.  Never for `killed`. */
#include <stdlib.h>

#include "runtime/proc.h"
#include "supervisor/server.h"

struct loop {
    struct hv__srv *s;
    bool terminated; /* terminate ran, or must not */
    hv_term msg;     /* the message being handled, freed if it ends us */
};

static void
run_terminate(struct loop *l, hv_term reason)
{
    if (l->terminated)
        return;
    l->terminated = true;
    if (l->s->cb.terminate != NULL && reason != hv_atom("killed"))
        l->s->cb.terminate(reason, l->s->state);
}

/* The cleanup: terminate if a callback ended the process (a crash, as
 * OTP calls it; not an exit signal it did not trap), and the record. */
static void
at_exit_cleanup(void *arg)
{
    struct loop *l = arg;
    if (!hv__proc_exit_by_signal())
        run_terminate(l, hv__proc_exit_reason());
    hv_release(l->msg);
    hv__srv_free(l->s);
    free(l);
}

/* Ends the server with reason (consumed) after terminate. */
static _Noreturn void
stop(struct loop *l, hv_term reason)
{
    run_terminate(l, reason);
    hv_exit(reason);
}

static void
answer_init(struct hv__srv *s, hv_term result)
{
    hv_send(s->starter,
            hv_tuple(3, hv__srv_atoms()->hv_init, s->init_ref, result));
}

/* init; returns the idle timeout. */
static int64_t
init(struct loop *l)
{
    struct hv__srv *s = l->s;
    const struct hv__srv_atoms *a = hv__srv_atoms();
    int64_t timeout = HV_INFINITY;
    hv_term reason = HV_NONE;
    enum hv_server_init_action act = HV_SERVER_INIT_OK;
    s->state = s->arg;
    l->terminated = true; /* no terminate for a failed init, as OTP */
    if (s->cb.init != NULL)
        act = s->cb.init(s->arg, &s->state, &timeout, &reason);
    if (act == HV_SERVER_INIT_OK) {
        l->terminated = false;
        if (s->parent != HV_NONE)
            hv_link(s->parent);
        answer_init(s, a->ok);
        return timeout;
    }
    if (act == HV_SERVER_INIT_IGNORE) {
        hv_release(reason);
        answer_init(s, a->ignore);
        hv_exit(hv_atom("normal"));
    }
    if (reason == HV_NONE)
        reason = hv_atom("stop");
    answer_init(s, hv_tuple(2, a->stop, hv_retain(reason)));
    hv_exit(reason);
}

static hv_server_result
bad_request(hv_term req)
{
    return hv_result_reply(hv_tuple(
        2, HV_ATOM_ERROR,
        hv_tuple(2, hv__srv_atoms()->bad_request, hv_retain(req))));
}

static hv_server_result
call(struct hv__srv *s, hv_term req, hv_term from)
{
    if (s->table != NULL) {
        hv_bindings b;
        if (hv_rset_match(s->table, req, NULL, &b) != HV_OK)
            return bad_request(req);
        return s->handlers[b.clause](&b, from, s->state);
    }
    if (s->cb.handle_call == NULL)
        return bad_request(req);
    return s->cb.handle_call(req, from, s->state);
}

static bool
is_tagged(hv_term msg, size_t arity, hv_term tag)
{
    return hv_tuple_size(msg) == (int64_t)arity && hv_tuple_at(msg, 0) == tag;
}

/* One message through the callbacks; from is set for a call. */
static hv_server_result
dispatch(struct loop *l, hv_term msg, hv_term *from)
{
    struct hv__srv *s = l->s;
    const struct hv__srv_atoms *a = hv__srv_atoms();
    if (is_tagged(msg, 3, a->gen_call) &&
        hv_tuple_size(hv_tuple_at(msg, 1)) == 2) {
        *from = hv_tuple_at(msg, 1);
        return call(s, hv_tuple_at(msg, 2), *from);
    }
    if (is_tagged(msg, 2, a->gen_cast))
        return s->cb.handle_cast != NULL
                   ? s->cb.handle_cast(hv_tuple_at(msg, 1), s->state)
                   : hv_result_noreply();
    if (is_tagged(msg, 2, hv_atom("$hv_stop")))
        return hv_result_stop(hv_retain(hv_tuple_at(msg, 1)), HV_NONE);
    if (s->trap_exit && s->parent != HV_NONE &&
        is_tagged(msg, 3, hv_atom("EXIT")) &&
        hv_tuple_at(msg, 1) == s->parent)
        return hv_result_stop(hv_retain(hv_tuple_at(msg, 2)), HV_NONE);
    return s->cb.handle_info != NULL ? s->cb.handle_info(msg, s->state)
                                     : hv_result_noreply();
}

void
hv__server_main(void *arg)
{
    struct loop *l = calloc(1, sizeof *l);
    if (l == NULL || hv_defer(at_exit_cleanup, l) != HV_OK) {
        hv__srv_free(arg);
        free(l);
        hv_exit(hv_atom("system_limit"));
    }
    l->s = arg;
    if (l->s->trap_exit)
        hv_trap_exit(true);
    int64_t timeout = init(l);
    for (;;) {
        hv_term msg, from = HV_NONE;
        hv_server_result r;
        if (hv_recv(timeout, &msg) == HV_ETIMEOUT) {
            msg = HV_NONE;
            r = l->s->cb.handle_info != NULL
                    ? l->s->cb.handle_info(hv__srv_atoms()->timeout,
                                           l->s->state)
                    : hv_result_noreply();
        } else {
            l->msg = msg;
            r = dispatch(l, msg, &from);
        }
        if (r.action == HV_SERVER_STOP) {
            /* terminate first, then the reply, as gen_server: a caller
             * holding the reply knows the cleanup is done. */
            hv_term reason = r.reason != HV_NONE ? r.reason : hv_atom("normal");
            run_terminate(l, reason);
        }
        if (r.reply != HV_NONE && from != HV_NONE)
            hv_reply(from, r.reply);
        else
            hv_release(r.reply);
        l->msg = HV_NONE;
        hv_release(msg);
        if (r.action == HV_SERVER_STOP)
            stop(l, r.reason != HV_NONE ? r.reason : hv_atom("normal"));
        timeout = r.timeout_ms;
    }
}
