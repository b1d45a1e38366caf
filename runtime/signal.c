/* runtime/signal.c - exit signals, links and monitors (see signal.h),
 * and their public API. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/ptable.h"
#include "runtime/sched.h"
#include "runtime/signal.h"
#include "runtime/term_box.h"
#include "runtime/util.h"

/* ---- the tables ---- */

/* Read-only stand-in for a process without tables: every lookup and
 * removal on an empty map finds nothing and writes nothing. */
static struct hv__sigtab no_tables;

static struct hv__sigtab *
tables(struct hv__proc *p)
{
    return p->sig != NULL ? p->sig : &no_tables;
}

/* Puts into the table at offset `table` of p's tables, made on first
 * use. */
static int
table_put(struct hv__proc *p, size_t table, hv_term key, hv_term val)
{
    if (p->sig == NULL) {
        if ((p->sig = hv__alloc(sizeof *p->sig)) == NULL)
            return HV_ENOMEM;
        memset(p->sig, 0, sizeof *p->sig);
    }
    return hv__tmap_put((struct hv__tmap *)(void *)((char *)p->sig + table),
                        key, val, NULL);
}

static void
sig_free(struct hv__proc *p)
{
    struct hv__sigtab *t = p->sig;
    if (t == NULL)
        return;
    hv__tmap_free(&t->links);
    hv__tmap_free(&t->watchers);
    hv__tmap_free(&t->watching);
    hv__tmap_free(&t->watching_names);
    hv__tmap_free(&t->abandoned);
    hv__free(t, sizeof *t);
    p->sig = NULL;
}

static bool
is_local_pid(hv_term t)
{
    return hv__imm_tag(t) == HV__TAG_PID;
}

bool
hv__signal_send(hv_term to, enum hv__sig_kind kind, hv_term from, hv_term a,
                hv_term b)
{
    hv_term sig = hv_tuple(4, hv__small(kind), from, a, b);
    struct hv__proc *p;
    if (sig == HV_NONE || (p = hv__ptable_pin(to)) == NULL) {
        if (sig == HV_NONE) {
            hv_release(a);
            hv_release(b);
        }
        hv_release(sig);
        return false;
    }
    /* Exit signals must reach a process that sleeps or waits for IO;
     * the others can wait until it next looks at its mailbox. */
    hv__mbox_deliver_signal(p, sig, kind == SIG_EXIT || kind == SIG_LINK_EXIT);
    hv__ptable_unpin(p);
    return true;
}

/* ---- handling, on the receiving side ---- */

static void
set_pending(struct hv__proc *p, hv_term reason)
{
    if (p->pending_exit == HV_NONE)
        p->pending_exit = hv_retain(reason);
}

/* Erlang's rules for an exit signal (see process.h). */
static hv_term
exit_signal(struct hv__proc *p, hv_term from, hv_term reason, bool linked)
{
    if (!linked && reason == hv__rt.atom_kill)
        set_pending(p, hv__rt.atom_killed);
    else if (p->trap_exit || p->kind == K_BRIDGE)
        return hv_tuple(3, hv__rt.atom_exit, from, hv_retain(reason));
    else if (reason != hv__rt.atom_normal)
        set_pending(p, reason);
    else if (!linked && from == p->pid)
        set_pending(p, reason); /* exit(self(), normal) */
    return HV_NONE;
}

static hv_term
down_message(struct hv__proc *p, hv_term from, hv_term ref, hv_term reason)
{
    hv_term name;
    if (!hv__tmap_del(&tables(p)->watching, ref, NULL))
        return HV_NONE; /* demonitored meanwhile */
    if (tables(p)->abandoned.count > 0 &&
        hv__tmap_del(&tables(p)->abandoned, ref, NULL))
        return HV_NONE; /* the call it watched was given up */
    hv_term item = hv__tmap_del(&tables(p)->watching_names, ref, &name)
                       ? hv_tuple(2, name, HV_ATOM_NONODE)
                       : from;
    return hv_tuple(5, hv__rt.atom_down, ref, hv__rt.atom_process, item,
                    hv_retain(reason));
}

/* A dying process: whoever links to or monitors it now learns it is
 * gone, as if it had never been there. */
