/* runtime/proc.h - the process record and what the runtime's files share
 * about it: states, the mailbox and its cursor, the exit path.
 *
 * States and wake-ups.  A process's `state` word holds one of the P_*
 * values plus the P_NOTIFY bit.  Only the process itself moves RUNNING ->
 * WAIT_*; a waker (a sender, a timer, the IO poller) moves WAIT_* ->
 * RUNNABLE with a CAS and, having won it, enqueues the process on its
 * home scheduler (or futex-wakes a thread process).  The scheduler moves
 * RUNNABLE -> RUNNING when it switches the process in.
 *
 * The lost wake-up is closed with read-modify-writes on `state` on both
 * sides.  A receiver drains its inbox, and only when hv__mpsc_empty() says
 * the next push will report "was empty", CASes RUNNING -> WAIT_MSG.  A
 * sender whose push reports "was empty" then does one successful CAS on
 * `state`: WAIT_MSG -> RUNNABLE, or otherwise sets P_NOTIFY.  Whichever RMW
 * comes second in the word's modification order sees the first: either
 * the sender sees WAIT_MSG and wakes, or the receiver's CAS fails on
 * P_NOTIFY (and it synchronises with the sender's release, so the node is
 * visible) and it drains again instead of waiting. */
#ifndef HV_RUNTIME_PROC_H
#define HV_RUNTIME_PROC_H

#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hive/process.h"
#include "runtime/ctx_san.h"
#include "runtime/mpsc.h"
#include "runtime/tmap.h"
#include "runtime/sys.h"
#include "runtime/timer_wheel.h"

struct hv__sched;

enum {
    P_RUNNING = 1,
    P_RUNNABLE,
    P_WAIT_MSG,   /* woken by a message or its timeout */
    P_WAIT_TIMER, /* hv_sleep: only its timeout wakes it */
    P_WAIT_IO,    /* woken by its fd or its timeout */
    P_EXITING,
    P_STATE_MASK = 0x7,
    P_NOTIFY = 0x8 /* a message arrived while not waiting for one */
};

enum hv__pkind {
    K_COPY,      /* runs on its scheduler's copying stack */
    K_DEDICATED, /* has its own guarded stack */
    K_THREAD,    /* has its own OS thread */
    K_BRIDGE     /* a plain thread's mailbox; runs no function */
};

/* Why a process switched back to its scheduler. */
enum hv__why { WHY_YIELD = 1, WHY_WAIT, WHY_EXIT };

/* One queued message.  The inbox link is dead once the owner has popped
 * the message (no producer touches a popped node, mpsc.h), so the private
 * queue's back link shares its word. */
struct hv__msg {
    union {
        struct hv__mpsc_node node; /* in the inbox */
        struct hv__msg **prevp;    /* in the private queue: what points here */
    };
    struct hv__msg *next;   /* in the private queue */
    hv_term term;
    struct hv__msg *ixnext; /* in its key's list in the index (mbox_index.c) */
};
/* A process's links and monitors (signal.c). */
struct hv__sigtab {
    struct hv__tmap links;          /* linked pid -> pid */
    struct hv__tmap watchers;       /* ref -> pid monitoring this one */
    struct hv__tmap watching;       /* ref -> pid this one monitors */
    struct hv__tmap watching_names; /* ref -> name, monitors by name */
    struct hv__tmap abandoned;      /* refs of calls that timed out */
};

/* ixnext of a signal while it is in the inbox (signal.h). */
#define HV__MSG_SIGNAL ((struct hv__msg *)3)

/* A timer in a scheduler's wheel, with what to do when it fires. */
struct hv__stimer {
    struct hv__timer t;
    void (*fire)(struct hv__stimer *st);
};

struct hv__defer {
    struct hv__defer *next;
    void (*fn)(void *arg);
    void *arg;
};

struct hv__proc {
    _Atomic uint32_t state;
    uint8_t kind;      /* enum hv__pkind */
    uint8_t why;       /* enum hv__why, set before switching out */
    bool started;      /* has run (so it is pinned to its home) */
    bool exiting;      /* cleanups running: no receive */
    bool timed_out;    /* its timer fired while it waited */
    bool is_main;      /* hv_run's main process */
    int32_t reds;      /* reductions left in this slice */
    hv_term pid;
    uint32_t number;   /* index in the process table */
    struct hv__sched *home;       /* runs only there once started */
    struct hv__proc *run_next;    /* in a local run queue */
    struct hv__mpsc_node wake_node; /* in a scheduler's inbox */

    /* The mailbox: producers push to inbox; the owner moves messages to
     * its private queue, where selective receive leaves those it skips. */
    struct hv__mpsc inbox;
    _Atomic uint64_t enqueued;    /* messages ever pushed to inbox */
    _Atomic uint64_t local_in;    /* appended by home-thread senders */
    _Atomic uint64_t dequeued;    /* messages ever taken out */
    struct hv__msg *first;        /* private queue, oldest first */
    struct hv__msg **lastp;       /* &last->next, or &first */
    /* Erlang's receive mark: the queue's end when this process last made
     * a ref; no message before it can hold that ref. */
    hv_term mark_ref;
    struct hv__msg **mark_at;
    struct hv__mbox_index *index; /* NULL until a keyed receive needs it */
    uint32_t long_scans;          /* keyed receives that scanned far */

