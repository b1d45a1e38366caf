/* match/receive.c - hv_receive: a receive set against the caller's
 * mailbox.  The mailbox walk, the waiting and the shortcuts (the index by
 * a key element, the receive mark) are the runtime's (mailbox.c); this
 * file supplies the test and the key. */
#include <stdio.h>

#include "match/rset.h"
#include "runtime/proc.h"
#include "runtime/sched.h"

struct recv_ctx {
    const hv_rset *s;
    const hv_term *pins;
    hv_bindings *b;
    int clause;
};

static bool
test(hv_term msg, void *arg)
{
    struct recv_ctx *c = arg;
    c->clause = hv__rset_run(c->s, msg, c->pins, c->b->var);
    return c->clause >= 0;
}

int
hv_receive(const hv_rset *s, const hv_pins *pins, int64_t timeout_ms,
           hv_bindings *b)
{
    int rc = hv__rset_check(s, pins, b);
    if (rc != HV_OK)
        return rc;
    struct hv__proc *p = hv__tls_proc;
    if (p == NULL || p->exiting) {
        snprintf(b->what, sizeof b->what, "%s",
                 p == NULL ? "hv_receive called outside a process"
                           : "hv_receive called by an exiting process");
        return HV_EBADARG;
    }
    if (timeout_ms == HV_AFTER)
        timeout_ms = s->after_ms;
    if (timeout_ms < HV_INFINITY) {
        snprintf(b->what, sizeof b->what, "timeout %lld is negative",
                 (long long)timeout_ms);
        return HV_EBADARG;
    }
    struct recv_ctx ctx = {s, pins != NULL ? pins->v : NULL, b, -1};
    struct hv__recv_key key = {-1, HV_NONE, HV_NONE};
    if (s->within_pin >= 0)
        key.within = ctx.pins[s->within_pin];
    if (s->key_elem >= 0) {
        key.elem = s->key_elem;
        key.key = s->key_pin >= 0 ? ctx.pins[s->key_pin] : s->key_lit;
    }
    hv_term msg;
    rc = hv__mbox_receive(p, test, &ctx, &key, timeout_ms, &msg);
    if (rc == HV_OK) {
        hv__bindings_set(b, s->clauses[ctx.clause], ctx.clause, msg);
    } else if (rc == HV_ETIMEOUT) {
        b->clause = s->after_clause;
    } else if (rc == HV_ENOPROC) {
        /* The runtime is stopping under a thread process: as hv_recv. */
        hv__proc_exit(p, hv__rt.atom_shutdown);
    }
    return rc;
}