static void
orphan(struct hv__proc *p, enum hv__sig_kind kind, hv_term from, hv_term a)
{
    if (kind == SIG_LINK)
        hv__signal_send(from, SIG_LINK_EXIT, p->pid, hv__rt.atom_noproc,
                        HV_NIL);
    else if (kind == SIG_MONITOR)
        hv__signal_send(from, SIG_DOWN, p->pid, a, hv__rt.atom_noproc);
}

hv_term
hv__signal_take(struct hv__proc *p, hv_term sig)
{
    const hv_term *f = ((const struct hv__tuple *)hv__box_of(sig))->el;
    enum hv__sig_kind kind = (enum hv__sig_kind)hv__small_value(f[0]);
    hv_term from = f[1], a = f[2], out = HV_NONE;
    if (p->exiting) {
        orphan(p, kind, from, a);
    } else {
        switch (kind) {
        case SIG_EXIT:
            out = exit_signal(p, from, a, false);
            break;
        case SIG_LINK_EXIT:
            /* Only while linked: an unlink drops what was on its way. */
            if (hv__tmap_del(&tables(p)->links, from, NULL))
                out = exit_signal(p, from, a, true);
            break;
        case SIG_LINK:
            if (table_put(p, offsetof(struct hv__sigtab, links), from, from) !=
                HV_OK)
                set_pending(p, hv__rt.atom_system_limit);
            break;
        case SIG_UNLINK:
            hv__tmap_del(&tables(p)->links, from, NULL);
            break;
        case SIG_MONITOR:
            if (table_put(p, offsetof(struct hv__sigtab, watchers), a, from) !=
                HV_OK)
                hv__signal_send(from, SIG_DOWN, p->pid, a,
                                hv__rt.atom_system_limit);
            break;
        case SIG_DEMONITOR:
            hv__tmap_del(&tables(p)->watchers, a, NULL);
            break;
        case SIG_DOWN:
            out = down_message(p, from, a, f[3]);
            break;
        }
    }
    hv_release(sig);
    return out;
}

void
hv__signal_act(struct hv__proc *p)
{
    if (p->pending_exit == HV_NONE || p->exiting || p->kind == K_BRIDGE)
        return;
    hv_term reason = p->pending_exit;
    p->pending_exit = HV_NONE;
    p->killed_by_signal = true;
    hv__proc_exit(p, reason);
}

void
hv__signal_check(struct hv__proc *p)
{
    if (atomic_load_explicit(&p->signals_in, memory_order_relaxed) !=
        p->signals_taken)
        hv__mbox_pull(p);
    hv__signal_act(p);
}

void
hv__call_abandon(hv_term ref)
{
    struct hv__proc *p = hv__tls_proc;
    if (p != NULL && table_put(p, offsetof(struct hv__sigtab, abandoned), ref,
                               ref) != HV_OK) {
        /* No room to remember it: then the late reply may be queued,
         * which is what Erlang did before aliases. */
    }
}

bool
hv__signal_abandoned(struct hv__proc *p, hv_term msg)
{
    if (hv__box_type(msg) != HV__BOX_TUPLE)
        return false;
    const struct hv__tuple *t = (const struct hv__tuple *)hv__box_of(msg);
    hv_term pid;
    if (t->arity != 2 || hv__imm_tag(t->el[0]) != HV__TAG_REF ||
        !hv__tmap_del(&tables(p)->abandoned, t->el[0], NULL))
        return false;
    if (hv__tmap_del(&tables(p)->watching, t->el[0], &pid))
        hv__signal_send(pid, SIG_DEMONITOR, p->pid, t->el[0], HV_NIL);
    return true;
}

/* ---- the end of a process ---- */

static bool
is_abnormal(hv_term reason)
{
    if (reason == HV_NONE || reason == hv__rt.atom_normal ||
        reason == hv__rt.atom_shutdown || reason == hv__rt.atom_killed)
        return false;
    return !(hv_tuple_size(reason) == 2 &&
             hv_tuple_at(reason, 0) == hv__rt.atom_shutdown);
}

static void
crash_report(struct hv__proc *p, hv_term reason, hv_term name)
{
    char pid[48], why[512], nm[300] = "";
    hv_format(p->pid, pid, sizeof pid);
    hv_format(reason, why, sizeof why);
    if (name != HV_NONE) {
        char n[280];
        hv_format(name, n, sizeof n);
        snprintf(nm, sizeof nm, " (%s)", n);
    }
    fprintf(stderr, "=CRASH REPORT==== process %s%s exited with reason: %s\n",
            pid, nm, why);
}

