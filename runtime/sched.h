/* runtime/sched.h - scheduler threads, run queues, waking, the runtime's
 * global state.
 *
 * Each scheduler thread owns: a local FIFO run queue (only it touches
 * it), an inbox through which other threads hand it processes to run
 * (an MPSC queue of the processes' wake nodes), one guarded stack on
 * which its copying-stack processes run, a pool of dedicated stacks, a
 * timer wheel and an epoll set.  A started process runs only on its home
 * scheduler: its saved frames hold addresses in that scheduler's stack
 * (copying) and its timers sit in that scheduler's wheel.  Placement
 * therefore happens before a process first runs.  A new process starts on
 * its spawner's scheduler (locality: a ping-pong pair or a ring never
 * pays a cross-thread wake).  An idle scheduler that sees another's run
 * queue long asks it for work (work requesting, not stealing: the run
 * queues stay private and lock-free); the busy one, between two runs,
 * hands over the not-yet-started processes of the back half of its queue,
 * in order, so consecutively spawned processes (a ring's neighbours) stay
 * together.  Started processes stay where they are.
 *
 * Processes spawned here wait on a LIFO stack, picked before the FIFO run
 * queue: a tree of spawns then unfolds depth-first (skynet keeps ~70
 * processes alive at a time instead of all 1.1 million, and memory is
 * reused while it is hot).  So that a stream of spawns cannot starve the
 * FIFO, it gets a turn after FRESH_BURST fresh picks in a row.  In the
 * same way a process woken by a send from its own scheduler runs next
 * (one slot; the one it displaces goes to the FIFO): a receiver keeps up
 * with its senders instead of its queue growing while they all run
 * (fan-in), and memory stays hot.  A thief
 * is handed the older half of this stack first.
 *
 * An idle scheduler spins for config.spin_us, then sleeps on a futex (or
 * in epoll_wait when processes wait for IO) until the next timer is due.
 * Its `sleep` word closes the lost wake-up the same way a process's state
 * word does (proc.h): a waker whose push to the inbox reports "was empty"
 * exchanges the word to NOTIFIED; the scheduler only sleeps by CASing
 * AWAKE -> SLEEP_*. */
#ifndef HV_RUNTIME_SCHED_H
#define HV_RUNTIME_SCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/proc.h"

enum { S_AWAKE = 0, S_NOTIFIED, S_SLEEP_FUTEX, S_SLEEP_EPOLL };

struct hv__sched {
    unsigned index;
    pthread_t thread;
    void *sp;                    /* its own context while a process runs */
    struct hv__ctx_san san;
    struct hv__proc *current;    /* running process, for the fault hook */
    struct hv__sys_stack stack;  /* where copying-stack processes run */
    struct hv__proc *stack_owner; /* whose frames are on it now */
    struct hv__sys_stack_pool pool; /* dedicated stacks of the default size */
    struct hv__proc *rq_head, *rq_tail; /* FIFO of runnable processes */
    struct hv__proc *fresh;      /* unstarted, spawned here: newest first */
    size_t fresh_len;
    struct hv__proc *runnext;    /* woken by a local send: runs next */
    unsigned fresh_streak;       /* runnext/fresh picks since the FIFO's
                                    last */
    _Atomic size_t rq_len;       /* written by the owner, read by thieves */
    _Atomic uint32_t steal_req;  /* index + 1 of a scheduler asking for
                                    work, or 0 */
    struct hv__mpsc inbox;       /* processes made runnable elsewhere */
    struct hv__mpsc timer_inbox; /* timers set from other threads */
    _Atomic uint32_t sleep;      /* S_* */
    struct hv__wheel *wheel;
    int epfd, evfd;
    size_t io_waiters;
    struct hv__proc **io_lists;  /* by fd: processes waiting on it */
    size_t io_lists_len;
    void *altstack;
    uint64_t runs;
};

