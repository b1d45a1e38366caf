/* runtime/lifecycle.c - starting and stopping the runtime: hv_start,
 * hv_stop, hv_run. */
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/ptable.h"
#include "runtime/sched.h"
#include "runtime/util.h"

_Atomic uint32_t hv__foreign_calls;

/* Guards hv_start and hv_stop against each other and themselves. */
enum { PHASE_STOPPED, PHASE_STARTING, PHASE_RUNNING, PHASE_STOPPING };
static _Atomic int phase;

#define DEFAULT_STACK ((size_t)1 << 20)
#define DEFAULT_MAX_PROCS ((size_t)1 << 20)
#define DEFAULT_SPIN_US 50
#define MAX_SCHEDULERS 1024
#define POOL_STACKS 64

static int
check_config(const hv_config *c, hv_config *out)
{
    hv_config d = {0};
    if (c != NULL)
        d = *c;
    if (d.schedulers == 0)
        d.schedulers = hv__sys_cpu_count();
    if (d.schedulers > MAX_SCHEDULERS)
        return HV_EBADARG;
    if (d.stack_bytes == 0)
        d.stack_bytes = DEFAULT_STACK;
    if (d.stack_bytes < 16384 || d.stack_bytes > ((size_t)1 << 32))
        return HV_EBADARG;
    if (d.max_processes == 0)
        d.max_processes = DEFAULT_MAX_PROCS;
    if (d.max_processes > ((size_t)1 << 28))
        return HV_EBADARG;
    if (d.spin_us == 0)
        d.spin_us = DEFAULT_SPIN_US;
    *out = d;
    return HV_OK;
}

static void
free_scheds(unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct hv__sched *s = &hv__rt.scheds[i];
        hv__sys_stack_free(&s->stack);
        hv__sys_stack_pool_fini(&s->pool);
        hv__free(s->wheel, sizeof *s->wheel);
        hv__io_fini(s);
    }
    hv__free(hv__rt.scheds, hv__rt.nsched * sizeof *hv__rt.scheds);
    hv__rt.scheds = NULL;
}

static int
init_sched(struct hv__sched *s, unsigned index)
{
    memset(s, 0, sizeof *s);
    s->index = index;
    s->epfd = s->evfd = -1;
    hv__mpsc_init(&s->inbox);
    hv__mpsc_init(&s->timer_inbox);
    atomic_init(&s->sleep, S_AWAKE);
    s->wheel = hv__alloc(sizeof *s->wheel);
    if (s->wheel == NULL)
        return HV_ENOMEM;
    hv__wheel_init(s->wheel, hv__sys_now_ms());
    int rc = hv__sys_stack_alloc(hv__rt.cfg.stack_bytes, &s->stack);
    if (rc == HV_OK)
        rc = hv__sys_stack_pool_init(&s->pool, (size_t)256 * 1024,
                                     POOL_STACKS);
    if (rc == HV_OK)
        rc = hv__io_init(s);
    return rc;
}

static int start_in(const hv_config *config);

int
hv_start(const hv_config *config)
{
    if (hv__tls_proc != NULL || hv__tls_sched != NULL)
        return HV_EBADARG;
    int expect = PHASE_STOPPED;
    if (!atomic_compare_exchange_strong(&phase, &expect, PHASE_STARTING))
        return HV_EBADARG;
    int rc = start_in(config);
    atomic_store(&phase, rc == HV_OK ? PHASE_RUNNING : PHASE_STOPPED);
    return rc;
}

static int
start_in(const hv_config *config)
{
    hv_config cfg;
    int rc = check_config(config, &cfg);
    if (rc != HV_OK)
        return rc;
    memset(&hv__rt, 0, sizeof hv__rt);
    hv__rt.cfg = cfg;
    hv__rt.atom_normal = hv_atom("normal");
    hv__rt.atom_shutdown = hv_atom("shutdown");
    hv__rt.atom_stack_overflow = hv_atom("stack_overflow");
    hv__rt.atom_system_limit = hv_atom("system_limit");
    hv__rt.atom_kill = hv_atom("kill");
    hv__rt.atom_killed = hv_atom("killed");
    hv__rt.atom_noproc = hv_atom("noproc");
    hv__rt.atom_exit = hv_atom("EXIT");
    hv__rt.atom_down = hv_atom("DOWN");
    hv__rt.atom_process = hv_atom("process");
    const hv_term atoms[] = {
        hv__rt.atom_normal, hv__rt.atom_shutdown, hv__rt.atom_stack_overflow,
        hv__rt.atom_system_limit, hv__rt.atom_kill, hv__rt.atom_killed,
        hv__rt.atom_noproc, hv__rt.atom_exit, hv__rt.atom_down,
        hv__rt.atom_process};
    for (size_t i = 0; i < sizeof atoms / sizeof *atoms; i++)
        if (atoms[i] == HV_NONE)
            return HV_ELIMIT; /* the atom table is full */
    rc = hv__ptable_init(cfg.max_processes);
    if (rc != HV_OK)
        return rc;
    hv__registry_init();
    hv__ptimer_init();
    hv__rt.nsched = cfg.schedulers;
    hv__rt.scheds = hv__alloc(cfg.schedulers * sizeof *hv__rt.scheds);
    if (hv__rt.scheds == NULL) {
        rc = HV_ENOMEM;
        goto fail_tables;
    }
    for (unsigned i = 0; i < cfg.schedulers; i++) {
        rc = init_sched(&hv__rt.scheds[i], i);
        if (rc != HV_OK) {
            free_scheds(i + 1);
            goto fail_tables;
        }
    }
    hv__sys_segv_install(hv__sched_on_fault);
    atomic_store_explicit(&hv__rt.running, true, memory_order_release);
    for (unsigned i = 0; i < cfg.schedulers; i++) {
        if (pthread_create(&hv__rt.scheds[i].thread, NULL, hv__sched_main,
                           &hv__rt.scheds[i]) != 0) {
            atomic_store(&hv__rt.quit, true);
            for (unsigned j = 0; j < i; j++) {
                hv__sched_kick(&hv__rt.scheds[j]);
                pthread_join(hv__rt.scheds[j].thread, NULL);
            }
            atomic_store(&hv__rt.running, false);
            hv__sys_segv_remove();
            free_scheds(cfg.schedulers);
            rc = HV_ENOMEM;
            goto fail_tables;
        }
    }
    return HV_OK;

fail_tables:
    hv__ptimer_fini();
    hv__registry_fini();
    hv__ptable_fini();
    return rc;
}

