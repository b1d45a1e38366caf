/* runtime/proc.c - spawning, running and ending processes: the entry
 * trampoline, hv_exit, hv_defer, hv_yield, thread processes, reaping. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/ctx.h"
#include "runtime/ptable.h"
#include "runtime/sched.h"
#include "runtime/signal.h"
#include "runtime/util.h"

__thread struct hv__proc *hv__tls_proc
    __attribute__((tls_model("initial-exec")));

/* Finished thread processes wait here to be joined. */
static pthread_mutex_t join_lock = PTHREAD_MUTEX_INITIALIZER;
struct joinee {
    struct joinee *next;
    pthread_t thread;
};
static struct joinee *to_join;

#define DEFAULT_DEDICATED_STACK ((size_t)256 * 1024)
#define MIN_DEDICATED_STACK ((size_t)16 * 1024)
#define MAX_DEDICATED_STACK ((size_t)1 << 30)

struct hv__proc *
hv__proc_new(int kind)
{
    struct hv__proc *p = hv__alloc(sizeof *p);
    if (p == NULL)
        return NULL;
    memset(p, 0, sizeof *p);
    atomic_init(&p->state, P_RUNNABLE);
    p->kind = (uint8_t)kind;
    p->io_fd = -1;
    p->reason = HV_NONE;
    atomic_init(&p->name, HV_NONE);
    hv__mbox_init(p);
    return p;
}

void
hv__proc_free(struct hv__proc *p)
{
    hv__free(p->saved, p->saved_cap);
    hv__free(p, sizeof *p);
}

void
hv__proc_switch_out(struct hv__proc *p, int why)
{
    struct hv__sched *s = p->home;
    p->why = (uint8_t)why;
    hv__ctx_san_start_switch(&p->san, &s->san);
    hv__ctx_switch(&p->sp, s->sp);
    hv__ctx_san_finish_switch(&p->san, &s->san);
}

hv_term
hv__proc_exit_reason(void)
{
    struct hv__proc *p = hv__tls_proc;
    return p != NULL && p->exiting ? p->reason : HV_NONE;
}

bool
hv__proc_exit_by_signal(void)
{
    struct hv__proc *p = hv__tls_proc;
    return p != NULL && p->exiting && p->killed_by_signal;
}

_Noreturn void
hv__proc_exit(struct hv__proc *p, hv_term reason)
{
    p->reason = reason;
    if (p->kind == K_THREAD)
        longjmp(*p->exit_jmp, 1);
    struct hv__sched *s = p->home;
    p->why = WHY_EXIT;
    hv__ctx_san_start_exit(&s->san);
    hv__ctx_switch(&p->sp, s->sp);
    hv__panic("process %u resumed after its exit", p->number);
}

/* First code of every coroutine process, on its new stack. */
void
hv__proc_entry(void *arg)
{
    struct hv__proc *p = arg;
    hv__ctx_san_finish_switch(&p->san, &p->home->san);
    hv__signal_check(p); /* killed before it ran */
    p->fn(p->arg);
    hv__proc_exit(p, hv__rt.atom_normal);
}

static void
run_defers(struct hv__proc *p)
{
    struct hv__proc *was = hv__tls_proc;
    hv__tls_proc = p;
    p->exiting = true;
    struct hv__defer *d;
    while ((d = p->defers) != NULL) {
        p->defers = d->next;
        d->fn(d->arg);
        hv__free(d, sizeof *d);
    }
    hv__tls_proc = was;
}

void
hv__proc_reap(struct hv__proc *p)
{
    atomic_store_explicit(&p->state, P_EXITING, memory_order_relaxed);
    run_defers(p);
    /* From here on nobody can pin p: no new messages, no new name. */
    hv__ptable_kill(p);
    hv_term name = atomic_load_explicit(&p->name, memory_order_relaxed);
    hv__registry_drop(p);
    struct hv__sched *s = p->home;
    if (s != NULL && hv__timer_pending(&p->timer.t))
        hv__wheel_cancel(s->wheel, &p->timer.t);
    if (p->io_fd >= 0 && s != NULL) {
        hv__io_forget(s, p);
    }
    hv__mbox_drop(p);
    if (p->kind == K_COPY && s != NULL && s->stack_owner == p)
        s->stack_owner = NULL;
    if (p->kind == K_DEDICATED && p->stack.base != NULL) {
        if (s != NULL && p->stack.hi - p->stack.lo ==
                             (ptrdiff_t)s->pool.usable_bytes)
            hv__sys_stack_pool_put(&s->pool, &p->stack);
        else
            hv__sys_stack_free(&p->stack);
    }
    if (p->started)
        hv__ctx_san_fini(&p->san);
    /* Only now, with everything it held let go, do links and monitors
     * learn of the end. */
    hv__signal_exit(p, p->reason, name);
    if (p->is_main) {
        hv__rt.main_reason = p->reason;
        atomic_store_explicit(&hv__rt.main_done, 1, memory_order_release);
        hv__sys_futex_wake(&hv__rt.main_done, 1);
    } else {
        hv_release(p->reason);
    }
    p->reason = HV_NONE;
    hv__ptable_release_number(p);
    hv__proc_free(p);
}

