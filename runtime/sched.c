/* runtime/sched.c - the scheduler loop: running processes, switching
 * stacks, waking, idling, and the stack-overflow hook.  The design is in
 * sched.h; the state protocol in proc.h. */
#define _GNU_SOURCE
#include "runtime/sched.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/alloc.h"
#include "runtime/ctx.h"
#include "runtime/ptable.h"
#include "runtime/util.h"

struct hv__rt hv__rt;
__thread struct hv__sched *hv__tls_sched
    __attribute__((tls_model("initial-exec")));

/* An idle scheduler asks for work from one whose run queue is at least
 * this long. */
#define STEAL_MIN 8
/* Fresh (just spawned) processes picked in a row before the FIFO gets a
 * turn. */
#define FRESH_BURST 32
/* Runs between checks of the clock (timers) and the epoll set. */
#define POLL_EVERY 64

static void
rq_len_add(struct hv__sched *s, long d)
{
    atomic_store_explicit(
        &s->rq_len,
        atomic_load_explicit(&s->rq_len, memory_order_relaxed) + (size_t)d,
        memory_order_relaxed);
}

static void
fresh_push(struct hv__sched *s, struct hv__proc *p)
{
    p->run_next = s->fresh;
    s->fresh = p;
    s->fresh_len++;
    rq_len_add(s, 1);
}