void
hv__signal_exit(struct hv__proc *p, hv_term reason, hv_term name)
{
    bool told = tables(p)->links.count > 0 || tables(p)->watchers.count > 0;
    hv_term key, val;
    uint32_t i = 0;
    while (hv__tmap_next(&tables(p)->links, &i, &key, NULL))
        hv__signal_send(key, SIG_LINK_EXIT, p->pid, hv_retain(reason), HV_NIL);
    i = 0;
    while (hv__tmap_next(&tables(p)->watchers, &i, &key, &val))
        hv__signal_send(val, SIG_DOWN, p->pid, key, hv_retain(reason));
    /* Monitors it held end with it. */
    i = 0;
    while (hv__tmap_next(&tables(p)->watching, &i, &key, &val))
        hv__signal_send(val, SIG_DEMONITOR, p->pid, key, HV_NIL);
    if (!told && !hv__rt.cfg.quiet_crashes && is_abnormal(reason))
        crash_report(p, reason, name);
    sig_free(p);
    hv_release(p->pending_exit);
    p->pending_exit = HV_NONE;
}

/* ---- the API ---- */

/* The calling process, if pid is a local pid. */
static struct hv__proc *
caller_for(hv_term pid)
{
    struct hv__proc *p = hv__tls_proc;
    return p != NULL && !p->exiting && is_local_pid(pid) ? p : NULL;
}

/* Queues msg (consumed) to p's own mailbox. */
static void
to_self(struct hv__proc *p, hv_term msg)
{
    if (msg != HV_NONE)
        hv__mbox_deliver(p, msg);
}

int
hv_link(hv_term pid)
{
    struct hv__proc *p = caller_for(pid);
    if (p == NULL)
        return HV_EBADARG;
    if (pid == p->pid || hv__tmap_get(&tables(p)->links, pid, NULL))
        return HV_OK;
    if (table_put(p, offsetof(struct hv__sigtab, links), pid, pid) != HV_OK)
        return HV_ENOMEM;
    if (!hv__signal_send(pid, SIG_LINK, p->pid, HV_NIL, HV_NIL)) {
        hv__tmap_del(&tables(p)->links, pid, NULL);
        to_self(p, exit_signal(p, pid, hv__rt.atom_noproc, true));
    }
    hv__signal_check(p);
    return HV_OK;
}

int
hv_unlink(hv_term pid)
{
    struct hv__proc *p = caller_for(pid);
    if (p == NULL)
        return HV_EBADARG;
    if (hv__tmap_del(&tables(p)->links, pid, NULL))
        hv__signal_send(pid, SIG_UNLINK, p->pid, HV_NIL, HV_NIL);
    hv__signal_check(p);
    return HV_OK;
}

hv_term
hv_monitor(hv_term target)
{
    struct hv__proc *p = hv__tls_proc;
    if (p == NULL || p->exiting ||
        !(is_local_pid(target) || hv_is_atom(target)))
        return HV_NONE;
    hv_term ref = hv_ref_make();
    hv_term pid = hv_is_atom(target) ? hv_whereis(target) : target;
    if (pid == p->pid)
        return ref; /* as Erlang: a ref, and no monitor (it never fires) */
    if (table_put(p, offsetof(struct hv__sigtab, watching), ref, pid) !=
            HV_OK ||
        (hv_is_atom(target) &&
         table_put(p, offsetof(struct hv__sigtab, watching_names), ref,
                   target) != HV_OK)) {
        hv__tmap_del(&tables(p)->watching, ref, NULL);
        return HV_NONE;
    }
    if (pid == HV_NONE ||
        !hv__signal_send(pid, SIG_MONITOR, p->pid, ref, HV_NIL))
        to_self(p, down_message(p, pid != HV_NONE ? pid : target, ref,
                                hv__rt.atom_noproc));
    hv__signal_check(p);
    return ref;
}

/* Removes the first {'DOWN', ref, ...} from p's queue. */
static bool
is_down_for(hv_term msg, void *ref)
{
    return hv_tuple_size(msg) == 5 && hv_tuple_at(msg, 0) == hv__rt.atom_down &&
           hv_tuple_at(msg, 1) == *(hv_term *)ref;
}