/* Joins thread processes that have ended.  Any thread but theirs. */
void
hv__proc_join_threads(void)
{
    pthread_mutex_lock(&join_lock);
    struct joinee *j = to_join;
    to_join = NULL;
    pthread_mutex_unlock(&join_lock);
    while (j != NULL) {
        struct joinee *next = j->next;
        pthread_join(j->thread, NULL);
        hv__free(j, sizeof *j);
        j = next;
    }
}

static void *
thread_main(void *arg)
{
    struct hv__proc *p = arg;
    jmp_buf base;
    hv__tls_proc = p;
    atomic_store_explicit(&p->state, P_RUNNING, memory_order_relaxed);
    p->exit_jmp = &base;
    if (setjmp(base) == 0) {
        hv__signal_check(p);
        p->fn(p->arg);
        p->reason = hv__rt.atom_normal;
    }
    hv__tls_proc = NULL;
    /* Queue the join before the record goes: hv_stop joins only after
     * threads_live reached zero, so the entry is in by then. */
    struct joinee *j = hv__alloc(sizeof *j);
    if (j != NULL) {
        j->thread = pthread_self();
        pthread_mutex_lock(&join_lock);
        j->next = to_join;
        to_join = j;
        pthread_mutex_unlock(&join_lock);
    } else {
        pthread_detach(pthread_self());
    }
    hv__proc_reap(p);
    if (atomic_fetch_sub_explicit(&hv__rt.threads_live, 1,
                                  memory_order_acq_rel) == 1)
        hv__sys_futex_wake(&hv__rt.threads_live, 1);
    return NULL;
}

static int
spawn_fail(hv_error *err, int code, const char *what)
{
    return hv__error_set(err, code, 0, 0, 0, "hv_spawn: %s", what);
}

static int
spawn_in(hv_fn *fn, void *arg, const hv_spawn_opts *o, hv_term *pid,
         hv_error *err, bool is_main);

int
hv__spawn(hv_fn *fn, void *arg, const hv_spawn_opts *o, hv_term *pid,
          hv_error *err, bool is_main)
{
    if (!hv__api_enter())
        return spawn_fail(err, HV_EBADARG, "the runtime is not running");
    int rc = spawn_in(fn, arg, o, pid, err, is_main);
    hv__api_leave();
    return rc;
}