struct hv__rt {
    hv_config cfg;
    unsigned nsched;
    struct hv__sched *scheds;
    _Atomic bool running;
    _Atomic bool stopping;       /* no new processes; threads end */
    _Atomic bool quit;           /* schedulers leave their loops */
    _Atomic unsigned rr;         /* round-robin placement from outside */
    _Atomic uint32_t main_done;  /* hv_run's main process has exited */
    hv_term main_reason;
    _Atomic uint32_t threads_live; /* thread processes not yet ended */
    /* hv_stop is reaping what is left, on one thread, with the
     * schedulers gone: a wake-up has nowhere to go. */
    bool draining;
    hv_term atom_normal, atom_shutdown, atom_stack_overflow,
        atom_system_limit;
    /* for exit signals, links and monitors (signal.c) */
    hv_term atom_kill, atom_killed, atom_noproc, atom_exit, atom_down,
        atom_process;
};

extern struct hv__rt hv__rt;

/* Calls into the runtime from threads that are neither schedulers nor
 * processes (bridges, the embedding program) now under way.  hv_stop
 * waits for it to drain before it frees anything they could touch. */
extern _Atomic uint32_t hv__foreign_calls;
extern __thread struct hv__sched *hv__tls_sched
    __attribute__((tls_model("initial-exec")));

/* Brackets a public call that touches runtime structures.  Schedulers
 * and processes pass freely (hv_stop deals with them); another thread is
 * counted in hv__foreign_calls, and refused (false, nothing to leave)
 * when no runtime runs or it is stopping.  The counter and `stopping` are
 * both seq_cst, so either hv_stop sees the call or the call sees
 * `stopping`. */
static inline bool
hv__api_enter(void)
{
    if (hv__tls_proc != NULL || hv__tls_sched != NULL)
        return true;
    atomic_fetch_add(&hv__foreign_calls, 1);
    if (!atomic_load(&hv__rt.running) || atomic_load(&hv__rt.stopping)) {
        atomic_fetch_sub(&hv__foreign_calls, 1);
        return false;
    }
    return true;
}

static inline void
hv__api_leave(void)
{
    if (hv__tls_proc == NULL && hv__tls_sched == NULL)
        atomic_fetch_sub(&hv__foreign_calls, 1);
}

/* Where a new process should live: the caller's scheduler, or one chosen
 * round-robin for a caller that is not a scheduler thread. */
struct hv__sched *hv__sched_place(void);
/* Queues the RUNNABLE process p on its home scheduler and wakes that
 * scheduler if it sleeps.  Any thread. */
void hv__sched_enqueue(struct hv__proc *p);
/* As hv__sched_enqueue for p homed on the calling scheduler, woken by a
 * message from it: p runs next. */
void hv__sched_enqueue_next(struct hv__proc *p);
/* Wakes s if it sleeps or spins (its inbox may have work). */
void hv__sched_kick(struct hv__sched *s);

/* A scheduler thread's body (arg: its struct hv__sched). */
void *hv__sched_main(void *arg);
/* The SIGSEGV hook (see hv__sys_segv_install). */
bool hv__sched_on_fault(void *addr, void *ucontext);

/* Copying stacks (stack_copy.c). */
void hv__stack_save(struct hv__sched *s, struct hv__proc *p);
void hv__stack_restore(struct hv__sched *s, struct hv__proc *p);
/* Clears ASan's poison from a whole stack taken from the pool: the
 * process that used it last may have died (overflowed) with its frames'
 * redzones still marked. */
void hv__stack_clean(void *lo, void *hi);
/* Tells valgrind (when running under it) that [lo, lo + len) of a stack
 * is about to be written from another stack. */
void hv__stack_writable(void *lo, size_t len);
/* p, the owner of s's stack, has ended: its frames there are garbage. */
void hv__stack_forget(struct hv__sched *s, struct hv__proc *p,
                      bool overflowed);

/* IO (io.c): polls s's epoll set for up to timeout_ms and wakes the
 * processes whose fds are ready; returns how many it woke. */
size_t hv__io_poll(struct hv__sched *s, int timeout_ms);
int hv__io_init(struct hv__sched *s);
void hv__io_fini(struct hv__sched *s);
/* Drops p's registration (it stops waiting without its event). */
void hv__io_forget(struct hv__sched *s, struct hv__proc *p);
/* Wakes s out of epoll_wait. */
void hv__io_kick(struct hv__sched *s);

/* Timers set from other threads (ptimer.c): adds what s->timer_inbox
 * holds to s's wheel. */
void hv__ptimer_pull(struct hv__sched *s);

/* Bridges at shutdown (bridge.c). */
void hv__bridge_stop(struct hv__proc *p);

#endif /* HV_RUNTIME_SCHED_H */