int
hv_demonitor(hv_term ref, bool flush)
{
    struct hv__proc *p = hv__tls_proc;
    if (p == NULL || p->exiting || !hv_is_ref(ref))
        return HV_EBADARG;
    hv_term pid;
    bool on = hv__tmap_del(&tables(p)->watching, ref, &pid);
    if (on) {
        hv__tmap_del(&tables(p)->watching_names, ref, NULL);
        hv__signal_send(pid, SIG_DEMONITOR, p->pid, ref, HV_NIL);
    }
    if (flush) {
        hv_term msg;
        if (hv__mbox_receive(p, is_down_for, &ref, NULL, 0, &msg) == HV_OK)
            hv_release(msg);
    }
    hv__signal_check(p);
    return on ? 1 : 0;
}

bool
hv_trap_exit(bool on)
{
    struct hv__proc *p = hv__tls_proc;
    if (p == NULL)
        return false;
    bool was = p->trap_exit;
    p->trap_exit = on;
    return was;
}

int
hv_exit_pid(hv_term pid, hv_term reason)
{
    if (!is_local_pid(pid) || reason == HV_NONE) {
        hv_release(reason);
        return HV_EBADARG;
    }
    struct hv__proc *p = hv__tls_proc;
    hv_term from = p != NULL ? p->pid : HV_ATOM_UNDEFINED;
    if (p != NULL && pid == p->pid && !p->exiting) {
        /* To itself it acts at once, behind nothing. */
        to_self(p, exit_signal(p, pid, reason, false));
        hv_release(reason);
        hv__signal_act(p);
        return HV_OK;
    }
    if (!hv__api_enter()) {
        hv_release(reason);
        return HV_OK; /* no runtime: no such process */
    }
    hv__signal_send(pid, SIG_EXIT, from, reason, HV_NIL);
    hv__api_leave();
    if (p != NULL && !p->exiting)
        hv__signal_check(p);
    return HV_OK;
}

bool
hv_is_alive(hv_term pid)
{
    if (!is_local_pid(pid) || !hv__api_enter())
        return false;
    struct hv__proc *p = hv__ptable_pin(pid);
    bool alive =
        p != NULL && (atomic_load_explicit(&p->state, memory_order_acquire) &
                      P_STATE_MASK) != P_EXITING;
    if (p != NULL)
        hv__ptable_unpin(p);
    hv__api_leave();
    return alive;
}

void
hv__signal_unspawned(struct hv__proc *parent, struct hv__proc *child)
{
    hv_term ref;
    uint32_t i = 0;
    if (parent != NULL) {
        hv__tmap_del(&tables(parent)->links, child->pid, NULL);
        while (hv__tmap_next(&tables(child)->watchers, &i, &ref, NULL))
            hv__tmap_del(&tables(parent)->watching, ref, NULL);
    }
    sig_free(child);
}

int
hv__signal_spawned(struct hv__proc *parent, struct hv__proc *child, bool link,
                   bool monitor, hv_term *ref)
{
    int rc = HV_OK;
    if (link && ((rc = table_put(parent, offsetof(struct hv__sigtab, links),
                                 child->pid, child->pid)) != HV_OK ||
                 (rc = table_put(child, offsetof(struct hv__sigtab, links),
                                 parent->pid, parent->pid)) != HV_OK))
        goto fail;
    if (monitor) {
        *ref = hv_ref_make();
        if ((rc = table_put(child, offsetof(struct hv__sigtab, watchers), *ref,
                            parent->pid)) != HV_OK ||
            (rc = table_put(parent, offsetof(struct hv__sigtab, watching), *ref,
                            child->pid)) != HV_OK)
            goto fail;
    }
    return HV_OK;
fail:
    hv__signal_unspawned(parent, child);
    return rc;
}

hv_term
hv_spawn_link(hv_fn *fn, void *arg)
{
    hv_spawn_opts o = {.link = true};
    hv_term pid;
    return hv_spawn_opt(fn, arg, &o, &pid, NULL) == HV_OK ? pid : HV_NONE;
}

hv_term
hv_spawn_monitor(hv_fn *fn, void *arg, hv_term *ref)
{
    hv_term r, pid;
    hv_spawn_opts o = {.monitor = &r};
    if (ref == NULL || hv_spawn_opt(fn, arg, &o, &pid, NULL) != HV_OK)
        return HV_NONE;
    *ref = r;
    return pid;
}