    /* Links and monitors (signal.c); owner only, changed by signals.
     * NULL until the first: most processes never link, and every byte
     * here is paid by each of a million processes. */
    struct hv__sigtab *sig;
    hv_term pending_exit;           /* the reason a signal says to die with */
    bool trap_exit;
    bool killed_by_signal;          /* its end came from an exit signal */
    _Atomic uint32_t signals_in;    /* signals pushed to the inbox */
    uint32_t signals_taken;         /* of those, handled */

    /* The context while switched out. */
    void *sp;
    struct hv__ctx_san san;
    void *saved;                  /* K_COPY: [sp, stack top) when saved */
    size_t saved_len, saved_cap;
    struct hv__sys_stack stack;   /* K_DEDICATED */
    size_t stack_bytes;           /* K_DEDICATED: requested size */
    jmp_buf *exit_jmp;            /* K_THREAD: where hv_exit lands */
    _Atomic uint32_t thread_done; /* K_THREAD: ended (for joining) */

    hv_fn *fn;
    void *arg;
    hv_term reason;               /* exit reason once exiting */
    struct hv__defer *defers;     /* latest first */
    struct hv__stimer timer;      /* receive timeout, sleep, IO timeout */
    int io_fd;                    /* -1, or the fd it waits on */
    uint32_t io_events;           /* HV_IO_* it waits for */
    uint32_t io_revents;          /* what woke it */
    struct hv__proc *io_next;     /* other waiters on the same fd */
    _Atomic hv_term name;         /* registered name or HV_NONE */
    _Atomic uint64_t reductions;  /* for hv_process_info */
    _Atomic size_t stack_used;    /* for hv_process_info */
};

/* The process running on this thread (a scheduler's current process or
 * a thread process), or NULL. */
extern __thread struct hv__proc *hv__tls_proc
    __attribute__((tls_model("initial-exec")));

/* Reductions per slice: a process that sends or receives this many times
 * without waiting is switched out so others get their turn. */
#define HV__SLICE_REDS 2000

/* ---- mailbox (mailbox.c) ---- */

/* Initialises p's mailbox fields. */
void hv__mbox_init(struct hv__proc *p);
/* Releases every queued message.  Owner only, or after p is dead. */
void hv__mbox_drop(struct hv__proc *p);
/* Pushes msg (consumed) to p and wakes it if needed.  p is pinned by the
 * caller (hv__ptable_acquire). */
void hv__mbox_deliver(struct hv__proc *p, hv_term msg);
/* Appends msg (consumed) to p's private queue directly and wakes p if
 * it waits: for a sender on p's home scheduler thread (see
 * hv__ptable_local), which is then the only thread touching that queue.
 * Order per sender pair holds: the inbox is drained first, so what the
 * same sender pushed there before p moved to this scheduler stays
 * ahead. */
void hv__mbox_deliver_local(struct hv__proc *p, hv_term msg);
/* Pushes a signal (consumed) to p's inbox and wakes p as a message would;
 * with wake_sleepers also from a sleep or IO wait.  p is pinned. */
void hv__mbox_deliver_signal(struct hv__proc *p, hv_term sig,
                             bool wake_sleepers);
/* Moves what the inbox holds to the private queue.  Owner only. */
void hv__mbox_pull(struct hv__proc *p);

/* Messages queued, inbox included (a snapshot, for the owner). */
uint64_t hv__mbox_len(struct hv__proc *p);
/* Counts a reduction; a process whose slice ran out yields. */
void hv__proc_spend(struct hv__proc *self);

/* A position in the private queue for selective receive: the messages
 * before it were tested and rejected by the current receive. */
struct hv__mbox_cursor {
    struct hv__msg **at;
};
/* Starts at the oldest message. */
void hv__mbox_cursor_begin(struct hv__proc *p, struct hv__mbox_cursor *c);
/* The message at the cursor (borrowed), pulling from the inbox when the
 * cursor is at the end; HV_NONE when there is none. */
hv_term hv__mbox_cursor_peek(struct hv__proc *p, struct hv__mbox_cursor *c);
/* Steps past the message at the cursor (it stays queued). */
void hv__mbox_cursor_skip(struct hv__mbox_cursor *c);
/* Removes the message at the cursor and returns it (new). */
hv_term hv__mbox_cursor_take(struct hv__proc *p, struct hv__mbox_cursor *c);
/* Waits until a message may have arrived or deadline_ms passes (-1:
 * never).  HV_OK: peek again; HV_ETIMEOUT; HV_ENOPROC: the runtime is
 * stopping (bridges). */