static int
spawn_in(hv_fn *fn, void *arg, const hv_spawn_opts *o, hv_term *pid,
         hv_error *err, bool is_main)
{
    static const hv_spawn_opts none = {0};
    if (o == NULL)
        o = &none;
    if (pid == NULL)
        return spawn_fail(err, HV_EBADARG, "the pid pointer is NULL");
    if (!atomic_load_explicit(&hv__rt.running, memory_order_acquire) ||
        atomic_load_explicit(&hv__rt.stopping, memory_order_acquire))
        return spawn_fail(err, HV_EBADARG, "the runtime is not running");
    if (fn == NULL)
        return spawn_fail(err, HV_EBADARG, "the function is NULL");
    if (o->name != HV_NONE && (!hv_is_atom(o->name) ||
                               o->name == HV_ATOM_UNDEFINED))
        return spawn_fail(err, HV_EBADARG,
                          "the name option is not an atom other than "
                          "'undefined'");
    if (o->thread && o->dedicated_stack)
        return spawn_fail(err, HV_EBADARG,
                          "a thread process has its thread's stack; "
                          "dedicated_stack does not apply");
    if (o->dedicated_stack && o->stack_bytes != 0 &&
        (o->stack_bytes < MIN_DEDICATED_STACK ||
         o->stack_bytes > MAX_DEDICATED_STACK))
        return spawn_fail(err, HV_EBADARG,
                          "stack_bytes must be 0 (256 KiB) or from 16 KiB "
                          "to 1 GiB");
    struct hv__proc *parent = hv__tls_proc;
    if ((o->link || o->monitor != NULL) &&
        (parent == NULL || parent->exiting || is_main))
        return spawn_fail(err, HV_EBADARG,
                          "link and monitor need a calling process");
    if (o->name != HV_NONE && hv_whereis(o->name) != HV_NONE) {
        size_t len;
        const char *n = hv_atom_name(o->name, &len);
        return hv__error_set(err, HV_EBADARG, 0, 0, 0,
                             "hv_spawn: the name '%.*s' is already "
                             "registered",
                             (int)len, n);
    }
    int kind = o->thread ? K_THREAD
                         : o->dedicated_stack ? K_DEDICATED : K_COPY;
    struct hv__proc *p = hv__proc_new(kind);
    if (p == NULL)
        return spawn_fail(err, HV_ENOMEM, "out of memory");
    p->fn = fn;
    p->arg = arg;
    p->is_main = is_main;
    p->stack_bytes = o->stack_bytes ? o->stack_bytes
                                    : DEFAULT_DEDICATED_STACK;
    if (kind != K_THREAD)
        p->home = hv__sched_place();
    if (hv__ptable_insert(p) != HV_OK) {
        hv__proc_free(p);
        return hv__error_set(err, HV_ELIMIT, 0, 0, 0,
                             "hv_spawn: the process table is full "
                             "(max_processes %zu)",
                             hv__ptable_capacity());
    }
    if (o->name != HV_NONE) {
        int rc = hv_register(o->name, p->pid, err);
        if (rc != HV_OK) {
            hv__ptable_kill(p);
            hv__ptable_release_number(p);
            hv__proc_free(p);
            return rc;
        }
    }
    hv_term self = p->pid, ref = HV_NONE;
    if ((o->link || o->monitor != NULL) &&
        hv__signal_spawned(parent, p, o->link, o->monitor != NULL, &ref) !=
            HV_OK) {
        hv__ptable_kill(p);
        hv__registry_drop(p);
        hv__ptable_release_number(p);
        hv__proc_free(p);
        return spawn_fail(err, HV_ENOMEM, "out of memory");
    }
    if (kind == K_THREAD) {
        hv__proc_join_threads();
        atomic_fetch_add_explicit(&hv__rt.threads_live, 1,
                                  memory_order_relaxed);
        pthread_t t;
        if (pthread_create(&t, NULL, thread_main, p) != 0) {
            atomic_fetch_sub_explicit(&hv__rt.threads_live, 1,
                                      memory_order_relaxed);
            hv__ptable_kill(p);
            hv__registry_drop(p);
            hv__signal_unspawned(parent, p);
            hv__ptable_release_number(p);
            hv__proc_free(p);
            return spawn_fail(err, HV_ENOMEM, "cannot create a thread");
        }
    } else {
        hv__sched_enqueue(p);
    }
    if (o->monitor != NULL)
        *o->monitor = ref;
    *pid = self;
    return HV_OK;
}

hv_term
hv_spawn(hv_fn *fn, void *arg)
{
    hv_term pid;
    return hv__spawn(fn, arg, NULL, &pid, NULL, false) == HV_OK ? pid
                                                                : HV_NONE;
}

int
hv_spawn_opt(hv_fn *fn, void *arg, const hv_spawn_opts *opts, hv_term *pid,
             hv_error *err)
{
    return hv__spawn(fn, arg, opts, pid, err, false);
}

hv_term
hv_self(void)
{
    struct hv__proc *p = hv__tls_proc;
    return p != NULL ? p->pid : HV_NONE;
}

_Noreturn void
hv_exit(hv_term reason)
{
    struct hv__proc *p = hv__tls_proc;
    if (p == NULL)
        hv__panic("hv_exit called outside a process");
    if (p->exiting)
        hv__panic("hv_exit called from a hv_defer cleanup of process %u",
                  p->number);
    if (reason == HV_NONE)
        reason = hv__rt.atom_normal;
    hv__proc_exit(p, reason);
}

int
hv_defer(void (*fn)(void *arg), void *arg)
{
    struct hv__proc *p = hv__tls_proc;
    if (p == NULL || fn == NULL || p->exiting)
        return HV_EBADARG;
    struct hv__defer *d = hv__alloc(sizeof *d);
    if (d == NULL)
        return HV_ENOMEM;
    d->fn = fn;
    d->arg = arg;
    d->next = p->defers;
    p->defers = d;
    return HV_OK;
}

void
hv_yield(void)
{
    struct hv__proc *p = hv__tls_proc;
    if (p == NULL || p->exiting)
        return;
    if (p->kind == K_THREAD)
        sched_yield();
    else
        hv__proc_switch_out(p, WHY_YIELD);
    hv__signal_check(p);
}