bool
hv_running(void)
{
    return atomic_load_explicit(&hv__rt.running, memory_order_acquire);
}

/* Wakes a thread process or bridge out of its wait so it sees
 * `stopping`. */
static void
kick_waiter(struct hv__proc *p, void *ctx)
{
    (void)ctx;
    if (p->kind != K_THREAD && p->kind != K_BRIDGE)
        return;
    uint32_t old = atomic_load_explicit(&p->state, memory_order_relaxed);
    uint32_t m = old & P_STATE_MASK;
    if ((m == P_WAIT_MSG || m == P_WAIT_TIMER || m == P_WAIT_IO) &&
        atomic_compare_exchange_strong_explicit(
            &p->state, &old, (old & P_NOTIFY) | P_RUNNABLE,
            memory_order_acq_rel, memory_order_relaxed))
        hv__sys_futex_wake(&p->state, 1);
}

/* After the schedulers stopped: ends whatever is left. */
static void
reap_left(struct hv__proc *p, void *ctx)
{
    (void)ctx;
    if (p->kind == K_BRIDGE) {
        hv__bridge_stop(p);
        return;
    }
    /* Killed by the runtime's end, as an Erlang node's shutdown does. */
    if (p->reason == HV_NONE)
        p->reason = hv__rt.atom_shutdown;
    hv__proc_reap(p);
}

int
hv_stop(void)
{
    if (hv__tls_proc != NULL || hv__tls_sched != NULL)
        return HV_EBADARG;
    int expect = PHASE_RUNNING;
    if (!atomic_compare_exchange_strong(&phase, &expect, PHASE_STOPPING))
        return HV_EBADARG;
    atomic_store(&hv__rt.stopping, true); /* seq_cst: see hv__api_enter */

    /* Thread processes end themselves once they see `stopping` at a hive
     * call, and bridge calls return; wake those that wait, until none is
     * left.  Re-kicking closes the race with one just going to sleep. */
    for (;;) {
        uint32_t n = atomic_load(&hv__rt.threads_live);
        uint32_t f = atomic_load(&hv__foreign_calls);
        if (n == 0 && f == 0)
            break;
        hv__ptable_each(kick_waiter, NULL);
        hv__sys_futex_wait(&hv__rt.threads_live, n, 1000000);
    }

    atomic_store_explicit(&hv__rt.quit, true, memory_order_release);
    for (unsigned i = 0; i < hv__rt.nsched; i++)
        hv__sched_kick(&hv__rt.scheds[i]);
    for (unsigned i = 0; i < hv__rt.nsched; i++)
        pthread_join(hv__rt.scheds[i].thread, NULL);
    hv__proc_join_threads();

    /* Single-threaded from here (but for bridge users, who only see
     * `stopping`). */
    hv__rt.draining = true;
    hv__ptable_drain(reap_left, NULL);
    hv__ptimer_fini();
    hv__registry_fini();
    hv__sys_segv_remove();
    free_scheds(hv__rt.nsched);
    hv__ptable_fini();
    hv_release(hv__rt.main_reason);
    hv__rt.main_reason = HV_NONE;
    atomic_store_explicit(&hv__rt.running, false, memory_order_release);
    atomic_store(&phase, PHASE_STOPPED);
    hv__sys_futex_wake(&hv__foreign_calls, INT32_MAX); /* bridge closers */
    return HV_OK;
}

int
hv_run(hv_fn *main_fn, void *arg, const hv_config *config, hv_term *reason)
{
    if (main_fn == NULL)
        return HV_EBADARG;
    int rc = hv_start(config);
    if (rc != HV_OK)
        return rc;
    hv_term pid;
    rc = hv__spawn(main_fn, arg, NULL, &pid, NULL, true);
    if (rc == HV_OK) {
        while (atomic_load_explicit(&hv__rt.main_done,
                                    memory_order_acquire) == 0)
            hv__sys_futex_wait(&hv__rt.main_done, 0, -1);
        if (reason != NULL)
            *reason = hv_retain(hv__rt.main_reason);
    }
    hv_stop();
    return rc;
}