static void
rq_push(struct hv__sched *s, struct hv__proc *p)
{
    p->run_next = NULL;
    if (s->rq_tail != NULL)
        s->rq_tail->run_next = p;
    else
        s->rq_head = p;
    s->rq_tail = p;
    atomic_store_explicit(&s->rq_len,
                          atomic_load_explicit(&s->rq_len,
                                               memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static struct hv__proc *
fifo_pop(struct hv__sched *s)
{
    struct hv__proc *p = s->rq_head;
    if (p != NULL) {
        s->rq_head = p->run_next;
        if (s->rq_head == NULL)
            s->rq_tail = NULL;
        atomic_store_explicit(&s->rq_len,
                              atomic_load_explicit(&s->rq_len,
                                                   memory_order_relaxed) - 1,
                              memory_order_relaxed);
    }
    return p;
}

static struct hv__proc *
rq_pop(struct hv__sched *s)
{
    struct hv__proc *p = s->runnext;
    if (p != NULL && (s->rq_head == NULL || s->fresh_streak < FRESH_BURST)) {
        s->runnext = NULL;
        s->fresh_streak++;
        rq_len_add(s, -1);
        return p;
    }
    p = s->fresh;
    if (p != NULL && (s->rq_head == NULL || s->fresh_streak < FRESH_BURST)) {
        s->fresh = p->run_next;
        s->fresh_len--;
        s->fresh_streak++;
        rq_len_add(s, -1);
        return p;
    }
    s->fresh_streak = 0;
    p = fifo_pop(s);
    if (p == NULL && s->runnext != NULL) { /* FIFO empty: the slot */
        p = s->runnext;
        s->runnext = NULL;
        rq_len_add(s, -1);
    }
    return p;
}

void
hv__sched_enqueue_next(struct hv__proc *p)
{
    struct hv__sched *s = p->home;
    struct hv__proc *old = s->runnext;
    s->runnext = p;
    if (old != NULL) {
        rq_len_add(s, -1); /* rq_push counts it again */
        rq_push(s, old);
    }
    rq_len_add(s, 1);
}

void
hv__sched_kick(struct hv__sched *s)
{
    uint32_t old = atomic_exchange_explicit(&s->sleep, S_NOTIFIED,
                                            memory_order_acq_rel);
    if (old == S_SLEEP_FUTEX)
        hv__sys_futex_wake(&s->sleep, 1);
    else if (old == S_SLEEP_EPOLL)
        hv__io_kick(s);
}

void
hv__sched_enqueue(struct hv__proc *p)
{
    struct hv__sched *s = p->home;
    /* The run queues and inboxes hold records the drain is freeing; a
     * process woken now (by a signal or a message from a cleanup) is
     * reaped where it stands. */
    if (hv__rt.draining)
        return;
    if (s == hv__tls_sched) {
        if (p->started)
            rq_push(s, p);
        else
            fresh_push(s, p);
        return;
    }
    if (hv__mpsc_push(&s->inbox, &p->wake_node))
        hv__sched_kick(s);
}

struct hv__sched *
hv__sched_place(void)
{
    struct hv__sched *s = hv__tls_sched;
    if (s == NULL) {
        unsigned i = atomic_fetch_add_explicit(&hv__rt.rr, 1,
                                               memory_order_relaxed);
        return &hv__rt.scheds[i % hv__rt.nsched];
    }
    return s;
}

static void
fire_timer(struct hv__timer *t, void *ctx)
{
    (void)ctx;
    struct hv__stimer *st = hv__container_of(t, struct hv__stimer, t);
    st->fire(st);
}

static void
run_timers(struct hv__sched *s)
{
    hv__ptimer_pull(s);
    if (s->wheel->pending > 0)
        hv__wheel_advance(s->wheel, hv__sys_now_ms(), fire_timer, NULL);
}

/* Moves processes other threads made runnable into the run queue. */
static void
pull_inbox(struct hv__sched *s)
{
    struct hv__mpsc_node *n;
    while ((n = hv__mpsc_pop(&s->inbox)) != NULL)
        rq_push(s, hv__container_of(n, struct hv__proc, wake_node));
}

/* Switches to p and back.  p is RUNNABLE and homed here. */
static void
run(struct hv__sched *s, struct hv__proc *p)
{
    /* RUNNABLE -> RUNNING, keeping P_NOTIFY. */
    atomic_fetch_xor_explicit(&p->state, P_RUNNABLE ^ P_RUNNING,
                              memory_order_acquire);
    p->reds = HV__SLICE_REDS;
    if (!p->started) {
        void *top;
        if (p->kind == K_COPY) {
            top = s->stack.hi;
            hv__ctx_san_init(&p->san, s->stack.lo,
                             (size_t)((char *)s->stack.hi -
                                      (char *)s->stack.lo));
        } else {
            int rc = p->stack_bytes == s->pool.usable_bytes
                         ? hv__sys_stack_pool_get(&s->pool, &p->stack)
                         : hv__sys_stack_alloc(p->stack_bytes, &p->stack);
            if (rc != HV_OK) {
                /* No stack: it ends before running, like a spawn that
                 * failed late. */
                p->reason = hv__rt.atom_system_limit;
                hv__proc_reap(p);
                return;
            }
            top = p->stack.hi;
            hv__stack_clean(p->stack.lo, p->stack.hi);
            hv__ctx_san_init(&p->san, p->stack.lo,
                             (size_t)((char *)p->stack.hi -
                                      (char *)p->stack.lo));
        }
        if (p->kind == K_COPY && s->stack_owner != NULL &&
            s->stack_owner != p)
            hv__stack_save(s, s->stack_owner);
        if (p->kind == K_COPY)
            s->stack_owner = p;
        hv__stack_writable((char *)top - 256, 256);
        p->sp = hv__ctx_make(top, hv__proc_entry, p);
        p->started = true;
    } else if (p->kind == K_COPY && s->stack_owner != p) {
        if (s->stack_owner != NULL)
            hv__stack_save(s, s->stack_owner);
        hv__stack_restore(s, p);
        s->stack_owner = p;
    }

    s->current = p;
    hv__tls_proc = p;
    hv__ctx_san_start_switch(&s->san, &p->san);
    hv__ctx_switch(&s->sp, p->sp);
    hv__ctx_san_finish_switch(&s->san, NULL);
    hv__tls_proc = NULL;
    s->current = NULL;

    if (p->why != WHY_EXIT) {
        const char *top = p->kind == K_COPY ? s->stack.hi : p->stack.hi;
        atomic_store_explicit(&p->stack_used,
                              (size_t)(top - (const char *)p->sp),
                              memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&p->reductions,
                              (uint64_t)(HV__SLICE_REDS - p->reds) + 1,
                              memory_order_relaxed);
    switch (p->why) {
    case WHY_YIELD:
        atomic_fetch_xor_explicit(&p->state, P_RUNNABLE ^ P_RUNNING,
                                  memory_order_relaxed);
        rq_push(s, p);
        break;
    case WHY_WAIT:
        /* It set its WAIT_* state itself; a waker may have queued it
         * already. */
        break;
    case WHY_EXIT:
        if (s->stack_owner == p) {
            hv__stack_forget(s, p,
                             p->reason == hv__rt.atom_stack_overflow);
            s->stack_owner = NULL; /* its frames are garbage now */
        }
        hv__proc_reap(p);
        break;
    default:
        hv__panic("process %u switched out without a reason", p->number);
    }
}

/* Serves a thief's request: the unstarted processes among the back half
 * of the run queue move to the thief, in queue order. */
static void
give_work(struct hv__sched *s, uint32_t req)
{
    atomic_store_explicit(&s->steal_req, 0, memory_order_relaxed);
    struct hv__sched *thief = &hv__rt.scheds[req - 1];
    bool gave = false, was_empty = false;

    /* The older half of the fresh stack first: its bottom, cut off
     * whole. */
    if (s->fresh_len >= 2) {
        size_t keep = s->fresh_len - s->fresh_len / 2;
        struct hv__proc *last_kept = s->fresh;
        for (size_t k = 1; k < keep; k++)
            last_kept = last_kept->run_next;
        struct hv__proc *p = last_kept->run_next;
        last_kept->run_next = NULL;
        rq_len_add(s, -(long)(s->fresh_len - keep));
        s->fresh_len = keep;
        while (p != NULL) {
            struct hv__proc *next = p->run_next;
            p->home = thief;
            hv__ptable_set_home(p, thief->index);
            if (hv__mpsc_push(&thief->inbox, &p->wake_node))
                was_empty = true;
            gave = true;
            p = next;
        }
    }
    if (gave) {
        if (was_empty)
            hv__sched_kick(thief);
        return;
    }

    size_t len = atomic_load_explicit(&s->rq_len, memory_order_relaxed) -
                 s->fresh_len;
    if (len < 2)
        return;
    size_t keep = len - len / 2, i = 0;
    struct hv__proc *prev = NULL, *p = s->rq_head;
    while (p != NULL) {
        struct hv__proc *next = p->run_next;
        if (i++ >= keep && !p->started) {
            /* Unlink and hand over. */
            if (prev != NULL)
                prev->run_next = next;
            else
                s->rq_head = next;
            if (s->rq_tail == p)
                s->rq_tail = prev;
            atomic_store_explicit(
                &s->rq_len,
                atomic_load_explicit(&s->rq_len, memory_order_relaxed) - 1,
                memory_order_relaxed);
            p->home = thief;
            hv__ptable_set_home(p, thief->index);
            if (hv__mpsc_push(&thief->inbox, &p->wake_node))
                was_empty = true;
            gave = true;
        } else {
            prev = p;
        }
        p = next;
    }
    if (gave && was_empty)
        hv__sched_kick(thief);
}

/* An idle scheduler's request for work, to the scheduler with the longest
 * run queue if it is long enough. */
static void
ask_for_work(struct hv__sched *s)
{
    struct hv__sched *victim = NULL;
    size_t best = STEAL_MIN - 1;
    for (unsigned i = 1; i < hv__rt.nsched; i++) {
        struct hv__sched *o = &hv__rt.scheds[(s->index + i) % hv__rt.nsched];
        size_t len = atomic_load_explicit(&o->rq_len, memory_order_relaxed);
        if (len > best) {
            best = len;
            victim = o;
        }
    }
    if (victim != NULL) {
        uint32_t none = 0;
        atomic_compare_exchange_strong_explicit(
            &victim->steal_req, &none, s->index + 1, memory_order_relaxed,
            memory_order_relaxed);
    }
}

/* Idle: spin, then sleep until kicked or the next timer is due. */
static void
idle(struct hv__sched *s)
{

    int spin_us = hv__rt.cfg.spin_us;
    if (spin_us > 0) {
        uint64_t until = hv__sys_now_ns() + (uint64_t)spin_us * 1000;
        unsigned n = 0;
        ask_for_work(s);
        while (hv__mpsc_empty(&s->inbox) &&
               hv__mpsc_empty(&s->timer_inbox) &&
               !atomic_load_explicit(&hv__rt.quit, memory_order_relaxed)) {
            hv__cpu_relax();
            if ((++n & 63) == 0) {
                if (hv__sys_now_ns() >= until)
                    break;
                if ((n & 4095) == 0)
                    ask_for_work(s);
            }
        }
    }

    if (hv__mpsc_empty(&s->inbox) && hv__mpsc_empty(&s->timer_inbox) &&
        !atomic_load_explicit(&hv__rt.quit, memory_order_relaxed)) {
        int64_t deadline = hv__wheel_next_deadline(s->wheel);
        int64_t timeout_ms = -1;
        if (deadline >= 0) {
            uint64_t now = hv__sys_now_ms();
            timeout_ms = (uint64_t)deadline > now
                             ? (int64_t)((uint64_t)deadline - now)
                             : 0;
        }
        uint32_t mode = s->io_waiters > 0 ? S_SLEEP_EPOLL : S_SLEEP_FUTEX;
        uint32_t expect = S_AWAKE;
        if (timeout_ms != 0 &&
            atomic_compare_exchange_strong_explicit(
                &s->sleep, &expect, mode, memory_order_acq_rel,
                memory_order_acquire)) {
            if (mode == S_SLEEP_EPOLL)
                hv__io_poll(s, timeout_ms > INT32_MAX ? INT32_MAX
                                                       : (int)timeout_ms);
            else
                hv__sys_futex_wait(&s->sleep, S_SLEEP_FUTEX,
                                   timeout_ms < 0 ? -1
                                                  : timeout_ms * 1000000);
        }
    }
    atomic_store_explicit(&s->sleep, S_AWAKE, memory_order_release);
}

void *
hv__sched_main(void *arg)
{
    struct hv__sched *s = arg;
    hv__tls_sched = s;
    hv__ctx_san_init_thread(&s->san);
    if (hv__sys_altstack_install(&s->altstack) != HV_OK)
        s->altstack = NULL; /* overflows then crash loudly */

    while (!atomic_load_explicit(&hv__rt.quit, memory_order_acquire)) {
        pull_inbox(s);
        uint32_t req =
            atomic_load_explicit(&s->steal_req, memory_order_relaxed);
        if (req != 0)
            give_work(s, req);
        struct hv__proc *p = rq_pop(s);
        if (p != NULL) {
            run(s, p);
            if (++s->runs % POLL_EVERY == 0) {
                run_timers(s);
                if (s->io_waiters > 0)
                    hv__io_poll(s, 0);
            }
            continue;
        }
        run_timers(s);
        if (s->io_waiters > 0 && hv__io_poll(s, 0) > 0)
            continue;
        if (s->rq_head == NULL && s->fresh == NULL && s->runnext == NULL &&
            hv__mpsc_empty(&s->inbox))
            idle(s);
    }
    hv__sys_altstack_remove(s->altstack);
    s->altstack = NULL;
    return NULL;
}

/* The SIGSEGV hook: an overflow into a guard below the running process's
 * stack kills that process; anything else is not ours. */
bool
hv__sched_on_fault(void *addr, void *ucontext)
{
    (void)ucontext;
    struct hv__sched *s = hv__tls_sched;
    struct hv__proc *p = hv__tls_proc;
    if (s == NULL || p == NULL || s->current != p)
        return false;
    const struct hv__sys_stack *st =
        p->kind == K_COPY ? &s->stack : &p->stack;
    if (!hv__sys_stack_in_guard(st, addr))
        return false;
    if (hv__rt.cfg.overflow_aborts) {
        static const char msg[] =
            "hive: stack overflow in a process; aborting "
            "(hv_config.overflow_aborts)\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        abort();
    }
    /* We leave the handler by switching away, never returning through
     * it: unblock the signals so the next overflow is caught too. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGSEGV);
    sigaddset(&set, SIGBUS);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    p->reason = hv__rt.atom_stack_overflow;
    p->why = WHY_EXIT;
    hv__ctx_san_start_exit(&s->san);
    hv__ctx_switch(&p->sp, s->sp);
    return false; /* not reached: the process is never resumed */
}
