/* runtime/signal.h - exit signals, links and monitors.
 *
 * Every change to a link or monitor that involves another process
 * travels as a signal through that process's inbox, behind the messages
 * its sender sent before, so signals and messages from one sender stay
 * in order.  The receiver handles a signal when it moves it from its
 * inbox (hv__mbox_pull): a link or monitor is recorded or dropped in its
 * own tables, an exit signal turns into an {'EXIT', ...} message, is
 * ignored, or marks the process to die (pending_exit), which the process
 * acts on at its next safe point (hv__signal_act).  Only the owner (or,
 * while the owner is switched out, its scheduler thread) touches those
 * tables, so none of this takes a lock. */
#ifndef HV_RUNTIME_SIGNAL_H
#define HV_RUNTIME_SIGNAL_H

#include <stdbool.h>

#include "runtime/proc.h"

enum hv__sig_kind {
    SIG_EXIT = 1,  /* exit/2: a = reason */
    SIG_LINK_EXIT, /* a linked process ended: a = reason */
    SIG_LINK,      /* from linked to us */
    SIG_UNLINK,    /* from unlinked from us */
    SIG_MONITOR,   /* from monitors us: a = ref */
    SIG_DEMONITOR, /* from stopped monitoring us: a = ref */
    SIG_DOWN       /* from, which we monitored as ref a, ended: b = reason */
};

/* Sends a signal to pid (a and b consumed; HV_NIL when unused).  False
 * when pid is not alive (nothing is sent). */
bool hv__signal_send(hv_term to, enum hv__sig_kind kind, hv_term from,
                     hv_term a, hv_term b);
/* Handles a signal taken from p's inbox (consumed): returns the message
 * it becomes, or HV_NONE.  A dying process answers links and monitors
 * with noproc instead. */
hv_term hv__signal_take(struct hv__proc *p, hv_term sig);
/* Ends p if a signal said so.  At points where the process may end:
 * sends, receives, waits, yields. */
void hv__signal_act(struct hv__proc *p);
/* Pulls and handles signals that came since the last look, then acts. */
void hv__signal_check(struct hv__proc *p);
/* After p ended (cleanups run, mailbox and stack freed): tells its links
 * and monitors, drops the monitors it held, prints a crash report when
 * nobody was told, and frees its tables.  name is its former name. */
void hv__signal_exit(struct hv__proc *p, hv_term reason, hv_term name);
/* The caller gave up waiting for the reply to a call tagged ref, which
 * it monitors the server with: a reply {Ref, _} that still comes is
 * dropped on arrival (and the monitor then removed), as is the DOWN if
 * the server ends first.  Owner only. */
void hv__call_abandon(hv_term ref);
/* True (and the message is the caller's to free) when msg is the late
 * reply of an abandoned call. */
bool hv__signal_abandoned(struct hv__proc *p, hv_term msg);

/* Links and/or monitors a process being spawned by `parent` before it
 * runs (hv_spawn_opts.link/.monitor); the monitor's ref in *ref. */
int hv__signal_spawned(struct hv__proc *parent, struct hv__proc *child,
                       bool link, bool monitor, hv_term *ref);
/* Undoes that for a process that will not run after all. */
void hv__signal_unspawned(struct hv__proc *parent, struct hv__proc *child);

#endif /* HV_RUNTIME_SIGNAL_H */