int hv__mbox_wait(struct hv__proc *p, int64_t deadline_ms);
/* A receive whose every acceptable message has `key` (=:=) as element
 * `elem` (0-based) of a tuple, which lets the receive skip the others:
 * through the index by that element, or from the receive mark when key
 * is the ref this process made last.  elem < 0: no key. */
struct hv__recv_key {
    int elem;
    hv_term key;
    /* A value every acceptable message holds somewhere (HV_NONE: none):
     * when it is the ref this process made last, the receive starts at
     * the mark. */
    hv_term within;
};
/* The receive of hv_recv_if and hv_receive, for any process kind: takes
 * the oldest message pred accepts (all when pred is NULL), waiting up to
 * timeout_ms.  key may be NULL.  pred sees each message at most once. */
int hv__mbox_receive(struct hv__proc *p, bool (*pred)(hv_term, void *),
                     void *ctx, const struct hv__recv_key *key,
                     int64_t timeout_ms, hv_term *msg);

/* ---- the mailbox index (mbox_index.c) ----
 * An index of the private queue by one element of tuple messages: per
 * distinct value, the messages holding it, oldest first.  It covers a
 * prefix of the queue and is caught up before each use, so its upkeep is
 * O(1) per message; messages taken by any receive leave it at once. */

/* Indexes everything queued (pulling the inbox) by element elem,
 * rebuilding the index if it was by another element.  HV_ENOMEM: no
 * index (the caller scans instead). */
int hv__mbox_index_catch_up(struct hv__proc *p, size_t elem);
/* True when p has an index by elem. */
bool hv__mbox_index_by(const struct hv__proc *p, size_t elem);
/* The oldest indexed message whose element is key, or NULL; then the
 * next with the same key after m, or NULL. */
struct hv__msg *hv__mbox_index_first(struct hv__proc *p, hv_term key);
struct hv__msg *hv__mbox_index_next(const struct hv__msg *m);
/* Drops m from the index (m is being taken).  No-op if not indexed. */
void hv__mbox_index_remove(struct hv__proc *p, struct hv__msg *m);
/* Frees the index. */
void hv__mbox_index_free(struct hv__proc *p);
/* Keeps the index's end valid when m leaves the queue. */
void hv__mbox_index_retarget(struct hv__proc *p, struct hv__msg *m);

/* Puts p into the wait state `waiting` (P_WAIT_*) until woken or
 * deadline_ms (-1: none).  HV_OK: woken (or a message came first, for
 * P_WAIT_MSG); HV_ETIMEOUT; HV_ENOPROC: the runtime is stopping (thread
 * processes and bridges only). */
int hv__proc_block(struct hv__proc *p, uint32_t waiting, int64_t deadline_ms);

/* Deadline in ms for a timeout (-1 for HV_INFINITY). */
int64_t hv__deadline(int64_t timeout_ms);

/* ---- processes (proc.c) ---- */

/* Allocates and initialises a process record of kind (pid and slot
 * assigned by hv__ptable_insert). */
struct hv__proc *hv__proc_new(int kind);
/* In a hv_defer cleanup: the reason the process is ending with
 * (borrowed); HV_NONE elsewhere. */
hv_term hv__proc_exit_reason(void);
/* In a hv_defer cleanup: whether an exit signal ended the process (as
 * opposed to its own hv_exit, return or a fault). */
bool hv__proc_exit_by_signal(void);
/* Frees the record (after it is out of the table). */
void hv__proc_free(struct hv__proc *p);
/* Ends p: cleanups, name, table slot, mailbox, memory.  Runs on p's home
 * scheduler (or p's own thread) with p switched out for good, or during
 * shutdown on the stopping thread. */
void hv__proc_reap(struct hv__proc *p);
/* Ends the calling process with reason (consumed): switches away for good
 * or, on a thread process, longjmps to its base. */
_Noreturn void hv__proc_exit(struct hv__proc *p, hv_term reason);
/* Switches the current coroutine process out (why set by the caller) and
 * returns when it is switched back in. */
void hv__proc_switch_out(struct hv__proc *p, int why);

/* hv_spawn_opt's work; is_main marks hv_run's main process. */
int hv__spawn(hv_fn *fn, void *arg, const hv_spawn_opts *o, hv_term *pid,
              hv_error *err, bool is_main);
/* The entry of every coroutine process (the argument is the process). */
void hv__proc_entry(void *arg);
/* Joins thread processes that have ended. */
void hv__proc_join_threads(void);

/* ---- names (registry.c) ---- */
/* Drops p's name, if any (p is exiting). */
void hv__registry_drop(struct hv__proc *p);
/* Frees the table (runtime stopped). */
void hv__registry_fini(void);
int hv__registry_init(void);

/* ---- timers (ptimer.c) ---- */
int hv__ptimer_init(void);
/* Frees every timer record and its message (runtime stopped). */
void hv__ptimer_fini(void);

#endif /* HV_RUNTIME_PROC_H */
